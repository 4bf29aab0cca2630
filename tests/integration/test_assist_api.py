"""Assist, traces and settings over a real loopback API server (waitress), incl. async jobs and bad input."""

from __future__ import annotations

import json
import time

import pytest
import yaml

from tests.assist_helpers import check_mermaid
from tests.fake_llm import GOOD_ANSWER


@pytest.fixture
def fake(fake_llm):
    return fake_llm


@pytest.fixture
def srv(assist_server):
    return assist_server


def poll(server, job_id, until=("done", "failed", "cancelled"), timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        body = server.get(f"/api/v1/assist/jobs/{job_id}").json()
        if body["status"] in until:
            return body
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {body['status']} after {timeout} s")


ANSWER_KEYS = {"query_id", "conversation_id", "context", "mode", "provider", "model", "analysis", "possible_causes",
               "suggested_diagnostics", "recommended_actions", "follow_up_questions", "confidence", "confidence_label",
               "matched_patterns", "notices", "trace_id", "explanation"}


def test_query_kb_only_by_default_with_contract_shape(srv):
    server = srv()
    r = server.post("/api/v1/assist/query", json={"query": "raid degraded, disk failed"})
    assert r.status_code == 200, r.text
    a = r.json()
    assert ANSWER_KEYS <= set(a)
    assert a["mode"] == "kb_only" and a["context"] == "storage" and 0 <= a["confidence"] <= 0.98
    for m in a["matched_patterns"]:
        assert {"pattern_id", "title", "score"} <= set(m)
    assert a["query_id"] == a["trace_id"]


def test_confidence_counts_only_what_the_question_matched(srv):
    """The fixture box has state signals that hold; gibberish must not read as a confident answer."""
    server = srv()
    gibberish = server.post("/api/v1/assist/query", json={"query": "asdfgh qwerty"}).json()
    assert gibberish["confidence"] == 0.5 and gibberish["confidence_label"] == "low"
    asked = server.post("/api/v1/assist/query", json={"query": "raid degraded, disk failed"}).json()
    assert asked["confidence"] > 0.5 and asked["matched_patterns"]


def test_query_with_llm_names_provider(srv, fake):
    server = srv([fake.provider("glm")])
    a = server.post("/api/v1/assist/query", json={"query": "raid degraded", "context": "storage"}).json()
    assert a["mode"] == "llm" and a["provider"] == "glm" and a["analysis"] == GOOD_ANSWER["analysis"]


@pytest.mark.parametrize("body,field", [
    ({}, "query"),
    ({"query": ""}, "query"),
    ({"query": "   "}, "query"),
    ({"query": 5}, "query"),
    ({"query": "x" * 5000}, "query"),
    ({"query": "ok", "context": "weather"}, "context"),
    ({"query": "ok", "mode": "magic"}, "mode"),
    ({"query": "ok", "direct": "yes"}, "direct"),
    ({"query": "ok", "async": 1}, "async"),
    ({"query": "ok", "conversation_id": "../etc/passwd"}, "conversation_id"),
    ({"query": "ok", "bogus": 1}, "bogus"),
    ({"query": "ok", "direct": True, "mode": "kb_only"}, "direct"),
])
def test_bad_query_bodies_are_400_naming_the_field(srv, body, field):
    r = srv().post("/api/v1/assist/query", json=body)
    assert r.status_code == 400, r.text
    assert field in r.json()["error"]["message"]


def test_not_json_is_400(srv):
    r = srv().post("/api/v1/assist/query", data="{nope", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "JSON" in r.json()["error"]["message"]


def test_async_job_runs_and_is_polled(srv, fake):
    fake.script({"delay": 0.3, "answer": GOOD_ANSWER})
    server = srv([fake.provider()])
    r = server.post("/api/v1/assist/query", json={"query": "raid degraded", "async": True})
    assert r.status_code == 202
    job = r.json()
    assert job["job_id"] and job["conversation_id"]
    done = poll(server, job["job_id"])
    assert done["status"] == "done" and done["answer"]["provider"] == "fake"
    assert done["answer"]["conversation_id"] == job["conversation_id"] and "error" not in done


def test_async_job_can_be_cancelled(srv, fake):
    fake.script({"delay": 3, "answer": GOOD_ANSWER})
    server = srv([fake.provider()])
    job = server.post("/api/v1/assist/query", json={"query": "raid degraded", "async": True}).json()
    poll(server, job["job_id"], until=("running", "done"))
    r = server.post(f"/api/v1/assist/jobs/{job['job_id']}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert server.get(f"/api/v1/assist/jobs/{job['job_id']}").json()["status"] == "cancelled"


def test_close_cancels_open_questions_and_ends_the_workers(srv, fake):
    """Shutdown: the workers end before the store closes, and a late question is a clear 503."""
    fake.script({"delay": 2, "answer": GOOD_ANSWER})  # long enough for the poll to see it running
    server = srv([fake.provider()], workers=1)
    running = server.post("/api/v1/assist/query", json={"query": "raid degraded", "async": True}).json()
    poll(server, running["job_id"], until=("running",))
    queued = server.post("/api/v1/assist/query", json={"query": "smb slow", "async": True}).json()
    assert server.agent.assist.pool.close(timeout_s=30) == []
    assert not any(t.is_alive() for t in server.agent.assist.pool._threads)
    for job in (running, queued):
        assert server.get(f"/api/v1/assist/jobs/{job['job_id']}").json()["status"] == "cancelled"
    r = server.post("/api/v1/assist/query", json={"query": "q", "async": True})
    assert r.status_code == 503 and "shutting down" in r.json()["error"]["message"], r.text


def test_job_ids_checked(srv):
    server = srv()
    assert server.get("/api/v1/assist/jobs/0123456789abcdef").status_code == 404
    assert server.get("/api/v1/assist/jobs/bad%20id!").status_code == 400
    assert server.post("/api/v1/assist/jobs/nope/cancel").status_code == 404


def test_queue_is_bounded(srv, fake):
    fake.script({"delay": 5, "answer": GOOD_ANSWER})
    server = srv([fake.provider()], workers=1, max_queued_jobs=1)
    codes = [server.post("/api/v1/assist/query", json={"query": "q", "async": True}).status_code for _ in range(4)]
    assert codes.count(503) >= 1 and codes[0] == 202
    r = server.post("/api/v1/assist/query", json={"query": "q", "async": True})
    if r.status_code == 503:
        assert r.json()["error"]["code"] == "busy"


def test_conversations_list_and_show(srv):
    server = srv()
    a = server.post("/api/v1/assist/query", json={"query": "smb share slow"}).json()
    server.post("/api/v1/assist/query", json={"query": "and on nfs?", "conversation_id": a["conversation_id"]})
    lst = server.get("/api/v1/assist/conversations").json()
    assert lst["total"] == 1 and lst["data"][0]["id"] == a["conversation_id"] and lst["data"][0]["turns"] == 2
    conv = server.get(f"/api/v1/assist/conversations/{a['conversation_id']}").json()
    assert [t["query"] for t in conv["turns"]] == ["smb share slow", "and on nfs?"]
    assert server.get("/api/v1/assist/conversations/unknown").status_code == 404
    assert server.get("/api/v1/assist/conversations?limit=0").status_code == 400


def test_traces_list_show_and_mermaid(srv, fake):
    fake.script({"status": 500}, {"answer": GOOD_ANSWER})
    server = srv([fake.provider("first"), fake.provider("second")])
    a = server.post("/api/v1/assist/query", json={"query": "raid degraded"}).json()
    lst = server.get("/api/v1/traces?limit=10").json()
    assert lst["total"] == 1 and lst["data"][0]["id"] == a["trace_id"] and lst["data"][0]["context"] == "storage"
    t = server.get(f"/api/v1/traces/{a['trace_id']}").json()
    assert len(t["steps"]) == 9 and [h["provider"] for h in t["hops"]] == ["first", "second"]
    r = server.get(f"/api/v1/traces/{a['trace_id']}/mermaid")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    nodes = check_mermaid(r.text)
    assert "H0" in nodes and "H1" in nodes and "first: http_500" in r.text
    assert server.get(f"/api/v1/traces/{a['trace_id']}/mermaid?format=json").json()["mermaid"] == r.text
    assert server.get("/api/v1/traces/nope").status_code == 404
    assert server.get("/api/v1/traces?offset=-1").status_code == 400


def test_trace_retention_prunes_old_traces(srv):
    server = srv()
    a = server.post("/api/v1/assist/query", json={"query": "disk"}).json()
    assert server.agent.assist.prune(now=time.time() + 15 * 86400) == 1
    assert server.get(f"/api/v1/traces/{a['trace_id']}").status_code == 404


def test_settings_secrets_are_write_only(srv, fake):
    key = "sk-live-SECRET-abcdef123456"
    server = srv([fake.provider("glm", api_key=key)])
    got = server.get("/api/v1/settings").json()
    assert key not in json.dumps(got)
    p = got["settings"]["assist"]["providers"][0]
    assert p["api_key"] is None and p["api_key_set"] is True
    # round-trip what GET returned (with a change): the key is kept
    settings = got["settings"]["assist"]
    settings["state_budget_chars"] = 3000
    r = server.request("PUT", "/api/v1/settings", json={"assist": settings})
    assert r.status_code == 200, r.text
    assert key not in r.text
    assert server.agent.config["assist"]["providers"][0]["api_key"] == key
    assert server.agent.config["assist"]["state_budget_chars"] == 3000
    on_disk = yaml.safe_load(open(server.agent.config.path))
    assert on_disk["assist"]["state_budget_chars"] == 3000 and on_disk["assist"]["providers"][0]["api_key"] == key
    # the next question uses the key
    server.post("/api/v1/assist/query", json={"query": "disk"})
    assert fake.requests[-1]["headers"]["Authorization"] == f"Bearer {key}"
    # the trace and the answer do not show it
    assert key not in server.get("/api/v1/traces").text


@pytest.mark.parametrize("body,needle", [
    ({"api": {"listen": "0.0.0.0:1"}}, "api"),
    ({"assist": {"state_budget_chars": "lots"}}, "assist.state_budget_chars"),
    ({"assist": {"providers": [{"name": "x"}]}}, "assist.providers.0"),
    ({"collect": 5}, "collect"),
    ({"assist": {"nope": 1}}, "assist.nope"),
])
def test_bad_settings_are_400_naming_the_key(srv, body, needle):
    server = srv()
    r = server.request("PUT", "/api/v1/settings", json=body)
    assert r.status_code == 400, r.text
    assert needle in r.json()["error"]["message"]
    assert server.agent.config["assist"]["providers"] == []


def test_rpc_bridge_start_and_poll(srv):
    server = srv()
    r = server.post("/api/v1/rpc", json={"method": "startQuery", "params": {"query": "smb is slow", "context": "service"}})
    assert r.status_code == 202 or r.status_code == 200, r.text
    job_id = r.json()["job_id"]
    deadline = time.time() + 60
    while time.time() < deadline:
        res = server.post("/api/v1/rpc", json={"method": "getQueryResult", "params": {"job_id": job_id}}).json()
        if res["status"] == "done":
            break
        time.sleep(0.05)
    assert res["answer"]["context"] == "service"
    traces = server.post("/api/v1/rpc", json={"method": "getTraces", "params": {"start": 0, "limit": 5}}).json()
    assert traces["total"] == 1
    assert server.post("/api/v1/rpc", json={"method": "getSettings", "params": {}}).status_code == 200


def test_settings_deeply_nested_body_is_400(srv):
    deep = '{"assist":' + '{"a":' * 200 + "1" + "}" * 201
    r = srv().request("PUT", "/api/v1/settings", data=deep, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "nested" in r.json()["error"]["message"]


def test_diagnostics_already_run_reach_the_next_prompt(srv, fake):
    server = srv([fake.provider()])
    r = server.post("/api/v1/assist/diagnostics", json={"pattern_id": "mdadm-degraded", "params": {}})
    assert r.status_code == 200, r.text
    server.post("/api/v1/assist/query", json={"query": "my raid array is degraded"})
    user = fake.requests[-1]["body"]["messages"][-1]["content"]
    assert "## Diagnostics already run" in user and "Kernel RAID status" in user
