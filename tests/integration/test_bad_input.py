"""Bad input against every served route: a clear 4xx JSON error naming what was wrong, never a 500.

Routes come from Flask's URL map (so routes other concerns add later are covered
the day they land) plus the OpenAPI document for their query parameters. Raw
requests go through ``http.client`` so dot segments and odd bytes reach the
server exactly as written (``requests`` would normalise some of them).
"""

from __future__ import annotations

import http.client
import json
import re

import pytest

BAD_IDS = ["../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "%2e%2e%2f%2e%2e%2fetc%2fshadow", "a%00b", "%ff%fe",
           "%E2%98%83%F0%9F%92%A9", "x" * 3000, "'%20OR%201=1--", "%3Cscript%3E", "-1", "99999999999999999999999"]
BAD_QUERY_VALUES = ["abc", "-5", "1e309", "99999999999999999999999", "%00", "%E2%98%83", "x" * 5000, "%ff"]


def public_paths() -> set[str]:
    """Paths served without a token: the auth module's list plus the web UI's static files."""
    from omv_copilot_agent.api.auth import PUBLIC_PATHS

    return set(PUBLIC_PATHS) | {"/", "/ui", "/ui/"}

# A minimal valid body per contract write route: lets the unknown-field and wrong-type checks hit the
# body validation itself rather than a missing required field. Routes without an entry get the generic checks.
VALID_BODIES = {
    "/api/v1/knowledge/feedback": {"pattern_id": "no-such-pattern", "helpful": True},
    "/api/v1/assist/diagnostics": {"pattern_id": "no-such-pattern"},
    "/api/v1/assist/solution": {"pattern_id": "no-such-pattern"},
    "/api/v1/rpc": {"method": "getStatus"},
    "/api/v1/history/notes": {"text": "a note"},
    "/api/v1/history/note": {"text": "a note"},
    "/api/v1/assist/query": {"query": "why is my disk full?"},
}


def routes(app) -> list[tuple[str, str]]:
    """(rule, METHOD) for every served route outside the static UI."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/ui"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.rule, method))
    return sorted(found)


def fill(rule: str, value: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?[^<>]+>", value, rule)


def raw(srv, method: str, path: str, body: bytes | None = None, headers: dict | None = None, token=...):
    """One HTTP request with the path sent verbatim; returns (status, headers, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    hdrs = dict(headers or {})
    token = srv.token if token is ... else token
    if token is not None:
        hdrs.setdefault("Authorization", f"Bearer {token}")
    try:
        conn.putrequest(method, path, skip_host="Host" in hdrs, skip_accept_encoding=True)
        for key, value in hdrs.items():
            conn.putheader(key, value)
        if body is not None and "Transfer-Encoding" not in hdrs:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        if body is not None:
            conn.send(body)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def assert_clean(status: int, headers: dict, body: bytes, what: str, *, expect_4xx: bool = True) -> dict | None:
    """Never a 500 or a traceback; an error is JSON {"error": {code, message}} with a message."""
    text = body.decode("utf-8", "replace")
    assert status != 500, f"{what}: 500 {text[:300]}"
    assert "Traceback" not in text and 'File "/' not in text, f"{what}: traceback in body"
    if status >= 400:
        assert headers.get("Content-Type", "").startswith("application/json"), f"{what}: {status} not JSON: {text[:200]}"
        err = json.loads(text)["error"]
        assert err["code"] and err["message"], f"{what}: empty error {err}"
        assert status < 500 or status in (501, 503), f"{what}: {status} {text[:200]}"
        return err
    assert not expect_4xx, f"{what}: expected a 4xx, got {status} {text[:200]}"
    return None


@pytest.fixture
def srv(live_server):
    return live_server({"api": {"max_body_bytes": 4096}})


def test_every_route_without_or_with_wrong_token_is_401_json(srv):
    for rule, method in routes(srv.app):
        path = fill(rule, "abc")
        if path in public_paths():
            continue
        for token, words in ((None, "missing bearer token"), ("wrong-token", "invalid token"), ("", "missing bearer token")):
            status, headers, body = raw(srv, method, path, b"{}" if method != "GET" else None, token=token)
            err = assert_clean(status, headers, body, f"{method} {path} token={token!r}")
            assert status == 401 and words in err["message"], (method, path, status, err)
        status, headers, body = raw(srv, method, path, headers={"Authorization": "Basic dXNlcjpwYXNz"}, token=None)
        assert status == 401 and assert_clean(status, headers, body, "basic auth")


def test_non_ascii_and_oversized_tokens_are_401_not_500(srv):
    for header in ("Bearer t\u00f6k\u00e9n".encode("utf-8").decode("latin-1"), "Bearer " + "x" * 6000, "Bearer", "bearer  ",
                   "Bearer \t"):
        status, headers, body = raw(srv, "GET", "/api/v1/system/status", headers={"Authorization": header}, token=None)
        assert status in (400, 401, 431), (header[:20], status)
        assert_clean(status, headers, body, f"token {header[:20]!r}")


def test_path_traversal_unicode_and_oversized_ids_are_clean_4xx(srv):
    id_routes = [(r, m) for r, m in routes(srv.app) if "<" in r]
    assert id_routes, "no route with an id: the knowledge API should be served"
    for rule, method in id_routes:
        for bad in BAD_IDS:
            path = fill(rule, bad)
            status, headers, body = raw(srv, method, path, b"{}" if method != "GET" else None,
                                        headers={"Content-Type": "application/json"})
            assert_clean(status, headers, body, f"{method} {path[:80]}")
            assert b"root:" not in body and b"/bin/bash" not in body, f"{path}: file contents leaked"


def test_traversal_outside_the_api_never_reads_files(srv):
    for path in ("/../../etc/passwd", "/api/v1/../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
                 "/api/v1/knowledge/patterns/..%2f..%2f..%2fetc%2fpasswd", "/ui/../../etc/passwd",
                 "/ui/..%2f..%2fetc%2fpasswd"):
        status, headers, body = raw(srv, "GET", path)
        assert status in (400, 403, 404), (path, status)
        assert_clean(status, headers, body, path)
        assert b"root:" not in body


def test_query_parameters_of_wrong_type_or_size_name_the_parameter(srv):
    from omv_copilot_agent.api.openapi import document

    doc = document()
    served = {(re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", r), m.lower()) for r, m in routes(srv.app)}
    checked = 0
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if (path, method) not in served or not isinstance(op, dict):
                continue
            params = [doc["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
                      for p in op.get("parameters", [])]
            params = [p for p in params if p.get("in") == "query"]
            required = {p["name"]: ("1" if p.get("schema", {}).get("type") == "integer" else "disk") for p in params if p.get("required")}
            for param in params:
                url = fill(re.sub(r"{([^}]+)}", r"<\1>", path), "abc")
                for value in BAD_QUERY_VALUES:
                    query = "&".join(f"{k}={v}" for k, v in {**required, param["name"]: value}.items())
                    status, headers, body = raw(srv, method.upper(), f"{url}?{query}")
                    err = assert_clean(status, headers, body, f"{path}?{param['name']}={value[:20]}", expect_4xx=False)
                    schema = param.get("schema", {})
                    if err and status == 400 and schema.get("type") == "integer" and value in ("abc", "1e309"):
                        assert param["name"] in err["message"], (path, param["name"], err)
                    if schema.get("type") == "integer" and value in ("abc", "-5", "99999999999999999999999"):
                        assert status == 400, f"{path}?{param['name']}={value}: {status}"
                checked += 1
    assert checked >= 5


def body_routes(srv):
    return [(r, m) for r, m in routes(srv.app) if m in ("POST", "PUT", "PATCH")]


def test_bad_json_and_non_object_bodies_are_400_json(srv):
    assert body_routes(srv), "no write route served"
    bodies = [b"{not json", b"", b"[1, 2]", b'"string"', b"null", b"42", b"\xff\xfe\x00", b'{"a": NaN}',
              b'{"a": 1e999}', b'{"a":' * 500 + b"1" + b"}" * 500, "{\"\u2603\": \"\U0001f4a9\"}".encode()]
    for rule, method in body_routes(srv):
        path = fill(rule, "abc")
        for body in bodies:
            for ctype in ("application/json", "text/plain"):
                status, headers, resp = raw(srv, method, path, body, headers={"Content-Type": ctype})
                assert_clean(status, headers, resp, f"{method} {path} {body[:20]!r} {ctype}")


def test_wrong_types_and_unknown_fields_name_the_field(srv):
    for rule, method in body_routes(srv):
        path = fill(rule, "abc")
        valid = VALID_BODIES.get(rule)
        if valid is None:
            continue
        extra = dict(valid, surplus_field_xyz=1)
        status, headers, resp = raw(srv, method, path, json.dumps(extra).encode(), headers={"Content-Type": "application/json"})
        err = assert_clean(status, headers, resp, f"{path} unknown field")
        assert status == 400 and "surplus_field_xyz" in err["message"], (path, status, err)
        for field in valid:
            for wrong in (12345, ["list"], {"obj": 1}, None, True, "\u2603" * 20000):
                if isinstance(wrong, bool) and isinstance(valid[field], bool):
                    continue
                body = json.dumps(dict(valid, **{field: wrong})).encode()
                status, headers, resp = raw(srv, method, path, body, headers={"Content-Type": "application/json"})
                err = assert_clean(status, headers, resp, f"{path} {field}={str(wrong)[:20]}", expect_4xx=False)
                if err and status in (400, 413) and status == 400:
                    assert field in err["message"] or "body" in err["message"], (path, field, err)


def test_unicode_everywhere_is_handled(srv):
    odd = ["\u2603\U0001f4a9", "\u202e\u0000x", "Ω≈ç√∫", "\ud800".encode("utf-8", "surrogatepass").decode("latin-1"), "\r\n"]
    for rule, method in body_routes(srv):
        valid = VALID_BODIES.get(rule)
        if valid is None:
            continue
        for value in odd:
            body = {k: (value if isinstance(v, str) else v) for k, v in valid.items()}
            status, headers, resp = raw(srv, method, fill(rule, "abc"), json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass"),
                                        headers={"Content-Type": "application/json; charset=utf-8"})
            assert_clean(status, headers, resp, f"{rule} unicode {value!r}", expect_4xx=False)
    r = srv.get("/api/v1/knowledge/search", params={"q": "\u2603 disk \U0001f4a9 fu\u00dfball \u0000"})
    assert r.status_code == 200, r.text


def test_huge_body_is_413_json(srv):
    assert srv.app.config["MAX_CONTENT_LENGTH"] == 4096
    big = json.dumps({"pattern_id": "x", "helpful": True, "comment": "a" * 20000}).encode()
    for rule, method in body_routes(srv):
        status, headers, resp = raw(srv, method, fill(rule, "abc"), big, headers={"Content-Type": "application/json"})
        err = assert_clean(status, headers, resp, f"{rule} huge body")
        assert status == 413 and "too large" in err["message"], (rule, status, err)


def test_huge_chunked_body_is_413_json(srv):
    """Chunked uploads carry no Content-Length; the limit must hold for them too."""
    chunk = b"a" * 1000
    payload = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(20)) + b"0\r\n\r\n"
    status, headers, resp = raw(srv, "POST", "/api/v1/knowledge/feedback", payload,
                                headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    err = assert_clean(status, headers, resp, "chunked huge body")
    assert status == 413 and "too large" in err["message"], (status, err)
    small = json.dumps({"pattern_id": "../x", "helpful": True}).encode()
    payload = b"%x\r\n%s\r\n0\r\n\r\n" % (len(small), small)
    status, headers, resp = raw(srv, "POST", "/api/v1/knowledge/feedback", payload,
                                headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    err = assert_clean(status, headers, resp, "chunked small body")
    assert status == 400 and "pattern_id" in err["message"].replace("pattern id", "pattern_id"), (status, err)


def test_wrong_method_and_unknown_path_are_json(srv):
    for method, path in (("DELETE", "/api/v1/system/status"), ("PUT", "/healthz"), ("GET", "/api/v1/knowledge/feedback"),
                         ("GET", "/api/v2/nothing"), ("BREW", "/api/v1/system/status")):
        status, headers, body = raw(srv, method, path)
        err = assert_clean(status, headers, body, f"{method} {path}")
        assert status in (400, 404, 405, 501), (method, path, status)
        assert err["message"]


def test_rpc_bridge_bad_params(srv):
    for body in ({"method": "getPattern", "params": {"id": "../../etc/passwd"}}, {"method": "getPattern", "params": {"id": ["x"]}},
                 {"method": "getPatterns", "params": {"start": -1}}, {"method": "getPatterns", "params": {"limit": "ten"}},
                 {"method": "getPatterns", "params": {"sortdir": "sideways"}}, {"method": "nope\u2603"},
                 {"method": "getMetrics", "params": {"since": "yesterday"}}, {"method": "feedback", "params": {"helpful": "yes"}},
                 {"method": "getStatus", "params": []}, {"method": "x" * 200}):
        r = srv.post("/api/v1/rpc", json=body)
        assert_clean(r.status_code, dict(r.headers), r.content, f"rpc {json.dumps(body)[:60]}")
        assert 400 <= r.status_code < 500, (body, r.status_code, r.text[:200])
