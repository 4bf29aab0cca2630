"""Lifecycle on a real SQLite store: dedup, ack across a restart, resolve, flap damping, health score."""

import time

from omv_copilot_agent.events import SNAPSHOT_COLLECTED
from tests.alerts_support import cycle, fs, make_agent, snapshot

NOW = time.time()
FULL = {"filesystems": [fs("/srv/a", 97)]}
OK = {"filesystems": [fs("/srv/a", 40)]}


def test_same_condition_100_cycles_is_one_alert(tmp_path):
    agent = make_agent(tmp_path)
    news = sum(len(cycle(agent, snapshot(NOW + i * 600, storage=FULL)).new) for i in range(100))
    total, rows = agent.alerts.list()
    assert news == 1 and total == 1
    assert rows[0]["count"] == 100 and rows[0]["first_seen"] == NOW and rows[0]["last_seen"] == NOW + 99 * 600


def test_ack_survives_daemon_restart_and_resolve_fires_on_clear(tmp_path):
    agent = make_agent(tmp_path, {"resolve_after_clear_cycles": 2})
    cycle(agent, snapshot(NOW, storage=FULL))
    alert_id = agent.alerts.open_alerts()[0]["id"]
    assert agent.alerts.acknowledge(alert_id, "ordering disks")
    agent.close()

    agent = make_agent(tmp_path, {"resolve_after_clear_cycles": 2})  # a new process on the same data dir
    events = cycle(agent, snapshot(NOW + 60, storage=FULL))
    assert not events.new
    alert = agent.alerts.get(alert_id)
    assert alert["state"] == "acknowledged" and alert["acknowledged_at"] and alert["notes"][0]["text"] == "ordering disks"
    assert not cycle(agent, snapshot(NOW + 120, storage=OK)).resolved  # one clear cycle: damped
    events = cycle(agent, snapshot(NOW + 180, storage=OK))
    assert [a["id"] for a in events.resolved] == [alert_id]
    assert agent.alerts.get(alert_id)["state"] == "resolved" and agent.alerts.get(alert_id)["resolved_at"] == NOW + 180


def test_flapping_condition_reopens_instead_of_new_alerts(tmp_path):
    agent = make_agent(tmp_path, {"resolve_after_clear_cycles": 1, "reopen_within_s": 600})
    new = resolved = 0
    for i in range(20):
        ev = cycle(agent, snapshot(NOW + i * 30, storage=FULL if i % 2 == 0 else OK))
        new, resolved = new + len(ev.new), resolved + len(ev.resolved)
    assert new == 1 and agent.alerts.list()[0] == 1
    ev = cycle(agent, snapshot(NOW + 5000, storage=FULL))  # long after: a new episode
    assert len(ev.new) == 1 and agent.alerts.list()[0] == 2


def test_escalation_and_health_score(tmp_path):
    now = time.time()  # not the import-time NOW: in a long run that snapshot is stale and costs points itself
    agent = make_agent(tmp_path)
    assert agent.alerts.health_score(snapshot(now))["score"] == 100
    cycle(agent, snapshot(now, storage={"filesystems": [fs("/srv/a", 91)]}))
    ev = cycle(agent, snapshot(now + 1, storage=FULL))
    assert [a["severity"] for a in ev.escalated] == ["critical"]
    h = agent.alerts.health_score(agent.snapshot)
    assert h["score"] == 70 and h["grade"] == "C" and h["deductions"][0]["points"] == 30
    agent.alerts.acknowledge(agent.alerts.open_alerts()[0]["id"])
    assert agent.alerts.health_score(agent.snapshot)["score"] == 85


def test_config_snapshots_on_change_and_drift(tmp_path):
    from omv_copilot_agent.history.drift import diff

    agent = make_agent(tmp_path)
    shares = [{"uuid": "u1", "name": "media", "comment": ""}]
    for i in range(3):
        agent.events.publish(SNAPSHOT_COLLECTED, snapshot(NOW + i, omv={"smb_shares": shares}))
    agent.events.publish(SNAPSHOT_COLLECTED, snapshot(NOW + 10, omv={"smb_shares": [{"uuid": "u1", "name": "media", "comment": "movies"},
                                                                    {"uuid": "u2", "name": "backup"}]}))
    total, rows = agent.store.list_config_revisions()
    assert total == 2 and [r["reason"] for r in rows] == ["changed", "initial"]
    old, new = (agent.store.get_config_revision(r["id"])["data"] for r in reversed(rows))
    changes = {c["path"]: c["change"] for c in diff(old, new)}
    assert changes == {"smb_shares.uuid=u1.comment": "changed", "smb_shares.uuid=u2": "added"}
    agent.events.publish(SNAPSHOT_COLLECTED, snapshot(NOW + 10 + 86401, omv={"smb_shares": shares}))
    assert agent.store.list_config_revisions()[0] == 3


def test_live_state_is_not_a_configuration_change(tmp_path):
    """Traffic counters, link state, fill levels and running state move every cycle; settings do not."""
    agent = make_agent(tmp_path)

    def omv(rx: int, used: int, running: bool, mtu: int = 1500) -> dict:
        return {"network": [{"devicename": "eth0", "mtu": mtu, "address": "192.0.2.5", "link": True, "speed": 1000,
                             "state": "UP", "stats": {"rx_bytes": rx, "tx_bytes": rx // 2}}],
                "filesystems": [{"uuid": "f1", "mountpoint": "/srv/a", "type": "ext4", "used": used, "available": 10**12 - used,
                                 "percentage": used * 100 // 10**12, "mounted": True}],
                "services": [{"name": "smb", "enabled": True, "running": running}]}

    agent.events.publish(SNAPSHOT_COLLECTED, snapshot(NOW, omv=omv(1000, 10**9, True)))
    for i in range(1, 6):
        agent.events.publish(SNAPSHOT_COLLECTED, snapshot(NOW + i * 60, omv=omv(1000 + i * 10**6, 10**9 + i * 10**8, i % 2 == 0)))
    assert agent.store.list_config_revisions()[0] == 1
    stored = agent.store.get_config_revision(agent.store.list_config_revisions()[1][0]["id"])["data"]
    assert "stats" not in stored["network"][0] and "used" not in stored["filesystems"][0] and stored["network"][0]["mtu"] == 1500
    agent.events.publish(SNAPSHOT_COLLECTED, snapshot(NOW + 600, omv=omv(10**9, 10**9, True, mtu=9000)))  # a real setting
    total, rows = agent.store.list_config_revisions()
    assert total == 2 and rows[0]["reason"] == "changed"
