"""Health score 0-100: current findings, other open alerts and key signals subtract points; the breakdown says why.

The score follows the findings (not the alerts raised from them), so it moves with the
thresholds at once, and agrees with the summary and the assistant. Acknowledging the alert
of a finding halves its points (someone is on it).
"""

from __future__ import annotations

from omv_copilot_agent.findings import SEVERITY_ORDER, Finding

POINTS = {"critical": 30, "warning": 10, "info": 2}
GRADES = ((90, "A"), (75, "B"), (50, "C"), (25, "D"), (0, "F"))


def grade(score: int) -> str:
    return next(g for limit, g in GRADES if score >= limit)


def _finding_deductions(found: list[Finding], open_alerts: list[dict], rule_of: dict[str, str]) -> list[dict]:
    """One deduction per (alert rule or finding id, subject), at its worst severity; info findings cost nothing."""
    alerts = {(a["rule"], a["subject"]): a for a in open_alerts}
    worst: dict[tuple, Finding] = {}
    for f in found:
        key = (rule_of.get(f.id, f.id), f.subject)
        if f.severity != "info" and (key not in worst or SEVERITY_ORDER[f.severity] > SEVERITY_ORDER[worst[key].severity]):
            worst[key] = f
    out = []
    for key, f in worst.items():
        d = {"reason": f.text, "points": POINTS[f.severity], "kind": "finding", "finding": f.id, "subject": f.subject,
             "severity": f.severity}
        alert = alerts.get(key)
        if alert is not None:
            d.update(alert_id=alert["id"], rule=alert["rule"], state=alert["state"])
            if alert["state"] == "acknowledged":
                d["points"] //= 2
        out.append(d)
    return out


def score(found: list[Finding], open_alerts: list[dict], snapshot, forecasts: list[dict], *,
          rule_of: dict[str, str] | None = None, stale_after_s: float | None = None) -> dict:
    """The score with one deduction per reason.

    ``rule_of`` maps a finding id to the alert rule raised from it: those alerts are
    counted through their finding; other open alerts (forecasts, backups, disk events)
    count themselves.
    """
    rule_of = rule_of or {}
    deductions = _finding_deductions(found, open_alerts, rule_of)
    judged_by_findings = set(rule_of.values())
    for a in open_alerts:
        if a["rule"] in judged_by_findings:
            continue
        points = POINTS.get(a["severity"], 5)
        if a["state"] == "acknowledged":
            points = points // 2
        deductions.append({"reason": a["title"], "points": points, "kind": "alert", "alert_id": a["id"],
                           "rule": a["rule"], "severity": a["severity"], "state": a["state"]})
    alerted = {a["subject"] for a in open_alerts if a["rule"] == "fs_forecast"}
    for f in forecasts:
        if f.get("status") == "filling" and f.get("days_left") is not None and f["days_left"] <= 30 and f["mountpoint"] not in alerted:
            deductions.append({"reason": f"{f['mountpoint']} full in {f['days_left']:.0f} days", "points": 3, "kind": "forecast"})
    if snapshot is None:
        deductions.append({"reason": "no snapshot collected yet", "points": 20, "kind": "signal"})
    else:
        for name, src in snapshot.sources.items():
            if src.status == "unavailable" and name not in ("omv",):
                deductions.append({"reason": f"source {name} unavailable: {src.reason or 'no reason'}", "points": 3, "kind": "signal"})
        if stale_after_s and snapshot.age_s() > stale_after_s:
            deductions.append({"reason": f"last snapshot is {snapshot.age_s():.0f} s old", "points": 10, "kind": "signal"})
    total = max(0, 100 - sum(d["points"] for d in deductions))
    return {"score": total, "grade": grade(total), "deductions": sorted(deductions, key=lambda d: -d["points"])}
