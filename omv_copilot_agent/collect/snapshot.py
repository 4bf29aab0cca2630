"""The Snapshot: every source's result from one collection cycle.

Everything downstream (store, knowledge matching, alerts, assistant, API)
reads the box through this object or its ``to_dict()`` form, documented in
``docs/snapshot.md``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from omv_copilot_agent.collect.base import OK, SourceResult


@dataclass
class Snapshot:
    taken_at: float
    sources: dict[str, SourceResult] = field(default_factory=dict)
    duration_s: float = 0.0

    def data(self, source: str) -> dict:
        """The data of ``source`` (empty when it is missing)."""
        result = self.sources.get(source)
        return result.data if result else {}

    def status(self, source: str) -> str | None:
        result = self.sources.get(source)
        return result.status if result else None

    def age_s(self, now: float | None = None) -> float:
        return max(0.0, (now or time.time()) - self.taken_at)

    @property
    def overall(self) -> str:
        """ok when every source is ok, else degraded."""
        return OK if all(r.status == OK for r in self.sources.values()) else "degraded"

    def to_dict(self) -> dict[str, Any]:
        return {
            "taken_at": self.taken_at,
            "duration_s": round(self.duration_s, 4),
            "sources": {name: r.to_dict() for name, r in self.sources.items()},
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Snapshot":
        return cls(
            taken_at=data["taken_at"],
            duration_s=data.get("duration_s", 0.0),
            sources={n: SourceResult.from_dict(n, r) for n, r in (data.get("sources") or {}).items()},
        )
