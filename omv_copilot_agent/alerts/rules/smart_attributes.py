"""Backblaze/Scrutiny critical ATA attributes (raw 5, 187, 188, 197, 198 > 0) or a vendor WHEN_FAILED, one alert per disk.

UDMA CRC errors (199) are an info finding (usually a cable) and raise no alert.
"""

from omv_copilot_agent.alerts.rules import Condition, RuleContext

NAME = "smart_attributes"
FINDINGS = ("smart-attribute",)


def evaluate(ctx: RuleContext):
    if not ctx.source_ok("smart"):
        return None
    per_disk: dict[str, list] = {}
    for f in ctx.found(*FINDINGS):
        if f.severity != "info":
            per_disk.setdefault(f.subject, []).append(f)
    out = []
    for dev, found in per_disk.items():
        e = found[0].evidence
        bad = [f"{x.evidence['attribute']} {x.evidence.get('name')} failed ({x.evidence['when_failed']})" if x.evidence.get("when_failed")
               else f"{x.evidence['attribute']} {x.evidence.get('name')}={x.evidence.get('raw')}" for x in found]
        critical = any(x.severity == "critical" for x in found)
        out.append(Condition(NAME, dev, "critical" if critical else "warning",
                             f"Disk {dev} has failure-predicting SMART attributes",
                             f"{dev} ({e.get('model') or '?'}): " + "; ".join(bad) +
                             ". Backblaze data links these to much higher failure rates.",
                             {"attributes": bad, "model": e.get("model"), "serial": e.get("serial")}))
    return out
