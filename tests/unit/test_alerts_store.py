"""The alerts store mixin on a real SQLite file: dedup by update, ack, resolve, notes."""

from omv_copilot_agent.store import Store

ALERT = {"rule": "fs_full", "subject": "/srv/a", "severity": "warning", "title": "t", "message": "m"}


def test_episode_updates_in_place_and_ack_survives_reopen(tmp_path):
    store = Store(tmp_path)
    assert store.schema_version() >= 3
    alert_id = store.insert_alert(ALERT, 1.0)
    for i in range(100):
        store.touch_alert(alert_id, ALERT, 2.0 + i)
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
