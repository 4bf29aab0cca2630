"""An md array that is degraded, has failed members, or is inactive."""

from omv_copilot_agent.alerts.rules import Finding, RuleContext

NAME = "raid_degraded"


def evaluate(ctx: RuleContext):
    if not ctx.source_ok("storage"):
        return None
    out = []
    for r in ctx.snapshot.data("storage").get("raid") or []:
        name = r.get("name")
        if r.get("degraded") or r.get("state") == "inactive":
            what = "inactive" if r.get("state") == "inactive" else "degraded"
            out.append(Finding(NAME, name, "critical", f"RAID {name} is {what}",
                               f"{name} ({r.get('level')}) has {r.get('devices_active')}/{r.get('devices_total')} devices active; "
                               f"failed: {', '.join(r.get('failed') or []) or 'none listed'}. Another failure may lose data.",
                               {"level": r.get("level"), "failed": r.get("failed"), "state": r.get("state")}))
        elif r.get("failed"):
            out.append(Finding(NAME, name, "warning", f"RAID {name} has failed members",
                               f"{name}: member(s) {', '.join(r['failed'])} marked failed; the array is still complete.",
                               {"failed": r.get("failed")}))
    return out
