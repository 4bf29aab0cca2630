"""The Finding record and a defensive read-only view of a snapshot for the checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

USABLE = ("ok", "degraded")


@dataclass(frozen=True)
class Finding:
    """One condition that holds now.

    ``id`` names the kind of problem (``filesystem-full``), ``subject`` the thing
    it is about (a mountpoint, a device, a service), ``evidence`` the values it
    was judged on and ``threshold`` the configured limit it crossed (None when
    the condition has no threshold, e.g. SMART FAILED).
    """

    id: str
    severity: str  # info | warning | critical
    subject: str
    text: str  # one sentence for people: what holds, with the numbers
    evidence: dict = field(default_factory=dict)
    threshold: float | None = None

    def to_dict(self) -> dict:
        return {"id": self.id, "severity": self.severity, "subject": self.subject, "text": self.text,
                "evidence": dict(self.evidence), "threshold": self.threshold}


class SnapshotView:
    """Source data of a Snapshot or its dict, only for sources that could be read."""

    def __init__(self, sources: dict[str, dict]):
        self._sources = sources

    @classmethod
    def of(cls, snapshot) -> "SnapshotView | None":
        if snapshot is None:
            return None
        if hasattr(snapshot, "sources") and not isinstance(snapshot, dict):
            raw = {n: (r.status, r.data) for n, r in snapshot.sources.items()}
        elif isinstance(snapshot, dict):
            raw = {n: ((r or {}).get("status"), (r or {}).get("data")) for n, r in (snapshot.get("sources") or {}).items()
                   if isinstance(r, dict)}
        else:
            return None
        return cls({n: data for n, (status, data) in raw.items() if status in USABLE and isinstance(data, dict) and data})

    def has(self, source: str) -> bool:
        return source in self._sources

    def data(self, source: str) -> dict:
        return self._sources.get(source, {})

    def items(self, source: str, key: str) -> list[dict]:
        """The dict entries of the list ``data[key]`` of ``source`` (anything else is skipped)."""
        value = self.data(source).get(key)
        return [i for i in value if isinstance(i, dict)] if isinstance(value, list) else []

    def mapping(self, source: str, key: str) -> dict:
        value = self.data(source).get(key)
        return value if isinstance(value, dict) else {}


def number(value: Any) -> float | None:
    """A real number, or None (bools, strings and missing values are not measurements)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def level(value: float, warning: float, critical: float | None = None) -> tuple[str, float] | None:
    """(severity, threshold crossed) for a value against warning/critical limits, or None below warning."""
    if critical is not None and value >= critical:
        return "critical", critical
    if value >= warning:
        return "warning", warning
    return None
