"""The SQLite store's foundation: WAL, ordered migrations with a version table, snapshots, metrics, retention."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from omv_copilot_agent.collect.base import SourceResult
from omv_copilot_agent.collect.snapshot import Snapshot
from omv_copilot_agent.store import Store, StoreError
from omv_copilot_agent.store import MIGRATIONS_DIR


def _snap(taken_at: float, percent: float = 50.0) -> Snapshot:
    system = SourceResult("system", "ok", {"hostname": "nas", "memory": {"percent": percent}}, None, 0.01, taken_at)
    return Snapshot(taken_at=taken_at, sources={"system": system}, duration_s=0.02)


def test_wal_and_every_migration_recorded_once(tmp_path):
    store = Store(tmp_path)
    files = sorted(p.name for p in MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql"))
    rows = store.query("SELECT version, name FROM schema_version ORDER BY version")
    assert [r["version"] for r in rows] == [int(f[:4]) for f in files]
    assert rows[0]["name"] == "foundation" and store.schema_version() == int(files[-1][:4])
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.integrity_check() == "ok"
    store.close()
    again = Store(tmp_path)
    assert again.migrate() == []  # nothing re-applied
    assert len(again.query("SELECT * FROM schema_version")) == len(files)
    again.close()


def test_a_new_migration_applies_on_open_and_a_broken_one_names_its_file(tmp_path, monkeypatch):
    import omv_copilot_agent.store as store_mod

    Store(tmp_path / "db").close()
    extra = tmp_path / "migrations"
    extra.mkdir()
    for path in MIGRATIONS_DIR.glob("*.sql"):
        (extra / path.name).write_text(path.read_text())
    (extra / "9001_test.sql").write_text("-- a test table\nCREATE TABLE t9001 (x INTEGER);\nINSERT INTO t9001 VALUES (1);\n")
    monkeypatch.setattr(store_mod, "MIGRATIONS_DIR", extra)
    store = Store(tmp_path / "db")
    assert store.schema_version() == 9001 and store.query("SELECT x FROM t9001")[0][0] == 1
    store.close()
    (extra / "9002_broken.sql").write_text("CREATE TABLE t9002 (x INTEGER);\nTHIS IS NOT SQL;\n")
    with pytest.raises(StoreError, match="migration 9002_broken.sql failed"):
        Store(tmp_path / "db")
    db = sqlite3.connect(tmp_path / "db" / "copilot.db")
    try:  # the failed migration left nothing behind
        assert db.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == 9001
        assert not db.execute("SELECT name FROM sqlite_master WHERE name = 't9002'").fetchall()
    finally:
        db.close()


def test_unusable_data_dir_is_a_clear_store_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="cannot create data directory"):
        Store(blocker / "data")


def test_snapshot_round_trip_and_retention_keeps_newest(tmp_path):
    store = Store(tmp_path)
    now = time.time()
    for days_ago in (30, 10, 8, 1, 0.01):
        store.save_snapshot(_snap(now - days_ago * 86400, percent=days_ago))
    latest = store.latest_snapshot()
    assert latest.taken_at == pytest.approx(now - 0.01 * 86400) and latest.data("system")["memory"]["percent"] == 0.01
    assert latest.sources["system"].status == "ok" and latest.sources["system"].duration_s == 0.01
    removed = store.prune(now, snapshot_days=7)
    assert removed["snapshots"] == 3 and store.snapshot_count() == 2
    # even when every snapshot is old, the newest one stays (the API always has something to show)
    assert store.prune(now + 365 * 86400, snapshot_days=7)["snapshots"] == 1 and store.snapshot_count() == 1
    store.close()


def test_history_retention_forgets_old_resolved_alerts_and_config_snapshots(tmp_path):
    store = Store(tmp_path)
    now = time.time()
    year = 365 * 86400

    def alert(subject: str, at: float) -> int:
        return store.insert_alert({"rule": "fs_usage", "subject": subject, "severity": "warning", "title": subject,
                                   "message": "", "details": {}}, at)

    old_resolved, old_open, recent_resolved = alert("/old", now - 2 * year), alert("/open", now - 2 * year), alert("/recent", now - 10)
    with store.write() as conn:
        conn.execute("UPDATE alerts SET state = 'resolved', resolved_at = ? WHERE id = ?", (now - 2 * year + 60, old_resolved))
        conn.execute("UPDATE alerts SET state = 'resolved', resolved_at = ? WHERE id = ?", (now - 5, recent_resolved))
    note = store.add_note("replaced the disk", old_resolved)
    for days in (800, 400, 2):
        store.add_config_revision(now - days * 86400, f"h{days}", "daily", {"days": days})
    removed = store.prune(now, history_days=365)
    assert removed["resolved_alerts"] == 1 and removed["config_snapshots"] == 2
    assert store.get_alert(old_resolved) is None and store.get_alert(old_open) and store.get_alert(recent_resolved)
    notes = store.list_notes()[1]
    assert [(n["id"], n["text"], n["alert_id"]) for n in notes] == [(note["id"], "replaced the disk", None)]  # nothing the admin wrote is lost
    assert [s["hash"] for s in store.list_config_revisions()[1]] == ["h2"]
    # even when every snapshot is old, the newest stays: the next one is compared with it
    assert store.prune(now + 10 * year, history_days=365)["config_snapshots"] == 0
    assert store.list_config_revisions()[0] == 1
    store.close()


def test_metrics_downsample_into_tiers_and_read_across_them(tmp_path):
    store = Store(tmp_path)
    now = 1_800_000_000.0
    old = now - 3 * 86400  # older than the 48 h of raw samples
    store.add_metrics(old, [("fs.used_percent", {"mountpoint": "/srv"}, 10.0)])
    store.add_metrics(old + 60, [("fs.used_percent", {"mountpoint": "/srv"}, 20.0)])
    store.add_metrics(now - 60, [("fs.used_percent", {"mountpoint": "/srv"}, 30.0), ("cpu.percent", None, 5.0),
                                 ("mem.percent", None, None)])  # None values are skipped
    assert store.metric_names() == [("cpu.percent", ""), ("fs.used_percent", "mountpoint=/srv")]
    removed = store.prune(now, snapshot_days=7)
    assert removed["metrics_tier0"] == 2
    points = store.series("fs.used_percent", {"mountpoint": "/srv"}, since=0, until=now)
    assert [v for _, v in points] == [15.0, 30.0]  # one 5-minute average, then the raw sample
    tiers = [r["tier"] for r in store.query("SELECT ts, tier FROM metrics WHERE name = 'fs.used_percent' UNION ALL "
                                            "SELECT ts, 0 FROM metrics_raw WHERE series = (SELECT id FROM metric_series WHERE name = 'fs.used_percent') ORDER BY ts")]
    assert tiers == [1, 0]
    store.close()


def test_readers_see_committed_data_while_a_writer_is_busy(tmp_path):
    """WAL: the API thread reads the last snapshot while the collector thread writes."""
    store = Store(tmp_path)
    store.save_snapshot(_snap(1.0))
    results = []

    def reader():
        results.append(store.latest_snapshot().taken_at)

    with store.write() as conn:  # an open write transaction in this thread
        conn.execute("INSERT INTO snapshots (taken_at, overall, data) VALUES (2.0, 'ok', '{}')")
        thread = threading.Thread(target=reader)
        thread.start()
        thread.join(timeout=30)
    assert results == [1.0]
    store.close()


def test_snapshots_stored_compressed_and_old_text_rows_still_read(tmp_path):
    import json

    store = Store(tmp_path)
    snap = _snap(5.0)
    snap.sources["logs"] = SourceResult("logs", "ok", {"entries": [{"message": "smbd: auth failed " * 5}] * 200}, None, 0.1, 5.0)
    store.save_snapshot(snap)
    blob = store.query("SELECT data FROM snapshots")[0]["data"]
    assert isinstance(blob, bytes) and len(blob) * 5 < len(json.dumps(snap.to_dict()))
    assert store.latest_snapshot().to_dict() == json.loads(json.dumps(snap.to_dict()))
    with store.write() as conn:  # a row from before compression
        conn.execute("INSERT INTO snapshots (taken_at, overall, data) VALUES (9.0, 'ok', ?)", (json.dumps(_snap(9.0).to_dict()),))
    assert store.latest_snapshot().taken_at == 9.0
    store.close()
