#!/usr/bin/python3
"""Footprint: the agent daemon vs glances, node_exporter and OMV's own collectd + rrdcached, side by side.

All start at once. glances (``-w``), node_exporter and the agent are scraped every 15 s on
loopback (the agent's ``/system/status`` and ``/metrics`` — as the dashboard and a Prometheus
would —, glances' ``/api/3/all``, node_exporter's ``/metrics``); collectd and rrdcached run with OMV 7's configuration, generated here from
OMV's salt states (``../shared/omv-source``: ``deploy/collectd`` — cpu, df of /, interface,
load, memory, rrdcached, syslog, unixsock, uptime plugins, collectd's 10 s interval — and
``deploy/rrdcached`` — ``-B -F -f 3600 -w 900``, journal on), with its paths moved into a temp
dir. Runs ``BENCH_FOOTPRINT_S`` seconds (default 120; the issue's full run is 600).

Per program (process tree): startup to a first HTTP answer, RSS median/max and PSS median of
1 s samples, CPU seconds and CPU-s per hour, bytes written (``/proc/<pid>/io`` write_bytes,
so page-cache writes count when dirtied) and that per day, then the agent's ratios and the
issue's targets. glances, node_exporter, collectd and rrdcached come from Debian and are
installed here if absent. Then the wall time of one collection per agent source.

Every program's stdout/stderr goes to a pipe this script drains (as systemd's journald reads a
unit's output; on a box the journal's own writes are the journal's, and OMV's flashmemory keeps
it in RAM), so "written" is what each program itself writes: the agent's data dir (SQLite
database, WAL, -shm), collectd's RRD files and rrdcached's journal. The agent runs with the
default config and the ``Environment=`` of its systemd unit, its optimized bytecode cache filled by
a start before the measured one (on a box it is written at the first start only).

CPU per hour is given for the whole window and after the warm-up (the same ``WARMUP_S`` for
every program): the agent's first cycle (apt lists parsed, OMV's configuration read, SMART
read) is a one-time cost that a short window would otherwise spread over its hour; the target
compares the after-warm-up figures.

Note on writes: rrdcached keeps updates 900 s (and journals them at once); the agent flushes
every ``store.flush_interval_s`` (900 s) after writing its first cycle. The agent's per-day
figure is bytes per flush (the median of the write bursts seen after warm-up) × flushes a day,
so it does not depend on how many flushes fall in the window; a window without a flush falls
back to the extrapolated total. A fresh store is not a box that has run for months, so
:func:`simulated_day` also measures a store aged with full tiers over simulated days.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from _common import (CACHE_ROOT, ROOT, Drained, cpu_seconds, free_port, machine, pss_bytes, rss_bytes, start_daemon, stop, table,
                     unit_environment, wait_http, write_config, written_bytes)

DURATION_S = int(os.environ.get("BENCH_FOOTPRINT_S", "120"))
#: writes per day are extrapolated from after this (startup creates the database / RRD files once)
WARMUP_S = min(120, DURATION_S // 4)
SCRAPE_EVERY_S = 15
PACKAGES = {"glances": "glances", "prometheus-node-exporter": "prometheus-node-exporter", "collectd": "collectd-core",
            "rrdcached": "rrdcached"}
#: OMV's salt states: $OMV_SOURCE, else the first shared/omv-source beside the checkout or an ancestor
OMV_SALT = (Path(os.environ["OMV_SOURCE"]) if os.environ.get("OMV_SOURCE") else
            next((f / "shared" / "omv-source" for f in ROOT.parents if (f / "shared" / "omv-source").is_dir()),
                 ROOT.parent / "shared" / "omv-source")) / "openmediavault" / "openmediavault" / "srv" / "salt" / "omv" / "deploy"


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
    def __init__(self, name: str, proc: subprocess.Popen, urls: list[str], headers: dict, startup_s: float,
                 extra: list[subprocess.Popen] = ()):
        self.name, self.proc, self.urls, self.headers, self.startup_s = name, proc, urls, headers, startup_s
        self.procs = [proc, *extra]
        self.rss: list[int] = []
        self.pss: list[int] = []
        self.cpu_start = sum(cpu_seconds(p.pid) for p in self.procs)
        self.written_start = sum(written_bytes(p.pid) for p in self.procs)
        self.scrapes = self.scrape_errors = 0
        self.write_trace: list[int] = []


def start_glances(workdir: Path) -> Program:
    port = free_port()
    start = time.monotonic()
    proc = Drained().popen(["glances", "-w", "--disable-webui", "-B", "127.0.0.1", "-p", str(port), "--disable-autodiscover"],
                           env={**os.environ, "HOME": str(workdir)})
    url = f"http://127.0.0.1:{port}/api/3/all"
    return Program("glances -w", proc, [url], {}, wait_http(url, start, proc))


def start_node_exporter(workdir: Path) -> Program:
    port = free_port()
    start = time.monotonic()
    proc = Drained().popen(["prometheus-node-exporter", f"--web.listen-address=127.0.0.1:{port}"])
    url = f"http://127.0.0.1:{port}/metrics"
    return Program("node_exporter", proc, [url], {}, wait_http(url, start, proc))


def start_collectd(workdir: Path) -> Program:
    """collectd + rrdcached as OMV 7 configures them (salt states read for the values), paths in workdir."""
    salt = (OMV_SALT / "rrdcached" / "default.sls").read_text()
    write_timeout = re.search(r"OMV_RRDCACHED_WRITETIMEOUT', '(\d+)'", salt).group(1)
    flush = re.search(r"OMV_RRDCACHED_FLUSHINTERVAL', '(\d+)'", salt).group(1)
    db, journal = workdir / "rrd" / "db", workdir / "rrd" / "journal"
    db.mkdir(parents=True)
    journal.mkdir(parents=True)
    sock = workdir / "rrdcached.sock"
    start = time.monotonic()
    # /etc/init.d/rrdcached with OMV's /etc/default/rrdcached: -l SOCK -j JOURNAL -F -b BASE -B -w WRITE_TIMEOUT -f FLUSH
    rrd = Drained().popen(["rrdcached", "-g", "-l", f"unix:{sock}", "-j", str(journal), "-F", "-b", str(db), "-B",
                           "-w", write_timeout, "-f", flush, "-p", str(workdir / "rrdcached.pid")])
    plugins = []
    for sls in sorted((OMV_SALT / "collectd" / "plugins").glob("*.sls")):
        text = sls.read_text()
        if sls.stem in ("init", "default"):
            continue
        if '"LoadPlugin ' in text:
            plugins.append(re.search(r'contents: "(LoadPlugin \w+)"', text).group(1))
        elif sls.stem == "df":
            plugins.append('LoadPlugin df\n<Plugin df>\n\tMountPoint "/"\n\tIgnoreSelected false\n</Plugin>')
        elif sls.stem == "interface":
            nics = [n for n in os.listdir("/sys/class/net") if n != "lo"]
            plugins.append("LoadPlugin interface\n<Plugin interface>\n" + "".join(f'\tInterface "{n}"\n' for n in nics)
                           + "\tIgnoreSelected false\n</Plugin>")
        elif sls.stem == "rrdcached":
            plugins.append(f'LoadPlugin rrdcached\n<Plugin rrdcached>\n\tDaemonAddress "unix:{sock}"\n\tDataDir "{db}/"\n'
                           f'\tCreateFiles true\n\tCollectStatistics true\n</Plugin>')
        elif sls.stem == "syslog":
            plugins.append("LoadPlugin syslog\n<Plugin syslog>\n\tLogLevel info\n</Plugin>")
        elif sls.stem == "unixsock":
            plugins.append(f'LoadPlugin unixsock\n<Plugin unixsock>\n\tSocketFile "{workdir / "collectd.socket"}"\n'
                           f'\tSocketGroup "root"\n\tSocketPerms "0660"\n</Plugin>')
    conf = workdir / "collectd.conf"
    conf.write_text(f'PIDFile "{workdir / "collectd.pid"}"\nHostname "localhost"\nFQDNLookup true\n' + "\n".join(plugins) + "\n")
    while not sock.exists() and time.monotonic() - start < 30:
        time.sleep(0.02)
    proc = Drained().popen(["collectd", "-f", "-C", str(conf)])
    return Program("collectd + rrdcached (OMV)", proc, [], {}, time.monotonic() - start, extra=[rrd])


def start_agent(workdir: Path) -> Program:
    # the unit's settings: default config (4 API threads), its Environment=, output to a pipe as to journald.
    # One start before it fills the optimized bytecode cache (build/cache-root, as /var/cache/omv-copilot on
    # a box, compiled at the first start only), so its writes are not counted as the measured daemon's.
    import requests

    (workdir / "warm-up").mkdir()
    proc, url, token, _ = start_daemon(workdir / "warm-up", api_threads=None, log_to_file=False)
    headers, deadline = {"Authorization": f"Bearer {token}"}, time.monotonic() + 180
    while requests.get(url + "/api/v1/system/status", headers=headers, timeout=60).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.5)  # until its first cycle has run: the collectors' modules compiled too
    requests.get(url + "/metrics", headers=headers, timeout=30)
    stop(proc)
    proc, url, token, startup = start_daemon(workdir, api_threads=None, log_to_file=False)
    return Program("omv-copilot daemon", proc, [url + "/api/v1/system/status", url + "/metrics"],
                   {"Authorization": f"Bearer {token}"}, startup)


def measure(programs: list[Program]) -> None:
    import requests

    stop_event = threading.Event()

    def scraper(p: Program):
        while not stop_event.is_set():
            for url in p.urls:
                try:
                    ok = requests.get(url, headers=p.headers, timeout=30).status_code == 200
                except requests.RequestException:
                    ok = False
                p.scrapes += 1
                p.scrape_errors += 0 if ok else 1
            stop_event.wait(SCRAPE_EVERY_S)

    threads = [threading.Thread(target=scraper, args=(p,), daemon=True) for p in programs if p.urls]
    for t in threads:
        t.start()
    start = time.monotonic()
    end = start + DURATION_S
    while time.monotonic() < end:
        if not hasattr(programs[0], "steady_start") and time.monotonic() - start >= WARMUP_S:
            for p in programs:  # after startup: collectd has created its RRD files, the agent its database
                p.steady_start = sum(written_bytes(q.pid) for q in p.procs)
                p.steady_cpu_start = sum(cpu_seconds(q.pid) for q in p.procs)
            steady_at = time.monotonic()
        if hasattr(programs[0], "steady_start"):
            for p in programs:  # writes second by second: a flush is a burst, told apart from a trickle
                p.write_trace.append(sum(written_bytes(q.pid) for q in p.procs))
        for p in programs:
            p.rss.append(sum(rss_bytes(q.pid) for q in p.procs))
            p.pss.append(sum(pss_bytes(q.pid) for q in p.procs))
        time.sleep(1)
    stop_event.set()
    steady_s = time.monotonic() - steady_at
    for p in programs:
        cpu_now = sum(cpu_seconds(q.pid) for q in p.procs)
        p.cpu_used = cpu_now - p.cpu_start
        p.steady_cpu_h = (cpu_now - p.steady_cpu_start) * 3600 / steady_s
        now = sum(written_bytes(q.pid) for q in p.procs)
        p.written = now - p.written_start
        p.steady = now - getattr(p, "steady_start", p.written_start)


def bursts(trace: list[int], gap: int = 5) -> list[int]:
    """Bytes of each burst of writes in a per-second trace (writes closer than ``gap`` s are one burst)."""
    out, quiet = [], gap
    for before, after in zip(trace, trace[1:]):
        step = after - before
        if step > 0:
            if quiet >= gap:
                out.append(0)
            out[-1] += step
            quiet = 0
        else:
            quiet += 1
    return out


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


class WalCounter:
    """Pages an SQLite database in WAL mode wrote: WAL frames appended, and pages copied into the
    database file by each checkpoint (the distinct pages of the WAL it emptied).

    Counted from the files, not from ``/proc/self/io``: a day simulated in seconds re-dirties the
    same page-cache pages long before the kernel's 30-s writeback, and would count each once.
    """

    FRAME = 24

    def __init__(self, path: Path):
        self.wal, self.shm = Path(f"{path}-wal"), Path(f"{path}-shm")
        self.frames = self.checkpointed = 0
        self.last_max, self.pages, self.page_size = 0, set(), 4096

    def _max_frame(self) -> int:
        import struct

        try:
            with open(self.shm, "rb") as fh:
                return struct.unpack("=I", fh.read(20)[16:20])[0]  # WalIndexHdr.mxFrame
        except (OSError, struct.error):
            return 0

    def _wal_pages(self, upto: int) -> set[int]:
        import struct

        with open(self.wal, "rb") as fh:
            header = fh.read(32)
            self.page_size = struct.unpack(">I", header[8:12])[0] or 4096
            pages = set()
            for i in range(upto):
                fh.seek(32 + i * (self.FRAME + self.page_size))
                pages.add(struct.unpack(">I", fh.read(4))[0])
        return pages

    def update(self) -> None:
        """Call after every commit (a restarted WAL means a checkpoint copied the old one's pages)."""
        now = self._max_frame()
        if now < self.last_max:  # the WAL was checkpointed and restarted
            self.checkpointed += len(self.pages)
            self.frames += now
        else:
            self.frames += now - self.last_max
        self.last_max = now
        if now:
            self.pages = self._wal_pages(now) if now < self.last_max or not self.pages else self.pages | self._wal_pages(now)

    def bytes(self) -> int:
        return self.frames * (self.FRAME + self.page_size) + self.checkpointed * self.page_size


SIM_SERIES = [("cpu.percent", None), ("load.1", None), ("load.5", None), ("load.15", None), ("mem.percent", None),
              ("swap.percent", None), ("fs.used_percent", {"mountpoint": "/"}), ("fs.used_bytes", {"mountpoint": "/"}),
              ("fs.free_bytes", {"mountpoint": "/"})]


def simulated_day(days: int = 6) -> dict:
    """What the store writes per day at the defaults on a box that has run for years, without waiting a day.

    A store aged with full tiers (48 h raw, 30 days of 5-min, 2 years of hourly; 9 series, this
    box's) and one open alert; then ``days`` of one-minute cycles on a simulated clock through the
    daemon's own write-behind (900-s flushes, a snapshot when its substance changes or hourly,
    hourly retention and rollups), one real snapshot of this box re-used with new measurements.
    """
    import random

    from omv_copilot_agent import config as config_mod
    from omv_copilot_agent.collect import Collector
    from omv_copilot_agent.daemon.persist import WriteBehind
    from omv_copilot_agent.store import Store

    with tempfile.TemporaryDirectory(prefix="copilot-day-") as tmp:
        config = config_mod.load(str(write_config(Path(tmp))))
        collector = Collector(config)
        snapshot = collector.collect()
        collector.close()
        flush_s = float(config.get_path("store.flush_interval_s"))
        store = Store(Path(tmp) / "sim")
        now = time.time()
        keys = [(n, labels) for n, labels in SIM_SERIES]
        raw, tiered = [], []
        for n, labels in keys:
            key = ",".join(f"{k}={v}" for k, v in (labels or {}).items())
            tiered += [(now - 730 * 86400 + i * 3600, n, key, random.random() * 100, 2) for i in range(700 * 24)]
            tiered += [(now - 30 * 86400 + i * 300, n, key, random.random() * 100, 1) for i in range(28 * 288)]
            raw += [(now - 2 * 86400 + i * 60, n, key, random.random() * 100) for i in range(2 * 1440)]
        with store.write() as conn:
            conn.executemany("INSERT INTO metrics (ts, name, labels, value, tier) VALUES (?, ?, ?, ?, ?)", sorted(tiered))
            if conn.execute("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'metrics_raw'").fetchone()[0]:
                store._insert_metrics(sorted(raw))
            else:  # a version before raw samples had their own table (to compare)
                conn.executemany("INSERT INTO metrics (ts, name, labels, value, tier) VALUES (?, ?, ?, ?, 0)", sorted(raw))
        alert = {"rule": "updates", "subject": "apt", "severity": "info", "title": "Updates pending", "message": "12 updates"}
        alert_id = store.insert_alert(alert, now)
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        clock = [now]
        persist = WriteBehind(store, flush_s, last=snapshot, clock=lambda: clock[0])
        persist.flushed_at = now
        counter = WalCounter(store.path)
        commits = []
        store.conn.set_trace_callback(lambda sql: commits.append(1) if sql == "COMMIT" else None)
        snapshots_before = store.snapshot_count()
        for minute in range(days * 1440):
            clock[0] = t = now + (minute + 1) * 60
            snapshot.taken_at = t
            n_commits = len(commits)
            persist.add(snapshot, [(n, labels, random.random() * 100) for n, labels in keys])
            store.touch_alert(alert_id, alert, t)
            if minute % 60 == 59:  # the daemon's hourly retention (Agent.prune)
                store.prune(t)
            if len(commits) != n_commits or minute % 60 == 59:
                counter.update()
        persist.close()
        counter.update()
        result = {"days": days, "commits": len(commits) / days, "flushes": persist.commits / days,
                  "snapshots": (store.snapshot_count() - snapshots_before) / days, "frames": counter.frames / days,
                  "checkpointed": counter.checkpointed / days, "bytes": counter.bytes() / days}
        store.close()
        return result


def main() -> int:
    ensure_packages()
    print(f"machine: {machine()}")
    print(f"side by side for {DURATION_S} s, each scraped every {SCRAPE_EVERY_S} s; output of each to a drained pipe; "
          f"agent with the unit's environment {unit_environment(cache_root=CACHE_ROOT)} (%C = {CACHE_ROOT})\n", flush=True)
    with tempfile.TemporaryDirectory(prefix="copilot-bench-") as tmp:
        workdir = Path(tmp)
        (workdir / "agent").mkdir()
        programs: list[Program] = []
        try:
            programs.append(start_agent(workdir / "agent"))
            programs.append(start_glances(workdir))
            programs.append(start_node_exporter(workdir))
            (workdir / "collectd").mkdir()
            programs.append(start_collectd(workdir / "collectd"))
            measure(programs)
        finally:
            for p in programs:
                for q in p.procs:
                    stop(q)
    rows = []
    day = 86400 / (DURATION_S - WARMUP_S)
    for p in programs:
        rows.append([p.name, f"{p.startup_s:.2f}", f"{statistics.median(p.rss) / 2**20:.1f}", f"{max(p.rss) / 2**20:.1f}",
                     f"{statistics.median(p.pss) / 2**20:.1f}", f"{p.cpu_used:.2f}", f"{p.cpu_used * 3600 / DURATION_S:.1f}",
                     f"{p.steady_cpu_h:.1f}", f"{p.written / 2**10:.0f}", f"{p.steady * day / 1e6:.2f}",
                     f"{p.scrapes - p.scrape_errors}/{p.scrapes}" if p.urls else "-"])
    print(table(["program", "startup s", "RSS median MiB", "RSS max MiB", "PSS median MiB", "CPU s", "CPU s/h (all)",
                 "CPU s/h (after warm-up)", "written KiB (all)", "MB/day (after warm-up)", "scrapes ok"], rows))
    agent, glances, node, collectd = programs
    ratio = lambda a, b: a / b if b else float("nan")  # noqa: E731
    print()
    print(table(["ratio (agent / other)", "RSS median", "PSS median", "CPU s", "written"], [
        [f"vs {o.name}", f"{ratio(statistics.median(agent.rss), statistics.median(o.rss)):.2f}",
         f"{ratio(statistics.median(agent.pss), statistics.median(o.pss)):.2f}", f"{ratio(agent.cpu_used, o.cpu_used):.2f}",
         f"{ratio(agent.steady, o.steady):.2f}"] for o in (glances, node, collectd)]))
    rss_ratio = ratio(statistics.median(agent.rss), statistics.median(glances.rss))
    cpu_ratio = ratio(agent.steady_cpu_h, node.steady_cpu_h)
    # the agent writes in bursts (one per flush): bytes per burst x flushes a day, plus what it
    # writes between them — independent of how many flushes happen to fall in the window
    from omv_copilot_agent import config as config_mod

    flush_s = float(config_mod.defaults()["store"]["flush_interval_s"])
    seen = bursts(agent.write_trace)
    per_flush = statistics.median(seen) if seen else 0
    per_day = per_flush * 86400 / flush_s if seen else agent.steady * day
    print(f"\nagent writes after warm-up: {len(seen)} bursts {[round(b / 1024) for b in seen]} KiB; "
          f"{per_flush / 1024:.0f} KiB per flush x {86400 / flush_s:.0f} flushes/day = {per_day / 1e6:.2f} MB/day")
    sim = simulated_day()
    print(f"simulated day on a store aged with full tiers and one open alert ({sim['days']} days of one-minute cycles): "
          f"{sim['commits']:.0f} commits, {sim['snapshots']:.0f} snapshot rows, {sim['frames']:.0f} WAL pages, "
          f"{sim['checkpointed']:.0f} pages checkpointed = {sim['bytes'] / 1e6:.2f} MB/day")
    print(f"\ntargets ({DURATION_S} s window):")
    print(f"  idle RSS <= 0.9 x glances: {'met' if rss_ratio <= 0.9 else 'NOT met'} ({rss_ratio:.2f})")
    print(f"  CPU-s/h <= 2 x node_exporter (after warm-up): {'met' if cpu_ratio <= 2 else 'NOT met'} ({cpu_ratio:.2f}; "
          f"{agent.steady_cpu_h:.1f} vs {node.steady_cpu_h:.1f} CPU-s/h)")
    worst = max(per_day, sim["bytes"])
    print(f"  written/day <= 10 MB: {'met' if worst <= 10e6 else 'NOT met'} ({per_day / 1e6:.2f} MB per flush x flushes/day; "
          f"{sim['bytes'] / 1e6:.2f} MB simulated on an aged store)")
    print(f"  written < collectd + rrdcached: {'met' if agent.steady < collectd.steady else 'NOT met'} "
          f"({agent.steady / 2**10:.0f} vs {collectd.steady / 2**10:.0f} KiB after the first {WARMUP_S} s; "
          f"{agent.written / 2**10:.0f} vs {collectd.written / 2**10:.0f} KiB in all)")
    print("\ncollection wall time per source (ms, 5 runs):")
    print(table(["source", "status", "median ms", "max ms"], source_times()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
