"""The RPC bridge over a real loopback server: dispatch, paging, auth, unknown/missing methods."""

from __future__ import annotations

from omv_copilot_agent.api.rpc import METHODS, apply_paging


def test_getstatus_matches_rest(live_server):
    server = live_server()
    rest = server.get("/api/v1/system/status").json()
    resp = server.post("/api/v1/rpc", json={"method": "getStatus", "params": {}})
    assert resp.status_code == 200, resp.text
    assert resp.json()["overall"] == rest["overall"]
    assert set(resp.json()) == set(rest)


def test_params_become_query(live_server):
    server = live_server()
    resp = server.post("/api/v1/rpc", json={"method": "getLogs", "params": {"since": 0}})
    assert resp.status_code == 400 and "since" in resp.json()["error"]["message"]


def test_auth_kept(live_server):
    server = live_server()
    resp = server.post("/api/v1/rpc", json={"method": "getStatus"}, token=None)
    assert resp.status_code == 401
    resp = server.post("/api/v1/rpc", json={"method": "getStatus"}, token="wrong")
    assert resp.status_code == 401


def test_unknown_method_named(live_server):
    server = live_server()
    resp = server.post("/api/v1/rpc", json={"method": "dropTables", "params": {}})
    assert resp.status_code == 400
    assert "dropTables" in resp.json()["error"]["message"]


def test_bad_body(live_server):
    server = live_server()
    assert server.post("/api/v1/rpc", data="nope").status_code == 400
    assert server.post("/api/v1/rpc", json={"params": {}}).status_code == 400
    assert server.post("/api/v1/rpc", json={"method": "getStatus", "x": 1}).status_code == 400


def test_missing_backend_is_501_or_works(live_server):
    """Every method answers without a server error (x is a bad id for most: a 4xx naming it)."""
    server = live_server()
    for name, method in METHODS.items():
        params = {p: "x" for p in method.path_names}
        if method.paged:
            params.update({"start": 0, "limit": 10})
        resp = server.post("/api/v1/rpc", json={"method": name, "params": params})
        assert resp.status_code < 500 or resp.status_code in (501, 503), (name, resp.status_code, resp.text)
        if resp.status_code == 501:
            assert name in resp.json()["error"]["message"]


def test_missing_path_param(live_server):
    server = live_server()
    resp = server.post("/api/v1/rpc", json={"method": "getAlert", "params": {}})
    assert resp.status_code in (400, 501)


def test_bad_paging_rejected(live_server):
    server = live_server()
    resp = server.post("/api/v1/rpc", json={"method": "getPatterns", "params": {"start": -1, "limit": 5}})
    assert resp.status_code == 400 and "start" in resp.json()["error"]["message"]
    resp = server.post("/api/v1/rpc", json={"method": "getTraces", "params": {"start": 0, "limit": 5, "sortdir": "up"}})
    assert resp.status_code == 400 and "sortdir" in resp.json()["error"]["message"]


def test_apply_paging():
    items = [{"id": str(i), "n": i, "t": "alpha" if i % 2 else "beta"} for i in range(10)]
    out = apply_paging(items, {"start": 2, "limit": 3, "sortfield": "n", "sortdir": "DESC"})
    assert out["total"] == 10 and [i["n"] for i in out["data"]] == [7, 6, 5]
    out = apply_paging(items, {"start": 0, "limit": -1, "search": "ALPHA"})
    assert out["total"] == 5 and len(out["data"]) == 5
    out = apply_paging(items, {"start": 0, "limit": None})
    assert out["total"] == 10


def test_paged_method_collects_every_item(live_server):
    """getPatterns must page over ALL patterns (the REST default page is 50; there are more)."""
    server = live_server()
    rest_total = server.get("/api/v1/knowledge/patterns").json()["total"]
    assert rest_total > 50
    resp = server.post("/api/v1/rpc", json={"method": "getPatterns", "params": {"start": 0, "limit": -1}})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["total"] == rest_total and len(body["data"]) == rest_total
    page = server.post("/api/v1/rpc", json={"method": "getPatterns", "params": {
        "start": 5, "limit": 5, "sortfield": "pattern_id", "sortdir": "DESC"}}).json()
    ids = sorted((p["pattern_id"] for p in body["data"]), reverse=True)
    assert [p["pattern_id"] for p in page["data"]] == ids[5:10] and page["total"] == rest_total
