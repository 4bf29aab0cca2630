"""NVMe health log: critical warning, media errors, percentage used, spare below threshold."""

from omv_copilot_agent.alerts.rules import Finding, RuleContext

NAME = "nvme_health"


def evaluate(ctx: RuleContext):
    if not ctx.source_ok("smart"):
        return None
    out = []
    for d in ctx.snapshot.data("smart").get("disks") or []:
        n = d.get("nvme")
        if not n:
            continue
        problems, sev = [], "warning"
        if n.get("critical_warning"):
            problems.append(f"critical warning 0x{int(n['critical_warning']):02x}")
            sev = "critical"
        if (n.get("media_errors") or 0) > 0:
            problems.append(f"{n['media_errors']} media errors")
        if (n.get("percentage_used") or 0) >= ctx.config["nvme_percentage_used_warning"]:
            problems.append(f"{n['percentage_used']}% of rated endurance used")
        spare, spare_min = n.get("available_spare"), n.get("available_spare_threshold")
        if spare is not None and spare_min is not None and spare < spare_min:
            problems.append(f"available spare {spare}% below threshold {spare_min}%")
            sev = "critical"
        if problems:
            dev = d.get("device")
            out.append(Finding(NAME, dev, sev, f"NVMe {dev} health problem",
                               f"{dev} ({d.get('model') or '?'}): " + "; ".join(problems) + ".", {"nvme": n}))
    return out
