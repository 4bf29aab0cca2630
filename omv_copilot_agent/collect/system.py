"""Source 'system': identity, OS/OMV version, uptime, CPU, memory, temperatures, top processes (psutil)."""

from __future__ import annotations

import os
import platform
import socket
import time
from pathlib import Path

import psutil

NAME = "system"

OMV_VERSION_FILES = ("/var/lib/dpkg/status",)


def os_release(path: str = "/etc/os-release") -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        return None
    return None


def omv_version(status_file: str = "/var/lib/dpkg/status") -> str | None:
    """The installed openmediavault package version, read from dpkg's status file."""
    try:
        text = Path(status_file).read_text(errors="replace")
    except OSError:
        return None
    for block in text.split("\n\n"):
        if block.startswith("Package: openmediavault\n") and "Status: install ok installed" in block:
            for line in block.splitlines():
                if line.startswith("Version: "):
                    return line.split(": ", 1)[1]
    return None


def temperatures() -> list[dict]:
    try:
        readings = psutil.sensors_temperatures()
    except (AttributeError, OSError):
        return []
    out = []
    for sensor, entries in readings.items():
        for entry in entries:
            out.append({"sensor": sensor, "label": entry.label or sensor, "current_c": entry.current,
                        "high_c": entry.high, "critical_c": entry.critical})
    return out


#: The shortest window a CPU percentage is measured over. A one-shot run (the CLI without the
#: daemon, the first cycle) has no earlier sample, and psutil's own "since the last call" would
#: measure the time since psutil was imported — the import itself, close to 100 %.
CPU_MIN_WINDOW_S = 0.25


def _busy_percent(start, end) -> float:
    """Busy share of all CPU time between two psutil.cpu_times() readings, as psutil counts it
    (guest time is already inside user time; idle and iowait are not busy)."""
    def total(t):
        return sum(t) - getattr(t, "guest", 0.0) - getattr(t, "guest_nice", 0.0)

    def idle(t):
        return t.idle + getattr(t, "iowait", 0.0)

    elapsed = total(end) - total(start)
    if elapsed <= 0:
        return 0.0
    return round(min(100.0, max(0.0, 100.0 * (elapsed - (idle(end) - idle(start))) / elapsed)), 1)


def cpu_percent(cache: dict, min_window_s: float = CPU_MIN_WINDOW_S) -> float:
    """CPU busy % since the previous cycle's reading (kept in ``cache``), or over a fresh short
    window when there is none or it is too recent to mean anything."""
    now, times = time.monotonic(), psutil.cpu_times()
    previous = cache.get("cpu_times")
    if previous is None or now - previous[0] < min_window_s:
        time.sleep(min_window_s)
        previous = (now, times)
        now, times = time.monotonic(), psutil.cpu_times()
    cache["cpu_times"] = (now, times)
    return _busy_percent(previous[1], times)


#: how many processes the snapshot keeps per ranking (an alert's evidence shows the first few)
TOP_PROCESSES = 5
#: how often the process table is read. Reading every /proc/<pid> costs ~10 ms of CPU per pass
#: on a box with ~150 processes, ten times the rest of this source; the alerts that show the
#: ranking (load, memory pressure) are sustained conditions, so a 5-minute average serves them
#: better than the last minute's and costs a fifth.
PROCESSES_EVERY_S = 300.0


def top_processes(cache: dict, limit: int = TOP_PROCESSES, every_s: float = PROCESSES_EVERY_S) -> dict:
    """The busiest processes by CPU since the previous reading and the largest by resident memory.

    Read at most every ``every_s`` seconds; between readings the last ranking is returned
    (its ``read_at`` says when it was taken).

    Why a per-cycle delta of CPU times (kept in ``cache``) and not ``Process.cpu_percent()``:
    psutil's own needs the same Process object across calls, and a one-shot sample would
    block. A process first seen this cycle has no CPU figure yet (None). Names are what
    the kernel reports (untrusted: the alert evidence redacts and caps them).
    """
    now = time.monotonic()
    before, seen_at = cache.get("proc_times", {}), cache.get("proc_at")
    if seen_at is not None and now - seen_at < every_s and "proc_result" in cache:
        return cache["proc_result"]
    elapsed = now - seen_at if seen_at is not None else None
    times, rows = {}, []
    for proc in psutil.process_iter(["pid", "name", "cpu_times", "memory_info"]):
        info = proc.info
        cpu, mem = info.get("cpu_times"), info.get("memory_info")
        if cpu is None or mem is None:  # gone, or not ours to read
            continue
        used = cpu.user + cpu.system
        key = (info["pid"], info.get("name"))
        times[key] = used
        percent = None
        if elapsed and key in before:
            percent = round(max(0.0, used - before[key]) * 100.0 / elapsed, 1)
        rows.append({"name": info.get("name") or "?", "pid": info["pid"], "cpu_percent": percent, "rss": mem.rss})
    cache["proc_times"], cache["proc_at"] = times, now  # only live processes: the cache never grows
    by_cpu = sorted((r for r in rows if r["cpu_percent"] is not None), key=lambda r: -r["cpu_percent"])[:limit]
    by_rss = sorted(rows, key=lambda r: -r["rss"])[:limit]
    result = cache["proc_result"] = {"count": len(rows), "top_cpu": by_cpu, "top_rss": by_rss, "read_at": time.time()}
    return result


def collect(ctx) -> dict:
    mem = psutil.virtual_memory()
    swap = psutil.swap_memory()
    boot = psutil.boot_time()
    cache = ctx.cache.setdefault(NAME, {})
    if "identity" not in cache:
        cache["identity"] = {"os": os_release(), "omv_version": omv_version(), "kernel": platform.release()}
    return {
        "hostname": socket.gethostname(),
        **cache["identity"],
        "boot_time": boot,
        "uptime_s": round(time.time() - boot, 1),
        "cpu": {"count": psutil.cpu_count() or 1, "percent": cpu_percent(cache), "load": [round(x, 2) for x in os.getloadavg()]},
        "memory": {"total": mem.total, "available": mem.available, "used": mem.used, "percent": mem.percent},
        "swap": {"total": swap.total, "used": swap.used, "percent": swap.percent},
        "temperatures": temperatures(),
        "processes": top_processes(cache),
    }
