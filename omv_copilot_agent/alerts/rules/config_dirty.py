"""OMV configuration changed in the web UI but not applied (the yellow 'pending changes' bar)."""

from omv_copilot_agent.alerts.rules import Finding, RuleContext

NAME = "config_dirty"


def evaluate(ctx: RuleContext):
    if not ctx.source_ok("omv"):
        return None
    omv = ctx.snapshot.data("omv")
    if omv.get("config_dirty") is None:
        return None
    if not omv.get("config_dirty"):
        return []
    mods = omv.get("dirty_modules") or []
    return [Finding(NAME, "omv", "warning", "OMV configuration changes are not applied",
                    "Settings were saved in the OMV web UI but not applied" +
                    (f" (modules: {', '.join(mods)})" if mods else "") + "; click Apply or run omv-salt deploy.",
                    {"dirty_modules": mods})]
