"""Shared bench helpers: a daemon on a free port in a temp dir, process-tree sampling, tables.

Not a benchmark itself (``make bench`` runs ``bench/*.py`` except names starting with ``_``).
"""

from __future__ import annotations

import os
import shutil
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


def tree_sum(pid: int, measure) -> float:
    """``measure(process)`` summed over a process tree; processes that vanish or hide count 0."""
    import psutil

    total = 0
    for p in tree(pid):
        try:
            total += measure(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied, OSError, KeyError, ValueError):
            pass
    return total


def rss_bytes(pid: int) -> int:
    return tree_sum(pid, lambda p: p.memory_info().rss)


def pss_bytes(pid: int) -> int:
    return tree_sum(pid, lambda p: p.memory_full_info().pss)


def cpu_seconds(pid: int) -> float:
    def cpu(p):
        t = p.cpu_times()
        return t.user + t.system + t.children_user + t.children_system

    return tree_sum(pid, cpu)


def written_bytes(pid: int) -> int:
    """Bytes the process tree caused to be written to storage (write_bytes - cancelled_write_bytes)."""
    def written(p):
        fields = dict(line.split(": ") for line in open(f"/proc/{p.pid}/io").read().splitlines())
        return int(fields["write_bytes"]) - int(fields["cancelled_write_bytes"])

    return tree_sum(pid, written)


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


def stock_apt_lists(dest: Path, source: str = "/var/lib/apt/lists") -> Path:
    """A stock Debian apt list layout (uncompressed ``*_Packages``) built from this machine's lists.

    Development machines keep their lists compressed (``Acquire::GzipIndexes``, lz4 here);
    a NAS keeps ~50 MB of plain text, which is what the apt source must be measured on.
    """
    import gzip
    import lzma

    dest.mkdir(parents=True, exist_ok=True)
    for path in sorted(Path(source).glob("*_Packages*")):
        name, _, ext = path.name.partition("_Packages")
        target = dest / f"{name}_Packages"
        if target.exists():
            continue
        if ext == ".lz4":
            with open(target, "wb") as out:
                subprocess.run(["lz4", "-dc", str(path)], stdout=out, check=True)
        elif ext in (".gz", ".xz"):
            opener = gzip.open if ext == ".gz" else lzma.open
            with opener(path, "rb") as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
        elif ext == "":
            shutil.copyfile(path, target)
    return dest
