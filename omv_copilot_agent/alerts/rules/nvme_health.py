"""NVMe health log: critical warning, media errors, percentage used, spare below threshold (one alert per drive)."""

from omv_copilot_agent.alerts.rules import Condition, RuleContext

NAME = "nvme_health"
FINDINGS = ("nvme-critical-warning", "nvme-media-errors", "nvme-worn", "nvme-spare-low")


def _problem(f) -> str:
    e = f.evidence
    if f.id == "nvme-critical-warning":
        return f"critical warning 0x{int(e['critical_warning']):02x}"
    if f.id == "nvme-media-errors":
        return f"{e['media_errors']} media errors"
    if f.id == "nvme-worn":
        return f"{e['percentage_used']}% of rated endurance used"
    return f"available spare {e['available_spare']:g}% below threshold {f.threshold:g}%"


def evaluate(ctx: RuleContext):
    if not ctx.source_ok("smart"):
        return None
    per_disk: dict[str, list] = {}
    for f in ctx.found(*FINDINGS):
        per_disk.setdefault(f.subject, []).append(f)
    out = []
    for dev, found in per_disk.items():
        sev = "critical" if any(f.severity == "critical" for f in found) else "warning"
        out.append(Condition(NAME, dev, sev, f"NVMe {dev} health problem",
                             f"{dev} ({found[0].evidence.get('model') or '?'}): " + "; ".join(map(_problem, found)) + ".",
                             {"problems": [f.to_dict() for f in found]}))
    return out
