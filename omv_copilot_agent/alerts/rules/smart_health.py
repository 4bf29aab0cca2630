"""SMART overall-health self-assessment FAILED."""

from omv_copilot_agent.alerts.rules import Finding, RuleContext

NAME = "smart_health"


def evaluate(ctx: RuleContext):
    if not ctx.source_ok("smart"):
        return None
    out = []
    for d in ctx.snapshot.data("smart").get("disks") or []:
        if d.get("passed") is False:
            dev = d.get("device")
            out.append(Finding(NAME, dev, "critical", f"Disk {dev} failed its SMART health check",
                               f"{dev} ({d.get('model') or '?'}, serial {d.get('serial') or '?'}) reports SMART overall "
                               f"health FAILED — back up its data and replace it.",
                               {"model": d.get("model"), "serial": d.get("serial")}))
    return out
