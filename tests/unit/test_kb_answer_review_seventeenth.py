"""Seventh review of the KB-only answer (docs/review-2026-12-07-seventeenth.md): one test per fix, each failing on
the code before it. Matches are stubbed and the box is a stub, so what is tested is the composition and the
filling, not the ranking.
"""

from __future__ import annotations

import pytest

from omv_copilot_agent.assist import kb_answer
from omv_copilot_agent.knowledge import fill
from tests.unit.test_kb_answer_review_sixteenth import _Box
from tests.unit.test_kb_answer_review_thirteenth import _match  # the stub of one match

N4 = ("changing the time server fails, omv-salt deploy run chrony says start_chrony_service Result: False, Job for "
      "chrony.service failed because the control process exited with error code")


# -- 1. the unit the question's salt output names fills {unit} ----------------------------------------------------

def test_the_unit_the_question_names_fills_the_unit_placeholder():
    """N4, before: "systemctl status {unit} --no-pager; journalctl -u {unit} ..." with "needs: {unit}" under a
    question quoting "Job for chrony.service failed" (the box's services were not read, so no unit was known)."""
    command = "systemctl status {unit} --no-pager; journalctl -u {unit} -b --no-pager -n 50"
    match = _match("apply-service-start-failed", 0.89, solutions=[{"action": "read the unit's log", "command": command,
                                                                  "risk": "unverified", "priority": 1}])
    action = kb_answer.compose(N4, "service", [match], [], "stub", _Box())["recommended_actions"][0]
    assert action["command"] == ("systemctl status chrony.service --no-pager; journalctl -u chrony.service -b "
                                 "--no-pager -n 50"), action
    assert not action["needs"]


@pytest.mark.parametrize("query, units", [
    ("nut-driver@ups.service keeps failing", ["nut-driver@ups.service"]),
    ("smbd.service won't start. nmbd.service neither.", ["smbd.service", "nmbd.service"]),
    ("chrony fails to start", []),  # a program, not a unit by its name
    ("the drop-in in /etc/systemd/system/smbd.service.d/override.conf", []),
])
def test_units_named(query, units):
    assert fill.units_named(query) == units


# -- 2. "what changed?" under a question saying what changed ------------------------------------------------------

@pytest.mark.parametrize("query, context, asked", [
    ("several dashboard widgets are down after the omv update to 6.7.0-1 on my raspberry pi, even after a full reboot",
     "general", "When did it start, and what changed around then?"),
    ("after upgrading omv 7 to 8 and installing omv-extras the plugins are not found in the plugins page",
     "general", "When did it start, and what changed around then?"),
    ("after uninstalling the mergerfs plugin I get error 500 Internal Server Error", "general",
     "When did it start, and what changed around then?"),
    ("boot takes forever at the quota service since I added my big drives, I don't think I even use quota",
     "storage", "Did anything change recently (new disk, power loss, OMV update)?"),
    ("after I created an ext4 file system quota.service fails at boot", "storage",
     "Did anything change recently (new disk, power loss, OMV update)?"),
])
def test_a_question_saying_what_changed_is_not_asked_what_changed(query, context, asked):
    """N5, N7, N8 (general), N2, N3 (storage), before: the question says what the problem followed (an update, an
    upgrade, an uninstalled plugin, added drives, a new file system) and the answer asked what changed."""
    assert asked not in kb_answer.follow_ups(context, query)
    assert asked in kb_answer.compose("what did change recently", context, [], [], "stub")["follow_up_questions"]


@pytest.mark.parametrize("query", [
    "my raid1 file system is not mounted automatically after a reboot anymore",  # when, not what changed
    "changing the time server fails",  # the failing step, not an earlier change
    "after movies are copied the share is slow",
])
def test_a_question_not_saying_what_changed_is_still_asked(query):
    assert "When did it start, and what changed around then?" in kb_answer.follow_ups("general", query)
