"""Queries for knowledge-base feedback (table from migration 0002)."""

from __future__ import annotations

import time


class KnowledgeMixin:
    def add_feedback(self, pattern_id: str, helpful: bool, comment: str | None = None, query: str | None = None) -> int:
        with self.write() as conn:
            cur = conn.execute("INSERT INTO knowledge_feedback (pattern_id, helpful, comment, query, created_at) VALUES (?, ?, ?, ?, ?)",
                               (pattern_id, 1 if helpful else 0, comment, query, time.time()))
            return cur.lastrowid

    def feedback_counts(self) -> dict[str, tuple[int, int]]:
        rows = self.query("SELECT pattern_id, SUM(helpful) AS h, COUNT(*) - SUM(helpful) AS u FROM knowledge_feedback GROUP BY pattern_id")
        return {r["pattern_id"]: (int(r["h"] or 0), int(r["u"] or 0)) for r in rows}
