"""Shared bench helpers: a daemon on a free port in a temp dir, process-tree sampling, tables.

Not a benchmark itself (``make bench`` runs ``bench/*.py`` except names starting with ``_``).
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = "/usr/bin/python3"
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def machine() -> str:
    import psutil

    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores ({cpu}), "
            f"{psutil.virtual_memory().total / 2**30:.0f} GiB RAM, Python {platform.python_version()}, {platform.platform()}, "
            f"load average {os.getloadavg()[0]:.1f} (other work on the machine skews latency numbers)")


def write_config(workdir: Path, extra: dict | None = None) -> Path:
    import yaml

    port = free_port()
    config = {"data_dir": str(workdir / "data"), "api": {"listen": f"127.0.0.1:{port}", "token_file": str(workdir / "token"),
                                                         "threads": 8}}
    for key, value in (extra or {}).items():
        config.setdefault(key, {}).update(value) if isinstance(value, dict) else config.__setitem__(key, value)
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def start_daemon(workdir: Path, extra: dict | None = None) -> tuple[subprocess.Popen, str, str, float]:
    """(process, url, token, seconds until /healthz answered)."""
    import yaml

    path = write_config(workdir, extra)
    url = "http://" + yaml.safe_load(path.read_text())["api"]["listen"]
    start = time.monotonic()
    proc = subprocess.Popen([PYTHON, "-m", "omv_copilot_agent", "--config", str(path), "daemon"], cwd=ROOT,
                            stdout=open(workdir / "daemon.log", "wb"), stderr=subprocess.STDOUT)
    startup = wait_http(url + "/healthz", start, proc)
    return proc, url, (workdir / "token").read_text().strip(), startup


def wait_http(url: str, start: float, proc: subprocess.Popen, timeout: float = 60) -> float:
    import requests

    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited {proc.returncode}")
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return time.monotonic() - start
        except requests.RequestException:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def tree(pid: int):
    import psutil

    try:
        parent = psutil.Process(pid)
        return [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def rss_bytes(pid: int) -> int:
    import psutil

    total = 0
    for p in tree(pid):
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def cpu_seconds(pid: int) -> float:
    import psutil

    total = 0.0
    for p in tree(pid):
        try:
            t = p.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
        except psutil.NoSuchProcess:
            pass
    return total


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def table(headers: list[str], rows: list[list]) -> str:
    """A GitHub-flavoured markdown table (pastes straight into docs/benchmarks.md)."""
    cells = [[str(h) for h in headers]] + [[f"{c:.2f}" if isinstance(c, float) else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    return "\n".join([line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, cells[1:])])
