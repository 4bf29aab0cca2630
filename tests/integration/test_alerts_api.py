"""The alerts, health, history and /metrics endpoints on a real loopback server."""

import time

from omv_copilot_agent.events import SNAPSHOT_COLLECTED
from tests.alerts_support import fs, snapshot


def _seed(server):
    now = time.time()
    snap = snapshot(now, storage={"filesystems": [fs("/srv/a", 97), fs("/srv/b", 92)]},
                    services={"units": [{"name": "smb", "unit": "smbd.service", "active_state": "failed",
                                         "sub_state": "failed", "enabled_in_omv": True}]})
    server.agent.snapshot = snap
    server.agent.alerts.evaluate(snap)
    return snap


def test_alerts_list_filter_get_ack(live_server):
    server = live_server({"alerts": {"udev_monitor": False}})
    _seed(server)
    body = server.get("/api/v1/alerts").json()
    assert body["total"] == 3 and {a["state"] for a in body["alerts"]} == {"firing"}
    crit = server.get("/api/v1/alerts", params={"severity": "critical"}).json()
    assert {a["subject"] for a in crit["alerts"]} == {"/srv/a", "smb"}
    alert_id = crit["alerts"][0]["id"]
    one = server.get(f"/api/v1/alerts/{alert_id}").json()
    assert set(one) >= {"id", "rule", "subject", "severity", "state", "title", "message", "first_seen", "last_seen",
                        "resolved_at", "acknowledged_at", "count", "details"}
    acked = server.post(f"/api/v1/alerts/acknowledge/{alert_id}", json={"note": "on it"}).json()
    assert acked["state"] == "acknowledged" and acked["notes"][0]["text"] == "on it"
    assert server.get("/api/v1/alerts", params={"state": "acknowledged"}).json()["total"] == 1
    assert server.get("/api/v1/alerts", params={"state": "open"}).json()["total"] == 3


def test_alerts_bad_input_is_4xx_naming_the_problem(live_server):
    server = live_server({"alerts": {"udev_monitor": False}})
    for path, status, word in [("/api/v1/alerts?state=burning", 400, "state"), ("/api/v1/alerts?limit=x", 400, "limit"),
                               ("/api/v1/alerts/abc", 400, "alert id"), ("/api/v1/alerts/999", 404, "999"),
                               ("/api/v1/alerts/1%2F..%2F2", 400, "alert id"), ("/api/v1/history/notes?alert_id=-1", 400, "alert_id")]:
        r = server.get(path)
        assert r.status_code == status and word in r.json()["error"]["message"], path
    r = server.post("/api/v1/alerts/acknowledge/999")
    assert r.status_code == 404
    r = server.post("/api/v1/alerts/acknowledge/1", data="{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r = server.post("/api/v1/history/notes", json={"text": "   "})
    assert r.status_code == 400 and "text" in r.json()["error"]["message"]
    r = server.post("/api/v1/history/notes", json={"text": "x", "alert_id": 12345})
    assert r.status_code == 404
    r = server.post("/api/v1/history/notes", json={"text": "x", "colour": "red"})
    assert r.status_code == 400 and "colour" in r.json()["error"]["message"]


def test_resolved_alert_cannot_be_acknowledged(live_server):
    server = live_server({"alerts": {"udev_monitor": False, "resolve_after_clear_cycles": 1}})
    snap = _seed(server)
    ok = snapshot(snap.taken_at + 60, storage={"filesystems": [fs("/srv/a", 10), fs("/srv/b", 10)]}, services={"units": []})
    server.agent.alerts.evaluate(ok)
    alert_id = server.get("/api/v1/alerts", params={"state": "resolved"}).json()["alerts"][0]["id"]
    r = server.post(f"/api/v1/alerts/acknowledge/{alert_id}")
    assert r.status_code == 409 and "resolved" in r.json()["error"]["message"]
    issues = server.get("/api/v1/history/issues").json()["issues"]
    assert {i["outcome"] for i in issues} == {"resolved"} and all(i["duration_s"] == 60 for i in issues)


def test_health_forecasts_notes_and_rpc(live_server):
    server = live_server({"alerts": {"udev_monitor": False}}, sources=("system", "storage"))
    _seed(server)
    health = server.get("/api/v1/health").json()
    assert 0 <= health["score"] < 100 and health["grade"] and health["deductions"][0]["points"] == 30
    assert health["open_alerts"]["critical"] == 2
    forecasts = server.get("/api/v1/alerts/forecasts").json()["forecasts"]
    assert forecasts and forecasts[0]["status"] == "insufficient_data" and forecasts[0]["reason"]
    note = server.post("/api/v1/history/note", json={"text": "swapped the SATA cable", "alert_id": 1})
    assert note.status_code == 201
    assert server.get("/api/v1/history/notes").json()["notes"][0]["text"] == "swapped the SATA cable"
    rpc = server.post("/api/v1/rpc", json={"method": "getAlerts", "params": {"start": 0, "limit": 2, "state": "firing"}}).json()
    assert rpc["total"] == 3 and len(rpc["data"]) == 2
    assert server.post("/api/v1/rpc", json={"method": "getHealth"}).json()["score"] == health["score"]
    assert server.post("/api/v1/rpc", json={"method": "getForecasts"}).json()["forecasts"]
    assert server.post("/api/v1/rpc", json={"method": "addNote", "params": {"text": "via rpc"}}).status_code == 201


def test_history_snapshots_and_diff(live_server):
    server = live_server({"alerts": {"udev_monitor": False}})
    assert server.get("/api/v1/history/snapshots/diff").status_code == 404
    now = time.time()
    server.agent.events.publish(SNAPSHOT_COLLECTED, snapshot(now, omv={"users": [{"name": "anna", "uid": 1000}]}))
    server.agent.events.publish(SNAPSHOT_COLLECTED, snapshot(now + 1, omv={"users": [{"name": "anna", "uid": 1000}, {"name": "bob", "uid": 1001}]}))
    snaps = server.get("/api/v1/history/snapshots").json()
    assert snaps["total"] == 2
    d = server.get("/api/v1/history/snapshots/diff").json()
    assert d["changes"] == [{"path": "users.name=bob", "change": "added", "old": None, "new": {"name": "bob", "uid": 1001}}]
    assert server.get("/api/v1/history/snapshots/diff", params={"from": 999}).status_code == 404
    first, second = sorted(s["id"] for s in snaps["snapshots"])
    one = server.get(f"/api/v1/history/snapshots/{first}").json()
    assert one["data"]["users"] == [{"name": "anna", "uid": 1000}] and one["reason"] and one["hash"]
    # "to" alone compares with the snapshot before it; the oldest has none, so nothing changed.
    assert server.get("/api/v1/history/snapshots/diff", params={"to": second}).json()["total"] == 1
    oldest = server.get("/api/v1/history/snapshots/diff", params={"to": first}).json()
    assert oldest["total"] == 0 and oldest["from"]["id"] == oldest["to"]["id"] == first
    for bad, status in (("0", 400), ("abc", 400), ("-1", 400), ("1.5", 400), ("99999", 404)):
        resp = server.get(f"/api/v1/history/snapshots/{bad}")
        assert resp.status_code == status and ("snapshot" in resp.json()["error"]["message"]), bad
    rpc = server.post("/api/v1/rpc", json={"method": "getSnapshots", "params": {"start": 0, "limit": 1}}).json()
    assert rpc["total"] == 2 and rpc["data"][0]["id"] == second
    assert server.post("/api/v1/rpc", json={"method": "getSnapshot", "params": {"id": first}}).json()["id"] == first
    drift = server.post("/api/v1/rpc", json={"method": "getSnapshotDiff", "params": {"from": first, "to": second}}).json()
    assert drift["total"] == 1 and drift["changes"][0]["path"] == "users.name=bob"


def test_metrics_prometheus_text_needs_token(live_server):
    server = live_server({"alerts": {"udev_monitor": False}}, sources=("system", "storage"))
    _seed(server)
    assert server.get("/metrics", token=None).status_code == 401
    r = server.get("/metrics")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    from prometheus_client.parser import text_string_to_metric_families

    families = {f.name: f for f in text_string_to_metric_families(r.text)}
    assert {"omv_copilot_filesystem_used_bytes", "omv_copilot_alerts", "omv_copilot_health_score",
            "omv_copilot_service_up", "omv_copilot_filesystem_forecast_seconds_to_full"} <= set(families)
    firing_crit = [s.value for s in families["omv_copilot_alerts"].samples if s.labels == {"state": "firing", "severity": "critical"}]
    assert firing_crit == [2.0]


def test_history_issues_include_assistant_questions(live_server):
    server = live_server({"alerts": {"udev_monitor": False}})
    _seed(server)
    server.agent.store.add_turn("c1", "why is my share slow?", {"mode": "kb_only", "confidence": 0.4, "confidence_label": "low",
                                                               "matched_patterns": [{"pattern_id": "smb-slow", "score": 0.5}]})
    # Questions are conversations: the issue history has only alerts unless kind=all asks for both.
    assert server.get("/api/v1/history/issues").json()["total"] == 3
    assert all(i["kind"] == "alert" for i in server.get("/api/v1/history/issues").json()["issues"])
    body = server.get("/api/v1/history/issues", params={"kind": "all"}).json()
    assert body["total"] == 4
    question = body["issues"][0]
    assert question["kind"] == "question" and question["title"] == "why is my share slow?" and question["outcome"] == "low"
    assert question["matched_patterns"] == ["smb-slow"]
    assert server.get("/api/v1/history/issues", params={"kind": "question"}).json()["total"] == 1
    assert server.get("/api/v1/history/issues", params={"severity": "critical"}).json()["total"] == 2
    paged = server.get("/api/v1/history/issues", params={"kind": "all", "limit": 2, "offset": 2}).json()
    assert len(paged["issues"]) == 2 and paged["total"] == 4
    assert server.get("/api/v1/history/issues", params={"kind": "bogus"}).status_code == 400
