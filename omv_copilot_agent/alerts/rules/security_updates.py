"""Pending security updates from apt."""

from omv_copilot_agent.alerts.rules import Condition, RuleContext

NAME = "security_updates"
FINDINGS = ("security-updates",)


def evaluate(ctx: RuleContext):
    if not ctx.source_ok("apt"):
        return None
    out = []
    for f in ctx.found(*FINDINGS):
        n, names = f.evidence["security_count"], f.evidence["packages"]
        out.append(Condition(NAME, "apt", "warning", f"{n} security update(s) pending",
                             f"{n} security update(s) wait to be installed: {', '.join(map(str, names))}. Install them from "
                             f"System > Update Management.", {"security_count": n, "packages": names}))
    return out
