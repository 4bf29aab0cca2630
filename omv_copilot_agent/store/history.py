"""History rows: OMV configuration revisions (table ``config_snapshots``, migration 0005) and the admin's notes."""

from __future__ import annotations

import json
import time


class HistoryMixin:
    def add_note(self, text: str, alert_id: int | None = None, now: float | None = None) -> dict:
        with self.write() as conn:
            cur = conn.execute("INSERT INTO notes (created_at, text, alert_id) VALUES (?, ?, ?)", (now or time.time(), text, alert_id))
            nid = cur.lastrowid
        return dict(self.query("SELECT * FROM notes WHERE id = ?", (nid,))[0])

    def list_notes(self, alert_id: int | None = None, limit: int = 100, offset: int = 0) -> tuple[int, list[dict]]:
        clause, params = ("WHERE alert_id = ?", (alert_id,)) if alert_id is not None else ("", ())
        total = self.query(f"SELECT COUNT(*) FROM notes {clause}", params)[0][0]
        rows = self.query(f"SELECT * FROM notes {clause} ORDER BY id DESC LIMIT ? OFFSET ?", (*params, limit, offset))
        return total, [dict(r) for r in rows]

    def last_note_before(self, before: float) -> dict | None:
        """The newest note written before ``before`` (an alert's evidence: what the admin did last)."""
        rows = self.query("SELECT * FROM notes WHERE created_at < ? ORDER BY created_at DESC, id DESC LIMIT 1", (before,))
        return dict(rows[0]) if rows else None

    def last_config_change_before(self, before: float) -> dict | None:
        """The newest revision recorded because OMV's configuration changed, taken at or before ``before``."""
        rows = self.query("SELECT id, taken_at, hash, reason FROM config_snapshots WHERE reason = 'changed' AND taken_at <= ? "
                          "ORDER BY taken_at DESC, id DESC LIMIT 1", (before,))
        return dict(rows[0]) if rows else None

    def add_config_revision(self, taken_at: float, digest: str, reason: str, config: dict) -> int:
        with self.write() as conn:
            return conn.execute("INSERT INTO config_snapshots (taken_at, hash, reason, data) VALUES (?, ?, ?, ?)",
                                (taken_at, digest, reason, json.dumps(config, sort_keys=True, default=str))).lastrowid

    def latest_config_revision(self) -> dict | None:
        rows = self.query("SELECT id, taken_at, hash, reason FROM config_snapshots ORDER BY taken_at DESC, id DESC LIMIT 1")
        return dict(rows[0]) if rows else None

    def list_config_revisions(self, limit: int = 50, offset: int = 0) -> tuple[int, list[dict]]:
        total = self.query("SELECT COUNT(*) FROM config_snapshots")[0][0]
        rows = self.query("SELECT id, taken_at, hash, reason FROM config_snapshots ORDER BY taken_at DESC, id DESC LIMIT ? OFFSET ?",
                          (limit, offset))
        return total, [dict(r) for r in rows]

    def previous_config_revision_id(self, revision_id: int) -> int | None:
        """The revision recorded just before ``revision_id`` (what a drift view compares it with)."""
        rows = self.query("SELECT b.id FROM config_snapshots a JOIN config_snapshots b ON (b.taken_at, b.id) < (a.taken_at, a.id) "
                          "WHERE a.id = ? ORDER BY b.taken_at DESC, b.id DESC LIMIT 1", (revision_id,))
        return rows[0][0] if rows else None

    def get_config_revision(self, revision_id: int) -> dict | None:
        rows = self.query("SELECT * FROM config_snapshots WHERE id = ?", (revision_id,))
        if not rows:
            return None
        d = dict(rows[0])
        d["data"] = json.loads(d["data"])
        return d

    # -- the timeline: rows in a time range, newest first, at most ``limit`` of each kind --------
    def alerts_between(self, since: float, until: float, limit: int) -> list[dict]:
        """Alerts that opened or resolved in [since, until]."""
        from omv_copilot_agent.store.alerts import _alert

        rows = self.query("SELECT * FROM alerts WHERE (first_seen BETWEEN ? AND ?) OR (resolved_at BETWEEN ? AND ?) "
                          "ORDER BY first_seen DESC, id DESC LIMIT ?", (since, until, since, until, limit))
        return [_alert(r) for r in rows]

    def notes_between(self, since: float, until: float, limit: int) -> list[dict]:
        rows = self.query("SELECT * FROM notes WHERE created_at BETWEEN ? AND ? ORDER BY created_at DESC, id DESC LIMIT ?",
                          (since, until, limit))
        return [dict(r) for r in rows]

    def config_revision_ids_between(self, since: float, until: float, limit: int) -> list[int]:
        """Ids of the revisions taken in [since, until] (the newest ``limit``), oldest first, after the one
        taken before them (what the first is compared with). Ids only: a caller loads one revision at a time."""
        rows = self.query("SELECT id, taken_at FROM config_snapshots WHERE taken_at BETWEEN ? AND ? "
                          "ORDER BY taken_at DESC, id DESC LIMIT ?", (since, until, limit))
        before = self.query("SELECT id FROM config_snapshots WHERE taken_at < ? ORDER BY taken_at DESC, id DESC LIMIT 1",
                            (rows[-1]["taken_at"] if rows else since,))
        return [r["id"] for r in [*before, *reversed(rows)]]

    def prune_config_revisions(self, before: float) -> int:
        """Forget configuration revisions taken before ``before``, except the newest (the next one is compared with it)."""
        with self.write() as conn:
            return conn.execute("DELETE FROM config_snapshots WHERE taken_at < ? AND id != "
                                "(SELECT id FROM config_snapshots ORDER BY taken_at DESC, id DESC LIMIT 1)", (before,)).rowcount
