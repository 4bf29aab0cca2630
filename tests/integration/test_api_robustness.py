"""Reviewer-found API failures, over a real loopback server and a real SQLite file."""

import json
import socket

import pytest

NOTES = "/api/v1/history/notes"


def _post_raw(srv, path, raw: str):
    return srv.post(path, data=raw.encode(), headers={"Content-Type": "application/json"})


def test_write_rolls_back_on_any_exception(tmp_path):
    from omv_copilot_agent.store import Store

    store = Store(tmp_path)
    with pytest.raises(ValueError):
        with store.write():
            raise ValueError("not an sqlite error")
    with store.write() as conn:  # before the fix: "cannot start a transaction within a transaction"
        conn.execute("SELECT 1")
    store.close()


def test_lone_surrogate_is_400_and_does_not_lock_the_store(live_server):
    srv = live_server()
    r = _post_raw(srv, NOTES, '{"text": "\\ud800"}')
    assert r.status_code == 400, r.text
    assert "text" in r.json()["error"]["message"] and "surrogate" in r.json()["error"]["message"]
    r = _post_raw(srv, "/api/v1/knowledge/patterns/validate", '{"id": "x", "title": "\\udfff"}')
    assert r.status_code == 400 and "title" in r.json()["error"]["message"], r.text
    r = srv.post(NOTES, json={"text": "after the bad one"})
    assert r.status_code in (200, 201), r.text


@pytest.mark.parametrize("number", ["1e400", "-1e400", "NaN", "Infinity"])
def test_non_finite_number_is_400_and_not_saved(live_server, number):
    """1e400 decodes to inf: saved, it would silence the memory alert and make /settings invalid JSON."""
    srv = live_server()
    raw = '{"findings": {"memory_warning_percent": %s}}' % number
    r = srv.request("PUT", "/api/v1/settings", data=raw.encode(), headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["message"] == "field 'findings.memory_warning_percent': is not a finite number"
    settings = srv.get("/api/v1/settings")
    assert settings.status_code == 200 and json.loads(settings.text)["settings"]["findings"]["memory_warning_percent"] == 90


def test_huge_alert_id_is_400(live_server):
    srv = live_server()
    r = srv.post(NOTES, json={"text": "x", "alert_id": 2**70})
    assert r.status_code == 400 and "alert_id" in r.json()["error"]["message"], r.text
    assert srv.post(NOTES, json={"text": "still writable"}).status_code in (200, 201)


def test_too_long_says_so_without_echo(live_server):
    srv = live_server()
    r = srv.post(NOTES, json={"text": "x" * 100000})
    message = r.json()["error"]["message"]
    assert r.status_code == 400 and message == "field 'text': is longer than 10000 characters", message


def test_corrupted_database_is_503_naming_it_and_healthz_degraded(live_server):
    srv = live_server()
    path = srv.agent.store.path
    for suffix in ("", "-wal", "-shm"):  # garbage over the real file, in place (open connections see it)
        try:
            with open(f"{path}{suffix}", "r+b") as f:
                f.write(b"this is not a database " * 4000)
        except FileNotFoundError:
            pass
    r = srv.post(NOTES, json={"text": "a note"})
    assert r.status_code == 503, r.text
    error = r.json()["error"]
    assert error["code"] == "store_unavailable" and str(path) in error["message"], error
    health = srv.get("/healthz", token=None)
    assert health.status_code == 200 and health.json()["status"] == "degraded", health.text
    assert "store unavailable" in health.json()["reason"]


def test_rpc_path_param_cannot_reach_another_endpoint(live_server):
    srv = live_server()
    for value in ("abc/mermaid", "a?b", "a#b", "a%2Fb", "a\nb", "x" * 201):
        r = srv.post("/api/v1/rpc", json={"method": "getTrace", "params": {"id": value}})
        assert r.status_code == 400 and "params.id" in r.json()["error"]["message"], (value, r.text)


def test_rpc_errors_name_params(live_server):
    srv = live_server()
    r = srv.post("/api/v1/rpc", json={"method": "feedback", "params": {}})
    assert r.status_code == 400 and "params.pattern_id" in r.json()["error"]["message"], r.text
    assert "field 'body'" not in r.json()["error"]["message"]
    r = srv.post("/api/v1/rpc", json={"method": "getAlert", "params": {"id": True}})
    assert r.status_code == 400 and "must be a string or an integer" in r.json()["error"]["message"], r.text


def test_oversize_bodies_get_json_413(live_server):
    srv = live_server()
    limit = srv.app.config["MAX_CONTENT_LENGTH"]
    r = srv.post(NOTES, data=b"x" * (limit * 4 + 100), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large", r.text[:200]
    # Above waitress' own cap: its answer (sent before the body) is JSON too.
    with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as sock:
        sock.sendall((f"POST {NOTES} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                      f"Content-Length: {200 << 20}\r\n\r\n").encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413") and b"application/json" in head, head
    assert json.loads(body)["error"]["code"] == "request_too_large"
