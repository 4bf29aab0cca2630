"""Verify a fix: POST /api/v1/alerts/verify/{id} and ``omv-copilot verify`` on a real agent, store and probe runner.

The alert's pattern probes run for real (``free -h`` through the sandboxed runner); the rule is
judged on the snapshot the test sets (or on a fresh collection).
"""

from __future__ import annotations

import json
import time

import pytest
import yaml

from tests.alerts_support import fs, snapshot
from tests.conftest import run_cli
from tests.integration.test_alert_evidence import PROCS, system
from tests.integration.test_knowledge_diagnostics import tools  # noqa: F401 (the fake slow probe)

OPENED_AGO_S = 7200


def _open_memory_alert(server) -> tuple[dict, float]:
    opened = time.time() - OPENED_AGO_S
    server.agent.alerts.evaluate(snapshot(opened, system=system(97.0, PROCS)))
    alert = next(a for a in server.agent.alerts.open_alerts() if a["rule"] == "memory_pressure")
    assert alert["evidence"]["pattern"]["id"] == "memory-swap-pressure"
    return alert, opened


def _server(live_server):
    return live_server({"alerts": {"udev_monitor": False, "rrd_import": False}}, cycle=False)


def test_verified_fix_records_outcome_ttr_history_and_health_report(live_server):
    server = _server(live_server)
    alert, opened = _open_memory_alert(server)
    server.agent.snapshot = snapshot(time.time(), system=system(40.0, PROCS))  # the admin stopped the hog
    r = server.post(f"/api/v1/alerts/verify/{alert['id']}", json={"collect": False})
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["outcome"] == "fixed" and data["pattern_id"] == "memory-swap-pressure"
    assert data["fresh_collection"] is False
    assert abs(data["ttr_s"] - (data["verified_at"] - opened)) < 1 and OPENED_AGO_S - 5 < data["ttr_s"] < OPENED_AGO_S + 60
    assert [x["name"] for x in data["readings"]] == ["Memory usage", "OOM kills"]
    assert data["readings"][0]["ok"] is True and "Mem:" in data["readings"][0]["excerpt"]  # free -h really ran
    assert data["alert"]["state"] == "resolved" and data["alert"]["resolution"]["outcome"] == "fixed"

    issues = server.get("/api/v1/history/issues", params={"kind": "alert"}).json()["issues"]
    issue = next(i for i in issues if i["id"] == alert["id"])
    assert issue["resolution"] == {"verified_at": data["verified_at"], "outcome": "fixed", "ttr_s": data["ttr_s"],
                                   "pattern_id": "memory-swap-pressure"}
    health = server.get("/api/v1/health").json()
    assert health["resolution"]["verified"] == 1
    assert health["resolution"]["mean_ttr_s"] == health["resolution"]["median_ttr_s"] == data["ttr_s"]
    report = server.get("/api/v1/health/report").text
    assert "Fixes verified in the last 30 days: 1, time to resolution mean 2 h" in report


def test_condition_still_there_is_still_present_and_alert_stays_open(live_server):
    server = _server(live_server)
    alert, _ = _open_memory_alert(server)
    server.agent.snapshot = snapshot(time.time(), system=system(96.0, PROCS))
    data = server.post(f"/api/v1/alerts/verify/{alert['id']}", json={"collect": False}).json()
    assert data["outcome"] == "still_present" and data["ttr_s"] is None and "still holds" in data["reason"]
    assert data["alert"]["state"] == "firing"
    assert server.get("/api/v1/health").json()["resolution"]["verified"] == 0
    # OMV's RPC bridge: the same operation by its method name
    r = server.post("/api/v1/rpc", json={"method": "verifyFix", "params": {"id": str(alert["id"]), "collect": False}})
    assert r.status_code == 200 and r.json()["outcome"] == "still_present", r.text


def test_unhealthy_probe_reading_means_still_present(live_server):
    """The condition cleared but the pattern's check still misses its healthy answer: not fixed."""
    server = _server(live_server)
    alert, _ = _open_memory_alert(server)
    kb = server.agent.knowledge
    text = kb.text("memory-swap-pressure").replace("pattern_id: memory-swap-pressure", "pattern_id: local-memory-check")
    text = text.replace("- name: Memory usage\n  probe: memory\n",
                        "- name: Memory usage\n  probe: memory\n  expected_output: 'no-such-healthy-line'\n")
    kb.save_local("local-memory-check", text)
    server.agent.snapshot = snapshot(time.time(), system=system(40.0, PROCS))
    data = server.post(f"/api/v1/alerts/verify/{alert['id']}",
                       json={"collect": False, "pattern_id": "local-memory-check"}).json()
    assert data["outcome"] == "still_present" and data["pattern_id"] == "local-memory-check"
    assert data["readings"][0]["matched_expected"] is False and "Memory usage" in data["reason"]


def test_fresh_collection_without_the_source_cannot_verify(live_server):
    """The fresh collection has no 'storage' source here: the filesystem rule cannot look, so no verdict."""
    server = _server(live_server)
    server.agent.alerts.evaluate(snapshot(time.time() - 60, storage={"filesystems": [fs("/srv/a", 97)]}))
    alert = next(a for a in server.agent.alerts.open_alerts() if a["rule"] == "fs_full")
    data = server.post(f"/api/v1/alerts/verify/{alert['id']}", json={}).json()
    assert data["fresh_collection"] is True and server.agent.cycles == 1
    assert data["outcome"] == "could_not_verify" and data["ttr_s"] is None
    assert server.get(f"/api/v1/alerts/{alert['id']}").json()["state"] == "firing"


def test_verify_bad_input_is_4xx_naming_the_problem(live_server):
    server = _server(live_server)
    alert, _ = _open_memory_alert(server)
    cases = [("/api/v1/alerts/verify/999", {}, 404, "no alert 999"),
             ("/api/v1/alerts/verify/abc", {}, 400, "alert id"),
             (f"/api/v1/alerts/verify/{alert['id']}", {"pattern_id": "no-such-pattern"}, 400, "no-such-pattern"),
             (f"/api/v1/alerts/verify/{alert['id']}", {"collect": "yes"}, 400, "collect"),
             (f"/api/v1/alerts/verify/{alert['id']}", {"extra": 1}, 400, "extra")]
    for path, body, status, word in cases:
        r = server.post(path, json=body)
        assert r.status_code == status and word in r.json()["error"]["message"], (path, body, r.text)


def test_cli_verify(make_config):
    from omv_copilot_agent.store import Store

    config, path = make_config({"collect": {"disabled_sources": ["smart", "omv", "logs", "apt", "network", "services",
                                                                "storage"]}, "alerts": {"udev_monitor": False}})
    store = Store(config.data_dir)
    alert_id = store.insert_alert({"rule": "custom_check", "subject": "md0", "severity": "warning",
                                   "title": "A check no rule owns", "message": "-"}, time.time() - 60)
    store.close()
    r = run_cli("--config", str(path), "verify", str(alert_id))
    assert r.returncode == 1 and "could not verify" in r.stdout, (r.stdout, r.stderr)
    r = run_cli("--config", str(path), "verify", str(alert_id), "--json", "--no-collect")
    data = json.loads(r.stdout)
    assert data["outcome"] == "could_not_verify" and data["fresh_collection"] is False
    r = run_cli("--config", str(path), "alerts", "show", str(alert_id))
    assert "verified" in r.stdout and "could_not_verify" in r.stdout
    for args, code, word in [(("verify", "abc"), 2, "issue id"), (("verify", "424242"), 1, "no alert 424242"),
                             (("verify", "q424242"), 1, "no question q424242"), (("verify", "\u00b2"), 2, "issue id"),
                             (("alerts", "show", "\u00b2"), 2, "numeric alert ID"),
                             (("alerts", "ack", "q\u00b2"), 2, "numeric alert ID"),
                             (("alerts", "unsnooze", "\u00b2"), 2, "snooze's number")]:
        r = run_cli("--config", str(path), *args)
        assert r.returncode == code and word in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)


def _open_disk_alert(server) -> tuple[dict, dict]:
    """A reallocated-sectors alert on /dev/sdq (opened 10 minutes ago) and the disk as the snapshot reads it."""
    from tests.alerts_support import smart_disk

    disk = smart_disk("smart-ata-failed-scrutiny.json", "/dev/sdq")
    bad = {**disk, "attributes": [{**a, "raw": 24} if a["id"] == 5 else a for a in disk["attributes"]]}
    opened = time.time() - 600
    server.agent.alerts.evaluate(snapshot(opened, smart={"disks": [bad], "cycle_at": opened}))
    return next(a for a in server.agent.alerts.open_alerts() if a["rule"] == "smart_attributes"), bad


def test_disk_alert_probes_get_the_alerts_device(live_server):
    """The pattern's {device} checks run on the alert's disk (filled like a KB answer's), not refused for a missing value."""
    server = _server(live_server)
    alert, bad = _open_disk_alert(server)
    server.agent.snapshot = snapshot(time.time(), smart={"disks": [bad], "cycle_at": time.time()})
    data = server.post(f"/api/v1/alerts/verify/{alert['id']}",
                       json={"collect": False, "pattern_id": "smart-reallocated-sectors"}).json()
    assert data["outcome"] == "still_present" and data["readings"]
    assert not any("needs parameter" in (r["error"] or "") for r in data["readings"]), data["readings"]


def test_verify_an_assistant_answer_by_its_pattern_findings(live_server):
    """A History question (q<id>): its answer's pattern's probes and findings decide; TTR runs from the question."""
    server = _server(live_server)
    store = server.agent.store
    store.add_turn("c1", "my NAS is slow and swapping", {"mode": "kb_only", "matched_patterns": [
        {"pattern_id": "memory-swap-pressure", "title": "Out of memory or heavy swapping", "score": 0.8}]})
    store.add_turn("c2", "how do I bake bread", {"mode": "kb_only", "matched_patterns": []})
    questions = server.get("/api/v1/history/issues", params={"kind": "question"}).json()["issues"]
    swap = next(q["id"] for q in questions if q["title"].startswith("my NAS"))
    bread = next(q["id"] for q in questions if q["title"].startswith("how do I"))
    assert all(q["resolution"] is None for q in questions)

    server.agent.snapshot = snapshot(time.time(), system=system(97.0, PROCS))
    data = server.post(f"/api/v1/history/issues/verify/{swap}", json={"collect": False}).json()
    assert data["outcome"] == "still_present" and "findings still hold" in data["reason"]
    assert data["question"] == "my NAS is slow and swapping" and data["readings"][0]["name"] == "Memory usage"

    server.agent.snapshot = snapshot(time.time(), system=system(40.0, PROCS))
    data = server.post(f"/api/v1/history/issues/verify/{swap}", json={"collect": False}).json()
    assert data["outcome"] == "fixed" and 0 <= data["ttr_s"] < 120
    questions = server.get("/api/v1/history/issues", params={"kind": "question"}).json()["issues"]
    assert next(q for q in questions if q["id"] == swap)["resolution"]["outcome"] == "fixed"
    assert server.get("/api/v1/health").json()["resolution"]["verified"] == 1

    r = server.post(f"/api/v1/history/issues/verify/{bread}", json={"collect": False})
    assert r.status_code == 400 and "matched no pattern" in r.json()["error"]["message"]
    r = server.post(f"/api/v1/history/issues/verify/{bread}", json={"collect": False, "pattern_id": "memory-swap-pressure"})
    assert r.status_code == 200 and r.json()["outcome"] == "fixed"
    for path, status, word in [("q999999", 404, "no question q999999"), ("qq1", 400, "issue id"), ("999", 404, "no alert 999")]:
        r = server.post(f"/api/v1/history/issues/verify/{path}", json={})
        assert r.status_code == status and word in r.json()["error"]["message"], (path, r.text)


def test_a_check_that_failed_to_run_is_no_healthy_reading(live_server):
    """``cat`` of a file the box lacks exits 1 with empty output, which a negative look-ahead "healthy" regex
    matches: a probe that failed proves nothing, so the answer cannot be verified fixed on it."""
    server = _server(live_server)
    kb = server.agent.knowledge
    pattern = yaml.safe_load(kb.text("memory-swap-pressure"))
    pattern.pop("findings", None)
    pattern.update(pattern_id="local-missing-file-check", diagnostics=[
        {"name": "RAID status", "probe": "read-file", "params": {"file": "/proc/no-such-mdstat"},
         "expected_output": r"\A(?![\s\S]*\[U*_[U_]*\])"}])
    kb.save_local("local-missing-file-check", yaml.safe_dump(pattern, sort_keys=False))
    assert kb.get("local-missing-file-check") is not None, kb.errors
    store = server.agent.store
    store.add_turn("c3", "is my array ok", {"mode": "kb_only", "matched_patterns": [
        {"pattern_id": "local-missing-file-check", "title": "-", "score": 0.8}]})
    qid = next(q["id"] for q in server.get("/api/v1/history/issues", params={"kind": "question"}).json()["issues"])
    server.agent.snapshot = snapshot(time.time(), system=system(40.0, PROCS))
    data = server.post(f"/api/v1/history/issues/verify/{qid}", json={"collect": False}).json()
    assert data["readings"][0]["ok"] is False and data["readings"][0]["matched_expected"] is None, data
    assert data["outcome"] == "could_not_verify" and data["ttr_s"] is None, data


def _slow_pattern(server, steps: int = 3) -> None:
    """A local pattern whose checks all hang (a dead NFS mount, a stuck docker daemon): test-slow sleeps 120 s."""
    kb = server.agent.knowledge
    pattern = yaml.safe_load(kb.text("memory-swap-pressure"))
    pattern.update(pattern_id="local-hanging-checks",
                   diagnostics=[{"name": f"hanging {i}", "probe": "test-slow"} for i in range(steps)])
    kb.save_local("local-hanging-checks", yaml.safe_dump(pattern, sort_keys=False))
    assert kb.get("local-hanging-checks") is not None, kb.errors


@pytest.mark.usefixtures("tools")
def test_hanging_checks_end_within_the_verification_budget(live_server, monkeypatch):
    """Three checks that each hang until their timeout (15 s by default: 45 s, OMV's RPC bridge gives up)
    must end within the verification's budget: the first gets what is left, the rest do not start."""
    from omv_copilot_agent.services import alerts as alert_services

    monkeypatch.setattr(alert_services, "VERIFY_BUDGET_S", 2.0, raising=False)
    server = live_server({"alerts": {"udev_monitor": False, "rrd_import": False},
                          "knowledge": {"diagnostic_timeout_s": 5}}, cycle=False)
    alert, _ = _open_memory_alert(server)
    _slow_pattern(server)
    started = time.monotonic()
    data = server.post(f"/api/v1/alerts/verify/{alert['id']}",
                       json={"collect": False, "pattern_id": "local-hanging-checks"}).json()
    assert time.monotonic() - started < 12, "the checks ran past the verification's budget"
    first, *rest = data["readings"]
    assert "did not finish within" in first["error"], first
    assert [r["error"] for r in rest] == ["not run: the time for these checks was spent by the steps before"] * 2
    assert data["outcome"] == "could_not_verify", data


@pytest.mark.usefixtures("tools")
def test_one_verification_at_a_time(live_server, monkeypatch):
    """A second verification while one runs (a double click, a retry after the web UI gave up) is told so."""
    import threading

    from omv_copilot_agent.services import alerts as alert_services

    monkeypatch.setattr(alert_services, "VERIFY_BUDGET_S", 3.0, raising=False)
    server = live_server({"alerts": {"udev_monitor": False, "rrd_import": False},
                          "knowledge": {"diagnostic_timeout_s": 5}}, cycle=False)
    alert, _ = _open_memory_alert(server)
    _slow_pattern(server, steps=1)
    body = {"collect": False, "pattern_id": "local-hanging-checks"}
    first = threading.Thread(target=server.post, args=(f"/api/v1/alerts/verify/{alert['id']}",), kwargs={"json": body})
    first.start()
    deadline = time.monotonic() + 5
    while not server.agent.alerts.verifying.locked() and time.monotonic() < deadline:
        time.sleep(0.02)
    r = server.post(f"/api/v1/history/issues/verify/{alert['id']}", json=body)
    status = server.get("/api/v1/alerts").status_code  # the API answers meanwhile
    first.join()
    assert r.status_code == 409 and "another verification is running" in r.json()["error"]["message"], r.text
    assert status == 200
    r = server.post(f"/api/v1/alerts/verify/{alert['id']}", json={"collect": False})
    assert r.status_code == 200, r.text


def test_bad_issue_ids_are_named_as_sent(live_server):
    """The message quotes the id the caller sent (not what is left after a leading 'q') and says why it is wrong."""
    server = _server(live_server)
    for raw in ("q", "q1x", "qq1", "q0", "Q1"):
        r = server.post(f"/api/v1/history/issues/verify/{raw}", json={"collect": False})
        message = r.json()["error"]["message"]
        assert r.status_code == 400 and f"not {raw!r}" in message and "q34" in message, (raw, message)
    for path in ("/api/v1/history/issues/verify/" + "9" * 19, "/api/v1/alerts/verify/" + "9" * 19):
        message = server.post(path, json={"collect": False}).json()["error"]["message"]
        assert "at most 18 digits" in message, message
    # str.isdigit() holds for superscripts (int() then fails) and other scripts' digits (int() reads them)
    for raw in ("\u00b2", "q\u00b2", "\u0661", "q\u0661", "\uff11"):
        for path in (f"/api/v1/history/issues/verify/{raw}", f"/api/v1/alerts/verify/{raw}", f"/api/v1/alerts/{raw}"):
            r = server.post(path, json={"collect": False}) if "verify" in path else server.get(path)
            assert r.status_code == 400 and r.json()["error"]["code"] in ("invalid_issue_id", "invalid_alert_id"), (path, r.text)


def test_a_pattern_gone_since_the_alert_opened_is_named_as_the_evidences(live_server):
    """The evidence named a local pattern the admin deleted since: the caller sent no pattern_id, so the
    message must not blame that field; it says which pattern is gone and how to choose another."""
    server = _server(live_server)
    kb = server.agent.knowledge
    pattern = yaml.safe_load(kb.text("memory-swap-pressure"))
    # worded for the alert ("Memory 97% used") so it, not the shipped original, is the evidence's pattern
    pattern.update(pattern_id="local-memory-copy", title="Memory used up: out of memory or heavy swapping (local copy)")
    kb.save_local("local-memory-copy", yaml.safe_dump(pattern, sort_keys=False))
    server.agent.alerts.evaluate(snapshot(time.time() - 60, system=system(97.0, PROCS)))
    alert = next(a for a in server.agent.alerts.open_alerts() if a["rule"] == "memory_pressure")
    gone = alert["evidence"]["pattern"]["id"]
    assert gone == "local-memory-copy"
    assert server.request("DELETE", f"/api/v1/knowledge/patterns/{gone}").status_code == 200
    r = server.post(f"/api/v1/alerts/verify/{alert['id']}", json={"collect": False})
    message = r.json()["error"]["message"]
    assert r.status_code == 400 and "field 'pattern_id'" not in message, message
    assert gone in message and "pattern_id" in message, message


def test_verifying_does_not_spin_up_a_sleeping_disk(live_server):
    """The disk of a SMART alert is asleep when the admin verifies: the collection leaves it asleep, and so
    must the checks — smartctl reading it would spin it up; they say why they did not run."""
    server = _server(live_server)
    alert, bad = _open_disk_alert(server)
    server.agent.snapshot = snapshot(time.time(), smart={"disks": [{**bad, "asleep": "standby"}], "cycle_at": time.time()})
    data = server.post(f"/api/v1/alerts/verify/{alert['id']}",
                       json={"collect": False, "pattern_id": "smart-reallocated-sectors"}).json()
    assert data["readings"] and all(r["error"] and "/dev/sdq is asleep" in r["error"] for r in data["readings"]), data
