"""Alert rules: one module per rule, one interface.

Every rule module exposes ``NAME`` (the alert's ``rule`` field) and
``evaluate(ctx: RuleContext) -> list[Finding] | None``. A list (possibly
empty) means "evaluated": its open alerts whose subject is not in the list
start clearing. ``None`` means "could not look" (source unavailable), so
nothing is resolved on missing data.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

from omv_copilot_agent.collect.snapshot import Snapshot

#: rule modules in evaluation order
RULE_MODULES = ("fs_full", "fs_forecast", "fs_state", "service_down", "smart_health", "smart_attributes",
                "nvme_health", "disk_temperature", "raid_degraded", "raid_resync", "security_updates",
                "memory_pressure", "load", "config_dirty", "backup_overdue", "disk_change")

SEVERITIES = ("info", "warning", "critical")


@dataclass
class Finding:
    """One condition that holds now; (rule, subject) identifies its alert."""

    rule: str
    subject: str
    severity: str
    title: str
    message: str
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"rule": self.rule, "subject": self.subject, "severity": self.severity, "title": self.title,
                "message": self.message, "details": self.details}


@dataclass
class RuleContext:
    snapshot: Snapshot
    config: dict  # the ``alerts`` config section (defaults applied)
    now: float
    series: Callable[..., list]  # store.series(name, labels, since)
    forecasts: dict[str, Any] = field(default_factory=dict)  # mountpoint -> Forecast
    device_events: list[dict] = field(default_factory=list)

    def source_ok(self, name: str) -> bool:
        return self.snapshot.status(name) in ("ok", "degraded") and bool(self.snapshot.data(name))


def load_rules() -> list:
    return [importlib.import_module(f"{__name__}.{name}") for name in RULE_MODULES]


def human_bytes(n: float | None) -> str:
    if n is None:
        return "?"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{n:.0f} B"
        n /= 1024
    return f"{n}"
