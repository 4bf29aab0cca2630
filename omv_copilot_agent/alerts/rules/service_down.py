"""A service enabled in OMV whose systemd unit is not active (the seed's service_down)."""

from omv_copilot_agent.alerts.rules import Finding, RuleContext

NAME = "service_down"


def evaluate(ctx: RuleContext):
    units = ctx.snapshot.data("services").get("units") if ctx.source_ok("services") else None
    omv_services = ctx.snapshot.data("omv").get("services") if ctx.source_ok("omv") else None
    if units is None and omv_services is None:
        return None
    out, seen = [], set()
    for u in units or []:
        if u.get("enabled_in_omv") is True and u.get("active_state") != "active":
            name = u.get("omv_name") or u.get("name")
            seen.add(name)
            out.append(Finding(NAME, name, "critical", f"Service {name} is down",
                               f"{name} is enabled in OMV but its unit {u.get('unit')} is "
                               f"{u.get('active_state')}/{u.get('sub_state')}.",
                               {"unit": u.get("unit"), "active_state": u.get("active_state"), "sub_state": u.get("sub_state")}))
    for s in omv_services or []:
        if s.get("enabled") and s.get("running") is False and s.get("name") not in seen:
            out.append(Finding(NAME, s.get("name"), "critical", f"Service {s.get('title') or s.get('name')} is down",
                               f"{s.get('title') or s.get('name')} is enabled in OMV but not running.", {"source": "omv"}))
    return out
