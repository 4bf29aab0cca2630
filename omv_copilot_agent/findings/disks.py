"""Disk health from SMART and the NVMe health log (source ``smart``)."""

from __future__ import annotations

from omv_copilot_agent.findings.base import Finding, SnapshotView, level, number
from omv_copilot_agent.findings.thresholds import Thresholds

FINDINGS = {
    "smart-failed": "a disk's SMART overall-health self-assessment says FAILED",
    "smart-attribute": "a failure-predicting SMART attribute is non-zero (evidence.attribute: 5, 187, 188, 197, 198, 199) "
                       "or a vendor attribute is failing",
    "nvme-critical-warning": "an NVMe drive sets its critical warning bits",
    "nvme-media-errors": "an NVMe drive reports media errors",
    "nvme-worn": "an NVMe drive used its rated endurance up to the warning percentage",
    "nvme-spare-low": "an NVMe drive's available spare is below its own threshold",
    "disk-hot": "a disk is at or over its temperature warning/critical (NVMe has its own limits)",
}
#: Backblaze/Scrutiny: raw values over 0 that predict failure; 199 (CRC) usually means a cable
ATTRIBUTES = {5: ("Reallocated sectors", "warning"), 187: ("Reported uncorrectable errors", "warning"),
              188: ("Command timeouts", "warning"), 197: ("Current pending sectors", "critical"),
              198: ("Offline uncorrectable sectors", "critical"), 199: ("UDMA CRC errors", "info")}


def check(view: SnapshotView, t: Thresholds) -> list[Finding]:
    out = []
    for disk in view.items("smart", "disks"):
        dev = str(disk.get("device") or "?")
        facts = {k: disk.get(k) for k in ("model", "serial", "protocol")}
        if disk.get("passed") is False:
            out.append(Finding("smart-failed", "critical", dev, f"{dev} reports SMART overall health FAILED", facts))
        out += _attributes(dev, disk, facts)
        out += _nvme(dev, disk, facts, t)
        out += _temperature(dev, disk, facts, t)
    return out


def _attributes(dev: str, disk: dict, facts: dict) -> list[Finding]:
    out = []
    attrs = disk.get("attributes")
    for a in attrs if isinstance(attrs, list) else []:
        if not isinstance(a, dict):
            continue
        raw, aid = number(a.get("raw")), a.get("id")
        evidence = {**facts, "attribute": aid, "name": a.get("name"), "raw": a.get("raw")}
        if aid in ATTRIBUTES and raw is not None and raw > 0:
            name, sev = ATTRIBUTES[aid]
            out.append(Finding("smart-attribute", sev, dev, f"{dev}: {aid} {a.get('name') or name} raw={a.get('raw')}", evidence, 0))
        elif a.get("when_failed"):
            out.append(Finding("smart-attribute", "critical", dev,
                               f"{dev}: {aid} {a.get('name')} failed ({a.get('when_failed')})", {**evidence, "when_failed": a["when_failed"]}))
    return out


def _nvme(dev: str, disk: dict, facts: dict, t: Thresholds) -> list[Finding]:
    n = disk.get("nvme")
    if not isinstance(n, dict):
        return []
    out = []
    warning = number(n.get("critical_warning"))
    if warning:
        out.append(Finding("nvme-critical-warning", "critical", dev, f"{dev}: NVMe critical warning 0x{int(warning):02x}",
                           {**facts, "critical_warning": n.get("critical_warning")}, 0))
    errors = number(n.get("media_errors"))
    if errors:
        out.append(Finding("nvme-media-errors", "warning", dev, f"{dev}: {n['media_errors']} media errors",
                           {**facts, "media_errors": n["media_errors"]}, 0))
    used = number(n.get("percentage_used"))
    if used is not None and used >= t.nvme_percentage_used_warning:
        out.append(Finding("nvme-worn", "warning", dev, f"{dev}: {n['percentage_used']}% of rated endurance used",
                           {**facts, "percentage_used": n["percentage_used"]}, t.nvme_percentage_used_warning))
    spare, spare_min = number(n.get("available_spare")), number(n.get("available_spare_threshold"))
    if spare is not None and spare_min is not None and spare < spare_min:
        out.append(Finding("nvme-spare-low", "critical", dev, f"{dev}: available spare {spare:g}% below threshold {spare_min:g}%",
                           {**facts, "available_spare": spare}, spare_min))
    return out


def _temperature(dev: str, disk: dict, facts: dict, t: Thresholds) -> list[Finding]:
    temp = number(disk.get("temperature_c"))
    if temp is None:
        return []
    nvme = disk.get("protocol") == "NVMe" or isinstance(disk.get("nvme"), dict)
    limits = ((t.nvme_temperature_warning_c, t.nvme_temperature_critical_c) if nvme
              else (t.temperature_warning_c, t.temperature_critical_c))
    hit = level(temp, *limits)
    if not hit:
        return []
    return [Finding("disk-hot", hit[0], dev, f"{dev} runs at {temp:g} °C (threshold {hit[1]:g} °C)",
                    {**facts, "temperature_c": disk.get("temperature_c")}, hit[1])]
