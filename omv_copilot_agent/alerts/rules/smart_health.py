"""SMART overall-health self-assessment FAILED."""

from omv_copilot_agent.alerts.rules import Condition, RuleContext

NAME = "smart_health"
FINDINGS = ("smart-failed",)


def evaluate(ctx: RuleContext):
    if not ctx.source_ok("smart"):
        return None
    out = []
    for f in ctx.found(*FINDINGS):
        e, dev = f.evidence, f.subject
        out.append(Condition(NAME, dev, "critical", f"Disk {dev} failed its SMART health check",
                             f"{dev} ({e.get('model') or '?'}, serial {e.get('serial') or '?'}) reports SMART overall "
                             f"health FAILED — back up its data and replace it.",
                             {"model": e.get("model"), "serial": e.get("serial")}))
    return out
