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


def write_config(workdir: Path, extra: dict | None = None, *, api_threads: int | None = 8) -> Path:
    """A config in ``workdir``: data dir and token there, a free loopback port; ``api_threads`` None = the default."""
    import yaml

    port = free_port()
    config = {"data_dir": str(workdir / "data"), "api": {"listen": f"127.0.0.1:{port}", "token_file": str(workdir / "token")}}
    if api_threads is not None:
        config["api"]["threads"] = api_threads
    for key, value in (extra or {}).items():
        config.setdefault(key, {}).update(value) if isinstance(value, dict) else config.__setitem__(key, value)
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


#: The systemd unit the package installs: the bench's daemon runs with its Environment= lines.
UNIT = ROOT / "debian" / "openmediavault-copilot.omv-copilot.service"
#: What the benches and tests give systemd's ``%C`` (/var/cache for the unit): the daemon's bytecode
#: cache lives under it. Kept between runs, as a box keeps /var/cache/omv-copilot between starts, so a
#: daemon started here measures a warm start (a .pyc is recompiled only when its source changed).
CACHE_ROOT = ROOT / "build" / "cache-root"


def unit_environment(unit: Path = UNIT, cache_root: Path | str = "/var/cache") -> dict[str, str]:
    """``Environment=KEY=VALUE`` settings of the unit, so a bench measures the process the unit runs.

    systemd's ``%C`` specifier (the cache directory root) becomes ``cache_root``.
    """
    env = {}
    for line in unit.read_text().splitlines():
        if line.startswith("Environment="):
            for item in line.removeprefix("Environment=").split():
                key, _, value = item.strip('"').partition("=")
                env[key] = value.replace("%C", str(cache_root))
    return env


def daemon_environment(cache_root: Path | str = CACHE_ROOT, base: dict | None = None) -> dict[str, str]:
    """The environment a daemon started here gets: ``base`` (this process's) with the unit's Environment=.

    Why drop PYTHONDONTWRITEBYTECODE: systemd starts the unit with a clean environment, so on a box
    the optimized bytecode is cached; a development shell that sets it would make every start compile.
    """
    env = {key: value for key, value in (os.environ if base is None else base).items() if key != "PYTHONDONTWRITEBYTECODE"}
    return {**env, **unit_environment(cache_root=cache_root)}


class Drained:
    """A child's stdout+stderr as a pipe this process reads and drops, keeping only the tail.

    Why: on a box the unit's output goes to journald over a pipe, not to a file in the data dir;
    a bench that redirected it to a file would count the log's pages as the program's writes.
    """

    def __init__(self, keep: int = 8192):
        import threading

        self.read_end, self.write_end = os.pipe()
        self.tail = b""
        self.keep = keep
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        with os.fdopen(self.read_end, "rb", buffering=0) as pipe:
            while chunk := pipe.read(65536):
                self.tail = (self.tail + chunk)[-self.keep:]

    def popen(self, argv: list[str], **kwargs) -> subprocess.Popen:
        proc = subprocess.Popen(argv, stdout=self.write_end, stderr=self.write_end, **kwargs)
        os.close(self.write_end)  # the child holds it; EOF when the child exits
        proc.output = self  # type: ignore[attr-defined]
        return proc


def start_daemon(workdir: Path, extra: dict | None = None, *, api_threads: int | None = 8,
                 log_to_file: bool = True, env: dict | None = None) -> tuple[subprocess.Popen, str, str, float]:
    """(process, url, token, seconds until /healthz answered); run with the unit's Environment=.

    ``log_to_file`` False sends its output to a drained pipe (as to journald) instead of ``daemon.log``;
    ``env`` replaces the whole environment (:func:`daemon_environment`), e.g. to compare a variant.
    """
    import yaml

    path = write_config(workdir, extra, api_threads=api_threads)
    url = "http://" + yaml.safe_load(path.read_text())["api"]["listen"]
    start = time.monotonic()
    argv = [PYTHON, "-m", "omv_copilot_agent", "--config", str(path), "daemon"]
    env = daemon_environment() if env is None else env
    if log_to_file:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=open(workdir / "daemon.log", "wb"), stderr=subprocess.STDOUT)
    else:
        proc = Drained().popen(argv, cwd=ROOT, env=env)
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
