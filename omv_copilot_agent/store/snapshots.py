"""Snapshot rows: the latest state of the box, kept for ``collect.snapshot_retention_days``.

``data`` holds the snapshot's JSON zlib-compressed (a BLOB): a week of one-minute cycles is
then tens of MiB instead of hundreds once journald lines fill the ``logs`` source
(``bench/foundation.py`` measures it). Rows written as plain JSON text still read back.
"""

from __future__ import annotations

import json
import zlib

from omv_copilot_agent.collect.snapshot import Snapshot


def encode(snapshot: Snapshot) -> bytes:
    return zlib.compress(json.dumps(snapshot.to_dict(), separators=(",", ":"), default=str).encode(), 6)


def decode(data: bytes | str) -> Snapshot:
    """A stored row back into a Snapshot (compressed BLOB, or the plain JSON text of older rows)."""
    if isinstance(data, (bytes, memoryview)):
        data = zlib.decompress(bytes(data)).decode()
    return Snapshot.from_dict(json.loads(data))


class SnapshotsMixin:
    def save_snapshot(self, snapshot: Snapshot) -> int:
        with self.write() as conn:
            cur = conn.execute(
                "INSERT INTO snapshots (taken_at, overall, data) VALUES (?, ?, ?)",
                (snapshot.taken_at, snapshot.overall, encode(snapshot)),
            )
            return cur.lastrowid

    def latest_snapshot(self) -> Snapshot | None:
        rows = self.query("SELECT data FROM snapshots ORDER BY taken_at DESC, id DESC LIMIT 1")
        return decode(rows[0]["data"]) if rows else None

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

    def list_snapshots(self, limit: int = 50, offset: int = 0) -> tuple[int, list[dict]]:
        total = self.query("SELECT COUNT(*) FROM snapshots")[0][0]
        rows = self.query("SELECT id, taken_at, overall FROM snapshots ORDER BY taken_at DESC, id DESC LIMIT ? OFFSET ?", (limit, offset))
        return total, [dict(r) for r in rows]
