"""Sustained load: the load-high finding held for ``load_sustained_s`` (one busy minute is no alert).

The finding is momentary (info); this rule's alert is what says the box is overloaded, so it
names its finding in ``SUSTAINS`` rather than ``FINDINGS`` and the health score counts the alert.
"""

from omv_copilot_agent.alerts.rules import Condition, RuleContext

NAME = "load"
SUSTAINS = "load-high"


def evaluate(ctx: RuleContext):
    if not ctx.source_ok("system"):
        return None
    found = ctx.found(SUSTAINS)
    if not found:
        return []
    f = found[0]
    load, count, limit = f.evidence["load1"], f.evidence["cpus"], f.threshold
    window = ctx.config["load_sustained_s"]
    if window:
        points = ctx.series("load.1", None, ctx.now - window)
        if not points or points[0][0] > ctx.now - 0.8 * window or any(v <= limit for _, v in points):
            return []
    return [Condition(NAME, "load", "warning", f"Load {load:.1f} on {count} CPUs",
                      f"The 1-minute load has stayed above {limit:.1f} ({f.evidence['per_cpu']} per CPU) "
                      f"for {window // 60} min; now {load:.2f}.", {"load1": load, "cpus": count})]
