"""The alerts store mixin on a real SQLite file: dedup by update, ack, resolve, notes."""

from omv_copilot_agent.store import Store

ALERT = {"rule": "fs_full", "subject": "/srv/a", "severity": "warning", "title": "t", "message": "m"}


def test_episode_updates_in_place_and_ack_survives_reopen(tmp_path):
    store = Store(tmp_path)
    assert store.schema_version() >= 3
    alert_id = store.insert_alert(ALERT, 1.0)
    for i in range(100):
        store.touch_alert(alert_id, ALERT, 2.0 + i * 600)
    assert store.ack_alert(alert_id, "known", now=5.0)
    store.close()
    store = Store(tmp_path)
    total, rows = store.list_alerts(state="open")
    assert total == 1 and rows[0]["count"] == 101 and rows[0]["state"] == "acknowledged"
    store.resolve_alert(alert_id, 200.0)
    assert store.get_alert(alert_id)["resolved_at"] == 200.0
    assert store.list_alerts(state="open")[0] == 0
    note = store.add_note("replaced cable", alert_id)
    assert store.list_notes(alert_id)[1][0]["id"] == note["id"]
    assert store.get_alert(999) is None


def test_unchanged_open_alert_is_written_by_the_flush_not_every_10_min(tmp_path):
    """An open alert rewritten every 10 min was ~3 pages each time, for days: its cycles wait for the flush."""
    store = Store(tmp_path)
    alert_id = store.insert_alert(ALERT, 0.0)
    changes = store.conn.total_changes
    for i in range(1, 60):  # an hour of one-minute cycles, no flush
        store.touch_alert(alert_id, ALERT, i * 60.0)
    assert store.conn.total_changes - changes == 0, "an unchanged alert was written before the flush"
    row = store.get_alert(alert_id)  # readers see the cycles counted in memory
    assert row["last_seen"] == 59 * 60 and row["count"] == 60
    assert store.list_alerts(state="open")[1][0]["count"] == 60
    assert store.flush_alert_touches() == 1 and store.conn.total_changes - changes == 1
    assert store.flush_alert_touches() == 0  # nothing new: nothing written
    store.touch_alert(alert_id, ALERT, 3540.0 + 60)
    store.touch_alert(alert_id, {**ALERT, "message": "now worse"}, 3600.0)  # a change is written at once
    row = store.get_alert(alert_id)
    assert row["message"] == "now worse" and row["last_seen"] == 3600.0 and row["count"] == 62  # no cycle lost
