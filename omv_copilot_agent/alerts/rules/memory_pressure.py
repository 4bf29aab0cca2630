"""Memory and swap pressure."""

from omv_copilot_agent.alerts.rules import Finding, RuleContext

NAME = "memory_pressure"


def evaluate(ctx: RuleContext):
    if not ctx.source_ok("system"):
        return None
    system = ctx.snapshot.data("system")
    out = []
    mem = (system.get("memory") or {}).get("percent")
    if mem is not None and mem >= ctx.config["memory_warning_percent"]:
        out.append(Finding(NAME, "memory", "warning", f"Memory {mem:.0f}% used",
                           f"RAM use is {mem:.1f}% (threshold {ctx.config['memory_warning_percent']}%).", {"percent": mem}))
    swap = system.get("swap") or {}
    if swap.get("total") and swap.get("percent") is not None and swap["percent"] >= ctx.config["swap_warning_percent"]:
        out.append(Finding(NAME, "swap", "warning", f"Swap {swap['percent']:.0f}% used",
                           f"Swap use is {swap['percent']:.1f}% (threshold {ctx.config['swap_warning_percent']}%) — the box "
                           f"is short of memory.", {"percent": swap["percent"]}))
    return out
