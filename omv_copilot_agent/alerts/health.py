"""Health score 0-100: open alerts and key signals subtract points; the breakdown says why."""

from __future__ import annotations

POINTS = {"critical": 30, "warning": 10, "info": 2}
GRADES = ((90, "A"), (75, "B"), (50, "C"), (25, "D"), (0, "F"))


def grade(score: int) -> str:
    return next(g for limit, g in GRADES if score >= limit)


def score(open_alerts: list[dict], snapshot, forecasts: list[dict], *, stale_after_s: float | None = None) -> dict:
    """The score with one deduction per reason; acknowledged alerts count half (someone is on it)."""
    deductions = []
    for a in open_alerts:
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
