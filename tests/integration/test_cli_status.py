"""`omv-copilot status` as a real subprocess: via the daemon, in-process fallback, --json, errors, exit codes."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli, start_daemon

FAKE = ROOT / "tests" / "fakes" / "omv-rpc"
QUICK = {"disabled_sources": ["smart", "logs", "apt"]}


def _fake_omv(tmp_path: Path) -> str:
    folder = tmp_path / "fakeomv"
    folder.mkdir(exist_ok=True)
    link = folder / "omv-rpc"
    if not link.exists():
        link.symlink_to(FAKE)
    return str(link)


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def test_status_through_the_running_daemon(make_config, tmp_path):
    _, path = make_config({"omv_rpc": {"command": _fake_omv(tmp_path), "config_xml": str(tmp_path / "c.xml")},
                           "collect": QUICK})
    proc, _url = start_daemon(path)
    try:
        import time

        deadline = time.monotonic() + 60
        while True:  # the daemon answers /healthz before its first cycle has finished
            result = run_cli("--config", str(path), "status", "--json")
            if result.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert result.returncode == 0, result.stderr
        status = json.loads(result.stdout)
        assert status["answered_by"] == "daemon" and status["agent"]["cycles"] >= 1
        assert status["sources"]["omv"]["data"]["version"] == "7.4.17-1 (Sandworm)"
        text = run_cli("--config", str(path), "status")
        assert text.returncode == 0, text.stderr
        first = text.stdout.splitlines()[0]
        assert " — daemon, snapshot " in first and "collected now" not in first
        for heading in ("Findings", "Sources", "Services", "Filesystems", "Disks"):
            assert f"\n{heading}\n" in text.stdout
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    assert proc.returncode == 0


def test_status_in_process_when_no_daemon_answers(make_config, tmp_path):
    _, path = make_config({"omv_rpc": {"command": _fake_omv(tmp_path), "config_xml": str(tmp_path / "c.xml")},
                           "collect": QUICK})
    (tmp_path / "token").write_text("some-token\n")  # a token but no daemon: still falls back
    result = run_cli("--config", str(path), "status")
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    port = __import__("yaml").safe_load(path.read_text())["api"]["listen"].rsplit(":", 1)[1]
    assert f"collected now, not by the daemon (the daemon does not answer on 127.0.0.1:{port})" in first
    for heading in ("Findings", "Sources", "Services", "Filesystems", "Disks"):
        assert f"\n{heading}\n" in result.stdout
    sources = result.stdout.split("\nSources\n", 1)[1].split("\n\n", 1)[0]
    assert any(line.split()[:2] == ["omv", "ok"] for line in sources.splitlines())
    as_json = run_cli("--config", str(path), "status", "--json")
    assert as_json.returncode == 0, as_json.stderr
    status = json.loads(as_json.stdout)
    assert status["answered_by"] == "in-process" and "does not answer" in status["answered_by_reason"]
    assert set(status["sources"]) == {"system", "storage", "services", "omv", "omv_files", "omv_jobs", "network"}
    for source in status["sources"].values():
        assert source["status"] in ("ok", "degraded", "unavailable") and source["duration_s"] >= 0
        assert (source["reason"] is None) == (source["status"] == "ok")
    assert status["sources"]["omv"]["status"] == "ok"


def test_status_in_process_only_looks(make_config, tmp_path):
    """Without the daemon, `status` collects but changes nothing: no data dir is created, no snapshot
    or alert is stored in the daemon's database (so no alert mail goes out from a shell command)."""
    from omv_copilot_agent.store import Store

    absent = tmp_path / "no-daemon-here"
    _, path = make_config({"data_dir": str(absent), "collect": QUICK,
                           "alerts": {"disk_usage_warning_percent": 1, "memory_warning_percent": 1}})
    result = run_cli("--config", str(path), "status", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["answered_by"] == "in-process" and not absent.exists()
    # the thresholds (written under their old alerts.* keys) apply in-process too
    assert "memory-high" in {f["id"] for f in json.loads(result.stdout)["summary"]["findings"]}
    absent.mkdir()
    store = Store(absent)
    store.close()
    result = run_cli("--config", str(path), "status", "--json")
    assert result.returncode == 0, result.stderr
    store = Store(absent)
    try:
        assert store.snapshot_count() == 0 and store.list_alerts()[0] == 0
    finally:
        store.close()
    # ...while what the admin asks to write does go to the daemon's database.
    noted = run_cli("--config", str(path), "history", "note", "checked the cables")
    assert noted.returncode == 0, noted.stderr
    store = Store(absent)
    try:
        assert [n["text"] for n in store.list_notes()[1]] == ["checked the cables"]
    finally:
        store.close()


def test_status_says_why_when_the_token_cannot_be_read(make_config, tmp_path):
    _, path = make_config({"omv_rpc": {"command": "/nonexistent/omv-rpc"}, "collect": QUICK})
    proc, _url = start_daemon(path)
    try:
        (tmp_path / "token").unlink()  # the daemon runs, but this user cannot authenticate
        result = run_cli("--config", str(path), "status")
        assert result.returncode == 0, result.stderr
        first = result.stdout.splitlines()[0]
        assert f"collected now, not by the daemon (cannot read the token file {tmp_path / 'token'}" in first
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)


def test_status_config_from_environment(make_config, tmp_path):
    _, path = make_config({"omv_rpc": {"command": "/nonexistent/omv-rpc"}, "collect": QUICK})
    result = run_cli("status", "--json", env={"OMV_COPILOT_CONFIG": str(path)})
    assert result.returncode == 0, result.stderr
    omv = json.loads(result.stdout)["sources"]["omv"]
    assert omv["status"] == "unavailable" and omv["reason"] == "omv-rpc not found (not an OpenMediaVault box)"


@pytest.mark.parametrize("text,message", [
    (None, "config file does not exist"),
    ("collect:\n  interval_s: 'soon'\n", "collect.interval_s: must be of type integer"),
    ("api:\n  listen: [1, 2]\n", "api.listen: must be of type string"),
    ("omv_rpc:\n  comand: x\n", "omv_rpc.comand: unknown key"),
    ("collect: {source_timeout_s: 0}\n", "collect.source_timeout_s: 0 is out of range"),
    ("api: [\n", "not valid YAML"),
])
def test_bad_config_one_line_exit_2(tmp_path, text, message):
    path = tmp_path / "c.yaml"
    if text is not None:
        path.write_text(text)
    result = run_cli("--config", str(path), "status")
    assert result.returncode == 2
    line = _one_line(result.stderr)
    assert line.startswith("omv-copilot: config error: ") and message in line, line
    assert result.stdout == ""


def test_bad_env_override_names_the_key(make_config):
    _, path = make_config()
    result = run_cli("--config", str(path), "status", env={"OMV_COPILOT_COLLECT__INTERVAL_S": "often"})
    assert result.returncode == 2
    assert "collect.interval_s: must be of type integer" in _one_line(result.stderr)


def test_daemon_refusing_the_token_is_exit_1_one_line(make_config, tmp_path):
    _, path = make_config({"omv_rpc": {"command": "/nonexistent/omv-rpc"}, "collect": QUICK})
    proc, _url = start_daemon(path)
    try:
        (tmp_path / "token").write_text("not-the-daemons-token\n")
        result = run_cli("--config", str(path), "status")
        assert result.returncode == 1
        assert "invalid token" in _one_line(result.stderr)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)


def test_no_command_prints_help_exit_2():
    result = run_cli()
    assert result.returncode == 2 and "status" in result.stdout
    bad = run_cli("status", "--nope")
    assert bad.returncode == 2 and "--nope" in bad.stderr


def test_make_writes_a_valid_dev_config(tmp_path):
    """`make run`'s first step: the git-ignored dev config (data, token and port under .dev/) loads cleanly."""
    import shutil
    import subprocess

    from omv_copilot_agent import config as config_mod

    if not shutil.which("make"):
        pytest.skip("make is not installed")
    result = subprocess.run(["make", "-s", "-f", str(ROOT / "Makefile"), "-C", str(tmp_path), ".dev/config.yaml"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    config = config_mod.load(str(tmp_path / ".dev" / "config.yaml"), environ={})
    assert config["api"]["listen"] == "127.0.0.1:8888" and config["collect"]["interval_s"] == 30
    assert config.data_dir == tmp_path / ".dev" / "data" and config.token_file == tmp_path / ".dev" / "api-token"
    assert (tmp_path / ".dev" / "data").is_dir()
