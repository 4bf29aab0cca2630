"""Knowledge and diagnostics endpoints over a real loopback server with a real SQLite store."""

from __future__ import annotations

import shutil

import pytest
import yaml

from tests.conftest import ROOT


@pytest.fixture
def srv(live_server, tmp_path):
    """The shipped patterns plus one whose diagnostics are deterministic on any Linux box."""
    patterns = tmp_path / "patterns"
    shutil.copytree(ROOT / "patterns", patterns)
    (patterns / "services--test-uname.yaml").write_text(yaml.safe_dump({
        "pattern_id": "test-uname", "title": "Kernel name check for the API test", "category": "services",
        "symptoms": ["api test"],
        "diagnostics": [{"name": "kernel", "probe": "kernel-name", "expected_output": "^Linux"},
                        {"name": "kernel again", "probe": "kernel-name", "expected_output": "^Windows"},
                        {"name": "kernel filtered", "probe": "kernel-name", "filter": "^nothing-matches"},
                        {"name": "host lookup", "probe": "resolve-host", "params": {"host": "{host}"}}],
        "solutions": [{"priority": 2, "action": "second", "explanation": "runs second", "risk": "restarts-service",
                       "command": "systemctl restart smbd"},
                      {"priority": 1, "action": "first", "explanation": "runs first", "risk": "read-only"}],
        "references": ["https://docs.openmediavault.org/"], "confidence": 0.5}))
    return live_server({"knowledge": {"patterns_dir": str(patterns)}})


def error_message(response) -> str:
    body = response.json()
    assert set(body["error"]) >= {"code", "message"}
    return body["error"]["message"]


def test_patterns_list_filter_and_paging(srv):
    body = srv.get("/api/v1/knowledge/patterns", params={"limit": 500}).json()
    shipped = len(list((ROOT / "patterns").glob("*.yaml"))) + 1  # + the fixture's test-uname
    assert body["total"] == shipped and len(body["data"]) == shipped and body["errors"] == []
    assert {p["pattern_id"] for p in body["data"]} >= {"test-uname"}
    storage = srv.get("/api/v1/knowledge/patterns", params={"category": "storage", "limit": 3, "offset": 3}).json()
    assert storage["total"] >= 5 and len(storage["data"]) == 3
    assert {p["category"] for p in storage["data"]} == {"storage"}
    first = srv.get("/api/v1/knowledge/patterns", params={"category": "storage", "limit": 3}).json()["data"]
    assert not {p["pattern_id"] for p in first} & {p["pattern_id"] for p in storage["data"]}


@pytest.mark.parametrize("params,field", [
    ({"category": "plumbing"}, "category"), ({"limit": "0"}, "limit"), ({"limit": "lots"}, "limit"),
    ({"offset": "-1"}, "offset"), ({"limit": "501"}, "limit"),
])
def test_patterns_list_bad_input(srv, params, field):
    r = srv.get("/api/v1/knowledge/patterns", params=params)
    assert r.status_code == 400 and f"'{field}'" in error_message(r)


def test_one_pattern_and_bad_ids(srv):
    body = srv.get("/api/v1/knowledge/patterns/smart-reallocated-sectors").json()
    assert body["pattern_id"] == "smart-reallocated-sectors" and body["parameters"] == ["device"]
    assert body["findings"] and body["solutions"][0]["risk"] in ("read-only", "changes-config", "restarts-service", "data-risk")
    r = srv.get("/api/v1/knowledge/patterns/no-such-pattern")
    assert r.status_code == 404 and "no-such-pattern" in error_message(r)
    for bad in ("..%2F..%2Fetc%2Fpasswd", "A", "x" * 100, "ünïcode", "smb share"):
        r = srv.get(f"/api/v1/knowledge/patterns/{bad}")
        assert r.status_code == 400 and "pattern_id" in error_message(r), bad


def test_search_ranks_with_scores_and_reasons(srv):
    body = srv.get("/api/v1/knowledge/search", params={"q": "web ui 502 bad gateway", "limit": 3}).json()
    assert body["query"] == "web ui 502 bad gateway"
    top = body["results"][0]
    assert top["pattern_id"] == "webui-502-bad-gateway" and 0 < top["score"] <= 1
    assert top["reasons"][0].startswith("words: ") and "502" in top["reasons"][0]
    assert len(body["results"]) <= 3


@pytest.mark.parametrize("params,field", [({}, "q"), ({"q": ""}, "q"), ({"q": "x" * 501}, "q"), ({"q": "smb", "limit": "99"}, "limit")])
def test_search_bad_input(srv, params, field):
    r = srv.get("/api/v1/knowledge/search", params=params)
    assert r.status_code == 400 and f"'{field}'" in error_message(r)


def test_feedback_is_stored_and_nudges_ranking_visibly(srv):
    query = {"q": "smb password keeps asking", "limit": 5}
    before = {m["pattern_id"]: m for m in srv.get("/api/v1/knowledge/search", params=query).json()["results"]}
    pid = "smb-windows-credentials"
    for helpful in (True, True, True, False):
        r = srv.post("/api/v1/knowledge/feedback", json={"pattern_id": pid, "helpful": helpful, "comment": "thanks",
                                                         "query": query["q"]})
        assert r.status_code == 201
    assert r.json() == {"id": r.json()["id"], "pattern_id": pid, "helpful": 3, "not_helpful": 1}
    after = {m["pattern_id"]: m for m in srv.get("/api/v1/knowledge/search", params=query).json()["results"]}
    assert after[pid]["score"] == pytest.approx(min(1.0, before[pid]["score"] + 0.04), abs=1e-3)
    assert "feedback: +0.04 (3 helpful, 1 not helpful)" in after[pid]["reasons"]
    rows = srv.agent.store.query("SELECT pattern_id, helpful, comment FROM knowledge_feedback")
    assert len(rows) == 4 and rows[0]["comment"] == "thanks"


@pytest.mark.parametrize("body,field", [
    ({"helpful": True}, "pattern_id"), ({"pattern_id": "smb-windows-credentials"}, "helpful"),
    ({"pattern_id": "smb-windows-credentials", "helpful": "yes"}, "helpful"),
    ({"pattern_id": "smb-windows-credentials", "helpful": True, "comment": "x" * 2001}, "comment"),
    ({"pattern_id": "smb-windows-credentials", "helpful": True, "rating": 5}, "rating"),
    ({"pattern_id": "../etc", "helpful": True}, "pattern_id"),
    ({"pattern_id": 7, "helpful": True}, "pattern_id"),
])
def test_feedback_bad_input(srv, body, field):
    r = srv.post("/api/v1/knowledge/feedback", json=body)
    assert r.status_code == 400 and field in error_message(r), error_message(r)


def test_feedback_for_unknown_pattern_and_non_json(srv):
    r = srv.post("/api/v1/knowledge/feedback", json={"pattern_id": "no-such-pattern", "helpful": True})
    assert r.status_code == 404
    r = srv.post("/api/v1/knowledge/feedback", data="not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "JSON" in error_message(r)


def test_diagnostics_run_and_report_each_step(srv):
    r = srv.post("/api/v1/assist/diagnostics", json={"pattern_id": "test-uname", "params": {"host": "localhost"}})
    assert r.status_code == 200
    body = r.json()
    assert body["parameters"] == ["host"]
    kernel, again, filtered, lookup = body["results"]
    assert kernel["returncode"] == 0 and kernel["stdout"].strip() == "Linux" and kernel["matched_expected"] is True
    assert kernel["argv"] == ["uname", "-s"] and kernel["duration_s"] >= 0 and kernel["timed_out"] is False
    assert kernel["probe"] == "kernel-name" and kernel["command"] == "uname -s" and kernel["ok"] is True
    assert again["matched_expected"] is False
    assert filtered["stdout"] == "" and filtered["command"] == "uname -s | grep -i -E '^nothing-matches'"
    assert lookup["argv"] == ["getent", "hosts", "localhost"] and lookup["command"] == "getent hosts {host}"
    assert body["passed"] == 1 and body["failed"] == 1


def test_diagnostics_missing_param_is_reported_per_step(srv):
    body = srv.post("/api/v1/assist/diagnostics", json={"pattern_id": "test-uname"}).json()
    assert body["results"][3]["error"] == "refused: needs parameter 'host' (probe 'resolve-host' argument 'host')"


@pytest.mark.parametrize("body,field", [
    ({}, "pattern_id"), ({"pattern_id": "test-uname", "params": {"host": "x; rm -rf /"}}, "params.host"),
    ({"pattern_id": "test-uname", "params": {"device": "/dev/sda && reboot"}}, "params.device"),
    ({"pattern_id": "test-uname", "params": {"host": 5}}, "params.host"),
    ({"pattern_id": "test-uname", "params": {"evil": "x"}}, "params.evil"),
    ({"pattern_id": "test-uname", "params": "host=x"}, "params"),
    ({"pattern_id": "test-uname", "run": "rm -rf /"}, "run"),
])
def test_diagnostics_bad_input(srv, body, field):
    r = srv.post("/api/v1/assist/diagnostics", json=body)
    assert r.status_code == 400 and field in error_message(r), error_message(r)


def test_solution_is_ordered_with_risk_and_never_run(srv):
    body = srv.post("/api/v1/assist/solution", json={"pattern_id": "test-uname"}).json()
    assert [s["action"] for s in body["solutions"]] == ["first", "second"]
    assert [s["risk"] for s in body["solutions"]] == ["read-only", "restarts-service"]
    assert "never runs" in body["note"]
    r = srv.post("/api/v1/assist/solution", json={"pattern_id": "no-such-pattern"})
    assert r.status_code == 404
    r = srv.post("/api/v1/assist/solution", json={"pattern_id": ["x"]})
    assert r.status_code == 400 and "pattern_id" in error_message(r)


def test_search_uses_the_live_snapshot_signals(srv):
    """A vague query is answered by whatever the real snapshot shows; every result explains itself."""
    body = srv.get("/api/v1/knowledge/search", params={"q": "something is wrong", "limit": 50}).json()
    for result in body["results"]:
        assert result["reasons"] and all(r.startswith("finding: ") for r in result["reasons"])
