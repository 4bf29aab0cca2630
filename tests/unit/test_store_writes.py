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
        assert agent.store.conn.execute("SELECT COUNT(*) FROM metrics WHERE name = 'mem.percent'").fetchone()[0] == 3
    finally:
        agent.close()


@pytest.mark.parametrize("key", ["flush_interval_s"])
def test_flush_interval_is_validated(make_config, key):
    from omv_copilot_agent.config import ConfigError

    with pytest.raises(ConfigError, match=f"store.{key}"):
        make_config({"store": {key: -1}})
