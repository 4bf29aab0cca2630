"""An md array that is degraded, has failed members, or is inactive."""

from omv_copilot_agent.alerts.rules import Condition, RuleContext

NAME = "raid_degraded"
FINDINGS = ("raid-degraded", "raid-inactive", "raid-member-failed")


def evaluate(ctx: RuleContext):
    if not ctx.source_ok("storage"):
        return None
    out = []
    for f in ctx.found(*FINDINGS):
        e, name = f.evidence, f.subject
        if f.id == "raid-member-failed":
            out.append(Condition(NAME, name, "warning", f"RAID {name} has failed members",
                                 f"{name}: member(s) {', '.join(e['failed'])} marked failed; the array is still complete.",
                                 {"failed": e.get("failed")}))
            continue
        what = "inactive" if f.id == "raid-inactive" else "degraded"
        out.append(Condition(NAME, name, "critical", f"RAID {name} is {what}",
                             f"{name} ({e.get('level')}) has {e.get('devices_active')}/{e.get('devices_total')} devices active; "
                             f"failed: {', '.join(e.get('failed') or []) or 'none listed'}. Another failure may lose data.",
                             {"level": e.get("level"), "failed": e.get("failed"), "state": e.get("state")}))
    return out
