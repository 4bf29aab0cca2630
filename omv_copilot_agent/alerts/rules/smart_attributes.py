"""Backblaze/Scrutiny critical ATA attributes: raw 5, 187, 188, 197, 198 > 0, or a vendor WHEN_FAILED."""

from omv_copilot_agent.alerts.rules import Finding, RuleContext

NAME = "smart_attributes"
CRITICAL_IDS = {5: "Reallocated sectors", 187: "Reported uncorrectable errors", 188: "Command timeouts",
                197: "Current pending sectors", 198: "Offline uncorrectable sectors"}


def evaluate(ctx: RuleContext):
    if not ctx.source_ok("smart"):
        return None
    out = []
    for d in ctx.snapshot.data("smart").get("disks") or []:
        dev = d.get("device")
        bad = []
        for a in d.get("attributes") or []:
            raw = a.get("raw")
            if a.get("id") in CRITICAL_IDS and isinstance(raw, (int, float)) and raw > 0:
                bad.append(f"{a.get('id')} {a.get('name') or CRITICAL_IDS[a['id']]}={raw}")
            elif a.get("when_failed"):
                bad.append(f"{a.get('id')} {a.get('name')} failed ({a.get('when_failed')})")
        if bad:
            failing = any("failed (" in b for b in bad) or any(b.startswith(("197 ", "198 ")) for b in bad)
            out.append(Finding(NAME, dev, "critical" if failing else "warning",
                               f"Disk {dev} has failure-predicting SMART attributes",
                               f"{dev} ({d.get('model') or '?'}): " + "; ".join(bad) +
                               ". Backblaze data links these to much higher failure rates.",
                               {"attributes": bad, "model": d.get("model"), "serial": d.get("serial")}))
    return out
