"""The agent's publish/subscribe, and the Agent wiring its services through it."""

from __future__ import annotations

import logging

import pytest

from omv_copilot_agent import events
from omv_copilot_agent.events import Events


def test_handlers_run_in_order_and_a_failing_one_does_not_stop_the_rest(caplog):
    bus, seen = Events(), []
    bus.subscribe(events.DIAGNOSTIC_RAN, lambda pid, results: seen.append(("first", pid, len(results))))
    bus.subscribe(events.DIAGNOSTIC_RAN, lambda pid, results: 1 / 0)
    bus.subscribe(events.DIAGNOSTIC_RAN, lambda pid, results: seen.append(("third", pid, len(results))))
    with caplog.at_level(logging.ERROR):
        bus.publish(events.DIAGNOSTIC_RAN, "smart-overall-failed", [{}, {}])
    assert seen == [("first", "smart-overall-failed", 2), ("third", "smart-overall-failed", 2)]
    assert "ZeroDivisionError" in caplog.text


def test_unknown_topic_is_refused_on_both_ends():
    bus = Events()
    with pytest.raises(ValueError, match="unknown event topic 'snapshot'"):
        bus.subscribe("snapshot", print)
    with pytest.raises(ValueError, match="snapshot_collected"):
        bus.publish("snapshot")


def test_agent_wires_its_services_and_a_diagnostic_run_reaches_the_assistant(tmp_path):
    """Running a pattern's diagnostics publishes DIAGNOSTIC_RAN; the assistant remembers it for the next prompt
    (no method of the knowledge base is replaced)."""
    from omv_copilot_agent import config as config_mod
    from omv_copilot_agent.daemon.agent import Agent
    from omv_copilot_agent.knowledge import KnowledgeBase

    agent = Agent(config_mod.from_dict({"data_dir": str(tmp_path), "alerts": {"udev_monitor": False, "rrd_import": False}}))
    try:
        assert agent.knowledge.run_diagnostics.__func__ is KnowledgeBase.run_diagnostics
        (ran,) = agent.knowledge.run_diagnostics("mdadm-degraded", step=0)  # cat /proc/mdstat, for real
        recent = agent.assist.recent_diagnostics(["mdadm-degraded"])
        assert [(d["pattern_id"], d["name"], d["returncode"]) for d in recent] == [("mdadm-degraded", ran["name"], ran["returncode"])]
        assert agent.assist.recent_diagnostics(["smart-overall-failed"]) == []
    finally:
        agent.close()


def test_configuration_history_is_recorded_with_alerts_switched_off(tmp_path):
    """History is its own concern: turning alerts off no longer stops OMV configuration revisions."""
    from omv_copilot_agent.events import SNAPSHOT_COLLECTED
    from tests.alerts_support import make_agent, snapshot

    agent = make_agent(tmp_path, {"enabled": False})
    try:
        agent.events.publish(SNAPSHOT_COLLECTED, snapshot(1000.0, omv={"users": [{"name": "anna", "uid": 1000}]}))
        assert agent.store.list_config_revisions()[0] == 1 and agent.alerts.open_alerts() == []
    finally:
        agent.close()
