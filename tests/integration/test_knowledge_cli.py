"""`omv-copilot patterns [list|show|search]` and `omv-copilot diagnose` as real subprocesses.

In-process (no daemon) and through a real daemon process: the same answers either way.
"""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from tests.conftest import ROOT, free_port, run_cli, start_daemon

QUIET_SOURCES = ["system", "smart", "omv", "logs", "apt", "services", "storage", "network"]


@pytest.fixture
def cli_config(tmp_path):
    """A config whose patterns are the shipped ones plus a deterministic test pattern."""
    patterns = tmp_path / "patterns"
    shutil.copytree(ROOT / "patterns", patterns)
    (patterns / "services--test-uname.yaml").write_text(yaml.safe_dump({
        "pattern_id": "test-uname", "title": "Kernel name check for the CLI test", "category": "services",
        "symptoms": ["cli test"],
        "diagnostics": [{"name": "kernel is Linux", "probe": "kernel-name", "expected_output": "^Linux"},
                        {"name": "host lookup", "probe": "resolve-host", "params": {"host": "{host}"}}],
        "solutions": [{"priority": 1, "action": "nothing to do", "command": "systemctl restart smbd",
                       "explanation": "shown only", "risk": "restarts-service"}],
        "references": ["https://docs.openmediavault.org/"], "confidence": 0.5}))
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({
        "data_dir": str(tmp_path / "data"),
        "api": {"listen": f"127.0.0.1:{free_port()}", "token_file": str(tmp_path / "token")},
        "collect": {"interval_s": 3600, "disabled_sources": QUIET_SOURCES},
        "knowledge": {"patterns_dir": str(patterns)}}))
    return path


def cli(config, *args, code=0):
    result = run_cli("--config", str(config), *args)
    assert result.returncode == code, (result.returncode, result.stdout[-2000:], result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    return result


def test_patterns_list_table_category_and_json(cli_config):
    out = cli(cli_config, "patterns").stdout
    assert "mdadm-degraded" in out and f"{len(list((ROOT / 'patterns').glob('*.yaml'))) + 1} patterns" in out  # + the fixture's pattern
    out = cli(cli_config, "patterns", "list", "--category", "backup").stdout
    assert "rsync-job-fails" in out and "mdadm-degraded" not in out and "in backup" in out
    data = json.loads(cli(cli_config, "patterns", "list", "--category", "hardware", "--json").stdout)
    assert data["total"] >= 5 and {p["category"] for p in data["data"]} == {"hardware"}


def test_patterns_show_text_and_json(cli_config):
    out = cli(cli_config, "patterns", "show", "smart-reallocated-sectors").stdout
    assert "Disk has reallocated sectors" in out
    assert "omv-copilot diagnose smart-reallocated-sectors --param device=" in out
    assert "[data-risk] Replace the disk" in out and "never run" in out
    data = json.loads(cli(cli_config, "patterns", "show", "webui-502-bad-gateway", "--json").stdout)
    assert data["pattern_id"] == "webui-502-bad-gateway" and data["solutions"]


def test_patterns_search_text_and_json(cli_config):
    out = cli(cli_config, "patterns", "search", "smb", "share", "asks", "for", "password", "again").stdout
    first = out.splitlines()[2]
    assert "smb-windows-credentials" in first
    assert "smb-windows-credentials: words: " in out
    data = json.loads(cli(cli_config, "patterns", "search", "web ui 502 bad gateway", "--json", "--limit", "3").stdout)
    assert data["results"][0]["pattern_id"] == "webui-502-bad-gateway" and len(data["results"]) <= 3
    assert "no pattern matches" in cli(cli_config, "patterns", "search", "qwertzuiop").stdout


@pytest.mark.parametrize("args,message", [
    (("patterns", "show", "no-such-pattern"), "no pattern 'no-such-pattern'"),
    (("patterns", "show", "BAD ID"), "pattern_id"),
    (("patterns", "search", "smb", "--limit", "0"), "--limit"),
    (("diagnose", "test-uname", "--param", "host"), "NAME=VALUE"),
    (("diagnose", "test-uname", "--param", "host=nas;reboot"), "params.host"),
    (("diagnose", "no-such-pattern"), "no pattern"),
])
def test_bad_input_is_one_line_exit_2(cli_config, args, message):
    result = cli(cli_config, *args, code=2)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_bad_category_is_an_argparse_error(cli_config):
    result = cli(cli_config, "patterns", "list", "--category", "plumbing", code=2)
    assert "invalid choice" in result.stderr


def test_diagnose_prints_pass_fail_per_step(cli_config):
    result = cli(cli_config, "diagnose", "test-uname", "--param", "host=localhost")
    out = result.stdout
    assert "[1/2] kernel is Linux … PASS" in out and "$ uname -s" in out
    assert "[2/2] host lookup … DONE" in out and "$ getent hosts localhost" in out
    assert "2/2 steps ok" in out and "answered by in-process" in out


def test_diagnose_missing_param_is_refused_not_run_and_exit_1(cli_config):
    result = cli(cli_config, "diagnose", "test-uname", code=1)
    assert "will be refused" in result.stdout
    assert "[2/2] host lookup … COULD NOT RUN (needs parameter)" in result.stdout
    assert "→ needs parameter host: fill it in and run again" in result.stdout and "needs parameter 'host'" in result.stdout
    assert "1/2 steps ok, 1 could not run" in result.stdout


def test_diagnose_json(cli_config):
    result = cli(cli_config, "diagnose", "test-uname", "--param", "host=localhost", "--json")
    data = json.loads(result.stdout)
    assert data["passed"] == 1 and data["failed"] == 0 and len(data["results"]) == 2
    assert data["results"][0]["matched_expected"] is True
    assert "[1/2]" in result.stderr  # progress goes to stderr so stdout stays JSON


def test_through_a_running_daemon(cli_config):
    proc, _ = start_daemon(cli_config)
    try:
        out = cli(cli_config, "diagnose", "test-uname", "--param", "host=localhost").stdout
        assert "answered by daemon" in out and "PASS" in out
        data = json.loads(cli(cli_config, "patterns", "search", "raid degraded", "--json").stdout)
        assert data["results"][0]["pattern_id"] == "mdadm-degraded"
        assert "test-uname" in cli(cli_config, "patterns", "list", "--category", "services").stdout
    finally:
        proc.terminate()
        proc.wait(timeout=30)
