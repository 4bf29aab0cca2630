"""Source 'system': identity, OS/OMV version, uptime, CPU, memory, temperatures (psutil)."""

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
        "cpu": {"count": psutil.cpu_count() or 1, "percent": psutil.cpu_percent(interval=None), "load": [round(x, 2) for x in os.getloadavg()]},
        "memory": {"total": mem.total, "available": mem.available, "used": mem.used, "percent": mem.percent},
        "swap": {"total": swap.total, "used": swap.used, "percent": swap.percent},
        "temperatures": temperatures(),
    }
