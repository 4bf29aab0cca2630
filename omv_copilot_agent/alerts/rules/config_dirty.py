"""OMV configuration changed in the web UI but not applied (the yellow 'pending changes' bar)."""

from omv_copilot_agent.alerts.rules import Condition, RuleContext

NAME = "config_dirty"
FINDINGS = ("config-dirty",)


def evaluate(ctx: RuleContext):
    if not ctx.source_ok("omv") or ctx.snapshot.data("omv").get("config_dirty") is None:
        return None
    out = []
    for f in ctx.found(*FINDINGS):
        mods = f.evidence["dirty_modules"]
        out.append(Condition(NAME, "omv", "warning", "OMV configuration changes are not applied",
                             "Settings were saved in the OMV web UI but not applied" +
                             (f" (modules: {', '.join(mods)})" if mods else "") + "; click Apply or run omv-salt deploy.",
                             {"dirty_modules": mods}))
    return out
