"""Alert and note rows: all the SQL of the alerts concern.

An alert is an *episode* of one (rule, subject) condition: it is updated in
place while the condition holds (last_seen, count) and closed when it clears,
so a condition that lasts 100 cycles is one row, and history is the closed rows.
"""

from __future__ import annotations

import json
import time

OPEN_STATES = ("firing", "acknowledged")
#: an open alert whose text did not change is rewritten (last_seen, count) at most this often
TOUCH_EVERY_S = 600.0


def _alert(row) -> dict:
    d = dict(row)
    d["details"] = json.loads(d.get("details") or "{}")
    d.pop("clear_count", None)
    return d


class AlertsMixin:
    def open_alert_rows(self) -> list[dict]:
        return [_alert(r) | {"clear_count": r["clear_count"]} for r in
                self.query("SELECT * FROM alerts WHERE state IN ('firing','acknowledged') ORDER BY id")]

    def insert_alert(self, a: dict, now: float) -> int:
        details = json.dumps(a.get("details") or {}, default=str)
        with self.write() as conn:
            cur = conn.execute(
                "INSERT INTO alerts (rule, subject, severity, state, title, message, first_seen, last_seen, details) "
                "VALUES (?, ?, ?, 'firing', ?, ?, ?, ?, ?)",
                (a["rule"], a["subject"], a["severity"], a["title"], a["message"], now, now, details))
        self.__dict__.setdefault("_alert_touches", {})[cur.lastrowid] = ((a["severity"], a["title"], a["message"], details), now, 0)
        return cur.lastrowid

    def touch_alert(self, alert_id: int, a: dict, now: float) -> None:
        """The condition still holds: refresh text/severity, last_seen and count; reset the clear streak.

        An unchanged alert is written at most every ``TOUCH_EVERY_S`` (and on this process's first
        touch): one commit per open alert per cycle wore out USB-stick boot disks. Cycles in between
        are counted in memory and added on the next write, so ``last_seen``/``count`` lag by at most
        that long (and lose at most that much on a power cut).
        """
        details = json.dumps(a.get("details") or {}, default=str)
        signature = (a["severity"], a["title"], a["message"], details)
        touches = self.__dict__.setdefault("_alert_touches", {})  # id -> (signature, written at, unwritten cycles)
        last = touches.get(alert_id)
        if last and last[0] == signature and now - last[1] < TOUCH_EVERY_S:
            touches[alert_id] = (signature, last[1], last[2] + 1)
            return
        with self.write() as conn:
            conn.execute("UPDATE alerts SET severity = ?, title = ?, message = ?, details = ?, last_seen = ?, "
                         "count = count + ?, clear_count = 0 WHERE id = ?",
                         (*signature, now, 1 + (last[2] if last else 0), alert_id))
        touches[alert_id] = (signature, now, 0)

    def mark_clear(self, alert_id: int) -> int:
        self.__dict__.get("_alert_touches", {}).pop(alert_id, None)  # the next touch must reset clear_count
        with self.write() as conn:
            conn.execute("UPDATE alerts SET clear_count = clear_count + 1 WHERE id = ?", (alert_id,))
            return conn.execute("SELECT clear_count FROM alerts WHERE id = ?", (alert_id,)).fetchone()[0]

    def resolve_alert(self, alert_id: int, now: float) -> None:
        with self.write() as conn:
            conn.execute("UPDATE alerts SET state = 'resolved', resolved_at = ? WHERE id = ?", (now, alert_id))

    def recently_resolved(self, rule: str, subject: str, since: float) -> dict | None:
        """The newest alert of (rule, subject) resolved at or after ``since`` (flap damping)."""
        rows = self.query("SELECT * FROM alerts WHERE rule = ? AND subject = ? AND state = 'resolved' AND resolved_at >= ? "
                          "ORDER BY resolved_at DESC LIMIT 1", (rule, subject, since))
        return _alert(rows[0]) if rows else None

    def reopen_alert(self, alert_id: int, a: dict, now: float) -> None:
        """A flapping condition came back soon: the old episode continues (acknowledged stays acknowledged)."""
        with self.write() as conn:
            conn.execute("UPDATE alerts SET state = CASE WHEN acknowledged_at IS NULL THEN 'firing' ELSE 'acknowledged' END, "
                         "resolved_at = NULL, severity = ?, title = ?, message = ?, details = ?, last_seen = ?, "
                         "count = count + 1, clear_count = 0 WHERE id = ?",
                         (a["severity"], a["title"], a["message"], json.dumps(a.get("details") or {}, default=str), now, alert_id))

    def alert_counts(self) -> dict[tuple[str, str], int]:
        """(state, severity) -> number of alerts, for /metrics and the health score."""
        return {(r[0], r[1]): r[2] for r in self.query("SELECT state, severity, COUNT(*) FROM alerts GROUP BY state, severity")}

    def ack_alert(self, alert_id: int, note: str | None, now: float | None = None) -> bool:
        with self.write() as conn:
            cur = conn.execute("UPDATE alerts SET state = 'acknowledged', acknowledged_at = ?, ack_note = ? "
                               "WHERE id = ? AND state = 'firing'", (now or time.time(), note, alert_id))
            return cur.rowcount > 0

    def get_alert(self, alert_id: int) -> dict | None:
        rows = self.query("SELECT * FROM alerts WHERE id = ?", (alert_id,))
        return _alert(rows[0]) if rows else None

    def list_alerts(self, state: str | None = None, severity: str | None = None, limit: int = 100, offset: int = 0) -> tuple[int, list[dict]]:
        where, params = [], []
        if state == "open":
            where.append("state IN ('firing','acknowledged')")
        elif state:
            where.append("state = ?")
            params.append(state)
        if severity:
            where.append("severity = ?")
            params.append(severity)
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        total = self.query(f"SELECT COUNT(*) FROM alerts{clause}", tuple(params))[0][0]
        rows = self.query(f"SELECT * FROM alerts{clause} ORDER BY last_seen DESC, id DESC LIMIT ? OFFSET ?", (*params, limit, offset))
        return total, [_alert(r) for r in rows]

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

    def list_snapshots(self, limit: int = 50, offset: int = 0) -> tuple[int, list[dict]]:
        total = self.query("SELECT COUNT(*) FROM snapshots")[0][0]
        rows = self.query("SELECT id, taken_at, overall FROM snapshots ORDER BY taken_at DESC, id DESC LIMIT ? OFFSET ?", (limit, offset))
        return total, [dict(r) for r in rows]

    # -- OMV configuration history (migration 0005) ----------------------
    def add_config_snapshot(self, taken_at: float, digest: str, reason: str, config: dict) -> int:
        with self.write() as conn:
            return conn.execute("INSERT INTO config_snapshots (taken_at, hash, reason, data) VALUES (?, ?, ?, ?)",
                                (taken_at, digest, reason, json.dumps(config, sort_keys=True, default=str))).lastrowid

    def latest_config_snapshot(self) -> dict | None:
        rows = self.query("SELECT id, taken_at, hash, reason FROM config_snapshots ORDER BY taken_at DESC, id DESC LIMIT 1")
        return dict(rows[0]) if rows else None

    def list_config_snapshots(self, limit: int = 50, offset: int = 0) -> tuple[int, list[dict]]:
        total = self.query("SELECT COUNT(*) FROM config_snapshots")[0][0]
        rows = self.query("SELECT id, taken_at, hash, reason FROM config_snapshots ORDER BY taken_at DESC, id DESC LIMIT ? OFFSET ?",
                          (limit, offset))
        return total, [dict(r) for r in rows]

    def prune_history(self, before: float) -> dict[str, int]:
        """Forget alerts resolved and configuration snapshots taken before ``before``.

        Open and acknowledged alerts stay whatever their age (they are still true); notes
        stay too (their link to a forgotten alert becomes empty); the newest configuration
        snapshot stays, because the next one is compared with it.
        """
        with self.write() as conn:
            alerts = conn.execute("DELETE FROM alerts WHERE state = 'resolved' AND resolved_at < ?", (before,)).rowcount
            configs = conn.execute("DELETE FROM config_snapshots WHERE taken_at < ? AND id != "
                                   "(SELECT id FROM config_snapshots ORDER BY taken_at DESC, id DESC LIMIT 1)", (before,)).rowcount
        return {"resolved_alerts": alerts, "config_snapshots": configs}

    def previous_config_snapshot_id(self, snapshot_id: int) -> int | None:
        """The snapshot taken just before ``snapshot_id`` (what a drift view compares it with)."""
        rows = self.query("SELECT b.id FROM config_snapshots a JOIN config_snapshots b ON (b.taken_at, b.id) < (a.taken_at, a.id) "
                          "WHERE a.id = ? ORDER BY b.taken_at DESC, b.id DESC LIMIT 1", (snapshot_id,))
        return rows[0][0] if rows else None

    def get_config_snapshot(self, snapshot_id: int) -> dict | None:
        rows = self.query("SELECT * FROM config_snapshots WHERE id = ?", (snapshot_id,))
        if not rows:
            return None
        d = dict(rows[0])
        d["data"] = json.loads(d["data"])
        return d

    # -- history imported from collectd RRD files --------------------------
    def import_metric_points(self, name: str, labels, points: list[tuple[float, int, float]]) -> int:
        """Insert (ts, tier, value) points older than the series' first sample (idempotent re-import)."""
        from omv_copilot_agent.store.metrics import labels_key

        key = labels_key(labels)
        first = self.query("SELECT MIN(ts) FROM metrics WHERE name = ? AND labels = ?", (name, key))[0][0]
        rows = [(ts, name, key, value, tier) for ts, tier, value in points if first is None or ts < first]
        if not rows:
            return 0
        with self.write() as conn:
            conn.executemany("INSERT INTO metrics (ts, name, labels, value, tier) VALUES (?, ?, ?, ?, ?)", rows)
        return len(rows)

    def usage_series(self, name: str, labels, since: float, until: float) -> list[tuple[float, float]]:
        """Like ``series()`` but one index range scan per tier (tier IN ...), for the per-cycle forecasts."""
        from omv_copilot_agent.store.metrics import labels_key

        rows = self.query("SELECT ts, value, tier FROM metrics WHERE name = ? AND labels = ? AND tier IN (0, 1, 2) "
                          "AND ts >= ? AND ts <= ? ORDER BY ts", (name, labels_key(labels), since, until))
        rows = sorted([tuple(r) for r in rows] + self.buffered_points(name, labels_key(labels), since, until))
        raw_start = min((r[0] for r in rows if r[2] == 0), default=None)
        five_start = min((r[0] for r in rows if r[2] == 1), default=None)
        return [(r[0], r[1]) for r in rows
                if not (r[2] == 2 and five_start is not None and r[0] >= five_start)
                and not (r[2] == 1 and raw_start is not None and r[0] >= raw_start)]

    def question_history(self, limit: int = 100) -> tuple[int, list[dict]]:
        """Assistant questions (newest first) for the issue history; empty before the assist migration."""
        try:
            total = self.query("SELECT COUNT(*) FROM assist_turns")[0][0]
            rows = self.query("SELECT id, conversation_id, created_at, query, answer FROM assist_turns ORDER BY created_at DESC, id DESC LIMIT ?",
                              (limit,))
        except Exception:  # no assist tables in this database
            return 0, []
        out = []
        for r in rows:
            try:
                answer = json.loads(r["answer"])
            except ValueError:
                answer = {}
            out.append({"id": f"q{r['id']}", "kind": "question", "title": r["query"], "conversation_id": r["conversation_id"],
                        "first_seen": r["created_at"], "last_seen": r["created_at"], "severity": None, "state": "answered",
                        "outcome": answer.get("confidence_label") or answer.get("mode") or "answered",
                        "mode": answer.get("mode"), "confidence": answer.get("confidence"),
                        "matched_patterns": [m.get("pattern_id") for m in answer.get("matched_patterns") or [] if isinstance(m, dict)]})
        return total, out
