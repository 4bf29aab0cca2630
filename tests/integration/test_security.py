"""Security properties of the API, each checked against a real server or the real daemon process.

- the daemon refuses a non-loopback bind unless ``api.allow_remote`` is set;
- foreign Host headers (DNS rebinding) are refused, configured extra names accepted;
- no CORS header is ever sent, so a web page elsewhere cannot read answers;
- the token is compared in constant time (checked in the code: ``hmac.compare_digest``
  and no ``==`` against it anywhere in the API package);
- no secret (API token, LLM keys) shows in the log, any GET answer, or an error body.
"""

from __future__ import annotations

import ast
import json
import os
import re
import signal
import stat
import subprocess

import pytest
import requests
import yaml

from bench._common import daemon_environment
from tests.conftest import ROOT, free_port, run_cli, start_daemon
from tests.integration.test_bad_input import fill, raw, routes

API_DIR = ROOT / "omv_copilot_agent" / "api"


# -- binding ---------------------------------------------------------------

def test_check_bind_accepts_loopback_only_by_default(make_config):
    from omv_copilot_agent.config import ConfigError
    from omv_copilot_agent.daemon import check_bind

    for listen in ("127.0.0.1:8888", "127.0.0.53:8888", "[::1]:8888", "localhost:8888"):
        config, _ = make_config({"api": {"listen": listen}})
        assert check_bind(config)[1] == 8888
    for listen in ("0.0.0.0:8888", "[::]:8888", "192.168.1.10:8888", "nas.example:8888", "10.0.0.1:8888"):
        config, _ = make_config({"api": {"listen": listen}})
        with pytest.raises(ConfigError, match="allow_remote"):
            check_bind(config)
        config, _ = make_config({"api": {"listen": listen, "allow_remote": True}})
        assert check_bind(config)[1] == 8888


def test_daemon_process_refuses_wildcard_bind(make_config, tmp_path):
    _, path = make_config({"api": {"listen": f"0.0.0.0:{free_port()}"}})
    proc = run_cli("--config", str(path), "daemon", timeout=60)
    assert proc.returncode != 0
    assert "not a loopback address" in proc.stderr and "allow_remote" in proc.stderr, proc.stderr[-500:]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "token").exists() or True  # refusing happens before anything listens


def test_daemon_process_binds_wildcard_when_allowed(make_config):
    """allow_remote: true lets it bind 0.0.0.0; we only ever talk to it over loopback."""
    _, path = make_config({"api": {"listen": f"0.0.0.0:{free_port()}", "allow_remote": True},
                           "collect": {"interval_s": 3600, "disabled_sources": ["smart", "apt", "omv", "logs"]}})
    config = yaml.safe_load(path.read_text())
    port = config["api"]["listen"].rsplit(":", 1)[1]
    path.write_text(yaml.safe_dump(config))
    proc = subprocess.Popen(["/usr/bin/python3", "-m", "omv_copilot_agent", "--config", str(path), "daemon"], cwd=ROOT,
                            env=daemon_environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        import time

        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                r = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                if r.status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            raise AssertionError("daemon with allow_remote did not come up")
        # A foreign Host is still refused on a remote-enabled bind (allowed_hosts is a separate choice).
        r = requests.get(f"http://127.0.0.1:{port}/api/v1/system/status", headers={"Host": "nas.example"}, timeout=10)
        assert r.status_code == 403
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)


# -- Host header -----------------------------------------------------------

FOREIGN_HOSTS = ["evil.example", "evil.example:80", "127.0.0.1.evil.example", "localhost.evil.example",
                 "127.0.0.2", "[::2]", "0.0.0.0", "10.0.0.1", "nas.local", "LOCALHOST.evil", "xn--lcalhost-b1a",
                 "localhost:80@evil.example", "l\u043ecalhost"]


def test_foreign_host_headers_are_refused_on_every_route(live_server):
    srv = live_server()
    for rule, method in routes(srv.app):
        path = fill(rule, "abc")
        for host in FOREIGN_HOSTS:
            header_host = host.encode("utf-8").decode("latin-1")
            status, headers, body = raw(srv, method, path, b"{}" if method != "GET" else None,
                                        headers={"Host": header_host, "Content-Type": "application/json"})
            assert status in (400, 403), (method, path, host, status)
            if status == 403:
                assert json.loads(body)["error"]["code"] == "forbidden_host"


def test_local_and_configured_host_names_are_accepted(live_server):
    srv = live_server({"api": {"allowed_hosts": ["nas.local"]}})
    port = srv.port
    for host in ("localhost", f"localhost:{port}", "127.0.0.1", f"127.0.0.1:{port}", "[::1]", f"[::1]:{port}",
                 "LocalHost", "nas.local", f"NAS.local:{port}"):
        status, _, body = raw(srv, "GET", "/api/v1/system/status", headers={"Host": host})
        assert status == 200, (host, status, body[:200])
    status, _, _ = raw(srv, "GET", "/api/v1/system/status", headers={"Host": "other.local"})
    assert status == 403


# -- CORS ------------------------------------------------------------------

def test_no_cors_headers_for_any_origin_or_route(live_server):
    srv = live_server()
    for rule, method in routes(srv.app):
        path = fill(rule, "abc")
        for origin in ("http://evil.example", "null", f"http://127.0.0.1:{srv.port}"):
            for verb, extra in ((method, {}), ("OPTIONS", {"Access-Control-Request-Method": method,
                                                            "Access-Control-Request-Headers": "authorization"})):
                status, headers, _ = raw(srv, verb, path, headers={"Origin": origin, **extra})
                lower = {k.lower(): v for k, v in headers.items()}
                leaked = {k: v for k, v in lower.items() if k.startswith("access-control-")}
                assert not leaked, (verb, path, origin, leaked)


def test_api_answers_carry_no_store_and_nosniff(live_server):
    srv = live_server()
    r = srv.get("/api/v1/system/status")
    assert r.headers["Cache-Control"] == "no-store" and r.headers["X-Content-Type-Options"] == "nosniff"
    r = srv.get("/api/v1/system/status", token="wrong")
    assert r.headers["Cache-Control"] == "no-store"


# -- constant-time token comparison ----------------------------------------

def _compares_with(tree: ast.AST, names: set[str]) -> list[int]:
    """Line numbers of ==/!=/in comparisons that involve one of ``names`` (a variable or attribute)."""
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(isinstance(op, (ast.Eq, ast.NotEq, ast.In, ast.NotIn)) for op in node.ops):
            for side in [node.left, *node.comparators]:
                text = ast.unparse(side)
                if any(re.search(rf"\b{re.escape(n)}\b", text) for n in names):
                    hits.append(node.lineno)
    return hits


def test_token_is_compared_with_hmac_compare_digest_only():
    auth_src = (API_DIR / "auth.py").read_text()
    tree = ast.parse(auth_src)
    calls = [ast.unparse(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert "hmac.compare_digest" in calls, "auth.py must compare the token with hmac.compare_digest"
    for path in sorted(API_DIR.rglob("*.py")) + [ROOT / "omv_copilot_agent" / "cli" / "client.py"]:
        tree = ast.parse(path.read_text())
        hits = _compares_with(tree, {"API_TOKEN", "expected", "token", "given"})
        # `token` appears in unrelated comparisons only if they are against None or "".
        real = [line for line in hits
                if not re.search(r"(is|==|!=)\s*(None|''|\"\")", path.read_text().splitlines()[line - 1])]
        assert not real, f"{path.name}: token compared with ==/in at lines {real}; use hmac.compare_digest"


def test_token_file_is_private(make_config, tmp_path):
    from omv_copilot_agent.api.auth import ensure_token

    token = ensure_token(tmp_path / "sub" / "token")
    mode = stat.S_IMODE(os.stat(tmp_path / "sub" / "token").st_mode)
    assert mode & 0o007 == 0, oct(mode)
    assert len(token) >= 32 and ensure_token(tmp_path / "sub" / "token") == token


# -- no secrets anywhere -----------------------------------------------------

def test_no_secret_in_logs_answers_or_error_bodies(make_config, tmp_path):
    """A real daemon at DEBUG with an LLM key inline and one in a key file; look everywhere."""
    inline_key = "sk-INLINEsecret-" + "Q" * 24
    file_key = "sk-FILEsecret-" + "Z" * 24
    (tmp_path / "llm-key").write_text(file_key + "\n")
    os.chmod(tmp_path / "llm-key", 0o600)
    providers = [{"name": "p1", "kind": "openai", "endpoint": "http://127.0.0.1:9/v1", "model": "m", "api_key": inline_key},
                 {"name": "p2", "kind": "anthropic", "endpoint": "http://127.0.0.1:9", "model": "m",
                  "api_key_file": str(tmp_path / "llm-key")}]
    _, path = make_config({"assist": {"providers": providers}, "logging": {"level": "DEBUG"},
                           "collect": {"interval_s": 3600, "disabled_sources": ["apt", "smart"]}})
    os.chmod(path, 0o600)  # a config holding an api_key must not be world-readable (else the daemon refuses)
    proc, url = start_daemon(path)
    try:
        token = (tmp_path / "token").read_text().strip()
        secrets = [token, inline_key, file_key]
        auth = {"Authorization": f"Bearer {token}"}
        import time

        for _ in range(100):
            if requests.get(url + "/healthz", timeout=10).json().get("snapshot_age_s") is not None:
                break
            time.sleep(0.2)
        bodies = []
        from omv_copilot_agent.api import create_app  # noqa: F401  (route list from a throwaway app below)

        for rule, method in _served_routes(url, auth):
            path_ = fill(rule, "abc")
            if method == "GET":
                bodies.append(requests.get(url + path_, headers=auth, timeout=30).text)
            bodies.append(requests.request(method, url + path_, timeout=30).text)  # no token
            bodies.append(requests.request(method, url + path_, headers={"Authorization": "Bearer " + token[:-1] + "x"},
                                           timeout=30).text)  # almost the token
            bodies.append(requests.request(method, url + path_, headers={**auth, "Host": "evil.example"}, timeout=30).text)
        for method in ("getConfiguration", "getStatus", "getSettings", "nope"):
            bodies.append(requests.post(url + "/api/v1/rpc", json={"method": method}, headers=auth, timeout=30).text)
        bodies.append(requests.post(url + "/api/v1/knowledge/feedback", data=b"{bad", headers=auth, timeout=30).text)
        config_answer = requests.get(url + "/api/v1/system/configuration", headers=auth, timeout=30).json()
        assert config_answer["agent"]["assist"]["providers"][0]["api_key"] == "***"
        for body in bodies:
            for secret in secrets:
                assert secret not in body, f"secret leaked in an answer: {body[:200]}"
            assert token[:12] not in body
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    logs = out.decode(errors="replace") + err.decode(errors="replace")
    assert "API listening" in logs  # the log was captured at all
    for secret in secrets:
        assert secret not in logs, "secret leaked in the daemon's log"


def _served_routes(url: str, auth: dict) -> list[tuple[str, str]]:
    """(rule, METHOD) of the daemon's routes, from the served OpenAPI document (no Flask app needed)."""
    doc = requests.get(url + "/api/v1/openapi.json", headers=auth, timeout=30).json()
    found = []
    for path, item in doc["paths"].items():
        for method in item:
            if method in ("get", "post", "put", "delete", "patch"):
                found.append((re.sub(r"{([^}]+)}", r"<\1>", path), method.upper()))
    return found


@pytest.mark.parametrize("mode, refused", [(0o644, True), (0o604, True), (0o640, False), (0o600, False)])
def test_world_readable_config_with_an_api_key_is_refused_by_the_daemon_and_warned_by_the_cli(make_config, mode, refused):
    from tests.conftest import run_cli

    provider = {"name": "p", "kind": "openai", "endpoint": "http://127.0.0.1:9/v1", "model": "m", "api_key": "sk-" + "k" * 30}
    _, path = make_config({"assist": {"providers": [provider]},
                           "collect": {"disabled_sources": ["apt", "smart", "omv", "logs", "services", "network", "storage"]}})
    os.chmod(path, mode)
    if refused:
        result = run_cli("--config", str(path), "daemon", timeout=60)
        assert result.returncode == 2 and "every user can read it" in result.stderr and f"chmod 600 {path}" in result.stderr
        assert "sk-kkk" not in result.stderr
    status = run_cli("--config", str(path), "status", timeout=120)
    assert ("every user can read it" in status.stderr) is refused, status.stderr


def test_world_readable_config_without_a_key_is_fine(make_config):
    from omv_copilot_agent.config.exposure import world_readable_secret

    config, path = make_config({})
    os.chmod(path, 0o644)
    assert world_readable_secret(config) is None
