"""A service enabled in OMV whose systemd unit is not active (or that OMV itself reports stopped)."""

from omv_copilot_agent.alerts.rules import Condition, RuleContext

NAME = "service_down"
FINDINGS = ("service-down",)


def evaluate(ctx: RuleContext):
    if not ctx.source_ok("services") and not ctx.source_ok("omv"):
        return None
    out = []
    for f in ctx.found(*FINDINGS):
        e, name = f.evidence, f.subject
        if e.get("source") == "omv":
            title = e.get("title") or name
            out.append(Condition(NAME, name, "critical", f"Service {title} is down",
                                 f"{title} is enabled in OMV but not running.", {"source": "omv"}))
        else:
            out.append(Condition(NAME, name, "critical", f"Service {name} is down",
                                 f"{name} is enabled in OMV but its unit {e.get('unit')} is {e.get('active_state')}/{e.get('sub_state')}.",
                                 {k: e.get(k) for k in ("unit", "active_state", "sub_state")}))
    return out
