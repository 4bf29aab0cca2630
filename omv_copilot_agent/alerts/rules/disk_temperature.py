"""Disk temperature over the warning/critical thresholds (NVMe drives have their own)."""

from omv_copilot_agent.alerts.rules import Condition, RuleContext

NAME = "disk_temperature"
FINDINGS = ("disk-hot",)


def evaluate(ctx: RuleContext):
    if not ctx.source_ok("smart"):
        return None
    out = []
    for f in ctx.found(*FINDINGS):
        e, dev, t = f.evidence, f.subject, f.evidence["temperature_c"]
        out.append(Condition(NAME, dev, f.severity, f"Disk {dev} is at {t} °C",
                             f"{dev} ({e.get('model') or '?'}) runs at {t} °C (threshold {f.threshold:g} °C) "
                             f"— check airflow and fans.", {"temperature_c": t}))
    return out
