"""Disk-fill forecast: exhaustion predicted within 7 days (warning) or 24 h (critical)."""

import time

from omv_copilot_agent.alerts.rules import Condition, RuleContext, human_bytes

NAME = "fs_forecast"


def evaluate(ctx: RuleContext):
    if not ctx.forecasts:
        return None if not ctx.source_ok("storage") else []
    out = []
    for mp, fc in ctx.forecasts.items():
        if fc.status not in ("filling", "full") or fc.seconds_left is None:
            continue
        if fc.seconds_left > ctx.config["forecast_warning_s"]:
            continue
        sev = "critical" if fc.seconds_left <= ctx.config["forecast_critical_s"] else "warning"
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(fc.full_at))
        out.append(Condition(NAME, mp, sev, f"Filesystem {mp} predicted full by {when}",
                           f"{mp} fills at {human_bytes(fc.rate_bytes_per_day)}/day and will be full around {when} "
                           f"(in {fc.days_left:.1f} days, least-squares trend over {fc.points} points).",
                           {"full_at": fc.full_at, "days_left": fc.days_left, "rate_bytes_per_day": fc.rate_bytes_per_day}))
    return out
