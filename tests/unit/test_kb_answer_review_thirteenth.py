"""Third review of the KB-only answer (docs/review-2026-12-07-thirteenth.md): one test per fix, each
failing on the code before it. The matches and the box's signals are stubbed, so what is tested is
the composition, not the ranking.
"""

from __future__ import annotations

from omv_copilot_agent.assist import kb_answer
from tests.assist_helpers import fixture_snapshot


def _match(pid: str, score: float, **pattern) -> dict:
    return {"pattern_id": pid, "title": pid.replace("-", " "), "category": "storage", "score": score,
            "reasons": ["words: stub"], "pattern": {"causes": ["a cause"], "symptoms": ["a symptom"], **pattern}}


def _signal(pid: str, finding: str, context: str = "storage") -> dict:
    return {"pattern_id": pid, "title": pid.replace("-", " "), "category": context, "score": 0.9,
            "reasons": [f"finding: {finding}"], "context": context}


SSH_DOWN = _signal("omv-service-enabled-not-running", "service-down on ssh: SSH is enabled in OMV but not running",
                   "service")
MD127 = _signal("mdadm-degraded", "raid-degraded on md127: md127 is degraded (1/2 devices active)")


# -- the box's state only where it bears on the question ------------------------------------------

def test_state_about_another_service_does_not_bear_on_a_question_naming_one():
    """N9 "nfs is disabled in omv but the dashboard shows the nfs service running", before: "The box's
    state bears on this: SSH is enabled in OMV but not running." (the service pattern was a related match)."""
    q = "nfs is disabled in omv but the dashboard shows the nfs service running"
    matches = [_match("shared-folder-references", 0.86), _match("omv-service-enabled-not-running", 0.78)]
    text = kb_answer.compose(q, "service", matches, [SSH_DOWN], "stub")["analysis"]
    assert "SSH" not in text, text
    # the same state does bear on a question about ssh, or one naming no service
    for q in ("ssh shows as not running", "a service is not running"):
        text = kb_answer.compose(q, "service", matches, [SSH_DOWN], "stub")["analysis"]
        assert "The box's state bears on this: SSH is enabled in OMV but not running." in text, text


def test_no_pattern_answer_leaves_out_state_about_another_service():
    """N7 "networking.service times out ... enp2s0", before: "this box's latest state, which points to service
    problems that may bear on it: SSH is enabled in OMV but not running"."""
    q = "networking.service times out after 5 minutes when enp2s0 has both ipv4 and ipv6 enabled"
    text = kb_answer.compose(q, "service", [], [SSH_DOWN], "stub", fixture_snapshot())["analysis"]
    assert "SSH" not in text and "I have no pattern" in text, text
    text = kb_answer.compose("ssh times out", "service", [], [SSH_DOWN], "stub", fixture_snapshot())["analysis"]
    assert "service problems that may bear on it: SSH is enabled in OMV but not running" in text, text


def test_state_about_the_array_the_question_names_is_said_whatever_matched():
    """N13 "is md127 still rebuilding" on a box whose md127 is degraded (1/2 active), before: the weak match
    mdadm-resync-slow's advice and not a word of the box's md127 (its signal's pattern was not matched)."""
    q = "is md127 still rebuilding"
    text = kb_answer.compose(q, "storage", [_match("mdadm-resync-slow", 0.16)], [MD127], "stub")["analysis"]
    assert "The box's state bears on this: md127 is degraded (1/2 devices active)." in text, text
    # named with /dev/ the same; another array's state is not about it
    text = kb_answer.compose("is /dev/md127 rebuilding", "storage", [_match("mdadm-resync-slow", 0.16)], [MD127],
                             "stub")["analysis"]
    assert "md127 is degraded" in text, text
    text = kb_answer.compose("is md0 still rebuilding", "storage", [_match("mdadm-resync-slow", 0.16)], [MD127],
                             "stub")["analysis"]
    assert "md127" not in text, text
    # and in a no-pattern answer, whatever the context
    text = kb_answer.compose(q, "general", [], [MD127], "stub", fixture_snapshot())["analysis"]
    assert "points to problems that may bear on it: md127 is degraded (1/2 devices active)" in text, text


def test_a_matched_state_about_another_disk_is_not_said_for_the_disk_asked_about():
    """A failing /dev/sdb is not what "smartd mails me every day about /dev/sdd" asks about."""
    sdb = _signal("smart-pending-sectors", "smart-attribute on /dev/sdb: /dev/sdb: 197 Current_Pending_Sector raw=8")
    matches = [_match("smart-error-count-mails", 0.87), _match("smart-pending-sectors", 0.31)]
    text = kb_answer.compose("smartd emails me every day about /dev/sdd", "storage", matches, [sdb], "stub")["analysis"]
    assert "/dev/sdb" not in text, text
    text = kb_answer.compose("smartd emails me every day about sdb", "storage", matches, [sdb], "stub")["analysis"]
    assert "/dev/sdb: 197 Current_Pending_Sector raw=8" in text, text


# -- an array or disk the question names that the box does not show --------------------------------

class _Box:
    """A box whose storage reading (read in full) lists these md arrays and disks."""

    def __init__(self, arrays, disks, status="ok"):
        self._storage = {"raid": [{"name": a, "degraded": False} for a in arrays],
                         "block_devices": [{"name": d, "type": "disk"} for d in disks], "zfs": []}
        self._status = status

    def status(self, name):
        return self._status if name == "storage" else None

    def data(self, name):
        return self._storage if name == "storage" else {}


RESYNC = _match("mdadm-resync-slow", 0.16, solutions=[{"action": "Let it finish", "risk": "read-only"},
                                                      # as the pattern's: its advice is about an array
                                                      {"action": "Make it writable", "risk": "changes-config",
                                                       "command": "mdadm --readwrite {md_device}"}])


def test_an_array_the_question_names_and_the_box_lacks_is_said():
    """S1 "is md127 still rebuilding" on this VM (no md array), before: the resync pattern's advice and not a
    word that the box has no md127; with the box's md0 only, the same."""
    text = kb_answer.compose("is md127 still rebuilding", "storage", [RESYNC], [], "stub", _Box([], ["vda"]))["analysis"]
    assert "This box shows no md RAID array right now" in text, text
    text = kb_answer.compose("is md127 still rebuilding", "storage", [RESYNC], [], "stub",
                             _Box(["md0"], ["sda", "sdb"]))["analysis"]
    assert "This box shows no /dev/md127 right now (its md arrays: /dev/md0)" in text, text
    # the box has it, or its storage was not read in full: nothing said
    for box in (_Box(["md127"], ["sda"]), _Box([], ["sda"], status="degraded")):
        text = kb_answer.compose("is md127 still rebuilding", "storage", [RESYNC], [], "stub", box)["analysis"]
        assert "This box shows no" not in text, text


def test_a_disk_the_question_names_and_the_box_lacks_is_said():
    """N2 "smartd Device: /dev/sdc 8 Currently unreadable (pending) sectors" on a box whose one disk is vda:
    before, `smartctl -A /dev/sdc` was offered as if the box had it."""
    m = _match("smart-pending-sectors", 0.49)
    text = kb_answer.compose("smartd says /dev/sdc has 8 pending sectors", "storage", [m], [], "stub",
                             _Box([], ["vda"]))["analysis"]
    assert "This box shows no disk /dev/sdc right now (its disks: /dev/vda)" in text, text
    text = kb_answer.compose("smartd says sdc has 8 pending sectors", "storage", [m], [], "stub",
                             _Box([], ["sda", "sdc"]))["analysis"]
    assert "This box shows no" not in text, text


def test_two_disks_the_box_lacks_are_said_in_the_plural():
    """N8 "... even after quick wipe of sda and sdb" on the VM: "no disk /dev/sda, /dev/sdb" read wrong."""
    m = _match("disk-in-use-cannot-format-or-wipe", 0.39)
    text = kb_answer.compose("quick wipe of sda and sdb", "storage", [m], [], "stub", _Box([], ["vda"]))["analysis"]
    assert "This box shows no disks /dev/sda, /dev/sdb right now (its disks: /dev/vda): check the names" in text, text
