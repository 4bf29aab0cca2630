"""``omv-copilot alerts|health|history`` as real subprocesses (in-process mode on a tmp data dir)."""

import json

from tests.conftest import run_cli

SOURCES_OFF = ["smart", "omv", "logs", "apt", "network", "services", "storage"]  # no dependence on this box


def _setup(make_config):
    from omv_copilot_agent.store import Store

    config, path = make_config({"collect": {"disabled_sources": SOURCES_OFF}, "alerts": {"udev_monitor": False}})
    store = Store(config.data_dir)
    alert_id = store.insert_alert({"rule": "custom_check", "subject": "md0", "severity": "critical",
                                   "title": "RAID md0 is degraded", "message": "1/2 devices"}, 1_700_000_000.0)
    store.close()
    return path, alert_id


def test_alerts_list_ack_show_json(make_config):
    path, alert_id = _setup(make_config)
    r = run_cli("--config", str(path), "alerts", "--state", "firing")
    assert r.returncode == 0, r.stderr
    assert "RAID md0 is degraded" in r.stdout and "critical" in r.stdout
    r = run_cli("--config", str(path), "alerts", "ack", str(alert_id), "--note", "new disk ordered")
    assert r.returncode == 0 and "acknowledged" in r.stdout, r.stderr
    r = run_cli("--config", str(path), "alerts", "show", str(alert_id), "--json")
    data = json.loads(r.stdout)
    assert data["state"] == "acknowledged" and data["notes"][0]["text"] == "new disk ordered"
    r = run_cli("--config", str(path), "alerts", "--json", "--state", "acknowledged")
    assert [a["id"] for a in json.loads(r.stdout)["alerts"]] == [alert_id]


def test_cli_errors_are_one_line(make_config):
    path, _ = _setup(make_config)
    for args, code, word in [(("alerts", "ack"), 2, "numeric alert ID"), (("alerts", "show", "abc"), 2, "numeric"),
                             (("alerts", "show", "999"), 1, "no alert 999"), (("history", "note"), 2, "note text")]:
        r = run_cli("--config", str(path), *args)
        assert r.returncode == code and word in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1


def test_health_and_history(make_config):
    path, alert_id = _setup(make_config)
    r = run_cli("--config", str(path), "health")
    assert r.returncode == 0 and "RAID md0 is degraded" in r.stdout, r.stdout + r.stderr
    assert int(r.stdout.split("Health score ")[1].split("/")[0]) <= 70  # -30 for the critical alert
    r = run_cli("--config", str(path), "health", "--report")
    assert r.returncode == 0 and "Open alerts (1)" in r.stdout and "Filesystem forecasts" in r.stdout
    r = run_cli("--config", str(path), "health", "--report", "--html")
    assert r.stdout.startswith("<!doctype html>")
    r = run_cli("--config", str(path), "history", "note", "replaced sdb", "--alert", str(alert_id))
    assert r.returncode == 0 and "saved" in r.stdout, r.stderr
    r = run_cli("--config", str(path), "history", "notes")
    assert "replaced sdb" in r.stdout
    r = run_cli("--config", str(path), "history", "issues", "--json")
    assert json.loads(r.stdout)["issues"][0]["id"] == alert_id
    r = run_cli("--config", str(path), "alerts", "forecasts", "--json")
    assert r.returncode == 0 and json.loads(r.stdout) == {"forecasts": []}
