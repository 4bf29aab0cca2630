import time

import pytest

from omv_copilot_agent import runner


@pytest.mark.parametrize("argv,reason", [
    (["rm", "-rf", "/"], "not on the allowlist"),
    (["bash", "-c", "id"], "not on the allowlist"),
    (["smartctl", "--json", "-a", "/dev/sda;", "rm"], "shell metacharacters"),
    (["smartctl", "--json", "-a", "$(id)"], "shell metacharacters"),
    (["systemctl", "restart", "smbd"], "argument shapes"),
    (["smartctl", "-t", "long", "/dev/sda"], "argument shapes"),
    (["smartctl", "--json", "-a", "/dev/sda", "--te=long"], "argument shapes"),
    (["journalctl", "--vacuum-t=1s"], "argument shapes"),
    (["omv-rpc", "-u", "admin", "System", "reboot"], "not a read method"),
    (["cat", "/etc/shadow"], "not on the allowlist"),
    (["apt-get", "install", "x"], "not on the allowlist"),
    (["./smartctl"], "relative path"),
    ([], "non-empty"),
])
def test_refused_commands_never_run(argv, reason):
    result = runner.run(argv)
    assert result.error and result.error.startswith("refused") and reason in result.error
    assert result.returncode is None


def test_runs_allowed_command(monkeypatch):
    monkeypatch.setitem(runner.ALLOWLIST, "uname", lambda args: None if args == ["-s"] else "only -s")
    result = runner.run(["uname", "-s"])
    assert result.ok and result.stdout.strip() == "Linux"


def test_missing_binary_is_reported(monkeypatch):
    monkeypatch.setitem(runner.ALLOWLIST, "definitely-not-here", lambda a: None)
    result = runner.run(["definitely-not-here"])
    assert result.error == "definitely-not-here is not installed"


def test_timeout_kills(monkeypatch):
    monkeypatch.setitem(runner.ALLOWLIST, "sleep", lambda a: None)
    start = time.monotonic()
    result = runner.run(["sleep", "30"], timeout=0.5)
    assert result.timed_out and "killed" in result.error
    assert time.monotonic() - start < 5


def test_output_is_capped(monkeypatch):
    monkeypatch.setitem(runner.ALLOWLIST, "cat", lambda args: None)
    result = runner.run(["cat", "/proc/self/status"], max_output=20)
    assert result.truncated and len(result.stdout) == 20


def test_commands_do_not_inherit_the_daemons_python_settings(monkeypatch, tmp_path):
    """The unit's PYTHONOPTIMIZE/PYTHONPYCACHEPREFIX stay in the daemon: a Python tool it runs keeps its
    asserts and docstrings and writes no bytecode into the daemon's cache."""
    monkeypatch.setenv("PYTHONOPTIMIZE", "2")
    monkeypatch.setenv("PYTHONPYCACHEPREFIX", str(tmp_path))
    monkeypatch.setitem(runner.ALLOWLIST, "python3", lambda args: None)
    script = tmp_path / "flags.py"
    script.write_text("import os, sys\nprint(sys.flags.optimize, sys.pycache_prefix, 'PYTHON' in ''.join(os.environ))\n")
    result = runner.run(["python3", str(script)])
    assert result.ok, result.error or result.stderr
    assert result.stdout.split() == ["0", "None", "False"]
