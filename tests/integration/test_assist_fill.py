"""A KB answer's checks filled from the question and the box: the degraded array, the failing disk,
the named interface — and asked for when the box does not say which one (never guessed)."""

from __future__ import annotations

import copy

import pytest

from omv_copilot_agent.collect.snapshot import SourceResult
from omv_copilot_agent.knowledge import fill
from tests.assist_helpers import fixture_snapshot


@pytest.fixture
def srv(live_server):
    def _start(edit=None):
        server = live_server({"assist": {"providers": []}}, cycle=False)
        snap = fixture_snapshot()
        if edit:
            edit(snap)
        server.agent.snapshot = snap
        return server
    return _start


def _ask(server, query):
    resp = server.post("/api/v1/assist/query", json={"query": query, "mode": "kb_only"})
    assert resp.status_code == 200, resp.text
    return resp.json()


def _md_rows(answer):
    assert answer["matched_patterns"][0]["pattern_id"] == "mdadm-degraded", answer["matched_patterns"]
    return [d for d in answer["suggested_diagnostics"] if "mdadm --detail" in d["command"]]


def test_degraded_array_of_the_box_fills_the_md_check(srv):
    """The fixture box has md0 degraded (sdb failed): the check reads `mdadm --detail /dev/md0`, runnable as shown."""
    rows = _md_rows(_ask(srv(), "my raid is degraded"))
    assert rows and rows[0]["command"].endswith("/dev/md0"), rows
    assert rows[0]["params"] == {"md_device": "/dev/md0"} and rows[0]["needs"] == []


def test_box_without_arrays_asks_which_array(srv):
    def no_raid(snap):
        storage = copy.deepcopy(snap.sources["storage"].data)
        storage["raid"] = []
        snap.sources["storage"] = SourceResult(name="storage", status="ok", data=storage)
    answer = _ask(srv(no_raid), "my raid is degraded")
    rows = _md_rows(answer)
    assert rows and "{md_device}" in rows[0]["command"] and rows[0]["needs"] == ["md_device"], rows
    # and the box having no array at all is said: it bears on the question
    assert "This box shows no md RAID array right now" in answer["analysis"]


def test_an_array_on_the_box_or_an_unread_source_says_nothing_of_none():
    snap = fixture_snapshot()
    assert fill.none_on_box(["md_device"], snap) == []  # md0 is there
    assert fill.none_on_box(["md_device", "pool"], None) == []  # nothing read: nothing claimed
    snap.sources["storage"] = SourceResult(name="storage", status="error", data={})
    assert fill.none_on_box(["md_device"], snap) == []
    # zpool list timed out: the storage reading is degraded and its empty pool list is no finding
    snap.sources["storage"] = SourceResult(name="storage", status="degraded", data={"raid": [], "zfs": []},
                                           reason="zpool list: timed out after 15 s")
    assert fill.none_on_box(["pool", "md_device"], snap) == []
    snap.sources["storage"] = SourceResult(name="storage", status="ok", data={"raid": [], "zfs": []})
    assert [s.split(":")[0] for s in fill.none_on_box(["pool", "md_device", "pool"], snap)] == [
        "This box shows no ZFS pool right now", "This box shows no md RAID array right now (the last reading of /proc/mdstat lists none)"]


def test_two_degraded_arrays_are_not_guessed(srv):
    def two(snap):
        storage = copy.deepcopy(snap.sources["storage"].data)
        storage["raid"] = [dict(storage["raid"][0]), dict(storage["raid"][0], name="md1")]
        snap.sources["storage"] = SourceResult(name="storage", status="ok", data=storage)
    rows = _md_rows(_ask(srv(two), "my raid is degraded"))
    assert rows[0]["needs"] == ["md_device"]
    rows = _md_rows(_ask(srv(two), "my raid md1 is degraded"))
    assert rows[0]["params"] == {"md_device": "/dev/md1"}, rows


def test_question_words_only_fill_values_the_probe_accepts():
    """A path the question names feeds a data-path probe only when that probe would take it."""
    diags = [{"probe": "dir-size", "params": {"path": "{path}"}}]
    assert fill.candidates("is /etc/shadow full", None)["path"] == ["/etc/shadow"]
    assert fill.values(diags, "is /etc/shadow full", None) == {}
    assert fill.values(diags, "is /srv/dev-disk-by-uuid-1/media full", None) == {"path": "/srv/dev-disk-by-uuid-1/media"}
    assert fill.values(diags, "what now", None) == {}


def test_virtual_interfaces_do_not_make_the_interface_ambiguous():
    snap = fixture_snapshot()
    net = copy.deepcopy(snap.sources["network"].data)
    net["interfaces"] += [{"name": "docker0", "up": True}, {"name": "veth12ab", "up": True}, {"name": "lo", "up": True}]
    snap.sources["network"] = SourceResult(name="network", status="ok", data=net)
    assert fill.candidates("transfers are slow", snap)["interface"] == ["enp3s0"]
    net["interfaces"].append({"name": "enp4s0", "up": True})
    assert "interface" not in fill.candidates("transfers are slow", snap)
    assert fill.candidates("enp4s0 drops packets", snap)["interface"] == ["enp4s0"]


def test_the_disk_failed_out_of_the_degraded_array_is_the_one_checked():
    """The fixture's md0 lost sdb while both disks pass SMART: the member check goes to sdb, not a guess."""
    snap = fixture_snapshot()
    assert fill.candidates("my raid is degraded", snap)["device"] == ["/dev/sdb"]


def test_units_named_in_the_question_come_in_its_order_in_every_process():
    """'nmbd and smbd failed': the first unit named is tried first. Collected through a set, the order
    followed the process's string hash seed, so the same question checked a different unit per restart."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = ("from omv_copilot_agent.knowledge import fill\n"
            "class Snap:\n"
            "    def data(self, source):\n"
            "        return {'units': [{'name': n, 'active_state': 'failed'} for n in ('smbd', 'nmbd', 'ssh')]}"
            " if source == 'services' else {}\n"
            "print(fill.candidates('nmbd and smbd both failed', Snap())['unit'])\n")
    seen = {subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout for seed in range(8)}
    assert seen == {"['nmbd', 'smbd']\n"}, seen
