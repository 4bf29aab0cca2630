"""The contract every source module follows, and the result it produces.

A source module exposes ``NAME`` and ``collect(ctx) -> dict``. It returns its
plain data when all went well, raises :class:`Degraded` (with partial data) when
some of it could not be read, and :class:`Unavailable` when the source does not
exist on this box. Anything else it raises is a bug, reported as ``degraded``
rather than crashing the cycle.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

OK = "ok"
DEGRADED = "degraded"
UNAVAILABLE = "unavailable"


class _SourceShort(Exception):
    """A source that could not give all it holds: the reason for the admin, and what it could read."""

    def __init__(self, reason: str, data: dict | None = None):
        super().__init__(reason)
        self.reason = reason
        self.data = data or {}


class Degraded(_SourceShort):
    """Part of the source could not be read; ``data`` holds what could."""


class Unavailable(_SourceShort):
    """The source does not exist here (no OMV, no smartctl, …); the reason says which."""


def mtime(path: str | os.PathLike) -> float | None:
    """When ``path`` was last written (None: it is not there or not readable)."""
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


@dataclass
class SourceResult:
    """One source's outcome in one cycle."""

    name: str
    status: str
    data: dict = field(default_factory=dict)
    reason: str | None = None
    duration_s: float = 0.0
    collected_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "reason": self.reason,
            "duration_s": round(self.duration_s, 4),
            "collected_at": self.collected_at,
            "data": self.data,
        }

    @classmethod
    def from_dict(cls, name: str, data: dict) -> "SourceResult":
        return cls(name=name, status=data.get("status", UNAVAILABLE), data=data.get("data") or {},
                   reason=data.get("reason"), duration_s=data.get("duration_s", 0.0),
                   collected_at=data.get("collected_at", 0.0))
