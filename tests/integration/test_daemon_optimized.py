"""The daemon started exactly with the systemd unit's Environment= (PYTHONOPTIMIZE=2, PYTHONPYCACHEPREFIX
under systemd's %C): it serves what it serves without -OO, compiles its bytecode once into the cache
directory, and writes nothing there at the next start."""

from __future__ import annotations

import os
import time
from pathlib import Path

import requests

from bench._common import unit_environment
from tests.conftest import start_daemon, stop_daemon, wait_for_first_cycle

QUIET = {"interval_s": 3600, "disabled_sources": ["smart", "logs", "apt"]}


def _cache_state(prefix: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(prefix)): (p.stat().st_mtime_ns, p.stat().st_size) for p in prefix.rglob("*") if p.is_file()}


def _exercise(url: str, headers: dict) -> dict:
    """What a day at idle asks and a few rare operations (lazily imported): the answers that carry text."""
    wait_for_first_cycle(url, headers)
    got = {}
    for path in ("/api/v1/system/status", "/metrics", "/api/v1/openapi.json", "/api/v1/knowledge/patterns",
                 "/api/v1/knowledge/search?q=raid+degraded", "/api/v1/history/timeline", "/api/v1/settings", "/api/v1/health"):
        r = requests.get(url + path, headers=headers, timeout=60)
        assert r.status_code == 200, (path, r.status_code, r.text[:500])
        got[path] = r
    asked = requests.post(url + "/api/v1/assist/query", json={"query": "raid degraded, disk failed"}, headers=headers, timeout=120)
    assert asked.status_code == 200, asked.text[:500]
    got["answer"] = asked.json()
    return got


def test_daemon_with_the_units_environment(make_config, tmp_path):
    from omv_copilot_agent.api.openapi import document

    _, path = make_config({"omv_rpc": {"command": "/nonexistent/omv-rpc"}, "collect": QUIET})
    env = unit_environment(cache_root=tmp_path / "cache")  # a cold cache: this is the first start on a box
    prefix = Path(env["PYTHONPYCACHEPREFIX"])
    assert env["PYTHONOPTIMIZE"] == "2" and prefix == tmp_path / "cache" / "omv-copilot"

    proc, url = start_daemon(path, env=env)
    try:
        environ = Path(f"/proc/{proc.pid}/environ").read_bytes().split(b"\0")
        assert b"PYTHONOPTIMIZE=2" in environ and b"PYTHONDONTWRITEBYTECODE=1" not in environ
        headers = {"Authorization": "Bearer " + (tmp_path / "token").read_text().strip()}
        first = _exercise(url, headers)
    finally:
        stop_daemon(proc)
    assert proc.returncode == 0, proc.stderr.read().decode()[-2000:]

    # What the API serves is built from the operations table and files, not from docstrings.
    assert first["/api/v1/openapi.json"].json() == document()
    assert first["answer"]["mode"] == "kb_only" and first["answer"]["matched_patterns"]
    assert "# HELP" in first["/metrics"].text
    # The optimized bytecode of the stdlib, the libraries and the agent is in the cache directory.
    cached = _cache_state(prefix)
    assert cached and all(name.endswith(".opt-2.pyc") for name in cached)
    for module in ("flask/app.", "werkzeug/routing/map.", "omv_copilot_agent/daemon/__init__.", "json/decoder.",
                   "jsonschema/validators."):  # jsonschema: only the start-up child imports it
        assert any(module in name for name in cached), module

    # The second start reads the cache and writes nothing to it.
    time.sleep(0.05)
    proc, url = start_daemon(path, env=env)
    try:
        _exercise(url, headers)
    finally:
        stop_daemon(proc)
    assert proc.returncode == 0, proc.stderr.read().decode()[-2000:]
    assert _cache_state(prefix) == cached
    assert os.listdir(prefix)
