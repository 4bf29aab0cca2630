"""Pending security updates from apt."""

from omv_copilot_agent.alerts.rules import Finding, RuleContext

NAME = "security_updates"


def evaluate(ctx: RuleContext):
    if not ctx.source_ok("apt"):
        return None
    apt = ctx.snapshot.data("apt")
    n = apt.get("security_count") or 0
    if n < ctx.config["security_updates_min"]:
        return []
    names = [p.get("name") for p in apt.get("pending") or [] if p.get("security")][:10]
    return [Finding(NAME, "apt", "warning", f"{n} security update(s) pending",
                    f"{n} security update(s) wait to be installed: {', '.join(names)}. Install them from "
                    f"System > Update Management.", {"security_count": n, "packages": names})]
