"""What the assistant says while it works and when it cannot: progress in words, an honest Direct Chat
failure, follow-up answers as context of the same conversation. Real loopback API + fake LLM server."""

from __future__ import annotations

import time

import pytest

from tests.fake_llm import GOOD_ANSWER


@pytest.fixture
def srv(assist_server):
    return assist_server


def test_progress_is_said_in_words_naming_the_model(srv, fake_llm):
    fake_llm.script({"delay": 1.5, "answer": GOOD_ANSWER})
    server = srv([fake_llm.provider("glm", model="glm-4.6")])
    job = server.post("/api/v1/assist/jobs", json={"query": "raid degraded"}).json()
    seen = set()
    deadline = time.time() + 30
    while time.time() < deadline:
        body = server.get(f"/api/v1/assist/jobs/{job['job_id']}").json()
        if body.get("stage_text"):
            seen.add((body["stage"], body["stage_text"]))
        if body["status"] in ("done", "failed"):
            break
        time.sleep(0.05)
    assert ("llm_request", "asking glm-4.6…") in seen, seen
    assert all("_" not in text for _, text in seen), seen  # never an internal stage name


def test_kb_only_progress_does_not_claim_an_llm(live_server):
    server = live_server({"assist": {"providers": []}}, cycle=False)
    words = []
    server.agent.assist.ask("raid degraded", stage=lambda s: words.append(s.words))
    assert "searching the knowledge base…" in words
    assert not any("LLM" in w or "asking" in w for w in words), words


def test_direct_chat_with_the_llm_down_says_it_failed(srv, fake_llm):
    fake_llm.script({"status": 500})
    server = srv([fake_llm.provider("glm")])
    a = server.post("/api/v1/assist/query", json={"query": "hello", "direct": True}).json()
    assert a["mode"] == "direct" and a["llm_error"] and "every LLM provider failed" in a["llm_error"]
    assert not a["analysis"].startswith("No answer")
    assert "Direct Chat got no answer" in a["analysis"]
    assert not any("knowledge base" in n for n in a["notices"]), a["notices"]  # nothing was answered from it


def test_kb_only_answer_knows_no_llm_is_configured(srv):
    a = srv().post("/api/v1/assist/query", json={"query": "raid degraded"}).json()
    assert a["mode"] == "kb_only" and a["llm_configured"] is False and a["llm_error"] is None


def test_a_follow_up_answer_is_context_not_a_new_question(srv, fake_llm):
    fake_llm.script({"answer": GOOD_ANSWER})
    server = srv([fake_llm.provider("glm")])
    first = server.post("/api/v1/assist/query", json={"query": "my raid array is degraded"}).json()
    asked = "Which disk or filesystem is affected?"
    reply = server.post("/api/v1/assist/query", json={"query": "sdb", "reply_to": asked,
                                                      "conversation_id": first["conversation_id"]}).json()
    assert reply["conversation_id"] == first["conversation_id"] and reply["reply_to"] == asked
    # the LLM saw the earlier question and the reply as an answer to its own question
    last = fake_llm.requests[-1]["body"]["messages"]
    assert any("my raid array is degraded" in m["content"] for m in last if m["role"] == "user")
    assert f'My answer to your question "{asked}": sdb' in last[-1]["content"]
    # routing and the knowledge base looked at the conversation's question, not "sdb" alone
    assert reply["context"] == "storage" and reply["matched_patterns"]
    turns = server.get(f"/api/v1/assist/conversations/{first['conversation_id']}").json()["turns"]
    assert len(turns) == 2


def test_a_reply_needs_its_conversation(srv):
    r = srv().post("/api/v1/assist/query", json={"query": "sdb", "reply_to": "Which disk?"})
    assert r.status_code == 400 and "conversation_id" in r.json()["error"]["message"]
