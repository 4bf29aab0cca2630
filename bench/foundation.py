#!/usr/bin/python3
"""Foundation benchmark: collection cycle per source, daemon RSS, /system/status latency, store growth.

Prints tables (numbers go into docs/benchmarks.md, section "foundation"). Runs against this box:
every source as configured by default (omv-rpc on PATH is used if present — the OMV test bed's real
engine here), a real daemon process on a free loopback port, and a scratch SQLite store.

    /usr/bin/python3 bench/foundation.py [--cycles 10] [--requests 1000] [--snapshots 1000]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import PYTHON, ROOT, daemon_environment, percentile, stop, write_config

#: the daemon's settings for the foundation numbers: a 10 s cycle, slow sources allowed, quiet logs
CONFIG = {"collect": {"interval_s": 10, "source_timeout_s": 60}, "omv_rpc": {"timeout_s": 60},
          "logging": {"level": "WARNING"}}


def table(headers, rows, title=None) -> str:
    rows = [[str(c) for c in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    out = [title] if title else []
    out.append("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(out)


def bench_cycles(config_path: Path, cycles: int) -> str:
    """Per-source durations: the first (cold: OMV configuration read) cycle, then the warm ones."""
    from omv_copilot_agent import config as config_mod
    from omv_copilot_agent.collect import Collector

    config = config_mod.load(str(config_path), environ={})
    collector = Collector(config)
    try:
        snaps = [collector.collect() for _ in range(cycles)]
    finally:
        collector.close()
    rows = []
    for name in snaps[0].sources:
        warm = [s.sources[name].duration_s for s in snaps[1:] if name in s.sources] or [0.0]
        first = snaps[0].sources[name]
        rows.append([name, first.status, f"{first.duration_s * 1000:.1f}", f"{statistics.median(warm) * 1000:.1f}",
                     f"{max(warm) * 1000:.1f}", (first.reason or "")[:60]])
    rows.append(["(whole cycle)", "", f"{snaps[0].duration_s * 1000:.1f}",
                 f"{statistics.median(s.duration_s for s in snaps[1:]) * 1000:.1f}" if cycles > 1 else "-",
                 f"{max(s.duration_s for s in snaps[1:]) * 1000:.1f}" if cycles > 1 else "-", "parallel: slowest source"])
    return table(["SOURCE", "STATUS", "FIRST ms", f"WARM p50 ms (n={cycles - 1})", "WARM max ms", "REASON"], rows,
                 title=f"Collection cycle per source ({cycles} cycles in-process)")


def bench_daemon(config_path: Path, cycles: int, requests_n: int) -> str:
    """A real daemon process: /system/status latency over N requests, RSS after its 1st and Nth cycle."""
    import psutil
    import requests

    from omv_copilot_agent import config as config_mod

    config = config_mod.load(str(config_path), environ={})
    url = "http://" + config["api"]["listen"]
    proc = subprocess.Popen([PYTHON, "-m", "omv_copilot_agent", "--config", str(config_path), "daemon"], cwd=ROOT,
                            env=daemon_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    session = requests.Session()
    try:
        deadline = time.time() + 120
        status = None
        while time.time() < deadline:
            try:
                token = config.token_file.read_text().strip()
                r = session.get(url + "/api/v1/system/status", headers={"Authorization": f"Bearer {token}"}, timeout=5)
                if r.status_code == 200:
                    status = r.json()
                    break
            except (OSError, requests.RequestException):
                pass
            time.sleep(0.2)
        if status is None:
            raise SystemExit("daemon did not serve a status within 120 s")
        headers = {"Authorization": f"Bearer {token}"}
        rss_first = psutil.Process(proc.pid).memory_info().rss
        size = len(r.content)
        times = []
        for _ in range(requests_n):
            start = time.perf_counter()
            r = session.get(url + "/api/v1/system/status", headers=headers, timeout=30)
            times.append((time.perf_counter() - start) * 1000)
            assert r.status_code == 200
        interval = config["collect"]["interval_s"]
        deadline = time.time() + cycles * (interval + 60)
        while time.time() < deadline:
            done = session.get(url + "/api/v1/system/status", headers=headers, timeout=30).json()["agent"]["cycles"]
            if done >= cycles:
                break
            time.sleep(1)
        time.sleep(min(3, interval / 2))  # idle: between two cycles
        info = psutil.Process(proc.pid).memory_full_info()
        rows = [["/system/status p50", f"{percentile(times, 50):.2f} ms"], ["/system/status p95", f"{percentile(times, 95):.2f} ms"],
                ["/system/status p99", f"{percentile(times, 99):.2f} ms"], ["/system/status max", f"{max(times):.2f} ms"],
                ["response size", f"{size / 1024:.1f} KiB"],
                ["RSS after 1st cycle", f"{rss_first / 2**20:.1f} MiB"],
                [f"idle RSS after {done} cycles", f"{info.rss / 2**20:.1f} MiB (USS {info.uss / 2**20:.1f} MiB)"],
                ["threads", str(psutil.Process(proc.pid).num_threads())]]
        return table(["DAEMON", "VALUE"], rows, title=f"Real daemon process: {requests_n} sequential GET /api/v1/system/status "
                                                     f"(keep-alive, token), interval {interval} s")
    finally:
        stop(proc)


def bench_store(config_path: Path, snapshots: int) -> str:
    """Bytes per stored cycle (snapshot JSON + metric samples), extrapolated to the default retention."""
    from omv_copilot_agent import config as config_mod
    from omv_copilot_agent.collect import Collector
    from omv_copilot_agent.collect.samples import metric_samples
    from omv_copilot_agent.store import Store

    config = config_mod.load(str(config_path), environ={})
    collector = Collector(config)
    try:
        collector.collect()
        snap = collector.collect()
    finally:
        collector.close()
    samples = metric_samples(snap)
    with tempfile.TemporaryDirectory(prefix="omv-copilot-bench-") as folder:
        store = Store(folder)

        def size() -> int:
            store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return sum(p.stat().st_size for p in Path(folder).glob("copilot.db*"))

        base = size()
        start = time.perf_counter()
        for i in range(snapshots):
            snap.taken_at += 60
            store.save_snapshot(snap)
            store.add_metrics(snap.taken_at, samples)
        elapsed = time.perf_counter() - start
        grown = size() - base
        store.close()
    per = grown / snapshots
    retention = int(config["collect"]["snapshot_retention_days"])
    import json

    rows = [["snapshot JSON", f"{len(json.dumps(snap.to_dict(), separators=(',', ':'), default=str)) / 1024:.1f} KiB"],
            ["metric samples per cycle", str(len(samples))],
            [f"DB growth per {snapshots} cycles", f"{grown / 2**20:.2f} MiB ({per / 1024:.1f} KiB per cycle)"],
            [f"at 60 s interval, {retention} d retention", f"{per * 1440 * retention / 2**20:.0f} MiB"],
            ["write time per cycle", f"{elapsed / snapshots * 1000:.2f} ms"]]
    return table(["STORE", "VALUE"], rows, title="SQLite store growth (snapshot + metrics per cycle, WAL checkpointed)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=10)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--snapshots", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="omv-copilot-bench-") as folder:
        config_path = write_config(Path(folder), CONFIG, api_threads=None)
        import platform

        import psutil

        print(f"box: {platform.node()}, {psutil.cpu_count()} CPU, {psutil.virtual_memory().total / 2**30:.1f} GiB RAM, "
              f"Python {platform.python_version()}, omv-rpc {'present' if __import__('shutil').which('omv-rpc', path='/usr/sbin:/usr/bin:/sbin:/bin') else 'absent'}")
        print()
        print(bench_cycles(config_path, args.cycles))
        print()
        print(bench_daemon(config_path, args.cycles, args.requests))
        print()
        print(bench_store(config_path, args.snapshots))
    return 0


if __name__ == "__main__":
    sys.exit(main())
