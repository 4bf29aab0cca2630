"""The CLI's output helpers (cli/output.py) that every command's answer passes through."""

from __future__ import annotations

import json
from types import SimpleNamespace

from omv_copilot_agent.cli.output import show


def test_show_prints_json_with_json_and_the_rendering_without_it_and_returns_the_code(capsys):
    data = {"verdict": "wait", "n": 2}
    assert show(SimpleNamespace(json=True), data, lambda d: "never called", 1) == 1
    assert json.loads(capsys.readouterr().out) == data
    assert show(SimpleNamespace(json=False), data, lambda d: f"verdict {d['verdict']}") == 0
    assert capsys.readouterr().out == "verdict wait\n"
