#!/usr/bin/python3
"""Footprint: the agent daemon vs ``glances -w`` vs ``prometheus-node-exporter``, side by side.

All three start at once on loopback ports, each is scraped every 15 s (the
agent's ``/system/status``, glances' ``/api/3/all``, node_exporter's
``/metrics``) for ``BENCH_FOOTPRINT_S`` seconds (default 120; the issue's full
run is 600). Reported per program: startup time to a first HTTP answer, RSS of
its process tree (median and max of 1 s samples) and CPU seconds used, plus the
agent's ratios. glances and node_exporter come from Debian and are installed
here if absent. Then the wall time of one collection per agent source.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from _common import cpu_seconds, free_port, machine, rss_bytes, start_daemon, stop, table, wait_http, write_config

DURATION_S = int(os.environ.get("BENCH_FOOTPRINT_S", "120"))
SCRAPE_EVERY_S = 15
PACKAGES = {"glances": "glances", "prometheus-node-exporter": "prometheus-node-exporter"}


def ensure_packages() -> None:
    missing = [pkg for binary, pkg in PACKAGES.items() if not shutil.which(binary)]
    if subprocess.run(["/usr/bin/python3", "-c", "import bottle"], capture_output=True).returncode != 0:
        missing.append("python3-bottle")  # glances' web server mode needs it (only a Recommends)
    if not missing:
        return
    print(f"installing from Debian: {' '.join(missing)}", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", "update", "-q"], env=env, check=True)
    subprocess.run([*sudo, "apt-get", "install", "-y", "-q", "--no-install-recommends", *missing], env=env, check=True)


class Program:
    def __init__(self, name: str, proc: subprocess.Popen, url: str, headers: dict, startup_s: float):
        self.name, self.proc, self.url, self.headers, self.startup_s = name, proc, url, headers, startup_s
        self.rss: list[int] = []
        self.cpu_start = cpu_seconds(proc.pid)
        self.scrapes = self.scrape_errors = 0


def start_glances(workdir: Path) -> Program:
    port = free_port()
    start = time.monotonic()
    proc = subprocess.Popen(["glances", "-w", "--disable-webui", "-B", "127.0.0.1", "-p", str(port), "--disable-autodiscover"], stdout=open(workdir / "glances.log", "wb"), stderr=subprocess.STDOUT,
                            env={**os.environ, "HOME": str(workdir)})
    url = f"http://127.0.0.1:{port}/api/3/all"
    return Program("glances -w", proc, url, {}, wait_http(url, start, proc))


def start_node_exporter(workdir: Path) -> Program:
    port = free_port()
    start = time.monotonic()
    proc = subprocess.Popen(["prometheus-node-exporter", f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=open(workdir / "node_exporter.log", "wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/metrics"
    return Program("node_exporter", proc, url, {}, wait_http(url, start, proc))


def start_agent(workdir: Path) -> Program:
    proc, url, token, startup = start_daemon(workdir)
    return Program("omv-copilot daemon", proc, url + "/api/v1/system/status", {"Authorization": f"Bearer {token}"}, startup)


def measure(programs: list[Program]) -> None:
    import requests

    stop_event = threading.Event()

    def scraper(p: Program):
        while not stop_event.is_set():
            try:
                ok = requests.get(p.url, headers=p.headers, timeout=30).status_code == 200
            except requests.RequestException:
                ok = False
            p.scrapes += 1
            p.scrape_errors += 0 if ok else 1
            stop_event.wait(SCRAPE_EVERY_S)

    threads = [threading.Thread(target=scraper, args=(p,), daemon=True) for p in programs]
    for t in threads:
        t.start()
    end = time.monotonic() + DURATION_S
    while time.monotonic() < end:
        for p in programs:
            p.rss.append(rss_bytes(p.proc.pid))
        time.sleep(1)
    stop_event.set()
    for p in programs:
        p.cpu_used = cpu_seconds(p.proc.pid) - p.cpu_start


def source_times() -> list[list]:
    """Median wall time of one collection per source (5 runs each, in this process)."""
    from omv_copilot_agent import config as config_mod
    from omv_copilot_agent.collect import SOURCES, Collector

    rows = []
    with tempfile.TemporaryDirectory(prefix="copilot-bench-") as tmp:
        config = config_mod.load(str(write_config(Path(tmp))))
        for name in SOURCES:
            collector = Collector(config, sources=(name,))
            times, status = [], "?"
            for _ in range(5):
                start = time.monotonic()
                snap = collector.collect()
                times.append((time.monotonic() - start) * 1000)
                status = snap.sources[name].status
            collector.close()
            rows.append([name, status, statistics.median(times), max(times)])
    return rows


def main() -> int:
    ensure_packages()
    print(f"machine: {machine()}")
    print(f"side by side for {DURATION_S} s, each scraped every {SCRAPE_EVERY_S} s\n", flush=True)
    with tempfile.TemporaryDirectory(prefix="copilot-bench-") as tmp:
        workdir = Path(tmp)
        (workdir / "agent").mkdir()
        programs: list[Program] = []
        try:
            programs.append(start_agent(workdir / "agent"))
            programs.append(start_glances(workdir))
            programs.append(start_node_exporter(workdir))
            measure(programs)
        finally:
            for p in programs:
                stop(p.proc)
    rows = []
    for p in programs:
        rows.append([p.name, f"{p.startup_s:.2f}", f"{statistics.median(p.rss) / 2**20:.1f}", f"{max(p.rss) / 2**20:.1f}",
                     f"{p.cpu_used:.2f}", f"{100 * p.cpu_used / DURATION_S:.2f}", f"{p.scrapes - p.scrape_errors}/{p.scrapes}"])
    print(table(["program", "startup s", "RSS median MiB", "RSS max MiB", "CPU s", "CPU %", "scrapes ok"], rows))
    agent, glances, node = programs
    ratio = lambda a, b: a / b if b else float("nan")  # noqa: E731
    print()
    print(table(["ratio (agent / other)", "RSS median", "RSS max", "CPU s", "startup"], [
        ["vs glances -w", f"{ratio(statistics.median(agent.rss), statistics.median(glances.rss)):.2f}",
         f"{ratio(max(agent.rss), max(glances.rss)):.2f}", f"{ratio(agent.cpu_used, glances.cpu_used):.2f}",
         f"{ratio(agent.startup_s, glances.startup_s):.2f}"],
        ["vs node_exporter", f"{ratio(statistics.median(agent.rss), statistics.median(node.rss)):.2f}",
         f"{ratio(max(agent.rss), max(node.rss)):.2f}", f"{ratio(agent.cpu_used, node.cpu_used):.2f}",
         f"{ratio(agent.startup_s, node.startup_s):.2f}"]]))
    target = ratio(statistics.median(agent.rss), statistics.median(glances.rss))
    print(f"\ntarget: agent idle RSS <= 0.8 x glances: {'met' if target <= 0.8 else 'NOT met'} ({target:.2f})")
    print("\ncollection wall time per source (ms, 5 runs):")
    print(table(["source", "status", "median ms", "max ms"], source_times()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
