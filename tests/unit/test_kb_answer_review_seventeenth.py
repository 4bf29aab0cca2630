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
    assert asked in kb_answer.compose("it stopped working", context, [], [], "stub")["follow_up_questions"]


@pytest.mark.parametrize("query", [
    "my raid1 file system is not mounted automatically after a reboot anymore",  # when, not what changed
    "changing the time server fails",  # the failing step, not an earlier change
    "after movies are copied the share is slow",
])
def test_a_question_not_saying_what_changed_is_still_asked(query):
    assert "When did it start, and what changed around then?" in kb_answer.follow_ups("general", query)


# -- 3. no problem follow-ups under a question that asks for something and reports no problem -----------------------

@pytest.mark.parametrize("query, context, before", [
    ("how much memory is my nas using right now", "performance",
     ["Is it slow all the time or only during transfers or backups?", "How fast is it compared to what you expect (MB/s)?"]),
    ("is the clock on my nas in sync right now", "service",
     ["Which service shows the problem (and on which client, if one is involved)?",
      "What exact error message do you see, and where (web UI, a client, a log or a job's mail)?"]),
    ("can omv join my active directory domain and use its users and groups for the shares", "service",
     ["Which service shows the problem (and on which client, if one is involved)?",
      "What exact error message do you see, and where (web UI, a client, a log or a job's mail)?"]),
    ("how full is my root file system right now", "storage",
     ["Which disk or filesystem is affected (device or mount point)?",
      "Did anything change recently (new disk, power loss, OMV update)?"]),
    ("how do I descale my espresso machine", "general",
     ["What did you expect to happen, and what happened instead?", "When did it start, and what changed around then?"]),
])
def test_a_question_asking_for_something_gets_no_problem_follow_ups(query, context, before):
    """S1, S2, N10, O1, before: a reading ("how much memory … right now", "is the clock … in sync"), a capability
    ("can omv join my active directory domain") and an off-topic how-to were asked which service shows the problem,
    the exact error message, whether it is slow and what changed."""
    assert kb_answer.asks(query)
    assert kb_answer.follow_ups(context, query) == []
    assert kb_answer.compose(query, context, [_match("stub", 0.7)], [], "stub")["follow_up_questions"] == []
    assert kb_answer.compose("it got slow", context, [], [], "stub")["follow_up_questions"] == before


@pytest.mark.parametrize("query", [
    "can't log in to the webui", "is my raid degraded", "which of my disks dropped out of the raid",
    "is it normal that my disks never spin down", "how do i replace a failed disk", "what is error 13 on nfs",
    "is it ok that the cpu is at 100 % all the time", "my nas uses 90% memory",
])
def test_a_question_reporting_a_problem_still_gets_follow_ups(query):
    assert not kb_answer.asks(query)
    assert kb_answer.follow_ups("general", query)


# -- 4. "what happened instead?" under a question quoting what happened ----------------------------------------------

@pytest.mark.parametrize("query", [
    "after uninstalling the mergerfs plugin I get error 500 Internal Server Error: No file system backend exists for "
    "fuse.mergerfs",
    "the plugins are not found in the plugins page, omv-aptclean says omv-mkaptidx: no such file or directory",
])
def test_a_question_quoting_the_error_is_not_asked_what_happened(query):
    """N8, N7, before: "What did you expect to happen, and what happened instead?" under a question quoting the
    error it got (the general context's first follow-up; the service context's "What exact error message" already
    counted a quoted message)."""
    assert "What did you expect to happen, and what happened instead?" not in kb_answer.follow_ups("general", query)
    assert "What did you expect to happen, and what happened instead?" in kb_answer.follow_ups(
        "general", "several dashboard widgets are down")


# -- 5. the speed follow-ups only under a speed problem ------------------------------------------------------------

@pytest.mark.parametrize("query, asked", [
    ("my nas uses 90% memory all the time", []),
    ("cpu load is always at 100 percent", []),
    ("the nas is sluggish", ["Is it slow all the time or only during transfers or backups?",
                             "How fast is it compared to what you expect (MB/s)?"]),
    ("smb copy is slow, only 20 MB/s", ["Is it slow all the time or only during transfers or backups?"]),
])
def test_the_speed_follow_ups_come_only_under_a_speed_problem(query, asked):
    """S1's neighbour, before: a memory or CPU question routed to the performance context was asked "Is it slow all
    the time …?" and "How fast is it compared to what you expect (MB/s)?"."""
    assert kb_answer.follow_ups("performance", query) == asked
