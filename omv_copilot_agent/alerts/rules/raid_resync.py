"""An md array resyncing, recovering or reshaping (redundancy reduced until it finishes); a scheduled check is no alert."""

from omv_copilot_agent.alerts.rules import Condition, RuleContext

NAME = "raid_resync"
FINDINGS = ("raid-resync",)


def evaluate(ctx: RuleContext):
    if not ctx.source_ok("storage"):
        return None
    out = []
    for f in ctx.found(*FINDINGS):
        action, pct, name = f.evidence["action"], f.evidence.get("progress_percent"), f.subject
        if action == "check":
            continue
        out.append(Condition(NAME, name, f.severity, f"RAID {name}: {action} running",
                             f"{name} is in {action}" + (f", {pct}% done" if pct is not None else " (pending)") + ".",
                             {"action": action, "progress_percent": pct}))
    return out
