"""A real daemon process raises an alert from a real cycle; the ack survives a restart (SIGTERM + start)."""

import signal
import time

import requests

from tests.conftest import run_cli, start_daemon

QUIET = ["smart", "omv", "logs", "apt", "services", "network", "storage"]


def _wait_alert(url, headers, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        body = requests.get(url + "/api/v1/alerts", headers=headers, timeout=10).json()
        if body.get("total"):
            return body["alerts"]
        time.sleep(0.3)
    raise AssertionError("no alert within 60 s")


def _stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(60)
    except Exception:
        proc.kill()
        proc.wait(10)


def test_ack_survives_daemon_restart(make_config, tmp_path):
    _, path = make_config({"collect": {"disabled_sources": QUIET, "interval_s": 10},
                           "alerts": {"udev_monitor": False, "rrd_import": False,
                                      "backup_jobs": [{"name": "nightly", "path": str(tmp_path / "never-written")}]}})
    proc, url = start_daemon(path)
    try:
        headers = {"Authorization": f"Bearer {(tmp_path / 'token').read_text().strip()}"}
        alert = _wait_alert(url, headers)[0]
        assert alert["rule"] == "backup_overdue" and alert["subject"] == "nightly"
        r = run_cli("--config", str(path), "alerts", "ack", str(alert["id"]), "--note", "disk for backups ordered")
        assert r.returncode == 0 and "acknowledged" in r.stdout, r.stderr
        before = requests.get(f"{url}/api/v1/alerts/{alert['id']}", headers=headers, timeout=10).json()["last_seen"]
    finally:
        _stop(proc)
    proc, url = start_daemon(path)
    try:
        deadline = time.time() + 60  # wait for a cycle of the new process to see the condition again
        while time.time() < deadline:
            alerts = _wait_alert(url, headers)
            if alerts[0]["last_seen"] > before:
                break
            time.sleep(0.3)
        assert alerts[0]["last_seen"] > before, "the restarted daemon ran no cycle within 60 s"
        assert len(alerts) == 1 and alerts[0]["id"] == alert["id"]  # the same episode, not a new one
        assert alerts[0]["state"] == "acknowledged"
        shown = requests.get(f"{url}/api/v1/alerts/{alert['id']}", headers=headers, timeout=10).json()
        assert shown["notes"][0]["text"] == "disk for backups ordered"
    finally:
        _stop(proc)
