"""Benchmark: rule evaluation per snapshot, forecasting, lifecycle, alert evidence, /metrics rendering (prints a table).

Run: /usr/bin/python3 bench/alerts.py   (or `make bench`). Uses a tmp data dir,
synthetic snapshots of a large NAS (24 disks, 40 filesystems, 8 md arrays,
60 units) and a week of 5-minute samples per filesystem for the forecasts.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from omv_copilot_agent import config as config_mod  # noqa: E402
from omv_copilot_agent.alerts.forecasting import forecast  # noqa: E402
from omv_copilot_agent.collect.base import SourceResult  # noqa: E402
from omv_copilot_agent.collect.snapshot import Snapshot  # noqa: E402
from omv_copilot_agent.daemon.agent import Agent  # noqa: E402
from omv_copilot_agent.collect.samples import metric_samples  # noqa: E402

GiB = 2**30
rng = random.Random(1)


def big_snapshot(ts: float, step: int) -> Snapshot:
    filesystems = []
    for i in range(40):
        total = 4000 * GiB
        used = (0.5 + 0.4 * i / 40) * total + step * 0.001 * total * (i % 3)
        filesystems.append({"device": f"/dev/sd{chr(97 + i % 24)}1", "mountpoint": f"/srv/dev-disk-by-uuid-{i:04d}",
                            "fstype": "ext4", "total": total, "used": used, "free": total - used, "percent": used / total * 100,
                            "readonly": False, "mounted": True, "omv_managed": True})
    disks = [{"device": f"/dev/sd{chr(97 + i)}", "model": "WDC WD40EFRX", "serial": f"S{i}", "protocol": "ATA",
              "passed": i != 3, "temperature_c": 38 + i % 20,
              "attributes": [{"id": a, "name": str(a), "raw": (8 if i == 5 and a == 197 else 0)} for a in (5, 9, 187, 188, 194, 197, 198)],
              "nvme": None} for i in range(24)]
    raid = [{"name": f"md{i}", "level": "raid6", "state": "active", "degraded": i == 2, "devices_total": 6,
             "devices_active": 5 if i == 2 else 6, "failed": [], "action": "resync" if i == 4 else None} for i in range(8)]
    units = [{"name": f"svc{i}", "unit": f"svc{i}.service", "active_state": "failed" if i == 7 else "active",
              "sub_state": "running", "enabled_in_omv": i < 20} for i in range(60)]
    system = {"hostname": "bench", "cpu": {"count": 8, "load": [1.0, 1.0, 1.0], "percent": 10},
              "memory": {"total": 16 * GiB, "percent": 40}, "swap": {"total": GiB, "percent": 1}}
    data = {"storage": {"filesystems": filesystems, "raid": raid}, "smart": {"disks": disks}, "services": {"units": units},
            "system": system, "apt": {"security_count": 1, "pending": [{"name": "openssl", "security": True}]},
            "omv": {"config_dirty": False}}
    return Snapshot(ts, {n: SourceResult(n, "ok", d, collected_at=ts) for n, d in data.items()})


def table(rows):
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for j, r in enumerate(rows):
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
        if j == 0:
            print("  ".join("-" * w for w in widths))


def main() -> int:
    tmp = tempfile.mkdtemp(prefix="bench-alerts-")
    cfg = config_mod.from_dict({"data_dir": tmp, "alerts": {"udev_monitor": False, "rrd_import": False, "forecast_interval_s": 0}})
    agent = Agent(cfg)
    now = time.time()
    # a week of 5-minute history for every filesystem
    week = 7 * 86400
    rows = []
    for k, ts in enumerate(range(int(now - week), int(now), 300)):
        for i in range(40):
            rows.append((ts, "fs.used_bytes", f"mountpoint=/srv/dev-disk-by-uuid-{i:04d}", (0.5 + 0.4 * i / 40 + k * 1e-6 * (i % 3)) * 4000 * GiB, 0))
        rows.append((ts, "load.1", "", 1.0, 0))
    with agent.store.write() as conn:
        conn.executemany("INSERT INTO metrics (ts, name, labels, value, tier) VALUES (?, ?, ?, ?, ?)", rows)
    rule_ms, total_ms, fc_cycle_ms = [], [], []
    for k in range(30):
        snap = big_snapshot(now + k * 60, 2016 + k)
        agent.snapshot = snap
        agent.store.add_metrics(snap.taken_at, metric_samples(snap))
        agent.alerts.evaluate(snap)
        rule_ms.append(agent.alerts.last_evaluation["rules_s"] * 1000)
        total_ms.append(agent.alerts.last_evaluation["total_s"] * 1000)
        fc_cycle_ms.append(agent.alerts.last_evaluation["forecast_s"] * 1000)
    findings = agent.alerts.last_evaluation["findings"]
    pts = [(now - (2016 - i) * 300, 1000 * GiB + i * GiB / 10 + rng.gauss(0, GiB / 50)) for i in range(2016)]
    t0 = time.perf_counter()
    for _ in range(200):
        forecast("/srv/x", pts, 4000 * GiB, now)
    fc_ms = (time.perf_counter() - t0) / 200 * 1000
    from omv_copilot_agent.api.metrics import exposition

    t0 = time.perf_counter()
    for _ in range(20):
        body = exposition(agent)
    metrics_ms = (time.perf_counter() - t0) / 20 * 1000
    t0 = time.perf_counter()
    for _ in range(20):
        agent.alerts.health_score()
    health_ms = (time.perf_counter() - t0) / 20 * 1000

    from omv_copilot_agent.alerts import evidence, lifecycle
    from omv_copilot_agent.collect import system as system_source

    open_n = len(agent.alerts.open_alerts())
    found = agent.alerts.findings(snap)
    evidence_ms = []
    for k in range(1, 6):  # every open alert due: a full rebuild, what a refresh pass costs at most
        t0 = time.perf_counter()
        agent.alerts.attach_evidence(lifecycle.Events(), snap, found, snap.taken_at + k * evidence.REFRESH_S)
        evidence_ms.append((time.perf_counter() - t0) * 1000)
    cache: dict = {}
    system_source.top_processes(cache)
    t0 = time.perf_counter()
    for _ in range(20):
        procs = system_source.top_processes(cache)
    procs_ms = (time.perf_counter() - t0) / 20 * 1000

    def p(v):
        return f"{statistics.median(v):.2f} / {max(v):.2f}"

    print(f"alerts bench: 40 filesystems (2016 points each = 1 week at 5 min), 24 disks, 8 md arrays, 60 units; "
          f"{findings} findings per cycle, {agent.alerts.list()[0]} alerts")
    table([["measure", "median / max ms"],
           ["rules only, per snapshot (16 rules)", p(rule_ms)],
           ["forecasts per snapshot, 40 fs (SQLite reads + fits)", p(fc_cycle_ms)],
           ["evaluate per snapshot (forecasts + rules + lifecycle)", p(total_ms)],
           ["forecast 1 fs, 2016 points (fit only)", f"{fc_ms:.3f}"],
           ["health score", f"{health_ms:.2f}"],
           [f"evidence for all {open_n} open alerts (a refresh pass, every {evidence.REFRESH_S:g} s)", p(evidence_ms)],
           [f"top processes in the system source ({procs['count']} processes on this box)", f"{procs_ms:.2f}"],
           [f"GET /metrics body ({len(body)} bytes)", f"{metrics_ms:.2f}"]])
    agent.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
