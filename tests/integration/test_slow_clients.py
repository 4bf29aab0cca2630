"""The local API keeps answering under 150 slow local clients (a header line every 10 s, never a
full request): /healthz and OMV's RPC bridge over TCP, the CLI over its root-only Unix socket.

Before: waitress' default connection_limit (100) was used up and every request timed out
(0 of 10 /healthz probes answered in 30 s). Measured numbers: docs/security.md.
"""

from __future__ import annotations

import json
import os
import stat
import threading
import time

import requests
import yaml

from tests.conftest import wait_for_first_cycle, free_port, run_cli, start_daemon, stop_daemon
from tests.slow_clients import hold_slow_connections, probe

QUIET = ["smart", "apt", "omv", "logs", "services", "network", "storage"]


def test_api_answers_under_150_slow_local_clients(tmp_path):
    port = free_port()
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data"), "api": {"listen": f"127.0.0.1:{port}",
                                                                                   "token_file": str(tmp_path / "token")},
                                      "collect": {"interval_s": 3600, "disabled_sources": QUIET}}))
    proc, url = start_daemon(config)
    stop = threading.Event()
    try:
        sock = tmp_path / "data" / "api.sock"
        assert stat.S_ISSOCK(os.stat(sock).st_mode) and stat.S_IMODE(os.stat(sock).st_mode) == 0o600
        headers = {"Authorization": "Bearer " + (tmp_path / "token").read_text().strip()}
        wait_for_first_cycle(url, headers)  # `status` answers "no collection yet" before the first cycle
        stats = hold_slow_connections("127.0.0.1", port, 150, 10, stop)
        assert stats["opened"] == 150
        cli = []

        def use_cli():  # the CLI, over the Unix socket, while the TCP port is under load
            r = run_cli("--config", str(config), "status", "--json", timeout=60)
            cli.append((r.returncode, json.loads(r.stdout).get("answered_by") if r.returncode == 0 else r.stderr))

        threading.Thread(target=use_cli).start()
        health = probe(lambda: requests.get(url + "/healthz", timeout=3).status_code == 200, 12)
        bridge = probe(lambda: requests.post(url + "/api/v1/rpc", json={"method": "getHealth"}, headers=headers,
                                             timeout=3).status_code == 200, 4)
        deadline = time.monotonic() + 60
        while not cli and time.monotonic() < deadline:
            time.sleep(0.2)
        assert health["answered"] == health["total"], health
        assert bridge["answered"] == bridge["total"], bridge
        assert cli == [(0, "daemon")], cli
        time.sleep(10)  # every slow connection is past its 10 s request deadline by the next header line
        assert stats["closed_by_server"] == 150, stats
    finally:
        stop.set()
        stop_daemon(proc)
    assert not (tmp_path / "data" / "api.sock").exists()  # removed at shutdown


def test_cli_uses_the_unix_socket_and_falls_back_to_tcp(live_server, tmp_path):
    from omv_copilot_agent.cli.client import UnixClient
    from omv_copilot_agent.daemon import build_server, _serve_forever

    server = live_server()
    path = str(tmp_path / "api.sock")
    local = build_server(server.app, "", 0, 2, unix_socket=path)
    threading.Thread(target=_serve_forever, args=(local,), daemon=True).start()
    try:
        client = UnixClient(path, server.token, timeout=10)
        assert client.get("/healthz")["status"] in ("ok", "degraded")
        assert client.post("/api/v1/rpc", {"method": "getHealth"}) is not None
        from omv_copilot_agent.cli import CliError

        try:
            UnixClient(path, "wrong-token", timeout=10).get("/api/v1/system/status")
            raise AssertionError("a wrong token was accepted on the Unix socket")
        except CliError as exc:
            assert "401" in str(exc) or "token" in str(exc).lower()
    finally:
        local.close()
