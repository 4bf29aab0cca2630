"""Readings in the answer (assist/readings.py, docs/assist.md "Readings"): over the real API on a loopback server
with the assist fixture snapshot, and in ``omv-copilot ask`` as a real process reading this machine."""

from __future__ import annotations

import json

from tests.conftest import run_cli
from tests.fake_llm import GOOD_ANSWER

GIB = 1024 ** 3


def _with_root(server):
    server.agent.snapshot.data("storage")["filesystems"].insert(0, {
        "device": "/dev/sda1", "mountpoint": "/", "fstype": "ext4", "label": "", "total": int(5.8 * GIB),
        "used": int(4.1 * GIB), "free": int(1.7 * GIB), "percent": 71.0, "readonly": False, "mounted": True})
    return server


def test_the_api_answer_carries_the_readings_the_question_asks_for(assist_server, fake_llm):
    server = _with_root(assist_server())
    a = server.post("/api/v1/assist/query", json={"query": "how full is my root file system right now"}).json()
    assert a["mode"] == "kb_only"
    (row,) = a["readings"]
    assert row["kind"] == "filesystem" and row["subject"] == "/" and row["held"] is True
    assert row["text"].startswith("/ (the OS drive, /dev/sda1): 71 % used, 4.1 of 5.8 GiB, 1.7 GiB free, read ")
    assert row["read_at"] == 1764800000.0 and row["age_s"] > 0
    # an off-topic question shows no disk usage, and a problem keeps its patterns' advice below the reading
    assert server.post("/api/v1/assist/query", json={"query": "how full is my fridge"}).json()["readings"] == []
    a = server.post("/api/v1/assist/query", json={"query": "my raid is degraded, what do I do"}).json()
    assert [r["subject"] for r in a["readings"]] == ["md0"] and a["matched_patterns"][0]["pattern_id"] == "mdadm-degraded"
    # an LLM answer carries the same readings; Direct Chat reads no state
    fake_llm.script({"answer": GOOD_ANSWER}, {"answer": GOOD_ANSWER})
    server = _with_root(assist_server([fake_llm.provider("glm")]))
    a = server.post("/api/v1/assist/query", json={"query": "how hot are my disks"}).json()
    assert a["mode"] == "llm" and [r["subject"] for r in a["readings"]] == ["sdb", "sda"]
    assert server.post("/api/v1/assist/query", json={"query": "how hot are my disks", "direct": True}).json()["readings"] == []


def test_omv_copilot_ask_prints_the_readings_first(make_config):
    _, path = make_config({"collect": {"disabled_sources": ["smart", "omv", "logs", "apt", "services", "network", "storage"]}})
    r = run_cli("--config", str(path), "ask", "how long has it been up")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    head = lines.index("Readings (this box's latest snapshot)")
    assert lines[head + 1].startswith("  - Uptime: up ") and ", read " in lines[head + 1]
    assert head < lines.index("Analysis")
    r = run_cli("--config", str(path), "ask", "--json", "how much ram is used")
    assert [row["subject"] for row in json.loads(r.stdout)["readings"]][:1] == ["ram"]
    r = run_cli("--config", str(path), "ask", "how full is my fridge")
    assert r.returncode == 0 and "Readings" not in r.stdout
