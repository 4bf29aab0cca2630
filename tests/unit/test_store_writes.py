"""Writes to the data dir are few: buffered samples, snapshots only on change, one commit per flush.

The daemon's data dir often sits on the USB stick or SD card OMV boots from. These tests count the
COMMITs the agent issues on a real SQLite file over an hour of simulated one-minute cycles.
"""

from __future__ import annotations

import time

import pytest

from omv_copilot_agent.collect.base import SourceResult
from omv_copilot_agent.collect.snapshot import Snapshot


class FakeClock:
    def __init__(self):
        self.now = time.time()

    def __call__(self):
        return self.now


class SteadyCollector:
    """A box whose state does not change, only its measurements (load, memory, disk usage)."""

    previous = None

    def __init__(self):
        self.n = 0
        self.changed_at: set[int] = set()

    def collect(self) -> Snapshot:
        self.n += 1
        now = time.time()
        users = [{"name": "anna"}] + ([{"name": "bob"}] if any(self.n > c for c in self.changed_at) else [])
        system = {"hostname": "nas", "uptime_s": 100 + self.n * 60, "cpu": {"count": 4, "percent": 3 + self.n % 7, "load": [0.1 * (self.n % 5), 0, 0]},
                  "memory": {"total": 2**31, "available": 2**30 - self.n, "used": 2**30 + self.n, "percent": 50 + self.n % 3},
                  # the 5-minute process rankings: measurements, they re-rank on every reading
                  "processes": {"count": 90 + self.n % 7, "read_at": now - self.n % 5 * 60,
                                "top_cpu": [{"name": f"worker{(self.n + i) % 9}", "pid": 100 + self.n + i, "cpu_percent": 0.1 * (self.n % 4),
                                             "rss": 2**20 * (i + 1)} for i in range(5)],
                                "top_rss": [{"name": "python3", "pid": 200 + self.n + i, "cpu_percent": None, "rss": 2**25 - self.n * i}
                                            for i in range(5)]}}
        storage = {"filesystems": [{"mountpoint": "/srv/a", "total": 10**12, "used": 4 * 10**11 + self.n * 10**6,
                                    "free": 6 * 10**11 - self.n * 10**6, "percent": 40.0 + self.n * 0.01, "mounted": True}]}
        return Snapshot(now, {"system": SourceResult("system", "ok", system, None, 0.01, now),
                              "storage": SourceResult("storage", "ok", storage, None, 0.01, now),
                              "omv": SourceResult("omv", "ok", {"users": users}, None, 0.01, now)})

    def close(self):
        pass


def _agent(make_config, flush_s):
    from omv_copilot_agent.daemon.agent import Agent

    config, _ = make_config({"store": {"flush_interval_s": flush_s}, "alerts": {"udev_monitor": False, "rrd_import": False}})
    return Agent(config, collector=SteadyCollector())


def _hour_of_cycles(agent, clock, commits):
    agent.persist.clock = clock
    agent.store.conn.set_trace_callback(lambda sql: commits.append(sql) if sql.startswith("COMMIT") else None)
    for _ in range(60):
        agent.run_cycle()
        clock.now += 60


def test_an_hour_of_steady_cycles_is_about_a_dozen_commits_and_one_snapshot(make_config):
    agent = _agent(make_config, 300)
    clock, commits = FakeClock(), []
    try:
        _hour_of_cycles(agent, clock, commits)
        assert agent.store.snapshot_count() == 1, "a snapshot that says nothing new was stored"
        assert len(commits) <= 15, f"{len(commits)} commits in an hour (two per cycle before)"
        # the API and the rules still see every sample: buffered ones are read from memory
        points = agent.store.series("mem.percent", None, since=0)
        assert len(points) == 60
    finally:
        agent.close()
    from omv_copilot_agent.store import Store

    store = Store(agent.config.data_dir)
    assert len(store.series("mem.percent", None, since=0)) == 60  # a clean stop flushed the rest


def test_a_change_in_substance_is_stored_at_the_next_flush(make_config):
    agent = _agent(make_config, 300)
    agent.collector.changed_at = {30}
    clock, commits = FakeClock(), []
    try:
        _hour_of_cycles(agent, clock, commits)
        assert agent.store.snapshot_count() == 2
        assert [u["name"] for u in agent.store.latest_snapshot().data("omv")["users"]] == ["anna", "bob"]
    finally:
        agent.close()


def test_flush_interval_zero_writes_every_cycle(make_config):
    agent = _agent(make_config, 0)
    clock, commits = FakeClock(), []
    try:
        _hour_of_cycles(agent, clock, commits)
        assert len(commits) >= 60
    finally:
        agent.close()


def test_samples_survive_a_failed_flush(make_config, monkeypatch):
    from omv_copilot_agent.store import StoreError

    agent = _agent(make_config, 0)
    try:
        agent.run_cycle()
        original = agent.store._insert_metrics

        def full_disk(rows):
            raise StoreError("could not write: database or disk is full")

        monkeypatch.setattr(agent.store, "_insert_metrics", full_disk)
        agent.run_cycle()
        assert "disk is full" in agent.last_store_error
        monkeypatch.setattr(agent.store, "_insert_metrics", original)
        agent.run_cycle()
        assert agent.last_store_error is None
        assert len(agent.store.series("mem.percent", None, since=0)) == 3
        assert agent.store.conn.execute("SELECT COUNT(*) FROM metrics_raw r JOIN metric_series s ON s.id = r.series WHERE s.name = 'mem.percent'").fetchone()[0] == 3
    finally:
        agent.close()


#: Real SQLite failures after flush_metrics took the buffer: the flush's last statement (the alerts'
#: UPDATE), and the COMMIT itself (where a full disk fails in WAL mode: the frames are written then),
#: here a deferred foreign key a trigger breaks, which SQLite checks only at COMMIT.
LATE_FAILURES = {
    "last statement": ["CREATE TRIGGER late BEFORE UPDATE ON alerts BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"],
    "commit": ["CREATE TABLE parent (id INTEGER PRIMARY KEY)",
               "CREATE TABLE child (p INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)",
               "CREATE TRIGGER late AFTER INSERT ON metrics_raw BEGIN INSERT INTO child VALUES (1); END"],
}


@pytest.mark.parametrize("where", sorted(LATE_FAILURES))
def test_samples_and_alert_counts_survive_a_flush_that_fails_after_taking_them(tmp_path, where):
    """A flush that fails must leave its samples and an open alert's counted cycles for the next one."""
    from omv_copilot_agent.daemon.persist import WriteBehind
    from omv_copilot_agent.store import Store, StoreError

    store = Store(tmp_path)
    clock = FakeClock()
    alert = {"rule": "fs_full", "subject": "/srv/a", "severity": "warning", "title": "t", "message": "m"}
    alert_id = store.insert_alert(alert, clock.now)
    persist = WriteBehind(store, 900, clock=clock)
    persist.flushed_at = clock.now
    snapshot = SteadyCollector().collect()
    persist.add(snapshot, [("load.1", None, 0.5)])
    store.touch_alert(alert_id, alert, clock.now + 60)  # counted in memory until the flush
    for sql in LATE_FAILURES[where]:
        store.conn.execute(sql)
    with pytest.raises(StoreError):
        persist.flush()
    store.conn.execute("DROP TRIGGER late")
    persist.flush()
    assert store.series("load.1", None, since=0) == [(snapshot.taken_at, 0.5)], "the buffered samples were lost"
    assert store.query("SELECT count FROM alerts WHERE id = ?", (alert_id,))[0][0] == 2, "the counted cycle was lost"
    store.close()


@pytest.mark.parametrize("key", ["flush_interval_s"])
def test_flush_interval_is_validated(make_config, key):
    from omv_copilot_agent.config import ConfigError

    with pytest.raises(ConfigError, match=f"store.{key}"):
        make_config({"store": {key: -1}})


SERIES = [("cpu.percent", None), ("load.1", None), ("load.5", None), ("load.15", None), ("mem.percent", None), ("swap.percent", None),
          ("fs.used_percent", {"mountpoint": "/"}), ("fs.used_bytes", {"mountpoint": "/"}), ("fs.free_bytes", {"mountpoint": "/"})]


def _wal_frames(store) -> int:
    """Pages written to the WAL since the last call (each a 4 KiB frame on the boot disk)."""
    frames = store.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return frames


def test_a_flush_on_a_store_holding_two_days_of_samples_writes_a_few_pages(tmp_path):
    """Pages per flush depend on where rows land, not on how many: measured with a real SQLite file.

    With raw samples in the series-keyed ``metrics`` table each of the 9 series landed in its own
    leaf of the lookup index (plus the table and a second index): 31-34 pages per flush once two days
    of samples were stored, ~13 MB of WAL a day. Time-keyed, a flush appends to the last pages.
    """
    from omv_copilot_agent.store import Store

    store = Store(tmp_path)
    now = 1_800_000_000.0
    start = now - 48 * 3600
    for hour in range(48):  # two days of one-minute samples, written as flushes would
        for minute in range(60):
            ts = start + hour * 3600 + minute * 60
            store.add_metrics(ts, [(n, labels, (hour * 60 + minute + i) % 97) for i, (n, labels) in enumerate(SERIES)])
    _wal_frames(store)
    store.buffer_metrics()
    flushes = []
    for flush in range(4):
        for minute in range(15):  # the default 900 s flush: 15 cycles
            store.add_metrics(now + flush * 900 + minute * 60, [(n, labels, minute % 7) for n, labels in SERIES])
        store.flush_metrics()
        flushes.append(_wal_frames(store))
    assert max(flushes) <= 12, f"pages per flush: {flushes} (31-34 each when raw samples were keyed by series)"
    # nothing a chart or a rule reads is lost: every raw sample of the two days and the flushes
    assert len(store.series("load.1", None, since=start - 1, until=now + 3600)) == 48 * 60 + 60
    store.close()


def test_rollups_write_once_a_day_and_read_the_same(tmp_path):
    """Downsampling called hourly (the daemon's prune) moves rows only when the daily grid moves."""
    from omv_copilot_agent.store import Store
    from omv_copilot_agent.store.metrics import ROLLUP_S

    store = Store(tmp_path)
    day0 = 1_800_000_000.0 // ROLLUP_S * ROLLUP_S
    for minute in range(4 * 1440):  # four days of raw samples
        store.add_metrics(day0 + minute * 60, [("load.1", None, minute % 10)])
    writing = []
    for hour in range(24):
        now = day0 + 4 * 86400 + hour * 3600
        store.downsample_metrics(now)
        writing.append(_wal_frames(store) > 0)
    assert sum(writing) == 1, f"hours that wrote: {[h for h, w in enumerate(writing) if w]}"
    points = store.series("load.1", None, since=day0, until=day0 + 5 * 86400)
    assert points[0] == (day0 + 150.0, 2.0)  # the first 5-minute bucket (0..4) averaged, at its middle
    assert points[-1] == (day0 + (4 * 1440 - 1) * 60, (4 * 1440 - 1) % 10)  # raw samples of the last 48-72 h
    store.close()


def test_raw_samples_of_an_older_store_move_to_the_time_keyed_table(tmp_path):
    import sqlite3

    from omv_copilot_agent.store import Store

    Store(tmp_path).close()
    db = sqlite3.connect(tmp_path / "copilot.db")  # as a store before migration 9 left it
    db.executescript("DROP TABLE metrics_raw; DROP TABLE metric_series; DELETE FROM schema_version WHERE version >= 9;"
                     "INSERT INTO metrics (ts, name, labels, value, tier) VALUES (100, 'load.1', '', 0.5, 0), (160, 'load.1', '', 0.7, 0),"
                     " (150, 'load.1', '', 0.4, 1);")
    db.commit()
    db.close()
    store = Store(tmp_path)
    assert store.series("load.1", None, since=0, until=200) == [(100.0, 0.5), (160.0, 0.7)]  # finer tier wins, as before
    assert store.query("SELECT COUNT(*) FROM metrics WHERE tier = 0")[0][0] == 0
    assert store.query("SELECT COUNT(*) FROM metrics_raw")[0][0] == 2
    store.close()


def test_hourly_retention_does_not_flush_the_buffer(make_config):
    """Retention cuts at days; flushing minutes-old samples for it was an extra commit every hour."""
    agent = _agent(make_config, 900)
    clock = FakeClock()
    try:
        agent.persist.clock = clock
        agent.run_cycle()  # a process's first cycle is written at once
        clock.now += 60
        agent.run_cycle()
        agent.prune()
        assert len(agent.store._metric_buffer) > 0, "retention flushed the buffered samples"
        assert len(agent.store.series("mem.percent", None, since=0)) == 2
    finally:
        agent.close()


def test_a_sample_the_store_cannot_keep_is_not_buffered(tmp_path):
    """A NaN or a string from a sensor or a smartctl reading would fail the flush's NOT NULL/REAL
    constraints; buffered, it would block every later flush (the buffer keeps what it could not write)."""
    from omv_copilot_agent.collect.samples import metric_samples
    from omv_copilot_agent.daemon.persist import WriteBehind
    from omv_copilot_agent.store import Store

    now = time.time()
    system = {"cpu": {"percent": float("nan"), "load": [0.5, float("inf"), "1.0"]}, "memory": {"percent": 41.0},
              "temperatures": [{"sensor": "acpi", "label": "cpu", "current_c": True}]}
    snap = Snapshot(now, {"system": SourceResult("system", "ok", system, None, 0.01, now)})
    assert metric_samples(snap) == [("load.1", None, 0.5), ("mem.percent", None, 41.0)]
    store = Store(tmp_path)
    persist = WriteBehind(store, 0)
    persist.add(snap, metric_samples(snap))
    later = Snapshot(now + 60, {"system": SourceResult("system", "ok", system, None, 0.01, now + 60)})
    persist.add(later, metric_samples(later))  # the next flush goes through as well
    assert len(store.series("mem.percent", since=now - 10, until=now + 120)) == 2
    store.close()
