"""Alert rows: all the SQL of the alerts concern.

An alert is an *episode* of one (rule, subject) condition: it is updated in
place while the condition holds (last_seen, count) and closed when it clears,
so a condition that lasts 100 cycles is one row, and history is the closed rows.
"""

from __future__ import annotations

import json
import time

OPEN_STATES = ("firing", "acknowledged")
#: an open alert whose text did not change is rewritten (last_seen, count) by the daemon's flush
#: (``flush_alert_touches``, every ``store.flush_interval_s``) or, without one, at most this often.
#: Each rewrite moves the row's entry in the alerts_state index: ~3 pages per open alert every
#: 10 min was ~1.8 MB a day of WAL per alert that stays open for days (pending updates, a full disk).
TOUCH_EVERY_S = 3600.0


def _alert(row) -> dict:
    d = dict(row)
    d["details"] = json.loads(d.get("details") or "{}")
    d["evidence"] = json.loads(d["evidence"]) if d.get("evidence") else None
    d.pop("clear_count", None)
    return d


def _resolution(row) -> dict:
    d = dict(row)
    d["readings"] = json.loads(d.get("readings") or "[]")
    return d


class AlertsMixin:
    def _seen(self, alert: dict) -> dict:
        """``alert`` with the cycles counted in memory since its row was last written (see touch_alert)."""
        touch = self.__dict__.get("_alert_touches", {}).get(alert["id"])
        if touch and touch[2] and alert.get("state") in OPEN_STATES:
            alert["last_seen"], alert["count"] = max(alert["last_seen"] or 0, touch[3]), alert["count"] + touch[2]
        return alert

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
        self.__dict__.setdefault("_alert_touches", {})[cur.lastrowid] = ((a["severity"], a["title"], a["message"], details), now, 0, now)
        return cur.lastrowid

    def touch_alert(self, alert_id: int, a: dict, now: float) -> None:
        """The condition still holds: refresh text/severity, last_seen and count; reset the clear streak.

        A change (and this process's first touch of an alert) is written at once; an unchanged
        alert's cycles are counted in memory, read back by get_alert/list_alerts, and written by
        :meth:`flush_alert_touches` (the daemon's flush) or after ``TOUCH_EVERY_S``: a power cut
        loses at most that much of ``last_seen``/``count``, never an alert or a state change.
        """
        details = json.dumps(a.get("details") or {}, default=str)
        signature = (a["severity"], a["title"], a["message"], details)
        touches = self.__dict__.setdefault("_alert_touches", {})  # id -> (signature, written at, unwritten cycles, last seen)
        last = touches.get(alert_id)
        if last and last[0] == signature and now - last[1] < TOUCH_EVERY_S:
            touches[alert_id] = (signature, last[1], last[2] + 1, now)
            return
        with self.write() as conn:
            conn.execute("UPDATE alerts SET severity = ?, title = ?, message = ?, details = ?, last_seen = ?, "
                         "count = count + ?, clear_count = 0 WHERE id = ?",
                         (*signature, now, 1 + (last[2] if last else 0), alert_id))
        touches[alert_id] = (signature, now, 0, now)

    def pending_alert_touches(self) -> int:
        return sum(1 for t in self.__dict__.get("_alert_touches", {}).values() if t[2])

    def flush_alert_touches(self) -> int:
        """Write the cycles counted in memory (last_seen, count) of unchanged open alerts, in one transaction."""
        touches = self.__dict__.get("_alert_touches", {})
        pending = {alert_id: t for alert_id, t in list(touches.items()) if t[2]}
        if pending:
            with self.write() as conn:
                conn.executemany("UPDATE alerts SET last_seen = ?, count = count + ? WHERE id = ?",
                                 [(t[3], t[2], alert_id) for alert_id, t in pending.items()])
            for alert_id, t in pending.items():
                if touches.get(alert_id) is t:
                    touches[alert_id] = (t[0], t[3], 0, t[3])
        return len(pending)

    def close(self) -> None:
        try:
            self.flush_alert_touches()
        except Exception:  # closing must not fail on a full disk; the counts are a courtesy
            pass
        super().close()

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
        return self._seen(_alert(rows[0])) if rows else None

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
        return total, [self._seen(_alert(r)) for r in rows]

    def set_alert_evidence(self, alert_id: int, evidence: dict, now: float) -> None:
        """Store the alert's evidence (already capped and redacted by alerts/evidence.py)."""
        self.set_alerts_evidence({alert_id: evidence}, now)

    def set_alerts_evidence(self, by_id: dict[int, dict], now: float) -> None:
        """Store several alerts' evidence in one transaction (one commit, not one per alert)."""
        with self.write() as conn:
            conn.executemany("UPDATE alerts SET evidence = ?, evidence_at = ? WHERE id = ?",
                             [(json.dumps(ev, default=str), now, alert_id) for alert_id, ev in by_id.items()])

    def add_resolution(self, verified_at: float, outcome: str, ttr_s: float | None, pattern_id: str | None,
                       readings: list[dict], *, alert_id: int | None = None, turn_id: int | None = None) -> dict:
        """Record one verification of an alert's (``alert_id``) or an assistant answer's (``turn_id``) fix."""
        with self.write() as conn:
            rid = conn.execute("INSERT INTO resolutions (alert_id, turn_id, verified_at, outcome, ttr_s, pattern_id, readings) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?)", (alert_id, turn_id, verified_at, outcome, ttr_s, pattern_id,
                                                                json.dumps(readings, default=str))).lastrowid
        return _resolution(self.query("SELECT * FROM resolutions WHERE id = ?", (rid,))[0])

    def latest_resolutions(self, ids: list[int], of: str = "alert_id") -> dict[int, dict]:
        """id -> its newest verification, for the alerts (``of="alert_id"``) or answers (``"turn_id"``) that have one."""
        if of not in ("alert_id", "turn_id"):
            raise ValueError(of)
        out = {}
        for start in range(0, len(ids), 500):  # SQLite binds a bounded number of variables
            chunk = tuple(ids[start:start + 500])
            rows = self.query(f"SELECT * FROM resolutions r WHERE {of} IN ({','.join('?' * len(chunk))}) AND id = "
                              f"(SELECT MAX(id) FROM resolutions WHERE {of} = r.{of})", chunk)
            out.update({r[of]: _resolution(r) for r in rows})
        return out

    def verified_ttrs(self, since: float = 0.0) -> list[float]:
        """Time to resolution (opened -> verified fixed) of each issue verified fixed since ``since``, once per issue."""
        rows = self.query("SELECT MIN(ttr_s) FROM resolutions WHERE outcome = 'fixed' AND ttr_s IS NOT NULL "
                          "AND verified_at >= ? GROUP BY alert_id, turn_id", (since,))
        return [r[0] for r in rows]

    def prune_resolved_alerts(self, before: float) -> int:
        """Forget alerts resolved before ``before``; open and acknowledged ones stay whatever their age."""
        with self.write() as conn:
            return conn.execute("DELETE FROM alerts WHERE state = 'resolved' AND resolved_at < ?", (before,)).rowcount
