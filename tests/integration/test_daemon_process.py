"""`python3 -m omv_copilot_agent daemon` as a real process: API, token, SIGTERM, data left in SQLite."""

from __future__ import annotations

import signal
import sqlite3
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import ROOT, start_daemon

FAKE = ROOT / "tests" / "fakes" / "omv-rpc"


def _wait_for(fn, timeout: float = 60.0, what: str = "condition"):
    """Poll ``fn`` until it returns something truthy (generous deadline, no timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} not reached within {timeout:g} s"
        time.sleep(0.1)


def _status(url: str, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(url + "/api/v1/system/status", headers=headers, timeout=30)


def _stop(proc, timeout: float = 60.0) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=timeout)
    except Exception:
        proc.kill()
        proc.communicate()
        raise AssertionError(f"daemon did not exit within {timeout:g} s of SIGTERM")
    return proc.returncode, err.decode(errors="replace")


def _own_tracebacks(err: str) -> list[str]:
    """Traceback frames in this project's code. (waitress may log EBADF for a connection still open
    when SIGTERM closes its sockets; that is the server library's shutdown noise, not a crash.)"""
    return [line for line in err.splitlines() if 'File "' in line and "omv_copilot_agent" in line]


def _fake_omv(tmp_path: Path, *modes: str) -> str:
    folder = tmp_path / "fakeomv"
    folder.mkdir()
    (folder / "omv-rpc").symlink_to(FAKE)
    if modes:
        (folder / "fake-mode").write_text("\n".join(modes))
    return str(folder / "omv-rpc")


def _processes_running(path_part: str) -> list[int]:
    import psutil

    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            if any(path_part in arg for arg in proc.info["cmdline"] or []):
                found.append(proc.info["pid"])
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def test_daemon_serves_status_with_token_and_stops_cleanly(make_config, tmp_path):
    _, path = make_config({"omv_rpc": {"command": "/nonexistent/omv-rpc"},
                           "collect": {"disabled_sources": ["smart", "logs"]}})
    proc, url = start_daemon(path)
    try:
        token = _wait_for(lambda: (tmp_path / "token").exists() and (tmp_path / "token").read_text().strip(),
                          what="token file written")
        assert (tmp_path / "token").stat().st_mode & 0o007 == 0  # not world-readable
        response = _wait_for(lambda: (r := _status(url, token)).status_code == 200 and r, what="first snapshot")
        body = response.json()
        sources = body["sources"]
        assert sources["system"]["status"] == "ok" and sources["system"]["data"]["hostname"]
        assert sources["omv"]["status"] == "unavailable"
        assert sources["omv"]["reason"] == "omv-rpc not found (not an OpenMediaVault box)"
        assert all(s["duration_s"] >= 0 for s in sources.values())
        assert body["snapshot"]["age_s"] >= 0 and body["agent"]["cycles"] >= 1
        for bad in (None, "wrong-token"):
            r = _status(url, bad)
            assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
        assert requests.get(url + "/healthz", timeout=30).json()["status"] == "ok"
        taken_at = body["snapshot"]["taken_at"]
    finally:
        rc, err = _stop(proc)
    assert rc == 0, err[-2000:]
    assert "API listening on http://127.0.0.1:" in err and "shutting down" in err
    assert not _own_tracebacks(err), err[-3000:]
    db = sqlite3.connect(tmp_path / "data" / "copilot.db")
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT COUNT(*) FROM snapshots WHERE taken_at = ?", (taken_at,)).fetchone()[0] == 1
        assert db.execute("SELECT COUNT(*) FROM metrics_raw r JOIN metric_series s ON s.id = r.series WHERE s.name = 'mem.percent'").fetchone()[0] >= 1
    finally:
        db.close()


def test_sigterm_during_a_hung_cycle_exits_zero_and_kills_the_rpc(make_config, tmp_path):
    """omv-rpc hangs (fake sleeps 30 s per call, 120 s timeout, 300 s source timeout): SIGTERM still ends it."""
    fake = _fake_omv(tmp_path, "slow")
    _, path = make_config({"omv_rpc": {"command": fake, "timeout_s": 120, "config_xml": str(tmp_path / "c.xml")},
                           "collect": {"source_timeout_s": 300, "disabled_sources": ["smart", "logs", "apt", "storage"]}})
    proc, url = start_daemon(path)
    try:
        _wait_for(lambda: _processes_running(str(tmp_path / "fakeomv")), what="the fake omv-rpc to be running")
        token = (tmp_path / "token").read_text().strip()
        r = _status(url, token)
        assert r.status_code == 503 and r.json()["error"]["code"] == "no_snapshot"
    finally:
        rc, err = _stop(proc)
    assert rc == 0, err[-2000:]
    assert not _own_tracebacks(err), err[-3000:]
    _wait_for(lambda: not _processes_running(str(tmp_path / "fakeomv")), what="the fake omv-rpc to be killed")
    db = sqlite3.connect(tmp_path / "data" / "copilot.db")
    try:
        assert db.execute("SELECT COUNT(*) FROM snapshots").fetchone()[0] == 0, "an interrupted cycle is not stored"
    finally:
        db.close()


def test_env_override_moves_the_listen_port(make_config, monkeypatch):
    from tests.conftest import free_port

    _, path = make_config({"omv_rpc": {"command": "/nonexistent/omv-rpc"},
                           "collect": {"disabled_sources": ["smart", "logs", "storage", "apt"]}})
    port = free_port()
    monkeypatch.setenv("OMV_COPILOT_API__LISTEN", f"127.0.0.1:{port}")
    proc, url = start_daemon(path)
    try:
        assert url == f"http://127.0.0.1:{port}"
        assert requests.get(url + "/healthz", timeout=30).status_code == 200
    finally:
        rc, err = _stop(proc)
    assert rc == 0, err[-2000:]


@pytest.mark.parametrize("overrides,message", [
    ({"api": {"listen": "192.0.2.10:8888"}}, "api.listen: 192.0.2.10 is not a loopback address"),
    ({"collect": {"interval_s": "soon"}}, "collect.interval_s: must be of type integer"),
])
def test_daemon_refuses_bad_config_in_one_line(tmp_path, overrides, message):
    import yaml

    from tests.conftest import run_cli

    data = {"data_dir": str(tmp_path / "data"), "api": {"token_file": str(tmp_path / "token")}}
    for key, value in overrides.items():
        data.setdefault(key, {}).update(value)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data))
    result = run_cli("--config", str(path), "daemon", timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


@pytest.mark.parametrize("where,message", [
    ("token_file", "api.token_file: cannot read or create"),
    ("data_dir", "data_dir: cannot create data directory"),
])
def test_unusable_token_file_or_data_dir_is_one_line(make_config, tmp_path, where, message):
    from tests.conftest import run_cli

    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    over = {"api": {"token_file": str(blocker / "token")}} if where == "token_file" else {"data_dir": str(blocker / "data")}
    _, path = make_config(over)
    result = run_cli("--config", str(path), "daemon", timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Not a directory" in lines[0], result.stderr


def test_busy_port_is_one_line(make_config):
    import socket

    from tests.conftest import run_cli

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        _, path = make_config({"api": {"listen": f"127.0.0.1:{port}"}})
        result = run_cli("--config", str(path), "daemon", timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    errors = [l for l in result.stderr.strip().splitlines() if " INFO " not in l]  # the daemon logs its start first
    assert len(errors) == 1 and errors[0].startswith(f"omv-copilot: config error: api.listen: cannot bind 127.0.0.1:{port}"), result.stderr
