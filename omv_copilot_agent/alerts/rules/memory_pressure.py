"""Memory and swap pressure."""

from omv_copilot_agent.alerts.rules import Condition, RuleContext

NAME = "memory_pressure"
FINDINGS = ("memory-high", "swap-high")


def evaluate(ctx: RuleContext):
    if not ctx.source_ok("system"):
        return None
    out = []
    for f in ctx.found(*FINDINGS):
        pct = f.evidence["percent"]
        if f.id == "memory-high":
            out.append(Condition(NAME, "memory", "warning", f"Memory {pct:.0f}% used",
                                 f"RAM use is {pct:.1f}% (threshold {f.threshold:g}%).", {"percent": pct}))
        else:
            out.append(Condition(NAME, "swap", "warning", f"Swap {pct:.0f}% used",
                                 f"Swap use is {pct:.1f}% (threshold {f.threshold:g}%) — the box is short of memory.",
                                 {"percent": pct}))
    return out
