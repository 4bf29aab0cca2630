"""The Dashboard's backend on a real loopback server: getAttention (the headline) and getMetrics' step."""

import time

from tests import dashboard_support as ds
from tests.alerts_support import fs, snapshot


def _rpc(server, method, params=None):
    r = server.post("/api/v1/rpc", json={"method": method, "params": params or {}})
    assert r.status_code == 200, r.text
    return r.json()


def test_attention_lists_worst_first_each_with_its_alert_pattern_and_question(live_server):
    server = live_server({"alerts": {"udev_monitor": False}}, cycle=False)
    ds.seed(server.agent, time.time())
    body = server.get("/api/v1/health/attention").json()
    assert body["items"] == _rpc(server, "getAttention")["items"]  # the OMV/RPC form answers the same
    items = body["items"]
    assert body["ok"] is False and body["count"] == len(items) >= 3
    ranks = [{"critical": 2, "warning": 1}[i["severity"]] for i in items]
    assert ranks == sorted(ranks, reverse=True), ranks
    worst = items[0]
    assert (worst["kind"], worst["subject"], worst["finding_id"]) == ("alert", "/dev/sdb", "smart-failed")
    assert worst["pattern"]["pattern_id"] == "smart-overall-failed"
    assert _rpc(server, "getAlert", {"id": str(worst["alert_id"])})["rule"] == worst["rule"]
    assert "/dev/sdb" in worst["question"] and "Evidence:" in worst["question"]
    forecast = next(i for i in items if i["subject"] == ds.FILLING)
    assert forecast["severity"] == "warning" and forecast["pattern"]["pattern_id"] == "data-disk-full", forecast["pattern"]


def test_an_alerts_evidence_names_the_pattern_the_dashboard_shows_for_it(live_server):
    """Several patterns match the failing disk's SMART attributes and the filling filesystem's
    forecast; the Dashboard shows the one best worded for the alert's title, and the alert's evidence
    (e-mail, webhook, the alert's page) must name that same one. It named the first the findings
    reached: smart-pending-sectors beside the Dashboard's smart-reallocated-sectors, and
    backup-target-full for a data filesystem predicted full."""
    server = live_server({"alerts": {"udev_monitor": False}}, cycle=False)
    ds.seed(server.agent, time.time())
    alerts = [i for i in server.get("/api/v1/health/attention").json()["items"] if i["kind"] == "alert"]
    shown = {i["rule"]: i["pattern"]["pattern_id"] for i in alerts}
    assert shown["fs_forecast"] == "data-disk-full" and shown["smart_health"] == "smart-overall-failed", shown
    assert "smart_attributes" in shown, shown
    named = {i["rule"]: _rpc(server, "getAlert", {"id": str(i["alert_id"])})["evidence"]["pattern"]["id"] for i in alerts}
    assert named == shown


def test_attention_shows_findings_no_alert_stands_for_yet(live_server):
    """Before the alert engine ran (or inside a rule's hold-down) the finding itself needs attention."""
    server = live_server({"alerts": {"udev_monitor": False}}, cycle=False)
    server.agent.snapshot = snapshot(time.time(), storage={"filesystems": [fs("/srv/a", 97), fs("/srv/b", 50)]})
    items = server.get("/api/v1/health/attention").json()["items"]
    assert [(i["kind"], i["subject"], i["finding_id"], i["alert_id"]) for i in items] == [
        ("finding", "/srv/a", "filesystem-full", None)]
    assert items[0]["severity"] == "critical" and "97" in items[0]["title"]


def test_attention_is_ok_on_a_healthy_box_and_names_what_it_could_not_read(live_server):
    from omv_copilot_agent.collect.base import SourceResult

    server = live_server({"alerts": {"udev_monitor": False}}, cycle=False)
    snap = snapshot(time.time(), storage={"filesystems": [fs("/srv/a", 20)]})
    server.agent.snapshot = snap
    assert server.get("/api/v1/health/attention").json() | {"snapshot": None} == {
        "ok": True, "count": 0, "items": [], "unread": [], "snapshot": None}
    snap.sources["smart"] = SourceResult("smart", "unavailable", {}, reason="smartctl not found (install smartmontools)")
    body = server.get("/api/v1/health/attention").json()
    assert body["ok"] is True and body["unread"] == [
        {"source": "smart", "status": "unavailable", "reason": "smartctl not found (install smartmontools)"}]


def test_metrics_step_averages_the_tiers_into_one_point_per_step(live_server):
    server = live_server({"alerts": {"udev_monitor": False}}, cycle=False)
    ds.seed(server.agent, time.time())
    month = 30 * 86400
    raw = _rpc(server, "getMetrics", {"name": "cpu.percent", "since": month})["points"]
    hourly = _rpc(server, "getMetrics", {"name": "cpu.percent", "since": month, "step": 3600})
    assert hourly["step_s"] == 3600 and len(raw) > 1500
    assert 700 <= len(hourly["points"]) <= 722, len(hourly["points"])
    gaps = {round(b[0] - a[0]) for a, b in zip(hourly["points"], hourly["points"][1:])}
    assert gaps == {3600}
    assert abs(sum(v for _, v in hourly["points"]) / len(hourly["points"]) - sum(v for _, v in raw) / len(raw)) < 3
    # the REST form takes the same argument
    rest = server.get("/api/v1/system/metrics", params={"name": "cpu.percent", "since": 3600, "step": 600}).json()
    assert len(rest["points"]) <= 7


def test_metrics_bad_step_is_a_400_naming_step(live_server):
    server = live_server({"alerts": {"udev_monitor": False}}, cycle=False)
    for bad in ("-1", "90000", "x"):
        for name in ("cpu.percent", None):  # also when the answer is the list of series
            r = server.get("/api/v1/system/metrics", params={"name": name, "step": bad})
            assert r.status_code == 400 and "step" in r.json()["error"]["message"], (bad, name, r.text)
    r = server.post("/api/v1/rpc", json={"method": "getMetrics", "params": {"name": "cpu.percent", "step": -5}})
    assert r.status_code == 400 and "step" in r.text


def test_attention_leaves_info_alerts_to_their_cards(live_server):
    server = live_server({"alerts": {"udev_monitor": False}}, cycle=False)
    server.agent.snapshot = snapshot(time.time(), storage={"filesystems": [fs("/srv/a", 20)]})
    server.agent.store.insert_alert({"rule": "raid_resync", "subject": "md0", "severity": "info", "title": "md0 is resyncing",
                                     "message": "resync 40 %", "details": {}}, time.time())
    assert server.get("/api/v1/health/attention").json()["items"] == []
