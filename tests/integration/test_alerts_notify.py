"""Notifications against a real loopback SMTP sink and a real loopback webhook server."""

from __future__ import annotations

import json
import time

import pytest

from tests.alerts_support import cycle, fs, make_agent, snapshot

NOW = time.time()  # set again before each test: a snapshot older than stale_after_s costs health points


@pytest.fixture(autouse=True)
def _now():
    """The snapshots are 'now' when the test runs, not when the module was imported (a long run made the
    daily report's health score lose its freshness points: 80 instead of 90)."""
    global NOW
    NOW = time.time()


FULL = {"filesystems": [fs("/srv/a", 97)]}
OK = {"filesystems": [fs("/srv/a", 40)]}


def test_email_once_per_new_alert_and_once_on_resolve(tmp_path, sink):
    smtp = sink()
    agent = make_agent(tmp_path, {"email": True, "email_to": ["admin@example.org"], "smtp_host": "127.0.0.1",
                                  "smtp_port": smtp.port, "notify_backoff_s": 0, "resolve_after_clear_cycles": 1,
                                  "reopen_within_s": 0})
    for i in range(10):
        cycle(agent, snapshot(NOW + i, storage=FULL))
    assert agent.alerts.notifier.flush(60)
    assert len(smtp.messages) == 1
    rcpt, msg = smtp.messages[0]
    assert rcpt == ["admin@example.org"] and "CRITICAL" in msg["Subject"] and "/srv/a" in msg["Subject"]
    assert "97.0%" in msg.get_payload()
    for i in range(10, 15):
        cycle(agent, snapshot(NOW + i, storage=OK))
    assert agent.alerts.notifier.flush(60)
    assert len(smtp.messages) == 2 and smtp.messages[1][1]["Subject"].split(": ", 1)[0].endswith("RESOLVED")


def test_email_retried_after_temporary_failure(tmp_path, sink):
    smtp = sink(fail_first=2)
    agent = make_agent(tmp_path, {"email": True, "email_to": ["a@b.c"], "smtp_host": "127.0.0.1", "smtp_port": smtp.port,
                                  "notify_backoff_s": 0, "notify_retries": 3})
    cycle(agent, snapshot(NOW, storage=FULL))
    assert agent.alerts.notifier.flush(60)
    assert len(smtp.messages) == 1
    delivery = agent.alerts.notifier.deliveries[-1]
    assert delivery["ok"] and delivery["attempts"] == 3


def test_webhook_formats_retry_and_resolve(tmp_path, hook):
    generic, slack, ntfy = hook([500]), hook(), hook()
    agent = make_agent(tmp_path, {"webhooks": [{"url": generic.url + "/in", "format": "generic"},
                                               {"url": slack.url, "format": "slack"},
                                               {"url": ntfy.url + "/nas", "format": "ntfy"}],
                                  "notify_backoff_s": 0, "resolve_after_clear_cycles": 1, "reopen_within_s": 0})
    for i in range(5):
        cycle(agent, snapshot(NOW + i, storage=FULL))
    assert agent.alerts.notifier.flush(60)
    assert [r["status"] for r in generic.received] == [500, 200]  # retried once after the failure
    payload = json.loads(generic.received[-1]["body"])
    assert payload["event"] == "new" and payload["alert"]["rule"] == "fs_full" and payload["alert"]["subject"] == "/srv/a"
    assert "/srv/a" in json.loads(slack.received[0]["body"])["text"]
    assert ntfy.received[0]["headers"]["Priority"] == "urgent" and b"/srv/a" in ntfy.received[0]["body"]
    cycle(agent, snapshot(NOW + 10, storage=OK))
    assert agent.alerts.notifier.flush(60)
    assert json.loads(generic.received[-1]["body"])["event"] == "resolved"
    assert len(generic.received) == 3 and len(slack.received) == 2 and len(ntfy.received) == 2


def test_notification_does_not_block_collection(tmp_path, hook):
    stuck = hook()
    stuck.gate.clear()  # the receiver hangs until we let it answer
    agent = make_agent(tmp_path, {"webhooks": [{"url": stuck.url, "timeout_s": 100}], "notify_backoff_s": 0})
    events = cycle(agent, snapshot(NOW, storage=FULL))
    assert len(events.new) == 1 and len(agent.alerts.notifier.deliveries) == 0  # the cycle finished first
    stuck.gate.set()
    assert agent.alerts.notifier.flush(120)
    assert agent.alerts.notifier.deliveries[-1]["ok"]


def test_min_severity_filter_and_test_endpoint(live_server, hook):
    receiver = hook()
    server = live_server({"alerts": {"udev_monitor": False, "webhooks": [{"url": receiver.url, "format": "discord"}],
                                     "notify_backoff_s": 0}})
    server.agent.alerts.evaluate(snapshot(NOW, storage={"raid": [{"name": "md8", "action": "resync", "progress_percent": 5}]}))
    assert server.agent.alerts.notifier.flush(30) and receiver.received == []  # info is below 'warning'
    r = server.post("/api/v1/alerts/test-notification")
    assert r.status_code == 200 and r.json()["sent"]
    assert "test notification" in json.loads(receiver.received[0]["body"])["content"].lower()


def test_test_endpoint_without_channels_is_409(live_server):
    server = live_server({"alerts": {"udev_monitor": False}})
    r = server.post("/api/v1/alerts/test-notification")
    assert r.status_code == 409 and "no notification channel" in r.json()["error"]["message"]


def test_daily_health_report_is_mailed(tmp_path, sink):
    smtp = sink()
    agent = make_agent(tmp_path, {"email": True, "email_to": ["admin@example.org"], "smtp_host": "127.0.0.1",
                                  "smtp_port": smtp.port, "notify_min_severity": "critical"})
    agent.alerts.last_report_at = NOW - 86400 - 1
    for t in (NOW, NOW + 60):  # the second cycle the same day sends no second report
        agent.snapshot = snapshot(t, storage={"filesystems": [fs("/srv/a", 91)]})
        agent.alerts.on_snapshot(agent.snapshot)
    assert agent.alerts.notifier.flush(60)
    assert len(smtp.messages) == 1
    msg = smtp.messages[0][1]
    assert "Health report: 90/100, 1 open alert(s)" in msg["Subject"]
    assert "[WARNING] Filesystem /srv/a is 91% full" in msg.get_payload()


def test_omv_settings_form_switches_enable_channels(tmp_path, hook):
    from omv_copilot_agent import config as config_mod
    from omv_copilot_agent.daemon.agent import Agent

    receiver = hook()
    cfg = config_mod.from_dict({"data_dir": str(tmp_path / "d"), "alerts": {"udev_monitor": False, "rrd_import": False},
                                "notifications": {"email": True, "webhook_url": receiver.url + "/omv"}})
    agent = Agent(cfg)
    assert agent.alerts.config()["email"] is True
    assert "webhook:generic:" + receiver.url + "/omv" in agent.alerts.notifier.channels()


def test_omv_copilot_topic_switched_off_stops_email_not_webhooks(tmp_path, sink, hook):
    """OMV's System > Notification switch for the 'copilot' topic governs Co-Pilot's e-mail."""
    smtp, receiver = sink(), hook()
    agent = make_agent(tmp_path, {"email": True, "email_to": ["admin@example.org"], "smtp_host": "127.0.0.1",
                                  "smtp_port": smtp.port, "notify_backoff_s": 0,
                                  "webhooks": [{"url": receiver.url, "format": "generic"}]})

    def omv(enable):
        return {"notifications": {"email": {}, "topics": [{"id": "copilot", "enable": enable, "title": "Co-Pilot"}]}}

    cycle(agent, snapshot(NOW, storage=FULL, omv=omv(False)))
    assert agent.alerts.notifier.flush(60)
    assert smtp.messages == [] and len(receiver.received) == 1
    assert "email" not in agent.alerts.notifier.channels()
    agent.snapshot = snapshot(NOW + 1, storage=FULL, omv=omv(True))
    assert "email" in agent.alerts.notifier.channels()
    r = agent.alerts.notifier.submit("test", {"severity": "critical", "title": "t", "message": "m", "id": 0,
                                             "rule": "test", "subject": "s", "state": "firing"}, force=True)
    assert r and agent.alerts.notifier.flush(60) and len(smtp.messages) == 1
