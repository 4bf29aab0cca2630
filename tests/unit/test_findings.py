"""The findings engine is the one judgement: the Dashboard summary, the health score, the alerts, the
assistant's router and pattern matching agree about one disk, and one setting moves all of them."""

from __future__ import annotations

import time

import pytest

from tests.alerts_support import fs, snapshot

MOUNT = "/srv/dev-disk-by-uuid-data"


def _box(percent: float):
    return snapshot(time.time(), storage={"filesystems": [fs(MOUNT, percent)]},
                    system={"hostname": "nas", "cpu": {"count": 4, "percent": 5.0, "load": [0.1, 0.1, 0.1]}})


def _views(server) -> dict:
    """What each consumer says about the data disk, read over the real API."""
    server.agent.alerts.evaluate(server.agent.snapshot)
    summary = server.get("/api/v1/system/status").json()["summary"]
    health = server.get("/api/v1/health").json()
    alerts = server.get("/api/v1/alerts", params={"state": "open"}).json()["alerts"]
    answer = server.post("/api/v1/assist/query", json={"query": "everything is slow"}).json()
    trace = server.get(f"/api/v1/traces/{answer['trace_id']}").json()
    routing = next(s for s in trace["steps"] if s["point"] == "context_selection")["outputs"]
    search = server.get("/api/v1/knowledge/search", params={"q": "data disk full no space left"}).json()["results"]
    full = next(r for r in search if r["pattern_id"] == "data-disk-full")
    return {
        "summary": summary["filesystems_full"],
        "health": [(d["severity"], d["points"]) for d in health["deductions"] if d.get("subject") == MOUNT],
        "alerts": [(a["rule"], a["severity"]) for a in alerts if a["subject"] == MOUNT],
        "router": routing["hints"],
        "pattern": [r for r in full["reasons"] if r.startswith("finding: filesystem-full")],
    }


@pytest.fixture
def server(live_server):
    server = live_server({"alerts": {"udev_monitor": False, "rrd_import": False, "resolve_after_clear_cycles": 1}},
                         cycle=False)
    server.agent.snapshot = _box(92)
    return server


def _set(server, warning, critical):
    r = server.request("PUT", "/api/v1/settings", json={"findings": {"disk_usage_warning_percent": warning,
                                                                     "disk_usage_critical_percent": critical}})
    assert r.status_code == 200, r.text


def test_disk_at_92_percent_with_90_95_is_one_warning_everywhere(server):
    v = _views(server)
    assert v["summary"] == [MOUNT]
    assert v["health"] == [("warning", 10)]
    assert v["alerts"] == [("fs_full", "warning")]
    assert v["router"] == {"storage": 0.5}  # the router leans to storage for the full disk
    assert v["pattern"] == []         # data-disk-full needs the critical level


def test_one_setting_moves_every_consumer(server):
    _views(server)
    _set(server, 93, 97)              # 92 % is no longer a problem anywhere
    v = _views(server)
    assert v == {"summary": [], "health": [], "alerts": [], "router": {}, "pattern": []}
    _set(server, 80, 91)              # now it is critical everywhere
    v = _views(server)
    assert v["summary"] == [MOUNT] and v["health"] == [("critical", 30)] and v["alerts"] == [("fs_full", "critical")]
    assert v["router"] == {"storage": 0.5} and len(v["pattern"]) == 1 and "threshold 91%" in v["pattern"][0]


def test_thresholds_under_the_old_alerts_keys_still_apply(server):
    r = server.request("PUT", "/api/v1/settings", json={"alerts": {"disk_usage_warning_percent": 93,
                                                                   "disk_usage_critical_percent": 97}})
    assert r.status_code == 200, r.text
    assert r.json()["settings"]["findings"]["disk_usage_warning_percent"] == 93
    assert _views(server)["summary"] == []


def test_evaluate_takes_a_snapshot_or_its_dict_and_skips_unusable_sources():
    from omv_copilot_agent import findings
    from omv_copilot_agent.findings import Thresholds

    snap = _box(92)
    as_object = findings.evaluate(snap, Thresholds.from_section())
    as_dict = findings.evaluate(snap.to_dict(), Thresholds.from_section())
    assert [f.to_dict() for f in as_object] == [f.to_dict() for f in as_dict]
    (full,) = as_object
    assert (full.id, full.severity, full.subject, full.threshold, full.evidence["percent"]) == (
        "filesystem-full", "warning", MOUNT, 90, 92.0)
    broken = snap.to_dict()
    broken["sources"]["storage"]["status"] = "unavailable"
    assert findings.evaluate(broken) == [] and findings.evaluate(None) == []


def test_every_catalogue_id_is_produced_by_a_check_and_every_pattern_reference_is_known():
    """A finding id in the catalogue that no check emits would be a pattern that can never match."""
    import inspect

    from omv_copilot_agent import findings
    from omv_copilot_agent.knowledge import KnowledgeBase

    sources = "".join(inspect.getsource(m) for m in findings.CHECKS)
    for fid in findings.CATALOGUE:
        assert sources.count(f'"{fid}"') >= 2, fid  # named in FINDINGS and emitted
    kb = KnowledgeBase()
    assert not [e for e in kb.errors if e["field"] == "findings"]
    referenced = {r if isinstance(r, str) else r["id"] for p in kb.patterns.values() for r in p.get("findings") or []}
    assert referenced <= set(findings.CATALOGUE) and len(referenced) >= 25


def test_a_busy_moment_tips_the_router_but_costs_no_health(tmp_path):
    """One busy sample is an observation: the router leans to performance, the health score waits for the
    load alert (which needs the load to last)."""
    from omv_copilot_agent import findings
    from omv_copilot_agent.assist import router
    from tests.alerts_support import cycle, make_agent

    agent = make_agent(tmp_path)
    busy = snapshot(time.time(), system={"cpu": {"count": 4, "percent": 99.0, "load": [12.0, 3.0, 1.0]}})
    cycle(agent, busy)
    found = agent.alerts.findings(busy)
    assert {(f.id, f.severity) for f in found} == {("cpu-busy", "info"), ("load-high", "info")}
    assert router.finding_hints(found)["performance"] == 0.5
    assert agent.alerts.health_score(busy)["score"] == 100 and agent.alerts.open_alerts() == []
    assert findings.CATALOGUE["load-high"].endswith("(alerts also require it to last)")
    agent.close()


def test_every_consumer_names_only_findings_the_engine_produces():
    """A misspelt id in an alert rule or the router would silently never match."""
    from omv_copilot_agent import findings
    from omv_copilot_agent.alerts.rules import load_rules, rule_of_finding
    from omv_copilot_agent.assist import router

    known = set(findings.CATALOGUE)
    assert {fid for _, group in router.HINTS for fid in group} <= known
    assert set(rule_of_finding()) <= known and {r.SUSTAINS for r in load_rules() if hasattr(r, "SUSTAINS")} <= known


def test_thresholds_do_not_rebuild_the_schema_defaults_per_call(monkeypatch):
    """Thresholds are read every cycle and every /system/status: the defaults are built once."""
    from omv_copilot_agent import config as config_mod
    from omv_copilot_agent.findings import thresholds as thresholds_mod

    thresholds_mod._defaults.cache_clear()
    calls = []
    real = config_mod.defaults
    monkeypatch.setattr(config_mod, "defaults", lambda *a: calls.append(a) or real(*a))
    for _ in range(100):
        t = thresholds_mod.Thresholds.from_section({"memory_warning_percent": 80})
    assert calls.count(()) == 1  # the whole schema's defaults (it recurses into each section)
    assert t.memory_warning_percent == 80 and t.disk_usage_critical_percent == real()["findings"]["disk_usage_critical_percent"]
