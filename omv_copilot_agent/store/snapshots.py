"""Snapshot rows: the latest state of the box, kept for ``collect.snapshot_retention_days``."""

from __future__ import annotations

import json

from omv_copilot_agent.collect.snapshot import Snapshot


class SnapshotsMixin:
    def save_snapshot(self, snapshot: Snapshot) -> int:
        with self.write() as conn:
            cur = conn.execute(
                "INSERT INTO snapshots (taken_at, overall, data) VALUES (?, ?, ?)",
                (snapshot.taken_at, snapshot.overall, json.dumps(snapshot.to_dict(), separators=(",", ":"), default=str)),
            )
            return cur.lastrowid

    def latest_snapshot(self) -> Snapshot | None:
        rows = self.query("SELECT data FROM snapshots ORDER BY taken_at DESC, id DESC LIMIT 1")
        return Snapshot.from_dict(json.loads(rows[0]["data"])) if rows else None

    def snapshot_count(self) -> int:
        return self.query("SELECT COUNT(*) FROM snapshots")[0][0]

    def prune_snapshots(self, before: float) -> int:
        """Delete snapshots older than ``before``, always keeping the newest one."""
        with self.write() as conn:
            cur = conn.execute(
                "DELETE FROM snapshots WHERE taken_at < ? AND id <> (SELECT id FROM snapshots ORDER BY taken_at DESC, id DESC LIMIT 1)",
                (before,),
            )
            return cur.rowcount
