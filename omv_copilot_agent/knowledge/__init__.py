"""The knowledge base: validated troubleshooting patterns, ranked matching, safe diagnostics.

``attach(agent)`` builds the :class:`KnowledgeBase` that the API, CLI and the
assistant use (contract in docs/contracts.md).
"""

from __future__ import annotations

import logging
from pathlib import Path

from omv_copilot_agent import paths
from omv_copilot_agent.knowledge import diagnostics, loader, matcher, signals
from omv_copilot_agent.knowledge.matcher import Match

log = logging.getLogger(__name__)

__all__ = ["KnowledgeBase", "Match", "attach"]


class KnowledgeBase:
    def __init__(self, patterns_dir: str | Path | None = None, store=None, *,
                 timeout_s: float = diagnostics.DEFAULT_TIMEOUT_S, max_output: int = diagnostics.DEFAULT_MAX_OUTPUT):
        self.patterns_dir = Path(patterns_dir) if patterns_dir else paths.data_path("patterns")
        self.store = store
        self.timeout_s, self.max_output = timeout_s, max_output
        self.reload()

    def reload(self) -> None:
        self.patterns, self.errors = loader.load_dir(self.patterns_dir)
        for err in self.errors:
            log.warning("pattern %s (%s) %s: %s", err["file"], err["pattern_id"], err["field"], err["reason"])
        self.index = matcher.Index(self.patterns)

    def get(self, pattern_id: str) -> dict | None:
        return self.patterns.get(pattern_id) if isinstance(pattern_id, str) else None

    def _feedback(self) -> dict:
        if self.store is None or not hasattr(self.store, "feedback_counts"):
            return {}
        try:
            return self.store.feedback_counts()
        except Exception as exc:  # a broken store must not break search
            log.warning("feedback unavailable: %s", exc)
            return {}

    def search(self, query: str, snapshot=None, limit: int = 5) -> list[Match]:
        return matcher.rank(self.index, query, snapshot, limit=limit, feedback=self._feedback())

    def signals(self, snapshot) -> list[Match]:
        return matcher.rank(self.index, "", snapshot, limit=len(self.patterns), feedback=None)

    def run_diagnostics(self, pattern_id: str, params: dict | None = None, *, progress=None,
                        step: int | None = None) -> list[dict]:
        """Run the pattern's diagnostics in order (only index ``step`` when given); solutions never run."""
        pattern = self.get(pattern_id)
        if pattern is None:
            raise KeyError(pattern_id)
        results = []
        for i, diag in enumerate(pattern["diagnostics"]):
            if step is not None and i != step:
                continue
            if progress:
                progress(i, len(pattern["diagnostics"]), diag)
            results.append(diagnostics.run_step(diag, params or {}, timeout=self.timeout_s, max_output=self.max_output))
        return results

    def solutions(self, pattern_id: str) -> list[dict]:
        pattern = self.get(pattern_id)
        if pattern is None:
            raise KeyError(pattern_id)
        return sorted(pattern["solutions"], key=lambda s: s["priority"])


def attach(agent) -> KnowledgeBase:
    get = agent.config.get_path if hasattr(agent.config, "get_path") else (lambda _key, default=None: default)
    return KnowledgeBase(get("knowledge.patterns_dir", None), store=getattr(agent, "store", None),
                         timeout_s=float(get("knowledge.diagnostic_timeout_s", diagnostics.DEFAULT_TIMEOUT_S) or diagnostics.DEFAULT_TIMEOUT_S),
                         max_output=int(get("knowledge.diagnostic_max_output_bytes", diagnostics.DEFAULT_MAX_OUTPUT) or diagnostics.DEFAULT_MAX_OUTPUT))
