"""Assistant rows: conversation turns and decision traces (kept ``assist.trace_retention_days``)."""

from __future__ import annotations

import json
import time


def _like(text: str) -> str:
    """``text`` as a LIKE operand matching it anywhere (``%``, ``_`` and ``\\`` taken literally)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class AssistMixin:
    def add_turn(self, conversation_id: str, query: str, answer: dict) -> None:
        with self.write() as conn:
            conn.execute("INSERT INTO assist_turns (conversation_id, created_at, query, answer, query_id) VALUES (?, ?, ?, ?, ?)",
                         (conversation_id, time.time(), query, json.dumps(answer, default=str), answer.get("query_id")))

    def turns(self, conversation_id: str, limit: int = 20) -> list[dict]:
        rows = self.query("SELECT created_at, query, answer, feedback FROM assist_turns WHERE conversation_id = ? "
                          "ORDER BY id DESC LIMIT ?", (conversation_id, limit))
        return [{"created_at": r["created_at"], "query": r["query"], "answer": json.loads(r["answer"]), "feedback": r["feedback"]}
                for r in reversed(rows)]

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

    def conversations(self, limit: int = 50, offset: int = 0, search: str | None = None) -> tuple[int, list[dict]]:
        """Conversations, newest first, with their title (the admin's, else the first question);
        ``search`` keeps those whose title, questions or answers (analysis) contain it (case-insensitive)."""
        where, params = "", ()
        if search:
            where = ("WHERE conversation_id IN (SELECT conversation_id FROM assist_turns WHERE query LIKE ?1 ESCAPE '\\' "
                     "OR json_extract(answer, '$.analysis') LIKE ?1 ESCAPE '\\' UNION SELECT conversation_id FROM assist_conversations "
                     "WHERE title LIKE ?1 ESCAPE '\\')")
            params = (_like(search),)
        total = self.query(f"SELECT COUNT(DISTINCT conversation_id) FROM assist_turns {where}", params)[0][0]
        rows = self.query("SELECT t.conversation_id, MIN(created_at) AS started_at, MAX(created_at) AS last_at, COUNT(*) AS turns, "
                          "(SELECT query FROM assist_turns t2 WHERE t2.conversation_id = t.conversation_id ORDER BY id LIMIT 1) "
                          "AS first_query, (SELECT title FROM assist_conversations c WHERE c.conversation_id = t.conversation_id) "
                          f"AS title FROM assist_turns t {where.replace('conversation_id IN', 't.conversation_id IN', 1)} "
                          f"GROUP BY t.conversation_id ORDER BY last_at DESC LIMIT {int(limit)} OFFSET {int(offset)}", params)
        out = []
        for r in rows:
            row = dict(r)
            row["renamed"] = row["title"] is not None
            row["title"] = row["title"] or row["first_query"]
            out.append(row)
        return total, out

    def rename_conversation(self, conversation_id: str, title: str) -> bool:
        """Give a conversation a title; False when it has no turns (nothing to rename)."""
        with self.write() as conn:
            if conn.execute("SELECT 1 FROM assist_turns WHERE conversation_id = ? LIMIT 1", (conversation_id,)).fetchone() is None:
                return False
            conn.execute("INSERT INTO assist_conversations (conversation_id, title, updated_at) VALUES (?, ?, ?) "
                         "ON CONFLICT(conversation_id) DO UPDATE SET title = excluded.title, updated_at = excluded.updated_at",
                         (conversation_id, title, time.time()))
            return True

    def delete_conversation(self, conversation_id: str) -> int:
        """Delete a conversation's turns and title (its traces stay until their retention ends); turns deleted."""
        with self.write() as conn:
            conn.execute("DELETE FROM assist_conversations WHERE conversation_id = ?", (conversation_id,))
            return conn.execute("DELETE FROM assist_turns WHERE conversation_id = ?", (conversation_id,)).rowcount

    def rate_turn(self, query_id: str, helpful: bool) -> bool:
        """Remember the admin's rating of one answer (shown again after a reload); False when no turn has that id."""
        with self.write() as conn:
            return conn.execute("UPDATE assist_turns SET feedback = ? WHERE query_id = ?",
                                ("up" if helpful else "down", query_id)).rowcount > 0

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

    def question_history(self, limit: int = 100, label=None) -> tuple[int, list[dict]]:
        """Assistant questions (newest first) for the issue history; empty before the assist migration. A question's
        outcome is its answer's confidence label: ``label(answer)`` when given (the engine's rule, which this layer
        cannot import), else the stored one."""
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
            answer = answer if isinstance(answer, dict) else {}
            out.append({"id": f"q{r['id']}", "kind": "question", "title": r["query"], "conversation_id": r["conversation_id"],
                        "first_seen": r["created_at"], "last_seen": r["created_at"], "severity": None, "state": "answered",
                        "outcome": (label(answer) if label else answer.get("confidence_label")) or answer.get("mode") or "answered",
                        "mode": answer.get("mode"), "confidence": answer.get("confidence"),
                        "matched_patterns": [m.get("pattern_id") for m in answer.get("matched_patterns") or [] if isinstance(m, dict)]})
        return total, out
