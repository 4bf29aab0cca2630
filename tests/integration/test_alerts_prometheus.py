"""Fleet integration: the real Debian prometheus scrapes /metrics; the real Alertmanager receives a push."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest
import requests
import yaml

from tests.alerts_support import fs, snapshot
from tests.conftest import IN_CI, ROOT, free_port

PROMETHEUS = shutil.which("prometheus")
ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")


def _absent(binary, package):
    return pytest.mark.skipif(binary is None and not IN_CI,
                              reason=f"{package} is not installed (make test installs it from tests/apt-packages.txt)")


def _wait(check, timeout=90, what="condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            result = check()
            if result:
                return result
        except requests.RequestException as exc:
            last = exc
        time.sleep(0.5)
    raise AssertionError(f"{what} not reached within {timeout} s (last error: {last})")


@pytest.fixture
def process():
    procs = []

    def _start(argv, log):
        procs.append(subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT))
        return procs[-1]

    yield _start
    for p in procs:
        p.terminate()
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)


@_absent(PROMETHEUS, "prometheus")
def test_prometheus_scrapes_metrics(live_server, process, tmp_path):
    server = live_server({"alerts": {"udev_monitor": False}}, sources=("system", "storage"))
    snap = snapshot(time.time(), storage={"filesystems": [fs("/srv/a", 97)]})
    server.agent.snapshot = snap
    server.agent.alerts.evaluate(snap)
    port = free_port()
    (tmp_path / "token").write_text(server.token)
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
        "scrape_configs": [{"job_name": "omv-copilot", "metrics_path": "/metrics",
                            "authorization": {"type": "Bearer", "credentials_file": str(tmp_path / "token")},
                            "static_configs": [{"targets": [f"127.0.0.1:{server.port}"], "labels": {"nas": "test"}}]}]}))
    log = open(tmp_path / "prometheus.log", "wb")
    process([PROMETHEUS, f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{port}"], log)
    url = f"http://127.0.0.1:{port}"

    def scraped():
        r = requests.get(url + "/api/v1/query", params={"query": "omv_copilot_alerts{state='firing',severity='critical'}"}, timeout=5)
        result = r.json()["data"]["result"] if r.ok else []
        return result or None

    result = _wait(scraped, what="prometheus scraping /metrics")
    assert float(result[0]["value"][1]) == 1.0 and result[0]["metric"]["nas"] == "test"
    health = requests.get(url + "/api/v1/query", params={"query": "omv_copilot_health_score"}, timeout=5).json()
    assert float(health["data"]["result"][0]["value"][1]) == server.agent.alerts.health_score()["score"]
    targets = requests.get(url + "/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
    assert targets[0]["health"] == "up"


@_absent(ALERTMANAGER, "prometheus-alertmanager")
def test_alertmanager_receives_pushed_alert(tmp_path, process):
    from tests.alerts_support import cycle, make_agent

    port = free_port()
    (tmp_path / "am.yml").write_text(yaml.safe_dump({"route": {"receiver": "null"}, "receivers": [{"name": "null"}]}))
    log = open(tmp_path / "alertmanager.log", "wb")
    process([ALERTMANAGER, f"--config.file={tmp_path / 'am.yml'}", f"--storage.path={tmp_path / 'am'}",
             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="], log)
    url = f"http://127.0.0.1:{port}"
    _wait(lambda: requests.get(url + "/-/ready", timeout=2).ok, what="alertmanager ready")
    agent = make_agent(tmp_path, {"alertmanager_url": url, "notify_backoff_s": 0.5, "resolve_after_clear_cycles": 1,
                                  "reopen_within_s": 0})
    now = time.time()
    cycle(agent, snapshot(now, storage={"filesystems": [fs("/srv/a", 97)]}))
    assert agent.alerts.notifier.flush(60)

    def received():
        alerts = requests.get(url + "/api/v2/alerts", timeout=5).json()
        return [a for a in alerts if a["labels"].get("alertname") == "fs_full"] or None

    got = _wait(received, what="alert in alertmanager")
    assert got[0]["labels"]["subject"] == "/srv/a" and got[0]["labels"]["severity"] == "critical"
    assert got[0]["status"]["state"] == "active" and "97" in got[0]["annotations"]["description"]
    cycle(agent, snapshot(now + 1, storage={"filesystems": [fs("/srv/a", 10)]}))
    assert agent.alerts.notifier.flush(60)
    _wait(lambda: not [a for a in requests.get(url + "/api/v2/alerts", params={"active": "true"}, timeout=5).json()
                       if a["labels"].get("alertname") == "fs_full"], what="alert resolved in alertmanager")


PROMTOOL = shutil.which("promtool")


@_absent(PROMTOOL, "prometheus (promtool)")
def test_fleet_rules_and_dashboard_use_served_metrics(live_server):
    import json
    import re
    fleet = ROOT / "docs" / "fleet"
    r = subprocess.run([PROMTOOL, "check", "rules", str(fleet / "omv-copilot-rules.yml")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    server = live_server({"alerts": {"udev_monitor": False}}, sources=("system", "storage"))
    served = set(re.findall(r"^# TYPE (\w+)", server.get("/metrics").text, re.M))
    exprs = [p["targets"][0]["expr"] for p in json.loads((fleet / "grafana-dashboard.json").read_text())["panels"]]
    exprs += [r["expr"] for g in yaml.safe_load((fleet / "omv-copilot-rules.yml").read_text())["groups"] for r in g["rules"]]
    used = {m for e in exprs for m in re.findall(r"\b(omv_copilot_\w+)", e)}
    assert used and used <= served, used - served
