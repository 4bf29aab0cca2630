"""Sustained load: 1-minute load per CPU over the threshold for ``load_sustained_s``."""

from omv_copilot_agent.alerts.rules import Finding, RuleContext

NAME = "load"


def evaluate(ctx: RuleContext):
    if not ctx.source_ok("system"):
        return None
    cpu = ctx.snapshot.data("system").get("cpu") or {}
    count, load = cpu.get("count") or 1, (cpu.get("load") or [None])[0]
    if load is None:
        return None
    limit = ctx.config["load_per_cpu_warning"] * count
    if load <= limit:
        return []
    window = ctx.config["load_sustained_s"]
    if window:
        points = ctx.series("load.1", None, ctx.now - window)
        if not points or points[0][0] > ctx.now - 0.8 * window or any(v <= limit for _, v in points):
            return []
    return [Finding(NAME, "load", "warning", f"Load {load:.1f} on {count} CPUs",
                    f"The 1-minute load has stayed above {limit:.1f} ({ctx.config['load_per_cpu_warning']} per CPU) "
                    f"for {window // 60} min; now {load:.2f}.", {"load1": load, "cpus": count})]
