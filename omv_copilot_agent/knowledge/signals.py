"""Which of a pattern's ``findings:`` references hold among a snapshot's findings.

A reference is a finding id, or ``{id, subject, min_severity, evidence}`` to
narrow it (the root filesystem only, a critical level only, one unit). The
thresholds live in the findings engine; a pattern only says which judgement
points to it.
"""

from __future__ import annotations

from omv_copilot_agent.findings import CATALOGUE, SEVERITY_ORDER, Finding


def reference(ref) -> dict:
    """A reference in its object form."""
    return {"id": ref} if isinstance(ref, str) else dict(ref)


def unknown_ids(pattern: dict) -> list[str]:
    """Finding ids a pattern refers to that the engine does not produce."""
    refs = pattern.get("findings") if isinstance(pattern.get("findings"), list) else []
    return [r["id"] for r in map(reference, refs) if r.get("id") not in CATALOGUE]


def holds(ref: dict, finding: Finding) -> bool:
    if finding.id != ref["id"]:
        return False
    if "subject" in ref and finding.subject != ref["subject"]:
        return False
    if "min_severity" in ref and SEVERITY_ORDER.get(finding.severity, 0) < SEVERITY_ORDER[ref["min_severity"]]:
        return False
    return all(finding.evidence.get(k) == v for k, v in (ref.get("evidence") or {}).items())


def evaluate(pattern: dict, findings: list[Finding]) -> list[str]:
    """Human-readable hits ('smart-attribute on /dev/sda: /dev/sda: 5 Reallocated_Sector_Ct raw=8'); empty when none holds."""
    hits: list[str] = []
    for ref in map(reference, pattern.get("findings") or []):
        for f in findings:
            line = f"{f.id} on {f.subject}: {f.text}"
            if holds(ref, f) and line not in hits:
                hits.append(line)
    return hits
