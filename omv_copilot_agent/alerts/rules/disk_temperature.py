"""Disk temperature over the warning/critical thresholds."""

from omv_copilot_agent.alerts.rules import Finding, RuleContext

NAME = "disk_temperature"


def evaluate(ctx: RuleContext):
    if not ctx.source_ok("smart"):
        return None
    warn, crit = ctx.config["temperature_warning_c"], ctx.config["temperature_critical_c"]
    out = []
    for d in ctx.snapshot.data("smart").get("disks") or []:
        t = d.get("temperature_c")
        if t is None or t < warn:
            continue
        dev = d.get("device")
        sev = "critical" if t >= crit else "warning"
        out.append(Finding(NAME, dev, sev, f"Disk {dev} is at {t} °C",
                           f"{dev} ({d.get('model') or '?'}) runs at {t} °C (threshold {crit if sev == 'critical' else warn} °C) "
                           f"— check airflow and fans.", {"temperature_c": t}))
    return out
