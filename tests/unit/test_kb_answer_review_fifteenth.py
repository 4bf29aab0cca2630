"""Fifth review of the KB-only answer (docs/review-2026-12-07-fifteenth.md): one test per fix, each
failing on the code before it. The matches are stubbed and the box is the assist fixture's (md0
degraded, /dev/sdb failed out of it and failing SMART) or a stub, so what is tested is the
composition, not the ranking.
"""

from __future__ import annotations

from omv_copilot_agent.assist import kb_answer
from tests.assist_helpers import fixture_snapshot
from tests.unit.test_kb_answer_review_thirteenth import _match  # the stub of one match

POWER_STATE = {"name": "Power state of the disk (does not wake it)", "probe": "disk-power-state",
               "params": {"device": "{device}"}}
SMART_ATTRS = {"name": "SMART attributes", "probe": "smart-attributes", "params": {"device": "{device}"}}


def _checks(query: str, *diags, snapshot=None) -> list[tuple[dict, list]]:
    """Each check's (filled values, names still asked for)."""
    answer = kb_answer.compose(query, "storage", [_match("smart-wakes-disks", 0.9, diagnostics=list(diags))], [],
                               "stub", snapshot if snapshot is not None else fixture_snapshot())
    return [(d["params"], d["needs"]) for d in answer["suggested_diagnostics"]]


# -- a placeholder filled with the right disk, or asked for ---------------------------------------

def test_a_spin_down_check_is_not_filled_with_the_disk_that_failed_out_of_the_array():
    """N2 "my disks spin down but wake up again every 30 minutes, stopping smartd makes them stay asleep" on the
    fixture box, before: "Power state of the disk: hdparm -C /dev/sdb" - the member that failed out of md0 (and fails
    SMART), the one disk that is not spinning down and up with the others. Now asked for, unless the question
    names the disk, or the box has only one."""
    q = "my disks spin down but wake up again every 30 minutes, stopping smartd makes them stay asleep"
    assert _checks(q, POWER_STATE) == [({}, ["device"])]
    assert _checks("hdparm -C /dev/sda says active all the time", POWER_STATE) == [({"device": "/dev/sda"}, [])]
    # a health check of the same box still reads the disk in trouble
    assert _checks("a disk shows SMART errors", SMART_ATTRS) == [({"device": "/dev/sdb"}, [])]


class _Box:
    """A stub box read in full: its storage reading (md arrays, block devices) and SMART's disks."""

    def __init__(self, raid=(), disks=("vda",)):
        self._data = {"storage": {"raid": list(raid), "zfs": [],
                                  "block_devices": [{"name": d, "type": "disk"} for d in disks]},
                      "smart": {"disks": [{"device": "/dev/" + d, "passed": True} for d in disks]}}

    def status(self, name):
        return "ok" if name in self._data else None

    def data(self, name):
        return self._data.get(name, {})


MD_DETAIL = {"name": "Array detail", "probe": "md-detail", "params": {"md_device": "{md_device}"}}


# -- the box's state said only as it bears on the advice --------------------------------------------

def test_no_array_on_the_box_does_not_disown_advice_that_is_not_about_an_array():
    """Fourteenth review's N10 "the disks in my /dev/md0 never go to standby" on a box with no md array, before:
    "This box shows no md RAID array right now ...: if it has none, the advice below is not about this box." above
    smart-wakes-disks' SMART settings, which are about the box's disks whatever arrays it has. Now the array the
    question names is said to be absent, and the advice is not disowned."""
    q = "the disks in my /dev/md0 never go to standby"
    text = kb_answer.compose(q, "storage", [_match("smart-wakes-disks", 0.78, diagnostics=[POWER_STATE])], [],
                             "stub", _Box())["analysis"]
    assert "the advice below is not about this box" not in text, text
    assert "This box shows no /dev/md0 right now (no md RAID array at all" in text, text
    # advice about an array (its check asks for one) still says the box has none, once
    text = kb_answer.compose(q, "storage", [_match("mdadm-degraded", 0.8, diagnostics=[MD_DETAIL])], [],
                             "stub", _Box())["analysis"]
    assert text.count("This box shows no md RAID array right now") == 1, text
    assert "the advice below is not about this box" in text and "/dev/md0 right now" not in text, text


# -- follow-ups and what to try do not ask for what the question says ---------------------------------

NUT = ("nut-driver@ups.service keeps failing on omv 7 with libusb1: Could not open any HID devices: insufficient "
       "permissions, but my nut plugin is in netclient mode")
SMBD = ("smbd won't start after an update: /usr/bin/smbd: libldb.so.2: version LDB_2.10.0 not found, smb.service main "
        "process exited status=1/FAILURE")


def test_follow_ups_do_not_ask_for_the_unit_or_the_log_line_the_question_gives():
    """N8 (a unit by its systemd name, the driver's log line after its name and a colon), before: "Which service and
    which client show the problem?" and "What exact error message does the client show?"; N10 the latter."""
    for q in (NUT, SMBD, "smbd[2350]: change_to_user_internal: chdir_current_service() failed! on every open"):
        for matches in ([_match("nut-netclient-driver-errors", 0.97)], []):
            ups = kb_answer.compose(q, "service", matches, [], "stub")["follow_up_questions"]
            assert ups == [], (q, ups)
    # a unit named without its message, a message without a name: the other one is still asked
    ups = kb_answer.compose("nut-driver@ups.service keeps failing", "service", [], [], "stub")["follow_up_questions"]
    assert ups == [kb_answer.FOLLOW_UPS["service"][1]], ups
    ups = kb_answer.compose("a service fails with an error", "service", [], [], "stub")["follow_up_questions"]
    assert len(ups) == 2, ups


def test_no_pattern_answer_does_not_tell_the_user_to_name_what_the_question_named():
    """N10, no pattern matched, before: "Try naming the service, disk or share involved and the exact error
    message." under a question that named smbd (smb.service) and quoted its error."""
    text = kb_answer.compose(SMBD, "service", [], [], "stub")["analysis"]
    assert "Try naming" not in text and "Try other words for it" in text, text
    assert "With an LLM provider configured" in text, text
    text = kb_answer.compose("smbd fails to start", "service", [], [], "stub")["analysis"]
    assert "Try naming the exact error message." in text, text
    for q in ("how long should I boil an egg for a soft yolk", "which tennis racket is best for a beginner"):
        text = kb_answer.compose(q, "general", [], [], "stub")["analysis"]
        assert "Try naming the service, disk or share involved and the exact error message." in text, text


# -- the ZFS pool the question names ----------------------------------------------------------------

IMPORT = {"action": "Import the pool and record it in the cache file", "risk": "unverified",
          "command": "zpool import -d /dev/disk/by-id {pool} && zpool set cachefile=/etc/zfs/zpool.cache {pool}"}
ZPOOL = "my zfs pool tank is gone after every reboot, zpool list says no pools available until I run zpool import tank"


def _pool_answer(query, box):
    return kb_answer.compose(query, "storage", [_match("zfs-pool-not-imported-at-boot", 0.95, solutions=[IMPORT])],
                             [], "stub", box)


def test_the_pool_the_question_names_fills_the_command_the_box_cannot():
    """N5, before: "zpool import -d /dev/disk/by-id {pool} && ... {pool}" with "needs: {pool}" under a question that
    names the pool twice ("my zfs pool tank", "zpool import tank"): the box cannot list a pool that is not imported."""
    answer = _pool_answer(ZPOOL, _Box())
    (action,) = answer["recommended_actions"]
    assert action["command"].startswith("zpool import -d /dev/disk/by-id tank && ") and action["needs"] == [], action
    # the box having no pool at all is still said (the advice is about one)
    assert "This box shows no ZFS pool right now" in answer["analysis"], answer["analysis"]
    # a box with other pools: the named one is said to be absent
    box = _Box()
    box._data["storage"]["zfs"] = [{"name": "media", "health": "ONLINE"}]
    answer = _pool_answer(ZPOOL, box)
    assert "This box shows no ZFS pool tank right now (its pools: media)" in answer["analysis"], answer["analysis"]
    assert "tank" in answer["recommended_actions"][0]["command"]
    # "zpool status says DEGRADED" names no pool; "my pool is gone" neither: asked for
    for q in ("zpool status says DEGRADED after a reboot", "my pool is gone after a reboot"):
        assert _pool_answer(q, _Box())["recommended_actions"][0]["needs"] == ["pool"], q


def test_follow_ups_do_not_ask_which_disk_when_the_question_names_its_pool():
    """N5, before: "Which disk or filesystem is affected (device or mount point)?" under "... until I run zpool import
    tank" - the pool is what is affected."""
    assert not any(u.startswith("Which disk") for u in _pool_answer(ZPOOL, _Box())["follow_up_questions"])
    ups = _pool_answer("my pool is gone after a reboot", _Box())["follow_up_questions"]
    assert "Which disk or filesystem is affected (device or mount point)?" in ups, ups
