"""Filesystem usage at or over the warning/critical percentage (node_exporter/Netdata style)."""

from omv_copilot_agent.alerts.rules import Finding, RuleContext, human_bytes

NAME = "fs_full"


def evaluate(ctx: RuleContext):
    if not ctx.source_ok("storage"):
        return None
    warn, crit = ctx.config["disk_usage_warning_percent"], ctx.config["disk_usage_critical_percent"]
    out = []
    for fs in ctx.snapshot.data("storage").get("filesystems") or []:
        pct, mp = fs.get("percent"), fs.get("mountpoint")
        if pct is None or not mp or fs.get("mounted") is False or pct < warn:
            continue
        sev = "critical" if pct >= crit else "warning"
        out.append(Finding(NAME, mp, sev, f"Filesystem {mp} is {pct:.0f}% full",
                           f"{mp} ({fs.get('device')}) uses {pct:.1f}% — {human_bytes(fs.get('free'))} free of "
                           f"{human_bytes(fs.get('total'))} (threshold {crit if sev == 'critical' else warn}%).",
                           {"percent": pct, "free": fs.get("free"), "total": fs.get("total"), "device": fs.get("device")}))
    return out
