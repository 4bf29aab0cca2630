"""``omv-copilot ask`` / ``query`` as a real subprocess: in-process (no daemon) and through a real daemon."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli, start_daemon
from tests.fake_llm import GOOD_ANSWER, FakeLLM

QUIET = {"disabled_sources": ["smart", "omv", "logs", "apt", "services", "network", "storage"]}


@pytest.fixture
def cli_config(make_config):
    def _make(**assist):
        _, path = make_config({"collect": QUIET, "assist": assist})
        return path
    return _make


def test_ask_in_process_kb_only_readable(cli_config):
    path = cli_config()
    r = run_cli("--config", str(path), "ask", "my raid array is degraded")
    assert r.returncode == 0, r.stderr
    for section in ("knowledge base only", "Analysis", "Possible causes", "Diagnostics", "Matched patterns",
                    "Follow-up questions", "trace "):
        assert section in r.stdout, section
    assert "mdadm-degraded" in r.stdout and "Traceback" not in r.stderr


def test_query_alias_json_kb_only_and_context(cli_config):
    path = cli_config()
    r = run_cli("--config", str(path), "query", "--json", "--kb-only", "--context", "security", "smb", "is", "slow")
    assert r.returncode == 0, r.stderr
    answer = json.loads(r.stdout)
    assert answer["mode"] == "kb_only" and answer["context"] == "security" and answer["query"] == "smb is slow"


def test_kb_only_context_follows_the_confident_pattern_not_the_words(cli_config):
    # "gateway" is a network trigger word; a 502 from the web UI is a service problem
    path = cli_config()
    r = run_cli("--config", str(path), "query", "--json", "--kb-only", "web ui shows 502 bad gateway after update")
    assert r.returncode == 0, r.stderr
    answer = json.loads(r.stdout)
    assert answer["matched_patterns"][0]["category"] == "services"
    assert answer["context"] == "service"
    # an explicit --context still wins
    r = run_cli("--config", str(path), "query", "--json", "--kb-only", "--context", "network",
                "web ui shows 502 bad gateway after update")
    assert json.loads(r.stdout)["context"] == "network"


def test_ask_direct_through_a_fake_llm(cli_config):
    fake = FakeLLM().script({"text": "ZFS is a filesystem and volume manager."})
    try:
        path = cli_config(providers=[fake.provider("glm")])
        r = run_cli("--config", str(path), "ask", "--direct", "--json", "What is ZFS?")
        assert r.returncode == 0, r.stderr
        answer = json.loads(r.stdout)
        assert answer["mode"] == "direct" and answer["provider"] == "glm"
        assert answer["analysis"] == "ZFS is a filesystem and volume manager."
    finally:
        fake.close()


@pytest.mark.parametrize("args,needle", [
    (["ask"], "question"),
    (["ask", "--context", "weather", "q"], "--context"),
    (["ask", "--direct", "--kb-only", "q"], "not allowed"),
    (["ask", "   "], "empty"),
])
def test_ask_bad_usage_is_one_line(cli_config, args, needle):
    r = run_cli("--config", str(cli_config()), *args)
    assert r.returncode == 2 and needle in r.stderr and "Traceback" not in r.stderr


def test_ask_through_the_daemon(make_config, tmp_path):
    fake = FakeLLM().script({"answer": GOOD_ANSWER})
    try:
        _, path = make_config({"collect": QUIET, "assist": {"providers": [fake.provider("glm")]}})
        proc, url = start_daemon(path)
        try:
            r = run_cli("--config", str(path), "ask", "--json", "raid degraded")
            assert r.returncode == 0, r.stderr
            answer = json.loads(r.stdout)
            assert answer["provider"] == "glm" and answer["analysis"] == GOOD_ANSWER["analysis"]
            import requests

            token = (tmp_path / "token").read_text().strip()
            got = requests.get(f"{url}/api/v1/traces/{answer['trace_id']}", timeout=30,
                               headers={"Authorization": f"Bearer {token}"})
            assert got.status_code == 200  # the daemon answered, not an in-process agent
            r2 = run_cli("--config", str(path), "ask", "--conversation", answer["conversation_id"], "and now?")
            assert r2.returncode == 0 and answer["conversation_id"] in r2.stdout
            assert "LLM glm" in r2.stdout
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    finally:
        fake.close()
