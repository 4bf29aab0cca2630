"""Alert rules: one module per rule, one interface.

Every rule module exposes ``NAME`` (the alert's ``rule`` field) and
``evaluate(ctx: RuleContext) -> list[Condition] | None``. A list (possibly
empty) means "evaluated": its open alerts whose subject is not in the list
start clearing. ``None`` means "could not look" (source unavailable), so
nothing is resolved on missing data.

A rule that turns findings into alerts lists their ids in ``FINDINGS`` and
reads them from ``ctx.found(...)``; it never compares a value with a threshold
itself (the findings engine did). Rules without ``FINDINGS`` watch what a
snapshot does not hold: forecasts, backup stamps, live disk events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from omv_copilot_agent.collect.snapshot import Snapshot
from omv_copilot_agent.findings import Finding

SEVERITIES = ("info", "warning", "critical")


@dataclass
class Condition:
    """What one rule reports now; (rule, subject) identifies its alert."""

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
    findings: list[Finding] = field(default_factory=list)  # findings.evaluate(snapshot, thresholds)

    def source_ok(self, name: str) -> bool:
        return self.snapshot.status(name) in ("ok", "degraded") and bool(self.snapshot.data(name))

    def found(self, *ids: str) -> list[Finding]:
        return [f for f in self.findings if f.id in ids]


def load_rules() -> list:
    """The rule modules in evaluation order."""
    from omv_copilot_agent.alerts.rules import (backup_overdue, config_dirty, config_hand_edit, disk_change,
                                                disk_temperature, fs_forecast, fs_full, fs_state, job_not_run, load,
                                                memory_pressure, nvme_health, raid_degraded, raid_resync, security_updates, service_down,
                                                smart_attributes, smart_health)

    return [fs_full, fs_forecast, fs_state, service_down, smart_health, smart_attributes, nvme_health, disk_temperature,
            raid_degraded, raid_resync, security_updates, memory_pressure, load, config_dirty, config_hand_edit,
            backup_overdue, job_not_run, disk_change]


def rule_of_finding() -> dict[str, str]:
    """finding id -> the rule that alerts on it."""
    return {fid: rule.NAME for rule in load_rules() for fid in getattr(rule, "FINDINGS", ())}


def foretold(rule: str | None, subject: str, snapshot: Snapshot | None) -> list[Finding]:
    """The finding an alert of ``rule`` foretells (a rule's ``PREDICTS``), as it will read for ``subject``.

    A forecast has no finding of its own yet, and its title ("/srv/data predicted full by …") is a
    poor question for the knowledge base; the finding it predicts leads to the patterns that finding
    will lead to, with the subject's facts (a data disk or the root filesystem).
    """
    module = next((r for r in load_rules() if r.NAME == rule), None)
    predicted = getattr(module, "PREDICTS", None)
    if not predicted:
        return []
    rows = snapshot.data("storage").get("filesystems") or [] if snapshot is not None else []
    row = next((fs for fs in rows if isinstance(fs, dict) and fs.get("mountpoint") == subject), {})
    facts = {k: row.get(k) for k in ("device", "fstype", "omv_managed")}
    return [Finding(predicted, "critical", subject, f"{subject} is predicted to fill", facts)]


def human_bytes(n: float | None) -> str:
    if n is None:
        return "?"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{n:.0f} B"
        n /= 1024
    return f"{n}"
