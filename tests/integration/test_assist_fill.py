"""A KB answer's checks filled from the question and the box: the degraded array, the failing disk,
the named interface — and asked for when the box does not say which one (never guessed)."""

from __future__ import annotations

import copy
from pathlib import Path

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


def _recover(answer):
    assert answer["matched_patterns"][0]["pattern_id"] == "mdadm-degraded", answer["matched_patterns"]
    rows = [r for r in answer["recommended_actions"] if "--add" in r.get("command", "")]
    assert len(rows) == 1, answer["recommended_actions"]
    return rows[0]


def test_degraded_array_of_the_box_fills_the_md_check(srv):
    """The fixture box has md0 degraded (sdb failed): the check reads `mdadm --detail /dev/md0`, runnable as shown."""
    rows = _md_rows(_ask(srv(), "my raid is degraded"))
    assert rows and rows[0]["command"].endswith("/dev/md0"), rows
    assert rows[0]["params"] == {"md_device": "/dev/md0"} and rows[0]["needs"] == []


def _raid(*names):
    """An edit of the fixture box: its md arrays are copies of its degraded md0 named ``names`` (none: no array)."""
    def edit(snap):
        storage = copy.deepcopy(snap.sources["storage"].data)
        storage["raid"] = [dict(storage["raid"][0], name=name) for name in names]
        snap.sources["storage"] = SourceResult(name="storage", status="ok", data=storage)
    return edit


def test_box_without_arrays_asks_which_array(srv):
    answer = _ask(srv(_raid()), "my raid is degraded")
    rows = _md_rows(answer)
    assert rows and "{md_device}" in rows[0]["command"] and rows[0]["needs"] == ["md_device"], rows
    # and the box having no array at all is said (once, though the check and the Recover action both ask)
    assert answer["analysis"].count("This box shows no md RAID array right now") == 1
    # the Recover action keeps its placeholders and lists them
    row = _recover(answer)
    assert row["command"] == "mdadm --manage {md_device} --add {new_device}", row
    assert row["needs"] == ["md_device", "new_device"] and row["params"] == {}


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
    rows = _md_rows(_ask(srv(_raid("md0", "md1")), "my raid is degraded"))
    assert rows[0]["needs"] == ["md_device"]
    rows = _md_rows(_ask(srv(_raid("md0", "md1")), "my raid md1 is degraded"))
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


# -- a solution's command: its {placeholders} filled the same way, or asked for -------------------------------

def test_the_recover_command_names_the_boxs_degraded_array_and_asks_for_the_new_disk(srv):
    """md127 is the box's one degraded array: the command says it; the disk to add is the new one, which the
    box cannot know (its failed sdb is the disk to replace, not the one to add), so it stays asked for."""
    row = _recover(_ask(srv(_raid("md127")), "my raid is degraded"))
    assert row["command"] == "mdadm --manage /dev/md127 --add {new_device}", row
    assert row["needs"] == ["new_device"] and row["params"] == {"md_device": "/dev/md127"}
    assert row["risk"] == "data-risk"


def test_the_array_the_question_names_wins_over_the_box(srv):
    row = _recover(_ask(srv(_raid("md127")), "my raid /dev/md5 is degraded"))
    assert row["command"] == "mdadm --manage /dev/md5 --add {new_device}" and row["needs"] == ["new_device"], row


def test_a_question_with_shell_in_it_fills_only_the_device_name(srv):
    row = _recover(_ask(srv(), "raid degraded /dev/md0;rm -rf / $(reboot) `id`"))
    assert row["command"] == "mdadm --manage /dev/md0 --add {new_device}", row


def test_only_values_of_fills_shapes_reach_a_command():
    """Whatever a value looks like, it fills a command only in the shape of its name: a box's odd array or
    interface name, or a value handed in directly, leaves the placeholder."""
    for bad in ("/dev/md0;rm -rf /", "/dev/md0 /dev/sda", "$(reboot)", "-/dev/md0", "/dev/md0\n", "/dev/sdb"):
        assert fill.apply_command("mdadm --readwrite {md_device}", {"md_device": bad}) == (
            "mdadm --readwrite {md_device}", ["md_device"]), bad
    assert fill.apply_command("mdadm --readwrite {md_device}", {"md_device": "/dev/md1"}) == ("mdadm --readwrite /dev/md1", [])
    assert fill.apply_command("ip link show {interface}", {"interface": "eth0;reboot"})[1] == ["interface"]
    assert fill.apply_command("ls {path}", {"path": "/srv/../etc/shadow"})[1] == ["path"]
    # an ask-only name is never filled, even when a value is at hand
    assert fill.apply_command("mdadm --add {new_device}", {"new_device": "/dev/sdc"}) == ("mdadm --add {new_device}", ["new_device"])

    class Snap:
        def data(self, source):
            return {"raid": [{"name": "md0;reboot", "degraded": True}]} if source == "storage" else \
                {"interfaces": [{"name": "eth0 $(id)", "up": True}]} if source == "network" else {}
    assert fill.command_values("mdadm --readwrite {md_device} && ip link show {interface}", "raid slow", Snap()) == {}


def test_a_data_risk_command_is_not_filled_from_a_guess():
    """Two arrays named in the question: a data-risk command asks which; a read-only one takes the first."""
    snap = fixture_snapshot()
    command = "mdadm --manage {md_device} --add {new_device}"
    assert fill.command_values(command, "md0 and md5 both degraded", snap, strict=True) == {}
    assert fill.command_values(command, "md0 and md5 both degraded", snap) == {"md_device": "/dev/md0"}
    assert fill.command_values(command, "is it degraded", snap, strict=True) == {"md_device": "/dev/md0"}  # the box's one
    _raid("md0", "md1")(snap)
    assert fill.command_values(command, "is it degraded", snap, strict=True) == {}


def test_the_array_to_stop_and_wipe_for_a_disk_in_use_is_never_the_boxs():
    """disk-in-use-cannot-format-or-wipe stops and wipes the *old* array that holds a disk the user wants to
    reuse; the box's one array is as likely the one holding their data, so the command always asks, even
    on a box with a single array and a question that names it."""
    from omv_copilot_agent.knowledge import KnowledgeBase

    pattern = KnowledgeBase(Path(__file__).resolve().parents[2] / "patterns").patterns["disk-in-use-cannot-format-or-wipe"]
    wipes = [s["command"] for s in pattern["solutions"] if s.get("risk") == "data-risk" and s.get("command")]
    assert wipes and all("{old_md_device}" in c for c in wipes), wipes
    snap = fixture_snapshot()  # one array, md0, holding the user's data
    for command in wipes:
        for query in ("cannot wipe the disk, it is in use", "cannot wipe /dev/sdc, mdadm says /dev/md0 holds it"):
            filled = fill.command_values(command, query, snap, strict=True)
            assert fill.apply_command(command, filled) == (command, ["old_md_device"]), (command, query)


def test_other_braces_in_a_command_are_literal_text():
    """docker's Go templates, find's {}, JSON and awk blocks are no placeholders: kept as written, needing nothing."""
    for command in ("docker ps -a --format '{{.Names}} {{.Ports}}'",
                    "find /srv/x -type d -exec chmod 2775 {} +",
                    "omv-rpc -u admin 'ShareMgmt' 'createSnapshot' '{\"uuid\": \"<shared folder uuid>\"}'",
                    "docker inspect --format '{{device}}' plex", "awk '{ print $1 }' /proc/mdstat"):
        assert fill.in_command(command) == [] and fill.apply_command(command, {"device": "/dev/sda"}) == (command, []), command


def test_the_loader_refuses_an_unknown_placeholder_in_a_solution_command():
    from omv_copilot_agent.knowledge import loader
    from tests.conftest import ROOT
    import yaml

    pattern = yaml.safe_load((ROOT / "patterns" / "storage--mdadm-degraded.yaml").read_text())
    assert loader.validate(pattern) == []
    pattern["solutions"][1]["command"] = "mdadm --manage {md_device} --add {new_disk}"
    problems = loader.validate(pattern)
    assert [f for f, _ in problems] == ["solutions.1.command"] and "unknown placeholder '{new_disk}'" in problems[0][1], problems
    for literal in ("docker ps --format '{{.Names}}'", "find /srv -exec ls {} +", "awk '{ print }' x"):
        pattern["solutions"][1]["command"] = literal
        assert loader.validate(pattern) == [], literal


def test_the_cli_shows_the_filled_command_and_what_is_still_to_fill_in():
    from omv_copilot_agent.cli.ask import render

    answer = {"mode": "kb_only", "context": "storage", "recommended_actions": [
        {"action": "Recover", "risk": "data-risk", "command": "mdadm --manage /dev/md127 --add {new_device}",
         "needs": ["new_device"], "params": {"md_device": "/dev/md127"}, "explanation": "rebuilds"}]}
    text = render(answer, width=200)
    assert "      $ mdadm --manage /dev/md127 --add {new_device}\n" in text
    assert "needs: {new_device} = the new disk to add (not the failed one" in text and "(fill in before you run it)" in text


def test_a_data_risk_command_takes_the_boxs_array_only_when_it_is_in_trouble():
    """A box with one healthy array: a read-only command may name it, a data-risk one (mdadm --stop of an
    array that vanished) asks: the healthy array is as likely the one the data lives on."""
    snap = fixture_snapshot()
    storage = copy.deepcopy(snap.sources["storage"].data)
    storage["raid"] = [dict(storage["raid"][0], name="md0", degraded=False, state="clean", failed=[])]
    snap.sources["storage"] = SourceResult(name="storage", status="ok", data=storage)
    command = "mdadm --stop {md_device} && mdadm --assemble --run {md_device}"
    assert fill.command_values(command, "my raid vanished", snap, strict=True) == {}
    assert fill.command_values(command, "my raid vanished", snap) == {"md_device": "/dev/md0"}
    assert fill.command_values(command, "my raid /dev/md1 vanished", snap, strict=True) == {"md_device": "/dev/md1"}
