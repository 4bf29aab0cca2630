"""The assistant against real loopback LLM servers (OpenAI chat completions and Anthropic Messages).

Each scripted behaviour (good JSON, fences, prose, GLM reasoning, empty, 429, 500, hang,
refused, slow) must end in the right answer, a fallback, or a KB-only answer, never an error.
"""

from __future__ import annotations

import json

import pytest

from omv_copilot_agent.assist import engine

from tests.assist_helpers import PRIVATE, realistic_sections, with_state
from tests.conftest import free_port
from tests.fake_llm import GOOD_ANSWER, FakeLLM

QUESTION = "my raid array md0 on keller-nas is degraded, what now?"


@pytest.fixture
def fake(fake_llm):
    return fake_llm


def ask(agent, query=QUESTION, **kw):
    return agent.assist.ask(query, **kw)


@pytest.mark.parametrize("step", [
    {"answer": GOOD_ANSWER},
    {"text": "```json\n" + json.dumps(GOOD_ANSWER) + "\n```"},
    {"text": json.dumps(GOOD_ANSWER) + "\nI hope this helps!"},
    {"reasoning": "Let me think... {\"analysis\": \"WRONG, this is thinking\"}", "answer": GOOD_ANSWER},
    {"delay": 0.3, "answer": GOOD_ANSWER},  # slow but within the timeout
], ids=["json", "fenced", "trailing-text", "glm-reasoning", "slow"])
@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_good_replies_become_the_answer(fake, agents, step, kind):
    fake.script(step)
    agent = agents(fake.provider("p1", kind=kind))
    answer = ask(agent)
    assert answer["mode"] == "llm" and answer["provider"] == "p1" and answer["model"] == "p1-model"
    assert answer["analysis"] == GOOD_ANSWER["analysis"]  # never the reasoning
    assert answer["recommended_actions"][0]["action"] == "Replace the failed disk"
    assert answer["context"] == "storage"
    req = fake.requests[-1]
    if kind == "openai":
        assert req["path"] == "/v1/chat/completions"
        assert req["body"]["response_format"] == {"type": "json_object"}
        assert req["body"]["messages"][0]["role"] == "system"
    else:
        assert req["path"] == "/v1/messages" and req["headers"]["anthropic-version"]
        assert "Storage Specialist" in req["body"]["system"]


def test_prose_reply_is_kept_as_text(fake, agents):
    fake.script({"text": "Replace the failed disk and re-add it with mdadm."})
    answer = ask(agents(fake.provider()))
    assert answer["mode"] == "llm" and answer["analysis"].startswith("Replace the failed disk")
    assert any("not JSON" in n for n in answer["notices"])


def test_a_reply_cut_at_max_tokens_says_so(fake, agents):
    fake.script({"text": json.dumps(GOOD_ANSWER)[:80], "cut": True})
    answer = ask(agents(fake.provider(max_tokens=50)))
    assert answer["mode"] == "llm"
    assert "the answer was cut at max_tokens (50): raise it for fake" in answer["notices"]


def test_response_format_can_be_turned_off_for_servers_without_it(fake, agents):
    ask(agents(fake.provider(response_format="none")))
    assert "response_format" not in fake.requests[-1]["body"]


def test_json_schema_response_format_sends_the_answer_schema(fake, agents):
    from omv_copilot_agent.assist.parse import ANSWER_SCHEMA

    answer = ask(agents(fake.provider(response_format="json_schema")))
    sent = fake.requests[-1]["body"]["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["schema"] == ANSWER_SCHEMA
    assert answer["mode"] == "llm"
    import jsonschema

    jsonschema.validate(GOOD_ANSWER, ANSWER_SCHEMA)  # the schema admits a full answer


@pytest.mark.parametrize("failure", [
    {"status": 429}, {"status": 500}, {"status": 503}, {"text": ""}, {"body": "<html>gateway</html>"},
    {"reasoning": "thinking only", "text": ""},
], ids=["429", "500", "503", "empty", "not-json-body", "reasoning-only"])
def test_failures_fall_back_to_the_next_provider(fake, agents, failure):
    fake.script(failure, {"answer": GOOD_ANSWER})
    agent = agents(fake.provider("first"), fake.provider("second", kind="anthropic"))
    answer = ask(agent)
    assert answer["provider"] == "second" and answer["mode"] == "llm"
    trace = agent.store.get_trace(answer["trace_id"])
    assert [h["provider"] for h in trace["hops"]] == ["first", "second"]
    assert trace["hops"][0]["result"] != "ok" and trace["hops"][1]["result"] == "ok"


def test_hang_past_timeout_falls_back(fake, agents):
    slow = FakeLLM().script({"delay": 5, "answer": GOOD_ANSWER})
    try:
        agent = agents(slow.provider("hangs", timeout_s=1), fake.provider("backup"))
        answer = ask(agent)
        assert answer["provider"] == "backup"
        hop = agent.store.get_trace(answer["trace_id"])["hops"][0]
        assert hop["result"] == "timeout"
    finally:
        slow.close()


def test_connection_refused_falls_back(fake, agents):
    dead = {"name": "dead", "kind": "openai", "endpoint": f"http://127.0.0.1:{free_port()}/v1", "model": "m", "timeout_s": 5}
    agent = agents(dead, fake.provider("alive"))
    answer = ask(agent)
    assert answer["provider"] == "alive"
    assert agent.store.get_trace(answer["trace_id"])["hops"][0]["result"] == "connection"


def test_all_providers_failing_gives_a_kb_only_answer(fake, agents):
    fake.script({"status": 500})
    dead = {"name": "dead", "kind": "anthropic", "endpoint": f"http://127.0.0.1:{free_port()}", "model": "m", "timeout_s": 5}
    agent = agents(fake.provider("a"), dead)
    answer = ask(agent)
    assert answer["mode"] == "kb_only" and answer["provider"] is None
    assert any("every LLM provider failed" in n and "a: HTTP 500" in n for n in answer["notices"])
    assert answer["matched_patterns"] and answer["analysis"].startswith("Knowledge-base answer")


def test_no_provider_is_kb_only_and_useful(agents):
    agent = agents()
    answer = ask(agent)
    assert answer["mode"] == "kb_only" and answer["provider"] is None
    ids = [m["pattern_id"] for m in answer["matched_patterns"]]
    assert "mdadm-degraded" in ids
    assert answer["possible_causes"] and answer["suggested_diagnostics"] and answer["recommended_actions"]
    assert any(d["pattern_id"] == "mdadm-degraded" for d in answer["suggested_diagnostics"])
    assert answer["follow_up_questions"]
    scores = [m["score"] for m in answer["matched_patterns"]]
    from omv_copilot_agent.assist.parse import confidence

    assert answer["confidence"] == confidence(scores)


def test_kb_only_mode_skips_the_llm(fake, agents):
    agent = agents(fake.provider())
    answer = ask(agent, mode="kb_only")
    assert answer["mode"] == "kb_only" and not fake.requests


def test_redaction_nothing_private_reaches_the_llm_and_answer_is_restored(fake, agents):
    fake.script({"answer": {**GOOD_ANSWER, "analysis": "Disk <SERIAL_2> in <HOST_1> failed"}})
    agent = agents(fake.provider())
    answer = ask(agent, query="keller-nas: anna (anna.keller@example.org) says disk ZDH8QW3R at 192.168.178.23 "
                              "mac 3c:7c:3f:1a:2b:4c is slow; password=Geheim123")
    sent = fake.sent_text()
    assert "Current system state" in sent and "<IP_" in sent
    for value in PRIVATE:
        assert value not in sent, f"{value} reached the LLM"
    trace = agent.store.get_trace(answer["trace_id"])
    prompt_step = next(s for s in trace["steps"] if s["point"] == "prompt_assembly")
    # the trace shows exactly what was sent
    assert prompt_step["outputs"]["sent"]["messages"] == fake.requests[-1]["body"]["messages"][1:]
    assert prompt_step["outputs"]["sent"]["system"] == fake.requests[-1]["body"]["messages"][0]["content"]
    assert "<" not in answer["analysis"] and ("ZDH8QW3R" in answer["analysis"] or "WD-WCC7K4XJ1234" in answer["analysis"])


def test_redaction_can_be_switched_off(fake, agents):
    agent = agents(fake.provider(), redaction=False)
    ask(agent)
    assert "keller-nas" in fake.sent_text()


def test_keys_never_in_answer_trace_or_errors(fake, agents, tmp_path):
    key = "sk-secret-KEY-1234567890"
    key_file = tmp_path / "key"
    key_file.write_text("sk-file-KEY-0987654321\n")
    key_file.chmod(0o600)  # a key file others can read is refused (settings fences)
    fake.script({"status": 401}, {"status": 500}, {"answer": GOOD_ANSWER})
    agent = agents(fake.provider("a", api_key=key), fake.provider("b", kind="anthropic", api_key_file=str(key_file)),
                   fake.provider("c", api_key=key))
    answer = ask(agent)
    assert fake.requests[0]["headers"]["Authorization"] == f"Bearer {key}"
    assert fake.requests[1]["headers"]["x-api-key"] == "sk-file-KEY-0987654321"
    blob = json.dumps(answer) + json.dumps(agent.store.get_trace(answer["trace_id"]))
    assert key not in blob and "sk-file-KEY" not in blob
    assert answer["provider"] == "c"


def test_direct_mode_has_no_kb_and_no_state(fake, agents):
    fake.script({"text": "Plain answer about ZFS."})
    agent = agents(fake.provider())
    answer = ask(agent, query="What is ZFS?", mode="direct")
    assert answer["mode"] == "direct" and answer["matched_patterns"] == [] and answer["analysis"] == "Plain answer about ZFS."
    sent = fake.sent_text()
    assert "Current system state" not in sent and "Matched knowledge patterns" not in sent
    steps = {s["point"]: s for s in agent.store.get_trace(answer["trace_id"])["steps"]}
    assert steps["context_selection"]["skipped"] and steps["pattern_matching"]["skipped"]
    assert answer["notices"] == []


def test_direct_mode_without_provider_says_so(agents):
    answer = ask(agents(), query="What is ZFS?", mode="direct")
    assert answer["mode"] == "direct" and "needs an LLM provider" in answer["llm_error"]
    assert answer["analysis"].startswith("Direct Chat got no answer") and "needs an LLM provider" in answer["analysis"]


def test_conversation_follow_up_carries_history(fake, agents):
    agent = agents(fake.provider())
    first = ask(agent)
    ask(agent, query="and how do I replace it?", conversation_id=first["conversation_id"])
    messages = fake.requests[-1]["body"]["messages"]
    roles = [m["role"] for m in messages]
    assert roles == ["system", "user", "assistant", "user"]
    assert messages[2]["content"] == GOOD_ANSWER["analysis"]
    assert len(agent.store.turns(first["conversation_id"])) == 2


def test_nine_trace_points_in_order_with_durations(fake, agents):
    from omv_copilot_agent.assist.trace import POINTS

    agent = agents(fake.provider())
    answer = ask(agent)
    trace = agent.store.get_trace(answer["trace_id"])
    assert [s["point"] for s in trace["steps"]] == list(POINTS)
    for step in trace["steps"]:
        assert step["duration_ms"] >= 0 and step["started_at"] > 0 and "inputs" in step and "outputs" in step
    starts = [s["started_at"] for s in trace["steps"]]
    assert starts == sorted(starts)
    assert trace["context"] == "storage" and trace["provider"] == "fake"


# -- what a provider tells about its model: context window, tokens ---------------------------
@pytest.fixture
def forget():
    from omv_copilot_agent.assist import providers

    providers.forget_probes()
    yield
    providers.forget_probes()


def test_a_llama_server_gets_the_state_cut_to_its_window_in_its_tokens(agents, forget):
    llama = FakeLLM(llama_ctx=1024)
    try:
        agent = agents(llama.provider("local", max_tokens=256), state_budget_chars=100000)
        with_state(agent, realistic_sections())
        answer = ask(agent, "is the smb service running?")
        assert answer["mode"] == "llm"
        step = next(s for s in agent.store.get_trace(answer["trace_id"])["steps"] if s["point"] == "prompt_assembly")
        budget = step["outputs"]["state_budget"]
        assert budget["context_tokens"] == 1024 and budget["provider"] == "local" and 0 < budget["tokens"] < 1024
        sent = llama.requests[-1]["body"]["messages"]
        tokens = sum((len(m["content"]) + 3) // 4 for m in sent)
        assert tokens <= 1024 - 256  # room for the reply is kept
        assert step["outputs"]["state_sections"][0] == "services" and "services" in step["outputs"]["trimmed_sections"]
        assert llama.tokenized <= 8  # measured and rescaled, not tokenized row by row
    finally:
        llama.close()


def test_a_small_window_keeps_the_state_before_the_last_related_patterns(agents, forget):
    llama = FakeLLM(llama_ctx=1024)
    try:
        agent = agents(llama.provider("local", max_tokens=120), state_budget_chars=100000)
        with_state(agent, realistic_sections())
        answer = ask(agent, "my raid array md0 is degraded, what should I do?")  # five RAID patterns match
        steps = {s["point"]: s for s in agent.store.get_trace(answer["trace_id"])["steps"]}
        outputs = steps["prompt_assembly"]["outputs"]
        assert len(steps["pattern_matching"]["outputs"]["matched"]) == 5
        assert outputs["state_budget"]["tokens"] >= engine.STATE_MIN_TOKENS, outputs["state_budget"]
        assert outputs["state_budget"]["patterns_left_out"] >= 1 and outputs["state_sections"][0] == "storage"
        assert "mdadm-degraded" in outputs["sent"]["messages"][-1]["content"]  # the best match stays
    finally:
        llama.close()


def test_a_question_longer_than_the_window_is_refused_before_sending_and_falls_back(fake, agents, forget):
    llama = FakeLLM(llama_ctx=512)
    try:
        agent = agents(llama.provider("small"), fake.provider("big"))
        answer = ask(agent, "my disk is full " + "x" * 4000)
        assert answer["provider"] == "big" and not llama.requests  # never sent to the small model
        hops = agent.store.get_trace(answer["trace_id"])["hops"]
        assert hops[0]["result"] == "too_long" and "reads at most 512" in hops[0]["message"]
    finally:
        llama.close()


def test_the_servers_context_overflow_error_is_named(fake, agents, forget):
    fake.script({"status": 400, "error": {"code": 400, "type": "exceed_context_size_error", "n_prompt_tokens": 9000,
                                          "n_ctx": 4096, "message": "request exceeds the available context size"}})
    answer = ask(agents(fake.provider()))
    assert answer["mode"] == "kb_only"
    assert any("longer than the model's context window (9000 tokens, context 4096)" in n for n in answer["notices"])


def test_context_window_from_config_from_ollama_or_unknown(fake, forget):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from omv_copilot_agent.assist import providers

    assert providers.make(fake.provider(context_tokens=8192)).context_tokens() == 8192
    plain = providers.make(fake.provider())
    assert plain.context_tokens() is None and plain.count_tokens("hello") is None  # a cloud API: 404s

    class Ollama(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_error(404)

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            params = "num_ctx 16384\nstop <|eot|>" if body["model"] == "tuned" else "stop <|eot|>"
            data = json.dumps({"parameters": params, "model_info": {"llama.context_length": 131072}}).encode()
            self.send_response(200 if self.path == "/api/show" else 404)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Ollama)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = {"name": "o", "kind": "openai", "endpoint": f"http://127.0.0.1:{server.server_address[1]}/v1"}
        assert providers.make({**base, "model": "tuned"}).context_tokens() == 16384
        # Ollama serves its default window, not the trained 128k, unless the model sets num_ctx
        assert providers.make({**base, "model": "plain"}).context_tokens() == 4096
    finally:
        server.shutdown()
        server.server_close()
