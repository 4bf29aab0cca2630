"""Delivery policies (issue 21) on a fake clock, against the loopback SMTP sink and webhook server.

The clock is the snapshot's timestamp: ``cycle`` evaluates at ``snap.taken_at``, so a
day of cycles takes a second.
"""

from __future__ import annotations

import json
import time

from tests.alerts_support import cycle, fs, make_agent, snapshot

HOUR = 3600
T0 = (time.time() // HOUR) * HOUR - 10 * 86400 + 300  # 5 minutes past an hour, ten days ago


def storage(*filesystems):
    return {"filesystems": list(filesystems)}


def mail_agent(tmp_path, smtp, **alerts):
    return make_agent(tmp_path, {"email": True, "email_to": ["admin@example.org"], "smtp_host": "127.0.0.1",
                                 "smtp_port": smtp.port, "notify_backoff_s": 0, "resolve_after_clear_cycles": 1,
                                 "reopen_within_s": 0, **alerts})


def run(agent, t, *filesystems):
    cycle(agent, snapshot(t, storage=storage(*filesystems)))
    assert agent.alerts.notifier.flush(60)


def subjects(smtp):
    return [m["Subject"] for _, m in smtp.messages]


def text_and_html(msg):
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",))
    return text, html.get_content() if html is not None else None


def test_critical_goes_out_immediately_and_a_warning_waits_for_the_hourly_digest(tmp_path, sink):
    smtp = sink()
    agent = mail_agent(tmp_path, smtp)
    run(agent, T0, fs("/srv/a", 97), fs("/srv/b", 91))
    assert len(smtp.messages) == 1 and "CRITICAL" in subjects(smtp)[0] and "/srv/a" in subjects(smtp)[0]
    for minute in range(10, 55, 10):  # the rest of the hour: nothing more
        run(agent, T0 + minute * 60, fs("/srv/a", 97), fs("/srv/b", 91))
    assert len(smtp.messages) == 1
    run(agent, T0 + HOUR - 300, fs("/srv/a", 97), fs("/srv/b", 91))  # the top of the hour
    assert len(smtp.messages) == 2
    msg = smtp.messages[1][1]
    assert msg["Subject"].endswith("Hourly digest: 1 warning open")
    text, html = text_and_html(msg)
    assert "[WARNING] Filesystem /srv/b is 91% full" in text and "Evidence: /srv/b" in text and "What to do: free space" in text
    assert "<td>Filesystem /srv/b is 91% full</td>" in html
    run(agent, T0 + 2 * HOUR - 300, fs("/srv/a", 97), fs("/srv/b", 91))  # unchanged: no new digest, no repeat
    assert len(smtp.messages) == 2


def test_a_warning_that_comes_and_goes_within_the_hour_is_one_digest_row(tmp_path, sink):
    smtp = sink()
    agent = mail_agent(tmp_path, smtp)
    run(agent, T0, fs("/srv/b", 91))
    run(agent, T0 + 600, fs("/srv/b", 50))
    run(agent, T0 + HOUR, fs("/srv/b", 50))
    assert len(smtp.messages) == 1
    text, _ = text_and_html(smtp.messages[0][1])
    assert "Resolved (1):" in text and "raised " in text and ", resolved " in text and "What to do" not in text
    assert smtp.messages[0][1]["Subject"].endswith("Hourly digest: 1 resolved")


def test_daily_digest_goes_out_at_the_configured_local_hour(tmp_path, sink):
    smtp = sink()
    lt = time.localtime(T0)
    nine = time.mktime((lt.tm_year, lt.tm_mon, lt.tm_mday, 9, 0, 0, 0, 0, -1))
    agent = mail_agent(tmp_path, smtp, policies={"fs_full": "daily"}, daily_digest_hour=8)
    run(agent, nine, fs("/srv/a", 97))  # critical, but its class is set to the daily digest
    for h in range(1, 23):
        run(agent, nine + h * HOUR, fs("/srv/a", 97))
    assert smtp.messages == []
    run(agent, nine + 23 * HOUR, fs("/srv/a", 97))  # 08:00 next day
    assert len(smtp.messages) == 1 and "Daily digest: 1 critical open" in subjects(smtp)[0]


def test_never_on_mail_but_immediately_on_the_webhook(tmp_path, sink, hook):
    smtp, receiver = sink(), hook()
    agent = mail_agent(tmp_path, smtp, webhooks=[{"url": receiver.url, "format": "generic"}],
                       policies={"fs_full": {"mail": "never", "webhook": "immediately"}})
    run(agent, T0, fs("/srv/b", 91))
    run(agent, T0 + 2 * HOUR, fs("/srv/b", 91))
    assert smtp.messages == []
    assert [json.loads(r["body"])["event"] for r in receiver.received] == ["new"]


def test_webhook_digest_carries_every_item(tmp_path, hook):
    receiver = hook()
    agent = make_agent(tmp_path, {"webhooks": [{"url": receiver.url}], "notify_backoff_s": 0})
    run(agent, T0, fs("/srv/b", 91), fs("/srv/c", 92))
    assert receiver.received == []
    run(agent, T0 + HOUR, fs("/srv/b", 91), fs("/srv/c", 92))
    body = json.loads(receiver.received[0]["body"])
    assert body["event"] == "digest" and sorted(i["alert"]["subject"] for i in body["items"]) == ["/srv/b", "/srv/c"]
    assert "2 warning open" in body["subject"]


def test_snooze_an_alert_and_a_class(tmp_path, sink):
    smtp = sink()
    agent = mail_agent(tmp_path, smtp)
    d = agent.alerts.notifier.dispatcher
    d.snooze("fs_full", "/srv/a", T0 + 2 * HOUR, T0)
    run(agent, T0, fs("/srv/a", 97), fs("/srv/b", 97))
    assert subjects(smtp) == [s for s in subjects(smtp) if "/srv/b" in s] and len(smtp.messages) == 1
    run(agent, T0 + 60, fs("/srv/b", 97))  # /srv/a resolves while snoozed: silent too
    assert len(smtp.messages) == 1
    run(agent, T0 + 3 * HOUR, fs("/srv/a", 97), fs("/srv/b", 97))  # snooze over: /srv/a is news again
    assert len(smtp.messages) == 2 and "/srv/a" in subjects(smtp)[1]
    d.snooze("fs_full", None, T0 + 10 * HOUR, T0 + 3 * HOUR)  # the whole class
    run(agent, T0 + 4 * HOUR, fs("/srv/c", 97))
    assert len(smtp.messages) == 2
    assert agent.alerts.store.list_alerts(state="firing")[0] >= 1  # still recorded


def test_a_severity_rise_breaks_through_a_snooze(tmp_path, sink):
    smtp = sink()
    agent = mail_agent(tmp_path, smtp, default_policy={"warning": "immediately"})
    agent.alerts.notifier.dispatcher.snooze("fs_full", None, T0 + 5 * HOUR, T0)
    run(agent, T0, fs("/srv/a", 91))
    run(agent, T0 + 60, fs("/srv/a", 97))
    assert len(smtp.messages) == 1 and "CRITICAL" in subjects(smtp)[0]
    assert "Escalated to critical" in smtp.messages[0][1].get_body(("plain",)).get_content()


def test_maintenance_window_holds_notifications_but_records_alerts(tmp_path, sink):
    smtp = sink()
    agent = mail_agent(tmp_path, smtp)
    agent.alerts.notifier.dispatcher.add_maintenance(T0, T0 + 2 * HOUR, "disk swap")
    degraded = {"raid": [{"name": "md0", "level": "raid1", "degraded": True, "devices_active": 1, "devices_total": 2,
                          "failed": ["sdb"]}]}
    for minute in range(0, 120, 15):
        cycle(agent, snapshot(T0 + minute * 60, storage={**degraded, "filesystems": [fs("/srv/a", 97)]}))
    assert agent.alerts.notifier.flush(60) and smtp.messages == []
    firing = {a["rule"] for a in agent.alerts.store.list_alerts(state="firing")[1]}
    assert {"raid_degraded", "fs_full"} <= firing
    cycle(agent, snapshot(T0 + 2 * HOUR, storage={**degraded, "filesystems": [fs("/srv/a", 97)]}))  # window over
    assert agent.alerts.notifier.flush(60) and len(smtp.messages) == 1
    msg = smtp.messages[0][1]
    assert msg["Subject"].endswith("Held during maintenance (disk swap): 2 critical open")
    text, _ = text_and_html(msg)
    assert "RAID md0 is degraded" in text and "Filesystem /srv/a is 97% full" in text


def test_each_severity_change_notifies_once(tmp_path, sink):
    smtp = sink()
    agent = mail_agent(tmp_path, smtp, default_policy={"warning": "immediately"})
    t = T0
    for pct, cycles in ((91, 3), (97, 3), (91, 3), (50, 2)):
        for _ in range(cycles):
            run(agent, t, fs("/srv/a", pct))
            t += 60
    bodies = [m.get_body(("plain",)).get_content().split(" on ", 1)[0] for _, m in smtp.messages]
    assert bodies == ["New warning alert", "Escalated to critical", "Lowered to warning", "Resolved"]


def test_unchanged_condition_only_reminds_on_schedule(tmp_path, sink):
    smtp = sink()
    agent = mail_agent(tmp_path, smtp, reminder_s={"critical": 86400})
    for h in range(0, 50):  # two days and two hours of the same condition
        run(agent, T0 + h * HOUR, fs("/srv/a", 97))
    assert [s.split("] ", 1)[1].split(":")[0] for s in subjects(smtp)] == ["CRITICAL", "REMINDER CRITICAL", "REMINDER CRITICAL"]
    alert_id = agent.alerts.store.list_alerts(state="firing")[1][0]["id"]
    agent.alerts.acknowledge(alert_id)  # someone is on it: no more reminders
    for h in range(50, 80):
        run(agent, T0 + h * HOUR, fs("/srv/a", 97))
    assert len(smtp.messages) == 3


def test_flood_guard_caps_per_hour_and_says_what_it_held(tmp_path, sink):
    smtp = sink()
    agent = mail_agent(tmp_path, smtp, max_notifications_per_hour=3)
    run(agent, T0, *[fs(f"/srv/d{i}", 97) for i in range(6)])
    assert len(smtp.messages) == 3
    assert "further ones are held" in smtp.messages[2][1].get_body(("plain",)).get_content()
    run(agent, T0 + 1800, *[fs(f"/srv/d{i}", 97) for i in range(6)])
    assert len(smtp.messages) == 3
    run(agent, T0 + HOUR, *[fs(f"/srv/d{i}", 97) for i in range(6)])
    assert len(smtp.messages) == 4
    msg = smtp.messages[3][1]
    text, _ = text_and_html(msg)
    assert "Held back by the flood guard: 3 critical open" in msg["Subject"]
    assert "held these 3 notification(s) back: more than 3 per hour" in text


def test_digest_html_escapes_every_value(tmp_path, sink):
    smtp = sink()
    agent = mail_agent(tmp_path, smtp)
    run(agent, T0, fs("/srv/<script>alert(1)</script>", 91))
    run(agent, T0 + HOUR, fs("/srv/<script>alert(1)</script>", 91))
    _, html = text_and_html(smtp.messages[0][1])
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_snoozes_windows_and_queued_digests_survive_a_restart(tmp_path, sink):
    smtp = sink()
    agent = mail_agent(tmp_path, smtp)
    agent.alerts.notifier.dispatcher.snooze("smart_attributes", None, T0 + 86400, T0, "known bad sector")
    run(agent, T0, fs("/srv/b", 91))  # queued for the hourly digest
    again = mail_agent(tmp_path, smtp)
    status = again.alerts.notifier.dispatcher.status(T0 + 60)
    assert status["snoozes"][0]["reason"] == "known bad sector" and status["queued"]["mail:hourly"]["items"] == 1
    run(again, T0 + HOUR, fs("/srv/b", 91))
    assert len(smtp.messages) == 1 and "Hourly digest" in subjects(smtp)[0]


# -- settings in one place: API and CLI ---------------------------------------------------------
def test_snooze_and_maintenance_endpoints(live_server):
    server = live_server({"alerts": {"udev_monitor": False, "rrd_import": False}})
    alert_id = server.agent.store.insert_alert({"rule": "smart_attributes", "subject": "/dev/sdb", "severity": "warning",
                                                "title": "t", "message": "m"}, time.time())
    r = server.post("/api/v1/alerts/snooze", json={"alert_id": alert_id, "for_s": 7 * 86400, "reason": "known sector"})
    assert r.status_code == 201 and (r.json()["rule"], r.json()["subject"]) == ("smart_attributes", "/dev/sdb")
    snooze_id = r.json()["id"]
    r = server.post("/api/v1/alerts/snooze", json={"rule": "load", "for_s": 3600})
    assert r.status_code == 201 and r.json()["subject"] is None
    for body, word in [({"rule": "nope", "for_s": 3600}, "field 'rule': no alert class 'nope'"),
                       ({"rule": "load"}, "field 'for_s' is required"),
                       ({"rule": "load", "alert_id": 1, "for_s": 3600}, "either 'alert_id' or 'rule'"),
                       ({"subject": "/srv/a", "alert_id": 1, "for_s": 3600}, "either 'alert_id' or 'rule'"),
                       ({"rule": "load", "for_s": 5}, "for_s"), ({"rule": "load", "for_s": 3600, "x": 1}, "unknown field 'x'")]:
        r = server.post("/api/v1/alerts/snooze", json=body)
        assert r.status_code == 400 and word in r.json()["error"]["message"], (body, r.json())
    assert server.post("/api/v1/alerts/snooze", json={"alert_id": 999999, "for_s": 3600}).status_code == 404
    r = server.post("/api/v1/alerts/maintenance", json={"for_s": 7200, "reason": "disk swap"})
    assert r.status_code == 201
    window_id = r.json()["id"]
    policy = server.get("/api/v1/alerts/policy").json()
    assert policy["in_maintenance"] and [s["reason"] for s in policy["snoozes"]] == ["known sector", None]
    fs_full = next(c for c in policy["classes"] if c["class"] == "fs_full")
    assert fs_full["critical"]["mail"] == "immediately" and fs_full["warning"]["mail"] == "hourly"
    assert fs_full["critical"]["reminder_s"] == 86400 and fs_full["advice"]
    assert server.request("DELETE", f"/api/v1/alerts/snooze/{snooze_id}").status_code == 200
    assert server.request("DELETE", f"/api/v1/alerts/snooze/{snooze_id}").status_code == 404
    assert server.request("DELETE", "/api/v1/alerts/snooze/abc").status_code == 400
    assert server.request("DELETE", f"/api/v1/alerts/maintenance/{window_id}").status_code == 200
    assert not server.get("/api/v1/alerts/policy").json()["in_maintenance"]


def test_policies_are_settings_validated_by_put(live_server):
    server = live_server({"alerts": {"udev_monitor": False, "rrd_import": False}})
    r = server.request("PUT", "/api/v1/settings", json={"alerts": {"policies": {"smart_attributes": {"mail": "daily", "reminder_s": 604800}}}})
    assert r.status_code == 200, r.json()
    row = next(c for c in server.get("/api/v1/alerts/policy").json()["classes"] if c["class"] == "smart_attributes")
    assert row["critical"]["mail"] == "daily" and row["critical"]["webhook"] == "immediately" and row["warning"]["reminder_s"] == 604800
    r = server.request("PUT", "/api/v1/settings", json={"alerts": {"policies": {"fs_full": "sometimes"}}})
    assert r.status_code == 400 and "alerts.policies.fs_full" in r.json()["error"]["message"]


def test_cli_snooze_policy_and_maintenance(make_config):
    from tests.conftest import run_cli

    config, path = make_config({"collect": {"disabled_sources": ["smart", "omv", "logs", "apt", "network", "services", "storage"]},
                                "alerts": {"udev_monitor": False, "rrd_import": False}})
    config.data_dir.mkdir(parents=True)  # the daemon made it once
    r = run_cli("--config", str(path), "alerts", "snooze", "smart_attributes:/dev/sdb", "--for", "7d", "--reason", "known")
    assert r.returncode == 0 and "smart_attributes:/dev/sdb silent until" in r.stdout, r.stderr
    r = run_cli("--config", str(path), "alerts", "maintenance", "--for", "2h", "--reason", "disk swap")
    assert r.returncode == 0 and "notifications are held" in r.stdout, r.stderr
    r = run_cli("--config", str(path), "alerts", "policy")
    assert r.returncode == 0 and "snooze 1: smart_attributes:/dev/sdb" in r.stdout and "(disk swap)" in r.stdout, r.stderr
    assert "immediately/immediately, remind 24 h" in r.stdout
    r = run_cli("--config", str(path), "alerts", "maintenance", "--end", "2")
    assert r.returncode == 0 and "window 2 ended" in r.stdout, r.stderr
    r = run_cli("--config", str(path), "alerts", "maintenance", "--for", "3h", "--start", "2031-05-04 10:00", "--json")
    window = json.loads(r.stdout)
    assert window["end"] - window["start"] == 3 * 3600 and time.localtime(window["start"]).tm_hour == 10, r.stderr
    r = run_cli("--config", str(path), "alerts", "maintenance", "--end", str(window["id"]))  # a planned one: cancelled
    assert r.returncode == 0, r.stderr
    r = run_cli("--config", str(path), "alerts", "unsnooze", "1")
    assert r.returncode == 0 and "snooze 1 ended" in r.stdout, r.stderr
    r = run_cli("--config", str(path), "alerts", "policy", "--json")
    assert json.loads(r.stdout)["snoozes"] == [] and json.loads(r.stdout)["maintenance"] == []
    for args, word in [(("alerts", "snooze", "load", "--for", "soon"), "--for"), (("alerts", "snooze", "--for", "1h"), "alert class"),
                       (("alerts", "unsnooze", "x"), "snooze's number"),
                       (("alerts", "maintenance", "--for", "1h", "--start", "tomorrow"), "--start must look like")]:
        r = run_cli("--config", str(path), *args)
        assert r.returncode == 2 and word in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)


def test_a_flapping_service_is_one_mail_then_the_daily_digest(tmp_path, sink):
    smtp = sink()
    agent = mail_agent(tmp_path, smtp, daily_digest_hour=8)
    up = {"units": [{"name": "nfs-server", "unit": "nfs-server.service", "enabled_in_omv": True, "active_state": "active"}]}
    down = {"units": [{**up["units"][0], "active_state": "failed", "sub_state": "failed"}]}
    lt = time.localtime(T0)
    start = time.mktime((lt.tm_year, lt.tm_mon, lt.tm_mday, 9, 0, 0, 0, 0, -1))
    for h in range(0, 24):  # down for one cycle every 3 hours, for a day
        state = down if h % 3 == 0 else up
        cycle(agent, snapshot(start + h * HOUR, services=state))
        cycle(agent, snapshot(start + h * HOUR + 600, services=up if h % 3 == 0 else state))
    assert agent.alerts.notifier.flush(60)
    words = [m.get_body(("plain",)).get_content().split(" on ", 1)[0] for _, m in smtp.messages]
    assert words[:2] == ["New critical alert", "Resolved"]
    assert len(smtp.messages) == 3 and "Daily digest" in smtp.messages[2][1]["Subject"]
    text, _ = text_and_html(smtp.messages[2][1])
    assert text.count("Service nfs-server is down") == 1 and text.count("raised ") == 7


def test_severity_hovering_at_a_threshold_is_one_mail_then_the_daily_digest(tmp_path, sink):
    smtp = sink()
    agent = mail_agent(tmp_path, smtp, default_policy={"warning": "immediately"}, daily_digest_hour=8)
    lt = time.localtime(T0)
    start = time.mktime((lt.tm_year, lt.tm_mon, lt.tm_mday, 9, 0, 0, 0, 0, -1))
    for k in range(48):  # 94 % / 96 % every 30 minutes for a day: critical threshold 95 %
        run(agent, start + k * 1800, fs("/srv/a", 96 if k % 2 else 94))
    words = [m.get_body(("plain",)).get_content().split(" on ", 1)[0] for _, m in smtp.messages]
    assert words[:3] == ["New warning alert", "Escalated to critical", "Lowered to warning"] and len(smtp.messages) == 4
    assert "Daily digest" in smtp.messages[3][1]["Subject"]
    text, _ = text_and_html(smtp.messages[3][1])
    assert text.count("rose to critical") == 22 and text.count("lowered to warning") == 22  # 46 changes by 08:00


def test_every_alert_class_says_what_to_do():
    from omv_copilot_agent.alerts.report import ADVICE
    from omv_copilot_agent.alerts.rules import load_rules

    assert {r.NAME for r in load_rules()} <= set(ADVICE), "an alert class without advice for its messages and digests"
