"""The API over a real loopback HTTP server (waitress) with a real SQLite store."""


def test_healthz_needs_no_token(live_server):
    srv = live_server()
    r = srv.get("/healthz", token=None)
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_missing_and_wrong_token_401_json(live_server):
    srv = live_server()
    r = srv.get("/api/v1/system/status", token=None)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    r = srv.get("/api/v1/system/status", token="wrong")
    assert r.status_code == 401 and r.json()["error"]["message"] == "invalid token"


def test_foreign_host_header_refused(live_server):
    srv = live_server()
    r = srv.get("/api/v1/system/status", headers={"Host": "evil.example:8888"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden_host"


def test_status_reports_real_state_and_age(live_server):
    srv = live_server()
    body = srv.get("/api/v1/system/status").json()
    system = body["sources"]["system"]
    assert system["status"] == "ok"
    assert system["data"]["memory"]["total"] > 0
    assert body["snapshot"]["age_s"] >= 0


def test_bad_since_names_parameter(live_server):
    srv = live_server()
    for value in ("abc", "-5", "99999999999999999999999"):
        r = srv.get("/api/v1/system/logs", params={"since": value})
        assert r.status_code == 400, value
        assert "since" in r.json()["error"]["message"]


def test_unknown_endpoint_is_json_404(live_server):
    srv = live_server()
    r = srv.get("/api/v1/nope")
    assert r.status_code == 404 and "error" in r.json()


def test_no_snapshot_yet_is_503(live_server):
    srv = live_server(cycle=False)
    r = srv.get("/api/v1/system/status")
    assert r.status_code == 503 and r.json()["error"]["code"] == "no_snapshot"


def test_configuration_hides_secrets(live_server):
    srv = live_server()
    body = srv.get("/api/v1/system/configuration").json()
    assert body["agent"]["api"]["listen"].startswith("127.0.0.1:")
    assert srv.token not in str(body)


def test_metrics_series_after_cycles(live_server):
    srv = live_server()
    srv.agent.run_cycle()
    series = srv.get("/api/v1/system/metrics").json()["series"]
    assert {"name": "mem.percent", "labels": ""} in series
    points = srv.get("/api/v1/system/metrics", params={"name": "mem.percent"}).json()["points"]
    assert len(points) == 2
