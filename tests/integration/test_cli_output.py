"""CLI output carries text from elsewhere (LLM answers, names, log lines): no terminal control sequence
may reach the terminal — OSC 52 would fill the clipboard, CSI could repaint or hide lines."""

from __future__ import annotations

import contextlib
import json

import pytest

from tests.conftest import run_cli
from tests.fake_llm import GOOD_ANSWER

OSC52 = "\x1b]52;c;cm0gLXJmIC9zcnYvKg==\x07"  # clipboard := "rm -rf /srv/*"
NASTY = [OSC52, "\x1b]52;c;cm0=\x1b\\", "\x1b[2J", "\x1b[1A\x1b[2K", "\x1b[31m", "\x9b2J", "\x9d0;title\x07", "\r",
         "\x08", "\x00", "\x7f", "\u202e", "\x1bc", "\x1bP1$r\x1b\\"]


@pytest.mark.parametrize("seq", NASTY, ids=[repr(s)[1:12] for s in NASTY])
def test_clean_removes_control_sequences_and_keeps_text(seq):
    from omv_copilot_agent.cli.output import clean

    out = clean(f"before {seq}after\tok\nnext ✓ grüße")
    assert out == "before after\tok\nnext ✓ grüße"
    assert not any(ord(c) < 32 and c not in "\t\n" or 0x7f <= ord(c) <= 0x9f for c in out)


def test_show_prints_json_with_json_and_the_rendering_without_it_and_returns_the_code(capsys):
    from types import SimpleNamespace

    from omv_copilot_agent.cli.output import show

    data = {"verdict": "wait", "n": 2}
    assert show(SimpleNamespace(json=True), data, lambda d: "never called", 1) == 1
    assert json.loads(capsys.readouterr().out) == data
    assert show(SimpleNamespace(json=False), data, lambda d: f"verdict {d['verdict']}") == 0
    assert capsys.readouterr().out == "verdict wait\n"


def test_ask_prints_no_escape_sequence_from_an_answer(make_config, fake_llm):
    answer = {**GOOD_ANSWER, "analysis": f"Array degraded.{OSC52}\x1b[2K\x1b[1AAll good!",
              "recommended_actions": [{"action": "Check\x1b[8m hidden\x1b[0m", "command": "cat /proc/mdstat\r rm -rf /",
                                       "risk": "low", "explanation": "\x9b31mred"}]}
    fake_llm.script({"answer": answer})
    quiet = ["smart", "omv", "logs", "apt", "services", "network", "storage"]
    _, path = make_config({"collect": {"disabled_sources": quiet}, "assist": {"providers": [fake_llm.provider()]}})
    r = run_cli("--config", str(path), "ask", "raid degraded?")
    assert r.returncode == 0, r.stderr
    for bad in ("\x1b", "\x9b", "\x07", "\r"):
        assert bad not in r.stdout and bad not in r.stderr, repr(bad)
    assert "Array degraded.All good!" in r.stdout and "cat /proc/mdstat rm -rf /" in r.stdout
    # --json keeps the data (escaped by JSON, not interpreted by the terminal)
    fake_llm.script({"answer": answer})
    r = run_cli("--config", str(path), "ask", "--json", "raid degraded?")
    assert "\x1b" not in r.stdout and json.loads(r.stdout)["analysis"].startswith("Array degraded.\x1b]52")


@contextlib.contextmanager
def _terminal(columns: int):
    """A pseudo-terminal's writing end, ``columns`` wide."""
    import fcntl
    import os
    import struct
    import termios

    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    try:
        with open(follower, "w") as stream:
            yield stream
    finally:
        os.close(leader)


def test_width_is_the_width_of_the_stream_s_own_terminal(monkeypatch):
    """One helper for the answer (stdout, 100 off a terminal) and the notices (stderr, 80): before,
    client.py measured stderr on its own and output.width measured only stdout."""
    import io

    from omv_copilot_agent.cli.output import width

    monkeypatch.delenv("COLUMNS", raising=False)
    with _terminal(72) as tty, _terminal(130) as wide:
        assert width(tty, 80) == 72 and width(wide, 100) == 130
        assert width(io.StringIO(), 80) == 80 and width(io.StringIO(), 100) == 100  # a pipe, a file, a test's stream
        monkeypatch.setattr("sys.stdout", wide)
        assert width() == 130  # stdout by default
        with _terminal(30) as narrow:
            assert width(narrow, 80) == 60  # never under 60
        monkeypatch.setenv("COLUMNS", "64")
        assert width(tty, 80) == 64 and width(io.StringIO(), 100) == 64  # COLUMNS wins, for every stream
        monkeypatch.setenv("COLUMNS", "junk")
        assert width(tty, 80) == 72
