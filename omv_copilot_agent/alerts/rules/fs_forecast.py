"""Disk-fill forecast: the level the forecaster's guards allow (alerts/forecasting.py), with its reason."""

import time

from omv_copilot_agent.alerts.rules import Condition, RuleContext, human_bytes

NAME = "fs_forecast"
#: The finding a forecast alert foretells: its patterns are the forecast's (rules.foretold).
PREDICTS = "filesystem-full"


def evaluate(ctx: RuleContext):
    if not ctx.forecasts:
        return None if not ctx.source_ok("storage") else []
    out = []
    for mp, fc in ctx.forecasts.items():
        sev = fc.severity
        if sev is None or fc.full_at is None:
            continue
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(fc.full_at))
        out.append(Condition(NAME, mp, sev, f"Filesystem {mp} predicted full by {when}",
                             f"{mp} fills at {human_bytes(fc.rate_bytes_per_day)}/day and will be full around {when} "
                             f"(in {fc.days_left:.1f} days). Why: {fc.reason}.",
                             {"full_at": fc.full_at, "days_left": fc.days_left, "rate_bytes_per_day": fc.rate_bytes_per_day,
                              "reason": fc.reason, "r2": fc.r2, "window_s": fc.window_s, "free_percent": fc.free_percent,
                              "seconds_left_range": fc.seconds_left_range}))
    return out
