"""CPU, load, memory and swap (source ``system``).

A busy CPU or a high load in one sample is an observation (``info``): the box may just be
working. The ``load`` alert rule raises a warning only when the load lasts.
"""

from __future__ import annotations

from omv_copilot_agent.findings.base import Finding, SnapshotView, number
from omv_copilot_agent.findings.thresholds import Thresholds

FINDINGS = {
    "cpu-busy": "CPU use at or over the busy percentage",
    "load-high": "the 1-minute load is over the per-CPU limit times the CPU count (alerts also require it to last)",
    "memory-high": "RAM use at or over the warning percentage",
    "swap-high": "swap use at or over the warning percentage",
}


def check(view: SnapshotView, t: Thresholds) -> list[Finding]:
    system = view.data("system")
    cpu = view.mapping("system", "cpu")
    out = []
    pct = number(cpu.get("percent"))
    if pct is not None and pct >= t.cpu_busy_percent:
        out.append(Finding("cpu-busy", "info", "cpu", f"CPU {pct:.0f}% busy (threshold {t.cpu_busy_percent:g}%)",
                           {"percent": pct}, t.cpu_busy_percent))
    loads = cpu.get("load") if isinstance(cpu.get("load"), list) else []
    load1 = number(loads[0]) if loads else None
    count = number(cpu.get("count")) or 1
    limit = t.load_per_cpu_warning * count
    if load1 is not None and load1 > limit:
        out.append(Finding("load-high", "info", "load", f"load {load1:g} on {count:g} CPUs (limit {limit:g})",
                           {"load1": load1, "cpus": int(count), "per_cpu": t.load_per_cpu_warning}, limit))
    mem = number((system.get("memory") or {}).get("percent")) if isinstance(system.get("memory"), dict) else None
    if mem is not None and mem >= t.memory_warning_percent:
        out.append(Finding("memory-high", "warning", "memory", f"RAM {mem:.1f}% used (threshold {t.memory_warning_percent:g}%)",
                           {"percent": mem}, t.memory_warning_percent))
    swap = system.get("swap") if isinstance(system.get("swap"), dict) else {}
    used = number(swap.get("percent"))
    if used is not None and swap.get("total") != 0 and used >= t.swap_warning_percent:
        out.append(Finding("swap-high", "warning", "swap", f"swap {used:.1f}% used (threshold {t.swap_warning_percent:g}%)",
                           {"percent": used}, t.swap_warning_percent))
    return out
