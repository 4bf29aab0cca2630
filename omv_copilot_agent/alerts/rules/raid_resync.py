"""An md array resyncing or recovering (redundancy reduced until it finishes)."""

from omv_copilot_agent.alerts.rules import Finding, RuleContext

NAME = "raid_resync"


def evaluate(ctx: RuleContext):
    if not ctx.source_ok("storage"):
        return None
    out = []
    for r in ctx.snapshot.data("storage").get("raid") or []:
        action = r.get("action")
        if action in ("resync", "recovery", "reshape"):
            name = r.get("name")
            pct = r.get("progress_percent")
            out.append(Finding(NAME, name, "warning" if action == "recovery" else "info", f"RAID {name}: {action} running",
                               f"{name} is in {action}" + (f", {pct}% done" if pct is not None else " (pending)") + ".",
                               {"action": action, "progress_percent": pct}))
    return out
