"""The short status summary (Dashboard header, ``omv-copilot status``), read from the findings."""

from __future__ import annotations

from omv_copilot_agent.findings import SEVERITY_ORDER, Finding


def summarize(snapshot, found: list[Finding]) -> dict:
    """Counts and names of what is wrong, and the findings themselves (the Dashboard colours by them):
    the same judgement as the alerts, the health score and the assistant."""
    system = snapshot.data("system")

    def subjects(*ids: str) -> list[str]:
        return list(dict.fromkeys(f.subject for f in found if f.id in ids))

    return {
        "hostname": system.get("hostname"),
        "omv_version": system.get("omv_version"),
        "sources": {name: r.status for name, r in snapshot.sources.items()},
        "finding_counts": {sev: sum(1 for f in found if f.severity == sev) for sev in SEVERITY_ORDER},
        "findings": [f.to_dict() for f in found],
        "services_down": subjects("service-down"),
        "filesystems_full": subjects("filesystem-full"),
        "raid_degraded": subjects("raid-degraded", "raid-inactive"),
        "smart_failed": subjects("smart-failed"),
    }
