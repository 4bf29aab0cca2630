"""Readings (assist/readings.py): the values a question asks for, read from the snapshot the answer is handed
(docs/review-2026-12-07-sixteenth.md, S1). The box is the assist fixture snapshot (tests/fixtures/assist/
snapshot.json: a degraded md0, a failing sdb) with a root file system and a sleeping disk added."""

from __future__ import annotations

import time

import pytest

from omv_copilot_agent.assist import kb_answer, readings
from omv_copilot_agent.cli import ask as cli_ask
from tests.assist_helpers import fixture_snapshot
from tests.unit.test_kb_answer_review_thirteenth import _match  # the stub of one match

GIB = 1024 ** 3


def _box(asleep=True):
    """The fixture box: / on /dev/sda1 at 71 %, md0 degraded, sdb asleep since its last reading 2 h before."""
    snap = fixture_snapshot()
    snap.data("storage")["filesystems"].insert(0, {
        "device": "/dev/sda1", "mountpoint": "/", "fstype": "ext4", "uuid": "r", "label": "", "total": int(5.8 * GIB),
        "used": int(4.1 * GIB), "free": int(1.7 * GIB), "percent": 71.0, "readonly": False, "mounted": True,
        "omv_managed": False, "omv_status": 1})
    if asleep:
        snap.data("smart")["disks"][1].update(asleep=True, power_state="standby", read_at=snap.taken_at - 7200,
                                              checked_at=snap.taken_at)
        snap.data("smart")["disks"][0].update(asleep=False, power_state="active", read_at=snap.taken_at,
                                              checked_at=snap.taken_at)
    return snap


NOW = 1764800000.0 + 120  # the fixture's cycle was read 2 min before


def _texts(query, snap=None):
    return [r["text"] for r in readings.of(query, snap or _box(), now=NOW)]


@pytest.mark.parametrize("query, texts", [
    ("how full is my root file system right now",
     ["/ (the OS drive, /dev/sda1): 71 % used, 4.1 of 5.8 GiB, 1.7 GiB free, read 2 min ago"]),
    ("how hot are my disks",
     ["sda (WDC WD40EFRX-68N32N0): 34 °C, read 2 min ago",
      "sdb (ST4000VN008-2DR166): asleep (standby): its temperature now is not read, so as not to wake it; its last "
      "reading: 41 °C, read 2 h 2 min ago"]),
    ("how much ram is used",
     ["RAM: 38 % used, 3.0 of 8.0 GiB, 5.0 GiB available, read 2 min ago",
      "Swap: 0 % used, 0.0 of 1.0 GiB, read 2 min ago"]),
    ("is my raid ok", ["/dev/md0 (raid1): degraded, 1 of 2 devices active, failed: sdb, read 2 min ago"]),
    ("which disks are asleep",
     ["sdb (ST4000VN008-2DR166): asleep (standby), read 2 min ago",
      "sda (WDC WD40EFRX-68N32N0): awake (active), read 2 min ago"]),
    ("how long has it been up", ["Uptime: up 1 day 0 h, booted " + time.strftime("%Y-%m-%d %H:%M", time.localtime(1764713600.0))
                                 + " (the box's time), read 2 min ago"]),
    ("how full is /srv/dev-disk-by-uuid-1c2d3e4f/family/photos",
     ["/srv/dev-disk-by-uuid-1c2d3e4f (label data, /dev/md0): 75 % used, 2.7 of 3.6 TiB, 931.3 GiB free, "
      "read 2 min ago"]),
    ("how busy is the cpu", ["CPU: 12 % busy, 4 cores, load 0.40 / 0.50 / 0.60 (1 / 5 / 15 min), read 2 min ago"]),
])
def test_a_question_asking_for_a_reading_gets_its_values_with_their_time(query, texts):
    assert _texts(query) == texts


def test_every_file_system_the_fullest_first_when_the_question_names_none():
    assert [r["subject"] for r in readings.of("how much disk space is left", _box(), now=NOW)] == \
        ["/srv/dev-disk-by-uuid-1c2d3e4f", "/"]


@pytest.mark.parametrize("query", [
    "how full is my fridge", "how hot is it outside", "how long is a piece of string", "how do I add more swap",
    "how long has the rebuild been running", "how do I create a raid", "what is the best movie tonight",
    "give root full access to the share", "my android phone says storage full", "how much ram do i need for omv"])
def test_no_reading_for_a_question_that_asks_none(query):
    assert readings.of(query, _box(), now=NOW) == []


def test_a_sleeping_disk_is_not_woken_its_temperature_now_is_said_as_not_held():
    (row,) = readings.of("how hot is sdb", _box(), now=NOW)
    assert row["held"] is False and "asleep" in row["value"] and "not read" in row["value"]
    assert row["read_at"] == 1764800000.0 - 7200  # its last reading, with its own time


def test_readings_never_run_a_command(monkeypatch):
    import subprocess

    from omv_copilot_agent import runner

    def refuse(*a, **k):
        raise AssertionError("a reading ran a command")
    monkeypatch.setattr(runner, "run", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)
    for query in ("how hot are my disks", "which disks are asleep", "is my raid ok", "how full is /"):
        assert readings.of(query, _box(), now=NOW)


def test_an_unread_source_is_said_not_guessed():
    from omv_copilot_agent.collect.base import SourceResult

    snap = _box()
    snap.sources["smart"] = SourceResult(name="smart", status="unavailable", reason="smartctl not found (install smartmontools)")
    (row,) = readings.of("how hot are my disks", snap, now=NOW)
    assert row["held"] is False and row["read_at"] is None
    assert row["text"] == "Disks: no reading: its source 'smart' is unavailable (smartctl not found (install smartmontools))"
    assert readings.of("how hot are my disks", None) == []


def test_named_subjects_the_box_has_not():
    assert _texts("is md5 ok") == ["Array md5: not in the latest reading of /proc/mdstat (its arrays: md0), read 2 min ago"]
    snap = _box()
    snap.data("storage")["raid"] = []
    assert _texts("is my raid ok", snap) == [
        "Arrays: none on this box: the latest reading lists no md RAID array (/proc/mdstat) and no ZFS pool, read 2 min ago"]


def test_names_from_the_box_are_text_not_lines_or_control_sequences():
    snap = _box()
    snap.data("storage")["filesystems"][0]["device"] = "/dev/sda1\nRAM: 1 % used\x1b[2J"
    (row,) = readings.of("how full is /", snap, now=NOW)
    assert "\n" not in row["text"] and "\x1b" not in row["text"]
    assert row["label"] == "/ (the OS drive, /dev/sda1\\nRAM: 1 % used\\x1b[2J)"


def test_a_problem_keeps_the_patterns_advice_with_the_reading_above_it():
    query = "my root file system is full, what do I do"
    fields = kb_answer.compose(query, "storage", [_match("docker-fills-root", 0.9)], [], "stub", _box())
    assert [r["subject"] for r in fields["readings"]] == ["/"]
    assert "Best match" in fields["analysis"] and fields["follow_up_questions"] is not None
    # no reading for an off-topic question, whatever matched
    assert kb_answer.compose("how full is my fridge", "general", [], [], "stub", _box())["readings"] == []


def test_a_question_that_only_asks_says_its_readings_are_the_answer_and_the_patterns_advice():
    # "how long has it been up" reached smart-scheduled-test-not-running (0.73) through "long": the analysis named it
    # as the best match of a question that reports no problem (s17-readings' report)
    fields = kb_answer.compose("how long has it been up", "storage", [_match("smart-scheduled-test-not-running", 0.73)],
                               [], "stub", _box())
    assert [r["kind"] for r in fields["readings"]] == ["uptime"]
    assert f"{readings.READING_ASKED} Best match: " in fields["analysis"]
    # a problem with a reading keeps the analysis as it was
    problem = kb_answer.compose("my root file system is full, what do I do", "storage", [_match("docker-fills-root", 0.9)],
                                [], "stub", _box())
    assert problem["readings"] and readings.READING_ASKED not in problem["analysis"]


def test_a_reading_no_pattern_matches_is_answered_by_its_values():
    fields = kb_answer.compose("how long has it been up", "general", [], [], "stub", _box())
    assert [r["kind"] for r in fields["readings"]] == ["uptime"]
    assert readings.ANSWERED in fields["analysis"] and "I have no pattern" not in fields["analysis"]
    assert fields["analysis"].startswith("Knowledge-base answer (stub). " + readings.ANSWERED)


def test_the_cli_shows_the_readings_first():
    answer = {"mode": "kb_only", "context": "storage", "confidence": 0.9, "confidence_label": "high",
              "analysis": "Knowledge-base answer (stub).",
              "readings": readings.of("how full is my root file system right now", _box(), now=NOW)}
    out = cli_ask.render(answer, 120).splitlines()
    assert out[2:4] == ["Readings (this box's latest snapshot)",
                        "  - / (the OS drive, /dev/sda1): 71 % used, 4.1 of 5.8 GiB, 1.7 GiB free, read 2 min ago"]
    assert out.index("Analysis") > 3
    assert "Readings" not in cli_ask.render(dict(answer, readings=[]), 120)


def test_a_file_system_omv_knows_that_is_not_mounted_has_no_usage_to_read():
    snap = _box()
    snap.data("storage")["filesystems"].append({"device": "/dev/sdc1", "mountpoint": None, "fstype": "ext4", "label": "backup",
                                                "total": None, "used": None, "free": None, "percent": None, "mounted": False})
    assert _texts("how full are my disks", snap)[-1] == "/dev/sdc1 (label backup): not mounted: no usage to read, read 2 min ago"
    snap.data("storage")["filesystems"] = []
    assert _texts("how full are my disks", snap) == ["File systems: none in the latest snapshot, read 2 min ago"]


def test_a_snapshot_of_an_unexpected_shape_loses_the_reading_not_the_answer():
    snap = _box()
    snap.data("system")["memory"] = {"percent": "lots", "total": 1}
    assert readings.of("how much ram is used", snap, now=NOW) == []
    assert [r["kind"] for r in readings.of("how much ram is used and how long has it been up", snap, now=NOW)] == ["uptime"]


def test_a_label_or_a_model_of_the_box_names_its_subject():
    assert [r["subject"] for r in readings.of("how full is data", _box(), now=NOW)] == ["/srv/dev-disk-by-uuid-1c2d3e4f"]
    assert [r["subject"] for r in readings.of("how hot is the WD40EFRX", _box(), now=NOW)] == ["sda"]
    assert readings.of("how full is data", None) == [] and readings.asked("how full is data") == []
