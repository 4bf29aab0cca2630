"""A corrupted database is found at start (PRAGMA quick_check), moved aside with a timestamp,
reported as an alert, and the daemon starts on a fresh one — a garbage file no longer means
'exit 2' on every start."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest
import requests
import yaml

from tests.conftest import free_port, start_daemon, stop_daemon


def _fill(data_dir: Path) -> Path:
    from omv_copilot_agent.store import Store

    store = Store(data_dir)
    now = time.time()
    for i in range(200):
        store.add_metrics(now - i * 60, [("fs.used_percent", {"mountpoint": f"/srv/disk{j}"}, float(i % 100)) for j in range(20)])
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return data_dir / "copilot.db"


def _corrupt_pages(db: Path) -> None:
    """Overwrite pages in the middle of a valid file (the header stays valid, so it still opens)."""
    size = db.stat().st_size
    with open(db, "r+b") as fh:
        for offset in range(size // 3, size // 3 * 2, 4096 * 3):
            fh.seek(offset)
            fh.write(os.urandom(4096))


@pytest.mark.parametrize("damage", ["garbage-file", "corrupted-pages", "truncated"])
def test_corrupted_database_is_moved_aside_and_a_fresh_one_used(tmp_path, damage):
    from omv_copilot_agent.store import Store

    db = _fill(tmp_path)
    if damage == "garbage-file":
        db.write_bytes(os.urandom(50_000))
    elif damage == "corrupted-pages":
        _corrupt_pages(db)
    else:
        with open(db, "r+b") as fh:
            fh.truncate(db.stat().st_size // 2)
    before = db.read_bytes()
    store = Store(tmp_path)
    assert store.recovered is not None, "the damage was not noticed"
    moved = Path(store.recovered["moved_to"])
    assert moved.name.startswith("copilot.db.corrupt-") and moved.read_bytes() == before
    assert store.integrity_check() == "ok" and store.series("fs.used_percent", {"mountpoint": "/srv/disk0"}) == []
    store.add_metrics(time.time(), [("x", {}, 1.0)])  # the fresh database takes writes
    store.close()
    assert Store(tmp_path).recovered is None  # and is healthy on the next start


def test_healthy_database_is_left_alone(tmp_path):
    from omv_copilot_agent.store import Store

    db = _fill(tmp_path)
    store = Store(tmp_path)
    assert store.recovered is None and db.exists() and not list(tmp_path.glob("*.corrupt-*"))
    assert store.series("fs.used_percent", {"mountpoint": "/srv/disk0"})


def test_daemon_starts_on_a_garbage_database_and_raises_an_alert(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "copilot.db").write_bytes(b"this is not a database" * 1000)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(data), "api": {"listen": f"127.0.0.1:{free_port()}",
                                                                    "token_file": str(tmp_path / "token")},
                                      "collect": {"interval_s": 3600, "disabled_sources": ["smart", "apt", "omv", "logs"]}}))
    proc, url = start_daemon(config)  # before: exit 2, "data_dir: cannot open database", on every start
    try:
        headers = {"Authorization": "Bearer " + (tmp_path / "token").read_text().strip()}
        alerts = requests.get(url + "/api/v1/alerts", headers=headers, timeout=30).json()
        rows = alerts.get("data") or alerts.get("alerts") or []
        found = [a for a in rows if a["rule"] == "database_recovered"]
        assert found and found[0]["severity"] == "warning" and "copilot.db.corrupt-" in found[0]["message"]
        assert len(list(data.glob("copilot.db.corrupt-*"))) == 1
        db = sqlite3.connect(data / "copilot.db")
        assert db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        db.close()
    finally:
        stop_daemon(proc)


def test_damage_while_running_stops_the_scheduler_for_a_restart(make_config):
    """Pages damaged under a running daemon: the hourly check notices, the daemon exits 3 (systemd restarts it)."""
    from omv_copilot_agent.collect import Collector
    from omv_copilot_agent.daemon import EXIT_RESTART, Scheduler
    from omv_copilot_agent.daemon.agent import Agent

    config, _ = make_config({})
    agent = Agent(config, collector=Collector(config, sources=("system",)))
    try:
        _fill(config.data_dir)
        agent.store.close()
        assert agent.store.damage() is None
        _corrupt_pages(Path(config.data_dir) / "copilot.db")
        agent.store.close()  # a new connection: no page of the old file cached
        scheduler = Scheduler(agent, 3600)
        done = []
        import threading

        thread = threading.Thread(target=lambda: done.append(scheduler.run()), daemon=True)
        thread.start()
        thread.join(timeout=120)
        assert not thread.is_alive(), "the scheduler kept running on a corrupted database"
        assert agent.store_corrupt and EXIT_RESTART == 3
    finally:
        agent.close()


def test_unit_restarts_after_a_fault_but_not_after_a_config_error():
    from tests.conftest import ROOT

    unit = (ROOT / "debian" / "openmediavault-copilot.omv-copilot.service").read_text()
    assert "Restart=on-failure" in unit and "RestartPreventExitStatus=2\n" in unit
    assert "RestartPreventExitStatus=2 3" not in unit and "SuccessExitStatus=3" not in unit
