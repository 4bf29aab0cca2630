"""Conversations are the assistant's history: renamed, deleted, searched, rated answers remembered.

Over a real loopback API server with a real SQLite store; REST and the RPC bridge (the web UI's path).
"""

from __future__ import annotations

import pytest

from tests.assist_helpers import fixture_snapshot


@pytest.fixture
def server(live_server):
    srv = live_server({"assist": {"providers": []}}, cycle=False)
    srv.agent.snapshot = fixture_snapshot()
    return srv


def ask(server, query, conversation_id=None):
    body = {"query": query, **({"conversation_id": conversation_id} if conversation_id else {})}
    r = server.post("/api/v1/assist/query", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def rpc(server, method, **params):
    return server.post("/api/v1/rpc", json={"method": method, "params": params})


def test_rename_search_delete(server):
    raid = ask(server, "raid degraded, disk failed")
    smb = ask(server, "why is my SMB share slow?")
    ask(server, "and only from Windows", smb["conversation_id"])

    r = server.request("PUT", f"/api/v1/assist/conversations/{raid['conversation_id']}", json={"title": "  The  RAID  scare "})
    assert r.status_code == 200, r.text
    listed = server.get("/api/v1/assist/conversations").json()["data"]
    titles = {c["id"]: (c["title"], c["renamed"]) for c in listed}
    assert titles[raid["conversation_id"]] == ("The RAID scare", True)
    assert titles[smb["conversation_id"]] == ("why is my SMB share slow?", False)

    # search: the title, a later question, an answer's words; case-insensitive; LIKE wildcards are literal
    def found(q):
        return [c["id"] for c in rpc(server, "getConversations", start=0, limit=50, q=q).json()["data"]]
    assert found("raid scare") == [raid["conversation_id"]]
    assert found("WINDOWS") == [smb["conversation_id"]]
    assert found("%") == [] and found("raid_scare") == []
    assert found("Knowledge-base answer") != []  # the answer's analysis is searched too
    assert set(found("")) == {raid["conversation_id"], smb["conversation_id"]}

    r = rpc(server, "deleteConversation", id=smb["conversation_id"])
    assert r.status_code == 200 and r.json()["deleted_turns"] == 2, r.text
    assert server.get(f"/api/v1/assist/conversations/{smb['conversation_id']}").status_code == 404
    assert [c["id"] for c in server.get("/api/v1/assist/conversations").json()["data"]] == [raid["conversation_id"]]


@pytest.mark.parametrize("method, path, body, status", [
    ("PUT", "/api/v1/assist/conversations/nope", {"title": "x"}, 404),
    ("DELETE", "/api/v1/assist/conversations/nope", None, 404),
    ("PUT", "/api/v1/assist/conversations/nope", {"title": "   "}, 400),
    ("PUT", "/api/v1/assist/conversations/nope", {"title": "x" * 201}, 400),
    ("PUT", "/api/v1/assist/conversations/nope", {"name": "x"}, 400),
])
def test_bad_renames_and_deletes_are_named(server, method, path, body, status):
    r = server.request(method, path, **({"json": body} if body is not None else {}))
    assert r.status_code == status, r.text
    assert "Traceback" not in r.text and r.json()["error"]["message"]


def test_rated_answer_remembers_its_rating(server):
    a = ask(server, "raid degraded, disk failed")
    pattern = a["matched_patterns"][0]["pattern_id"]
    r = rpc(server, "feedback", pattern_id=pattern, helpful=False, query_id=a["query_id"])
    assert r.status_code == 201, r.text
    turns = server.get(f"/api/v1/assist/conversations/{a['conversation_id']}").json()["turns"]
    assert [t["feedback"] for t in turns] == ["down"]


def test_questions_are_not_issues(server):
    ask(server, "why is my SMB share slow?")
    issues = rpc(server, "getHistory", start=0, limit=50).json()
    assert issues["total"] == 0 and issues["data"] == []
