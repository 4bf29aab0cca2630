"""A probe result reads as ok / problem found / could not run (why), each with one line of meaning.

The old contract had only ``ok`` (exit code among the probe's): "not installed", "needs a
parameter", "not applicable here" and "SMART says FAILED" all looked the same.
"""

from __future__ import annotations

import pytest

from omv_copilot_agent import probes
from omv_copilot_agent.knowledge import diagnostics
from omv_copilot_agent.probes import verdict


def result(**kw) -> dict:
    base = {"argv": ["tool"], "returncode": 0, "stdout": "", "stderr": "", "timed_out": False, "error": None,
            "matched_expected": None, "expected_output": None}
    return {**base, **kw}


@pytest.mark.parametrize("probe_name, kw, state, reason, words", [
    ("smart-health", {"stdout": "SMART overall-health self-assessment test result: PASSED\n"}, "ok", None, "healthy"),
    ("smart-health", {"returncode": 4, "stdout": "SMART overall-health self-assessment test result: FAILED!\n"},
     "problem", None, "FAILED"),
    ("bond-status", {"returncode": 1, "stderr": "cat: /proc/net/bonding/bond0: No such file or directory\n"},
     "could_not_run", "not_applicable", "no bonding interface"),
    ("failed-units", {"stdout": "0 loaded units listed.\n"}, "ok", "", "no failed"),
    ("failed-units", {"stdout": "2 loaded units listed.\n"}, "problem", None, "2 loaded units listed"),
    ("failed-units", {"returncode": 1, "stderr": "System has not been booted with systemd as init system (PID 1).\n"},
     "could_not_run", "not_applicable", "systemd"),
    ("readonly-mounts", {"returncode": 1}, "ok", None, "no data file system"),
    ("docker-disk", {"returncode": 1, "stderr": "Cannot connect to the Docker daemon at unix:///var/run/docker.sock.\n"},
     "could_not_run", "not_applicable", "not running"),
    ("uptime", {"returncode": 127}, "could_not_run", "not_installed", "not installed"),
    ("disk-free-path", {"stdout": "Filesystem Size Used Avail Use% Mounted on\n/dev/sda1 30G 28G 1G 95% /\n"},
     "problem", None, "nearly full: 95% /"),
    ("disk-free-path", {"stdout": "Filesystem Size Used Avail Use% Mounted on\n/dev/sda1 30G 7G 21G 24% /srv/d\n"},
     "ok", None, "used: 24% /srv/d"),
    ("uptime", {"returncode": 2, "stderr": "uptime: bad thing\nmore\n"}, "problem", None, "exited with 2: uptime: bad thing"),
    ("uptime", {"stdout": "\n 10:00 up 3 days\n"}, "ok", None, "10:00 up 3 days"),
    ("uptime", {"error": "uptime is not installed", "returncode": None}, "could_not_run", "not_installed", "not installed"),
    ("uptime", {"error": "uptime did not finish within 5 s and was killed", "timed_out": True}, "could_not_run",
     "timed_out", "did not finish"),
    ("uptime", {"error": "refused: bwrap cannot build the probe sandbox here"}, "could_not_run", "refused", "bwrap"),
    ("uptime", {"matched_expected": False, "expected_output": "all good"}, "problem", None, "expected /all good/"),
])
def test_judge_reads_the_output(probe_name, kw, state, reason, words):
    judged = verdict.judge(result(**kw), probes.get(probe_name))
    assert judged["state"] == state, judged
    assert (judged["reason"] or "") == (reason or ""), judged
    assert words in judged["reading"] and "\n" not in judged["reading"]


def test_a_missing_placeholder_says_which_parameter(monkeypatch):
    step = diagnostics.run_step({"name": "health", "probe": "smart-health", "params": {"device": "{device}"}}, {})
    assert step["state"] == "could_not_run" and step["reason"] == "needs_parameter"
    assert "device" in step["reading"]


def test_a_missing_tool_is_not_installed(monkeypatch):
    monkeypatch.setitem(probes.catalogue(), "test-absent", probes.Probe("test-absent", "absent", ("no-such-tool-ocp",)))
    step = diagnostics.run_step({"name": "absent", "probe": "test-absent"}, {})
    assert (step["state"], step["reason"]) == ("could_not_run", "not_installed")
    assert step["reading"] == "no-such-tool-ocp is not installed on this box"


def test_a_bad_parameter_names_it():
    step = diagnostics.run_step({"name": "health", "probe": "smart-health", "params": {"device": "{device}"}},
                                {"device": "/etc/passwd"})
    assert (step["state"], step["reason"]) == ("could_not_run", "bad_parameter") and "device" in step["reading"]


def test_every_catalogue_reading_compiles_and_is_one_line():
    for probe in probes.catalogue().values():
        for rule in probe.readings:
            assert "\n" not in rule.text and rule.state in ("ok", "problem", "not_applicable"), probe.name


def test_bad_readings_are_refused_naming_the_probe():
    with pytest.raises(ValueError, match="probe p readings\\[0\\]"):
        verdict.parse_readings("p", [{"state": "fine", "text": "x", "match": "y"}])
    with pytest.raises(ValueError, match="needs match, exit or empty"):
        verdict.parse_readings("p", [{"state": "ok", "text": "x"}])


def test_summary_counts_states():
    assert verdict.summary([{"state": "ok"}, {"state": "problem"}, {"state": "ok"}]) == \
        {"ok": 2, "problem": 1, "could_not_run": 0}
