#!/usr/bin/python3
"""Store growth: database size over a simulated year of 60 s collection cycles, with retention.

Uses the real :class:`Store`: every simulated cycle adds the metric samples a
real snapshot of this machine yields (batched an hour per transaction for
speed; the rows are the daemon's), and every simulated hour runs the daemon's retention
(``Store.prune``: snapshots kept 7 days, metrics downsampled raw 48 h ->
5 min for 30 days -> hourly for 2 years). Full snapshots are written only for
the last 8 simulated days: older ones are pruned anyway, so writing a year of
them would only measure the disk. ``BENCH_STORE_DAYS`` (default 365) sets the
length; the table shows the file size (after a WAL checkpoint, without VACUUM)
at checkpoints.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from pathlib import Path

from _common import machine, table, write_config

DAYS = int(os.environ.get("BENCH_STORE_DAYS", "365"))
INTERVAL_S = 60  # the default collect.interval_s
CHECKPOINTS = sorted({d for d in (1, 2, 7, 30, 90, 180, 365, DAYS) if d <= DAYS})


def real_snapshot(workdir: Path):
    from omv_copilot_agent import config as config_mod
    from omv_copilot_agent.collect import Collector

    config = config_mod.load(str(write_config(workdir, {"collect": {"disabled_sources": ["apt"]}})))
    collector = Collector(config)
    try:
        return collector.collect()
    finally:
        collector.close()


def main() -> int:
    from omv_copilot_agent.collect.samples import metric_samples
    from omv_copilot_agent.store import Store
    from omv_copilot_agent.store.metrics import labels_key

    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="copilot-bench-") as tmp:
        workdir = Path(tmp)
        snapshot = real_snapshot(workdir)
        samples = list(metric_samples(snapshot))
        store = Store(workdir / "store")
        snapshot_bytes = len(__import__("json").dumps(snapshot.to_dict(), default=str))
        print(f"{len(samples)} metric samples and a {snapshot_bytes / 1024:.1f} KiB snapshot per cycle; "
              f"{DAYS} days of {INTERVAL_S} s cycles = {DAYS * 86400 // INTERVAL_S} cycles\n", flush=True)
        rng = random.Random(1)
        start_wall = time.monotonic()
        t0 = time.time() - DAYS * 86400
        rows = []
        cycles_per_day = 86400 // INTERVAL_S
        for day in range(1, DAYS + 1):
            write_snapshots = day > DAYS - 8
            per_hour = 3600 // INTERVAL_S
            for hour in range(24):
                base = t0 + ((day - 1) * cycles_per_day + hour * per_hour) * INTERVAL_S
                stamps = [base + i * INTERVAL_S for i in range(per_hour)]
                # The rows the daemon writes in an hour, in one transaction here (speed; same content).
                with store.write() as conn:
                    conn.executemany("INSERT INTO metrics (ts, name, labels, value, tier) VALUES (?, ?, ?, ?, 0)",
                                     [(ts, n, labels_key(l), float(v or 0) * (0.9 + 0.2 * rng.random()))
                                      for ts in stamps for n, l, v in samples])
                if write_snapshots:
                    for ts in stamps:
                        snapshot.taken_at = ts
                        store.save_snapshot(snapshot)
                store.prune(now=stamps[-1] + INTERVAL_S, snapshot_days=7)
            if day in CHECKPOINTS:
                store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                tiers = dict(store.conn.execute("SELECT tier, COUNT(*) FROM metrics GROUP BY tier").fetchall())
                size = os.path.getsize(store.path)
                rows.append([day, f"{size / 2**20:.1f}", tiers.get(0, 0), tiers.get(1, 0), tiers.get(2, 0),
                             store.snapshot_count(), f"{time.monotonic() - start_wall:.0f}"])
                print(f"  day {day}: {size / 2**20:.1f} MiB", flush=True)
        store.conn.execute("VACUUM")
        vacuumed = os.path.getsize(store.path)
        integrity = store.integrity_check()
        store.close()
    print()
    print(table(["day", "db MiB", "raw rows", "5-min rows", "hourly rows", "snapshots", "elapsed s"], rows))
    print(f"\nafter VACUUM: {vacuumed / 2**20:.1f} MiB; integrity_check: {integrity}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
