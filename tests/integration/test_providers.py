"""The ordered LLM provider list through /api/v1/settings/providers and /api/v1/rpc: add, change
(key kept), reorder, delete, and the connection test against a loopback LLM."""

from __future__ import annotations

import pytest
import yaml

from tests.fake_llm import FakeLLM


@pytest.fixture
def fake():
    llm = FakeLLM()
    yield llm
    llm.close()


def _names(srv) -> list[str]:
    return [p["name"] for p in srv.get("/api/v1/settings/providers").json()["providers"]]


def test_add_change_reorder_delete_keeps_keys_and_order(live_server, fake):
    srv = live_server(cycle=False)
    first = {k: v for k, v in fake.provider("first").items() if k != "name"}
    assert srv.request("PUT", "/api/v1/settings/providers/first", json={**first, "api_key": "sk-first"}).status_code == 200
    second = {k: v for k, v in fake.provider("second").items() if k != "name"}
    row = srv.request("PUT", "/api/v1/settings/providers/second", json=second).json()
    assert row["position"] == 2 and row["api_key_set"] is False  # a new one is asked last
    assert _names(srv) == ["first", "second"]
    # Changed without a key: the stored one stays, and is never shown.
    changed = srv.request("PUT", "/api/v1/settings/providers/first", json={**first, "model": "other", "api_key": ""}).json()
    assert changed["model"] == "other" and changed["api_key_set"] is True and changed["api_key"] == ""
    saved = yaml.safe_load(open(srv.agent.config.path))["assist"]["providers"]
    assert saved[0]["api_key"] == "sk-first"
    # Reorder: second asked first.
    moved = srv.post("/api/v1/settings/providers/second/move", json={"offset": -1}).json()
    assert [p["name"] for p in moved["providers"]] == ["second", "first"]
    assert [p["name"] for p in yaml.safe_load(open(srv.agent.config.path))["assist"]["providers"]] == ["second", "first"]
    assert srv.post("/api/v1/settings/providers/second/move", json={"offset": -5}).json()["providers"][0]["name"] == "second"
    # Delete.
    assert srv.request("DELETE", "/api/v1/settings/providers/second").status_code == 200
    assert _names(srv) == ["first"]


def test_bad_entries_are_refused_with_the_field_named(live_server):
    srv = live_server(cycle=False)
    bad = srv.request("PUT", "/api/v1/settings/providers/x", json={"kind": "openai", "endpoint": "ftp://h", "model": "m"})
    assert bad.status_code == 400 and "endpoint" in bad.json()["error"]["message"]
    renamed = srv.request("PUT", "/api/v1/settings/providers/x", json={"name": "y", "kind": "openai", "endpoint": "http://h", "model": "m"})
    assert renamed.status_code == 400 and "rename" in renamed.json()["error"]["message"]
    missing = srv.post("/api/v1/settings/providers/nope/test")
    assert missing.status_code == 404 and "nope" in missing.json()["error"]["message"]
    assert _names(srv) == []


def test_connection_test_asks_one_line_and_reports_latency_or_why(live_server, fake):
    srv = live_server({"assist": {"providers": [fake.provider("glm", response_format="json_object")]}}, cycle=False)
    fake.script({"text": "OK"})
    ok = srv.post("/api/v1/settings/providers/glm/test").json()
    assert ok["ok"] is True and ok["reply"] == "OK" and isinstance(ok["latency_ms"], int)
    assert ok["message"].startswith("glm answered in ")
    sent = fake.requests[-1]["body"]
    assert "response_format" not in sent and len(sent["messages"]) == 2  # plain text, one question, nothing of the box
    fake.script({"status": 500, "error": {"message": "model not loaded"}})
    failed = srv.post("/api/v1/settings/providers/glm/test")
    assert failed.status_code == 502 and failed.json()["error"]["code"] == "provider_test_failed"
    assert "glm did not answer after" in failed.json()["error"]["message"]
    # The same through the RPC bridge OMV's engine uses.
    fake.script({"text": "OK"})
    rpc = srv.post("/api/v1/rpc", json={"method": "testProvider", "params": {"name": "glm"}}).json()
    assert rpc["reply"] == "OK"
    listed = srv.post("/api/v1/rpc", json={"method": "getProviders", "params": {"start": 0, "limit": 25}}).json()
    assert listed["total"] == 1 and listed["data"][0]["name"] == "glm" and listed["data"][0]["position"] == 1
