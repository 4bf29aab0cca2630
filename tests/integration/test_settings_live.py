"""Settings changed through ``PUT /api/v1/settings`` apply at once, or the answer says they need a restart."""

from __future__ import annotations

import threading

import yaml

from tests.conftest import ROOT


class _CountingAgent:
    """What the Scheduler uses of an Agent: run_cycle, prune, events, collector.close."""

    def __init__(self):
        from omv_copilot_agent.events import Events

        self.cycles = 0
        self.events = Events()
        self.ran = threading.Condition()
        self.collector = type("C", (), {"close": lambda self: None})()

    def run_cycle(self):
        with self.ran:
            self.cycles += 1
            self.ran.notify_all()
        return type("S", (), {"duration_s": 0.0, "overall": "ok"})()

    def prune(self):
        pass


def test_a_new_interval_applies_without_a_restart():
    from omv_copilot_agent.daemon import Scheduler

    agent = _CountingAgent()
    scheduler = Scheduler(agent, 3600.0)
    thread = threading.Thread(target=scheduler.run, daemon=True)
    thread.start()
    try:
        with agent.ran:
            assert agent.ran.wait_for(lambda: agent.cycles >= 1, timeout=30)
        from omv_copilot_agent.events import CONFIG_CHANGED

        agent.events.publish(CONFIG_CHANGED, {"collect": {"interval_s": 0.05}})  # what PUT /settings does after saving
        with agent.ran:  # with the start-up interval this would take hours
            assert agent.ran.wait_for(lambda: agent.cycles >= 4, timeout=60), agent.cycles
    finally:
        scheduler.stop()
        thread.join(timeout=30)
    assert not thread.is_alive()


def _pattern(pattern_id: str) -> str:
    """A shipped pattern's YAML under a new id (a valid local pattern)."""
    text = (ROOT / "patterns" / "services--docker-fills-root.yaml").read_text()
    return text.replace("pattern_id: docker-fills-root", f"pattern_id: {pattern_id}", 1)


def test_knowledge_settings_apply_at_once_and_restart_keys_are_named(live_server, tmp_path):
    server = live_server(cycle=False)
    moved = tmp_path / "data" / "my-patterns"  # under data_dir: the overlay may not live anywhere else
    resp = server.request("PUT", "/api/v1/settings", json={"knowledge": {"local_patterns_dir": str(moved)}})
    assert resp.status_code == 200 and resp.json()["restart_required"] == []
    saved = server.request("PUT", "/api/v1/knowledge/patterns/live-settings-check", json={"yaml": _pattern("live-settings-check")})
    assert saved.status_code in (200, 201), saved.text
    assert (moved / "live-settings-check.yaml").is_file()  # the new directory, without a restart
    resp = server.request("PUT", "/api/v1/settings", json={"assist": {"workers": 3}, "collect": {"interval_s": 120}})
    assert resp.status_code == 200 and resp.json()["restart_required"] == ["assist.workers"]
    saved = yaml.safe_load(open(server.agent.config.path))
    assert saved["assist"] == {"workers": 3}  # saved all the same — and only what differs from the defaults
    assert saved["collect"] == {"interval_s": 120, "source_timeout_s": 10}  # plus what the file had


def test_the_settings_form_saves_back_unchanged(live_server):
    """OMV's settings page sends the form back as it got it: every field must be accepted, including
    sections whose settings are mappings (alerts.policies) and so have no field on the form."""
    srv = live_server()
    form = srv.get("/api/v1/settings/form").json()
    assert not any(key == "alerts__policies" for key in form)
    saved = srv.request("PUT", "/api/v1/settings/form", json=form)
    assert saved.status_code == 200, saved.text
    assert saved.json()["collect__interval_s"] == form["collect__interval_s"]


def test_the_form_holds_each_setting_once_and_no_provider(live_server):
    """E-mail and webhooks are alerts__email/alerts__webhooks only (not notifications__* too); the
    providers are an ordered list with their own page, not a first-provider-only llm__* group."""
    form = live_server(cycle=False).get("/api/v1/settings/form").json()
    assert "alerts__email" in form and "alerts__webhooks" in form
    assert not [k for k in form if k.startswith(("llm__", "notifications__"))]
