"""Pattern editing: the local overlay, PUT/DELETE/validate over a real loopback server, the loader's precedence."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

SHIPPED = "smart-reallocated-sectors"
NEW_ID = "local-test-pattern"


def new_pattern(pid: str = NEW_ID, **changes) -> dict:
    data = {"pattern_id": pid, "title": "A pattern written by the admin", "category": "storage",
            "symptoms": ["the admin's own symptom text"], "keywords": ["zebrafrobnicator"],
            "diagnostics": [{"name": "kernel", "probe": "kernel-name"}],
            "solutions": [{"priority": 1, "action": "look at it", "explanation": "it helps", "risk": "read-only"}],
            "related_patterns": [SHIPPED], "references": ["https://docs.openmediavault.org/"], "confidence": 0.6}
    data.update(changes)
    return data


def as_yaml(data: dict) -> str:
    return yaml.safe_dump(data, sort_keys=False)


@pytest.fixture
def srv(live_server, tmp_path):
    return live_server({"knowledge": {"local_patterns_dir": str(tmp_path / "data" / "overlay")}})


def put(srv, pid: str, **kw):
    return srv.request("PUT", f"/api/v1/knowledge/patterns/{pid}", **kw)


def problems(response) -> list[dict]:
    body = response.json()
    assert response.status_code == 400, (response.status_code, body)
    return body["error"]["details"]


def test_create_local_pattern(srv, tmp_path):
    r = put(srv, NEW_ID, json={"yaml": "# my comment\n" + as_yaml(new_pattern())})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["source"] == "local" and body["overrides_shipped"] is False and body["title"] == "A pattern written by the admin"
    path = tmp_path / "data" / "overlay" / f"{NEW_ID}.yaml"
    assert path.read_text().startswith("# my comment")  # the admin's text is kept as written
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    listed = {p["pattern_id"]: p for p in srv.get("/api/v1/knowledge/patterns", params={"limit": 500}).json()["data"]}
    assert listed[NEW_ID]["source"] == "local" and listed[SHIPPED]["source"] == "shipped"
    hits = {h["pattern_id"]: h for h in srv.get("/api/v1/knowledge/search", params={"q": "zebrafrobnicator", "limit": 50}).json()["results"]}
    assert hits[NEW_ID]["source"] == "local"
    again = put(srv, NEW_ID, json={"pattern": new_pattern(title="The admin renamed this pattern")})
    assert again.status_code == 200 and again.json()["title"] == "The admin renamed this pattern"


def test_override_shipped_then_revert(srv):
    shipped = srv.get(f"/api/v1/knowledge/patterns/{SHIPPED}").json()
    assert shipped["source"] == "shipped" and shipped["yaml"].startswith(f"pattern_id: {SHIPPED}")
    raw = srv.get(f"/api/v1/knowledge/patterns/{SHIPPED}", params={"format": "yaml"})
    assert raw.headers["Content-Type"].startswith("application/yaml") and raw.text == shipped["yaml"]
    edited = yaml.safe_load(shipped["yaml"])
    edited["title"] = "Reallocated sectors, as our admin explains it"
    edited["keywords"] = edited.get("keywords", []) + ["quuxwidget"]
    r = put(srv, SHIPPED, json={"yaml": as_yaml(edited)})
    assert r.status_code == 200, r.text
    assert r.json()["source"] == "local" and r.json()["overrides_shipped"] is True
    detail = srv.get(f"/api/v1/knowledge/patterns/{SHIPPED}").json()
    assert detail["title"] == edited["title"] and "source" not in yaml.safe_load(detail["yaml"])
    hits = {h["pattern_id"]: h for h in srv.get("/api/v1/knowledge/search", params={"q": "quuxwidget", "limit": 50}).json()["results"]}
    assert hits[SHIPPED]["title"] == edited["title"] and hits[SHIPPED]["source"] == "local"
    total = srv.get("/api/v1/knowledge/patterns", params={"limit": 500}).json()["total"]
    reverted = srv.request("DELETE", f"/api/v1/knowledge/patterns/{SHIPPED}")
    assert reverted.status_code == 200 and reverted.json()["source"] == "shipped"
    assert reverted.json()["pattern"]["title"] == shipped["title"]
    after = srv.get(f"/api/v1/knowledge/patterns/{SHIPPED}").json()
    assert after["source"] == "shipped" and after["title"] == shipped["title"]
    assert srv.get("/api/v1/knowledge/patterns", params={"limit": 500}).json()["total"] == total
    again = srv.request("DELETE", f"/api/v1/knowledge/patterns/{SHIPPED}")
    assert again.status_code == 404 and "shipped" in again.json()["error"]["message"]


def test_delete_local_only_pattern(srv):
    assert put(srv, NEW_ID, json={"yaml": as_yaml(new_pattern())}).status_code == 201
    assert srv.request("DELETE", f"/api/v1/knowledge/patterns/{NEW_ID}").json()["source"] is None
    assert srv.get(f"/api/v1/knowledge/patterns/{NEW_ID}").status_code == 404
    assert srv.request("DELETE", f"/api/v1/knowledge/patterns/{NEW_ID}").status_code == 404
    assert srv.request("DELETE", "/api/v1/knowledge/patterns/..%2Fetc").status_code == 400


@pytest.mark.parametrize("body,field", [
    ({"yaml": "pattern_id: [unclosed"}, "yaml"),
    ({"yaml": "- just\n- a list\n"}, "(root)"),
    ({"yaml": ""}, "yaml"),
    ({"yaml": as_yaml(new_pattern(category="plumbing"))}, "category"),
    ({"yaml": as_yaml(new_pattern(title="short"))}, "title"),
    ({"yaml": as_yaml(new_pattern(source="local"))}, "(root)"),
    ({"yaml": as_yaml(new_pattern(pid="another-id"))}, "pattern_id"),
    ({"yaml": as_yaml(new_pattern(related_patterns=["no-such-pattern"]))}, "related_patterns"),
    ({"yaml": "title: x\n" + "# pad\n" * 12000}, "yaml"),
    ({"yaml": as_yaml(new_pattern(diagnostics=[{"name": "wipe", "command": "rm -rf /srv"}]))}, "diagnostics.0.command"),
    ({"yaml": as_yaml(new_pattern(diagnostics=[{"name": "free space", "probe": "disk-free"},
                                               {"name": "odd", "probe": "read-file", "params": {"file": "/etc/shadow"}}]))},
     "diagnostics.1.params.file"),
    ({"yaml": as_yaml(new_pattern(diagnostics=[{"name": "odd", "probe": "rm-rf"}]))}, "diagnostics.0.probe"),
    ({"pattern": {**new_pattern(), "solutions": [{"priority": 0, "action": "x", "risk": "boom"}]}}, "solutions.0"),
])
def test_invalid_patterns_are_400_naming_the_field(srv, tmp_path, body, field):
    r = put(srv, NEW_ID, json=body)
    found = problems(r)
    assert any(p["field"].startswith(field) and p["reason"] for p in found), found
    assert field in r.json()["error"]["message"]
    assert not (tmp_path / "data" / "overlay" / f"{NEW_ID}.yaml").exists()


def test_every_problem_listed(srv):
    broken = new_pattern(pid="another-id", category="plumbing", related_patterns=["nope-nope"])
    del broken["symptoms"]
    fields = {p["field"] for p in problems(put(srv, NEW_ID, json={"yaml": as_yaml(broken)}))}
    assert {"category", "pattern_id", "related_patterns", "(root)"} <= fields


@pytest.mark.parametrize("kwargs,fragment", [
    ({"data": "yaml: x", "headers": {"Content-Type": "text/plain"}}, "Content-Type"),
    ({"data": b"\xff\xfe", "headers": {"Content-Type": "application/yaml"}}, "yaml"),
    ({"json": {"yaml": "a: b", "pattern": {}}}, "yaml"),
    ({"json": {}}, "yaml"),
    ({"json": {"yaml": 5}}, "yaml"),
    ({"json": {"yaml": "a: b", "colour": "red"}}, "colour"),
    ({"data": "{not json", "headers": {"Content-Type": "application/json"}}, "JSON"),
])
def test_bad_bodies(srv, kwargs, fragment):
    r = put(srv, NEW_ID, **kwargs)
    assert r.status_code == 400 and fragment in r.json()["error"]["message"], r.text


def test_bad_ids(srv):
    for pid in ("AB", "..%2F..%2Fetc%2Fpasswd", "x" * 80, "caf%C3%A9"):
        r = put(srv, pid, json={"yaml": as_yaml(new_pattern())})
        assert r.status_code == 400 and "pattern_id" in r.json()["error"]["message"], (pid, r.text)


def test_raw_yaml_body(srv):
    r = put(srv, NEW_ID, data=as_yaml(new_pattern()).encode(), headers={"Content-Type": "application/yaml"})
    assert r.status_code == 201 and r.json()["source"] == "local"


def test_validate_does_not_write(srv, tmp_path):
    ok = srv.post("/api/v1/knowledge/patterns/validate", json={"yaml": as_yaml(new_pattern())}).json()
    assert ok == {"valid": True, "pattern_id": NEW_ID, "exists": False, "problems": []}
    bad = srv.post("/api/v1/knowledge/patterns/validate",
                   json={"yaml": as_yaml(new_pattern(confidence=3)), "pattern_id": "other-id"}).json()
    assert bad["valid"] is False and {p["field"] for p in bad["problems"]} == {"confidence", "pattern_id"}
    assert srv.post("/api/v1/knowledge/patterns/validate", json={"yaml": "x: [", "pattern_id": "../x"}).status_code == 400
    assert not (tmp_path / "data" / "overlay").exists()


def test_persists_across_a_new_server(live_server, tmp_path):
    overrides = {"knowledge": {"local_patterns_dir": str(tmp_path / "data" / "overlay")}}
    first = live_server(overrides, cycle=False)
    assert put(first, NEW_ID, json={"yaml": as_yaml(new_pattern())}).status_code == 201
    second = live_server(overrides, cycle=False)
    body = second.get(f"/api/v1/knowledge/patterns/{NEW_ID}").json()
    assert body["source"] == "local" and body["title"] == "A pattern written by the admin"


def test_default_overlay_is_under_data_dir(live_server, tmp_path):
    srv = live_server(cycle=False)
    assert put(srv, NEW_ID, json={"yaml": as_yaml(new_pattern())}).status_code == 201
    assert (tmp_path / "data" / "patterns" / f"{NEW_ID}.yaml").is_file()


def test_unwritable_overlay_is_503_naming_it(live_server, tmp_path):
    (tmp_path / "data").mkdir(exist_ok=True)
    blocker = tmp_path / "data" / "a-file"
    blocker.write_text("not a directory")  # a directory below a file cannot be created, even by root
    srv = live_server({"knowledge": {"local_patterns_dir": str(blocker / "overlay")}}, cycle=False)
    r = put(srv, NEW_ID, json={"yaml": as_yaml(new_pattern())})
    assert r.status_code == 503 and str(blocker / "overlay") in r.json()["error"]["message"]
    assert srv.get(f"/api/v1/knowledge/patterns/{SHIPPED}").status_code == 200  # browsing still works


@pytest.mark.parametrize("elsewhere", ["/usr/share/omv-copilot/patterns", "/etc/omv-copilot", "{tmp}/unrelated",
                                       "{tmp}/data/../unrelated"])
def test_overlay_outside_the_data_dir_is_refused(make_config, tmp_path, elsewhere):
    """Pattern edits write and delete *.yaml in the overlay: it can only be the agent's own directory (issue 15)."""
    from omv_copilot_agent.config import ConfigError

    with pytest.raises(ConfigError, match=r"knowledge.local_patterns_dir: must be a directory under data_dir"):
        make_config({"knowledge": {"local_patterns_dir": elsewhere.format(tmp=tmp_path)}})


def test_settings_cannot_move_the_overlay_onto_unrelated_files(srv, tmp_path):
    """The reproduction: overlay pointed at another folder, then DELETE removed an unrelated *.yaml there."""
    victim_dir = tmp_path / "unrelated"
    victim_dir.mkdir()
    victim = victim_dir / f"{NEW_ID}.yaml"
    victim.write_text("someone else's file\n")
    r = srv.request("PUT", "/api/v1/settings", json={"knowledge": {"local_patterns_dir": str(victim_dir)}})
    assert r.status_code == 400 and "local_patterns_dir" in r.json()["error"]["message"], r.text
    assert srv.request("DELETE", f"/api/v1/knowledge/patterns/{NEW_ID}").status_code == 404
    assert put(srv, NEW_ID, json={"yaml": as_yaml(new_pattern())}).status_code == 201
    assert victim.read_text() == "someone else's file\n" and (tmp_path / "data" / "overlay" / f"{NEW_ID}.yaml").is_file()


def test_concurrent_saves_lose_nothing(srv, tmp_path):
    results: list[int] = []

    def save(i: int) -> None:
        results.append(put(srv, f"local-concurrent-{i}", json={"yaml": as_yaml(new_pattern(f"local-concurrent-{i}"))}).status_code)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(results) == [201] * 12
    ids = {p["pattern_id"] for p in srv.get("/api/v1/knowledge/patterns", params={"limit": 500}).json()["data"]}
    assert {f"local-concurrent-{i}" for i in range(12)} <= ids
    assert len(list((tmp_path / "data" / "overlay").glob("*.yaml"))) == 12


# --- the loader's precedence, without HTTP ------------------------------------------------------

def test_overlay_replaces_and_adds(tmp_path):
    from omv_copilot_agent.knowledge import KnowledgeBase

    local = tmp_path / "local"
    local.mkdir()
    shipped_text = (next((ROOT / "patterns").glob(f"*--{SHIPPED}.yaml"))).read_text()
    override = yaml.safe_load(shipped_text)
    override["title"] = "The local copy wins over the shipped one"
    (local / "mine.yaml").write_text(as_yaml(override))
    (local / f"{NEW_ID}.yaml").write_text(as_yaml(new_pattern()))
    (local / "broken.yaml").write_text("pattern_id: [")
    (local / "bad-related.yaml").write_text(as_yaml(new_pattern("local-bad-related", related_patterns=["gone-pattern"])))
    kb = KnowledgeBase(local_dir=local)
    shipped_only = KnowledgeBase()
    assert len(kb.patterns) == len(shipped_only.patterns) + 2
    assert kb.get(SHIPPED)["title"] == override["title"]
    assert kb.origin(SHIPPED) == {"source": "local", "overrides_shipped": True}
    assert kb.origin(NEW_ID) == {"source": "local", "overrides_shipped": False}
    assert kb.origin("data-disk-full")["source"] == "shipped"
    files = {e["file"] for e in kb.errors}
    assert files == {"local:broken.yaml", "local:bad-related.yaml"}, kb.errors
    assert kb.get("local-bad-related")["related_patterns"] == []
    assert kb.text(SHIPPED).startswith("pattern_id") and "local copy wins" in kb.text(SHIPPED)
    # Saving under the canonical name replaces the admin's own file name for that id (one file per id).
    kb.save_local(SHIPPED, as_yaml({**override, "title": "Saved through the knowledge base"}))
    assert not (local / "mine.yaml").exists() and kb.get(SHIPPED)["title"] == "Saved through the knowledge base"
    assert kb.delete_local(SHIPPED) and kb.get(SHIPPED)["title"] == shipped_only.get(SHIPPED)["title"]
    assert not kb.delete_local(SHIPPED)


def test_every_shipped_pattern_passes_the_editor_checks():
    """Opening a shipped pattern and saving it unchanged must work: the editor's rules hold for all of them."""
    from omv_copilot_agent.knowledge import KnowledgeBase, editing

    kb = KnowledgeBase()
    for pid in kb.patterns:
        data, found = editing.validate_text(kb.text(pid), kb.patterns.keys(), pid)
        assert found == [], (pid, found)


def test_missing_overlay_is_not_an_error(tmp_path):
    from omv_copilot_agent.knowledge import KnowledgeBase

    kb = KnowledgeBase(local_dir=tmp_path / "not-yet")
    assert kb.errors == [] and not (tmp_path / "not-yet").exists()
    assert all(kb.origin(pid)["source"] == "shipped" for pid in kb.patterns)


def test_shipped_tree_is_never_written(tmp_path):
    from omv_copilot_agent.knowledge import editing

    with pytest.raises(editing.OverlayUnavailable, match="/usr/share"):
        editing.write_atomic(Path("/usr/share/omv-copilot/patterns"), NEW_ID, "x: y")
    assert not Path("/usr/share/omv-copilot/patterns", f"{NEW_ID}.yaml").exists()
    assert os.access(tmp_path, os.W_OK)


# --- omv-copilot patterns validate -----------------------------------------------------------------

def test_cli_validate(tmp_path, make_config):
    from tests.conftest import run_cli

    _, config = make_config()
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(as_yaml(new_pattern()))
    bad.write_text(as_yaml(new_pattern("local-bad-one", category="plumbing", related_patterns=["gone-pattern"])))
    ok = run_cli("--config", str(config), "patterns", "validate", str(good))
    assert ok.returncode == 0 and f"valid ({NEW_ID})" in ok.stdout, ok.stderr
    both = run_cli("--config", str(config), "patterns", "validate", str(good), str(bad))
    assert both.returncode == 1 and "bad.yaml: category:" in both.stdout and "bad.yaml: related_patterns:" in both.stdout
    assert run_cli("--config", str(config), "patterns", "validate").returncode == 2
    missing = run_cli("--config", str(config), "patterns", "validate", str(tmp_path / "none.yaml"))
    assert missing.returncode == 2 and "none.yaml" in missing.stderr and "Traceback" not in missing.stderr


def test_rpc_bridge_methods(srv):
    """The one method table the web UI and OMV's PHP service use."""
    def rpc(method, params):
        return srv.post("/api/v1/rpc", json={"method": method, "params": params})

    check = rpc("validatePattern", {"yaml": as_yaml(new_pattern(confidence=2))}).json()
    assert check["valid"] is False and check["problems"][0]["field"] == "confidence"
    saved = rpc("setPattern", {"id": NEW_ID, "yaml": as_yaml(new_pattern())})
    assert saved.status_code == 201 and saved.json()["source"] == "local"
    rejected = rpc("setPattern", {"id": NEW_ID, "yaml": as_yaml(new_pattern(category="plumbing"))})
    assert rejected.status_code == 400 and rejected.json()["error"]["details"][0]["field"] == "category"
    assert rpc("getPattern", {"id": NEW_ID}).json()["yaml"].startswith(f"pattern_id: {NEW_ID}")
    assert rpc("deletePattern", {"id": NEW_ID}).json()["deleted"] is True
    assert rpc("deletePattern", {"id": NEW_ID}).status_code == 404


def test_a_fetched_pattern_sent_back_as_json_saves(srv):
    """GET answers each diagnostic with its rendered `command`; sending the pattern back drops it, not refuses it."""
    fetched = srv.get(f"/api/v1/knowledge/patterns/{SHIPPED}").json()
    assert all(d["command"] and d["probe"] for d in fetched["diagnostics"])
    r = put(srv, SHIPPED, json={"pattern": {**fetched, "title": "Reallocated sectors, sent back as JSON"}})
    assert r.status_code == 200, r.text
    saved = yaml.safe_load(srv.get(f"/api/v1/knowledge/patterns/{SHIPPED}").json()["yaml"])
    assert all("command" not in d for d in saved["diagnostics"]) and saved["title"].endswith("as JSON")


def test_a_saved_pattern_reaches_ranking_and_the_routers_word_model_at_once(tmp_path):
    """The index, the packed patterns and the router's word model (cached per index) are all rebuilt
    by a save and a delete: an answer never routes or ranks with the pattern as it was before."""
    from omv_copilot_agent.assist import router
    from omv_copilot_agent.knowledge import KnowledgeBase

    kb = KnowledgeBase(local_dir=tmp_path)
    question = "zebrafrobnicator"
    assert router.words_of(kb.index).posterior(question) == {}
    kb.save_local(NEW_ID, as_yaml(new_pattern(category="security")))
    learnt = router.words_of(kb.index).posterior(question)
    assert max(learnt, key=learnt.get) == "security", learnt
    assert [m.pattern_id for m in kb.search(question)][:1] == [NEW_ID]
    kb.save_local(NEW_ID, as_yaml(new_pattern(category="network")))
    learnt = router.words_of(kb.index).posterior(question)
    assert max(learnt, key=learnt.get) == "network", learnt
    assert kb.get(NEW_ID)["category"] == "network" and kb.search(question)[0].category == "network"
    assert kb.delete_local(NEW_ID)
    assert router.words_of(kb.index).posterior(question) == {} and kb.search(question) == []
