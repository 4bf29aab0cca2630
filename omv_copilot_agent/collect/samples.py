"""The time-series samples of one snapshot, stored each cycle (forecasts and graphs read them back)."""

from __future__ import annotations

import math

from omv_copilot_agent.collect.snapshot import Snapshot


def _number(value) -> bool:
    """A value the store can keep: a finite int or float. Why: a NaN or a string from a sensor or a
    smartctl reading would fail the flush's NOT NULL/REAL constraints, and the write-behind buffer keeps
    what it could not write, so one such sample would block every later flush."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def metric_samples(snap: Snapshot) -> list[tuple[str, dict | None, float]]:
    """The time-series samples of one cycle (names documented in docs/snapshot.md)."""
    samples: list[tuple[str, dict | None, float]] = []
    system = snap.data("system")
    cpu = system.get("cpu") or {}
    if cpu.get("percent") is not None:
        samples.append(("cpu.percent", None, cpu["percent"]))
    for name, value in zip(("load.1", "load.5", "load.15"), cpu.get("load") or []):
        samples.append((name, None, value))
    for key, metric in (("memory", "mem.percent"), ("swap", "swap.percent")):
        value = (system.get(key) or {}).get("percent")
        if value is not None:
            samples.append((metric, None, value))
    for temp in system.get("temperatures") or []:
        if temp.get("current_c") is not None:
            samples.append(("temp.celsius", {"sensor": f"{temp.get('sensor')}/{temp.get('label')}"}, temp["current_c"]))
    for fs in snap.data("storage").get("filesystems") or []:
        if not fs.get("mounted", True) or fs.get("total") in (None, 0):
            continue
        labels = {"mountpoint": fs.get("mountpoint")}
        samples += [("fs.used_percent", labels, fs.get("percent")), ("fs.used_bytes", labels, fs.get("used")),
                    ("fs.free_bytes", labels, fs.get("free"))]
    smart = snap.data("smart")
    for disk in smart.get("disks") or []:
        # a sleeping disk keeps its last reading, and an awake one is read every few cycles:
        # only a reading taken in this cycle is a new sample
        if disk.get("read_at", 0) != smart.get("cycle_at", 0):
            continue
        labels = {"device": disk.get("device")}
        samples.append(("disk.temperature", labels, disk.get("temperature_c")))
        # reallocated sectors (ATA attribute 5) or NVMe media errors: the trend an alert's evidence shows
        realloc = next((a.get("raw") for a in disk.get("attributes") or [] if a.get("id") == 5), None)
        if realloc is None:
            realloc = (disk.get("nvme") or {}).get("media_errors")
        if isinstance(realloc, (int, float)):
            samples.append(("disk.reallocated", labels, realloc))
    return [s for s in samples if _number(s[2])]
