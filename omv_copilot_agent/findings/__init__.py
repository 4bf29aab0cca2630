"""Findings: the one judgement of a snapshot ("what is wrong on the box now").

``evaluate(snapshot, thresholds) -> list[Finding]`` runs every check module
(one per area of the box) with the thresholds of the ``findings`` config
section. Everything that says whether something is wrong reads findings:
alert rules, the health score, the status summary, the assistant's router and
pattern matching. A new finding goes into one check module (its ``FINDINGS``
entry, which :data:`CATALOGUE` collects, and the code that emits it), with its
threshold in ``config/schema/findings.yaml``; nothing else re-derives a threshold.
"""

from __future__ import annotations

import logging

from omv_copilot_agent.findings import disks, jobs, network, services, storage, system
from omv_copilot_agent.findings.base import Finding, SnapshotView
from omv_copilot_agent.findings.thresholds import Thresholds

log = logging.getLogger(__name__)

#: the check modules, each ``check(view, thresholds) -> list[Finding]``
CHECKS = (storage, disks, system, services, network, jobs)

#: every finding id a check can produce, with what it means (patterns may refer only to these)
CATALOGUE: dict[str, str] = {id_: text for module in CHECKS for id_, text in module.FINDINGS.items()}

SEVERITY_ORDER = {"info": 0, "warning": 1, "critical": 2}


def evaluate(snapshot, thresholds: Thresholds | None = None) -> list[Finding]:
    """Every finding that holds on ``snapshot`` (a Snapshot, its dict, or None).

    A source that is missing, unavailable or malformed yields no finding: a
    broken collector must not invent a problem, and one broken check must not
    hide the others.
    """
    view = SnapshotView.of(snapshot)
    if view is None:
        return []
    thresholds = thresholds or Thresholds.from_section()
    out: list[Finding] = []
    for module in CHECKS:
        try:
            out.extend(module.check(view, thresholds))
        except Exception:  # malformed data a check did not foresee
            log.exception("findings check %s failed", module.__name__)
    return out


def by_id(findings: list[Finding], *ids: str) -> list[Finding]:
    """The findings with one of ``ids``, in evaluation order."""
    return [f for f in findings if f.id in ids]


def at_least(severity: str, findings: list[Finding]) -> list[Finding]:
    """The findings of ``severity`` or worse."""
    floor = SEVERITY_ORDER[severity]
    return [f for f in findings if SEVERITY_ORDER.get(f.severity, 0) >= floor]


__all__ = ["CATALOGUE", "Finding", "SnapshotView", "Thresholds", "at_least", "by_id", "evaluate"]
