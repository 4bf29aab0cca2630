"""Assistant rows: conversation turns and decision traces (kept ``assist.trace_retention_days``)."""

from __future__ import annotations

import json
import time


class AssistMixin:
    def add_turn(self, conversation_id: str, query: str, answer: dict) -> None:
        with self.write() as conn:
            conn.execute("INSERT INTO assist_turns (conversation_id, created_at, query, answer) VALUES (?, ?, ?, ?)",
                         (conversation_id, time.time(), query, json.dumps(answer, default=str)))

    def turns(self, conversation_id: str, limit: int = 20) -> list[dict]:
        rows = self.query("SELECT created_at, query, answer FROM assist_turns WHERE conversation_id = ? ORDER BY id DESC LIMIT ?",
                          (conversation_id, limit))
        return [{"created_at": r["created_at"], "query": r["query"], "answer": json.loads(r["answer"])} for r in reversed(rows)]

    def get_turn(self, turn_id: int) -> dict | None:
        """One question and its answer (a History issue ``q<id>``)."""
        rows = self.query("SELECT id, conversation_id, created_at, query, answer FROM assist_turns WHERE id = ?", (turn_id,))
        if not rows:
            return None
        try:
            answer = json.loads(rows[0]["answer"])
        except ValueError:
            answer = {}
        return {**dict(rows[0]), "answer": answer if isinstance(answer, dict) else {}}

    def conversations(self, limit: int = 50, offset: int = 0) -> tuple[int, list[dict]]:
        total = self.query("SELECT COUNT(DISTINCT conversation_id) FROM assist_turns")[0][0]
        rows = self.query("SELECT conversation_id, MIN(created_at) AS started_at, MAX(created_at) AS last_at, COUNT(*) AS turns, "
                          "(SELECT query FROM assist_turns t2 WHERE t2.conversation_id = t.conversation_id ORDER BY id LIMIT 1) AS first_query "
                          "FROM assist_turns t GROUP BY conversation_id ORDER BY last_at DESC LIMIT ? OFFSET ?", (limit, offset))
        return total, [dict(r) for r in rows]

    def save_trace(self, trace: dict) -> None:
        with self.write() as conn:
            conn.execute("INSERT OR REPLACE INTO assist_traces (id, created_at, query, mode, provider, context, duration_ms, data) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (trace["id"], trace["created_at"], trace["query"], trace["mode"], trace.get("provider"),
                          trace.get("context"), trace.get("duration_ms"), json.dumps(trace, default=str)))

    def get_trace(self, trace_id: str) -> dict | None:
        rows = self.query("SELECT data FROM assist_traces WHERE id = ?", (trace_id,))
        return json.loads(rows[0]["data"]) if rows else None

    def list_traces(self, limit: int = 50, offset: int = 0) -> tuple[int, list[dict]]:
        total = self.query("SELECT COUNT(*) FROM assist_traces")[0][0]
        rows = self.query("SELECT id, created_at, query, mode, provider, context, duration_ms FROM assist_traces "
                          "ORDER BY created_at DESC LIMIT ? OFFSET ?",
                          (limit, offset))
        return total, [dict(r) for r in rows]

    def prune_traces(self, before: float) -> int:
        with self.write() as conn:
            return conn.execute("DELETE FROM assist_traces WHERE created_at < ?", (before,)).rowcount

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
