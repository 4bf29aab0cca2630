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
