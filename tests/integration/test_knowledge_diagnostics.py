"""Diagnostics: catalogue probes only, checked parameters, the sandbox, timeouts, output caps, bounded regexes.

Fake tools are small shell scripts on OMV_COPILOT_EXTRA_PATH, declared as probes for the test
only (the catalogue is extended through monkeypatch). They print their argv: the sandbox is
read-only, so a marker file could not be written even by a tool that did run.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from omv_copilot_agent import probes, runner
from omv_copilot_agent.knowledge import KnowledgeBase, diagnostics


@pytest.fixture
def tools(tmp_path, monkeypatch):
    """Fake tools declared as probes: test-spy (echoes argv), test-slow (sleeps), test-flood (1 MiB), test-writer.

    They live in a world-readable directory: most probes run as nobody, who cannot enter pytest's 0700 tmp.
    """
    shared = Path(tempfile.mkdtemp(prefix="ocp-probe-tools-", dir="/var/tmp"))  # probes see a private /tmp
    shared.chmod(0o755)
    bindir = shared / "bin"
    bindir.mkdir()
    scripts = {
        "spytool": '#!/bin/sh\nprintf "arg:%s\\n" "$@"\necho "status: all good"\n',
        "slowtool": '#!/bin/sh\nexec sleep 120.4242\n',
        "floodtool": '#!/bin/sh\nhead -c 1048576 /dev/zero | tr "\\0" "x"\n',
        "writertool": f'#!/bin/sh\necho owned > {shared}/written && echo wrote\nid -u\n',
    }
    for name, body in scripts.items():
        path = bindir / name
        path.write_text(body)
        path.chmod(path.stat().st_mode | stat.S_IEXEC | stat.S_IXOTH | stat.S_IROTH)
    bindir.chmod(0o755)
    catalogue = probes.catalogue()
    for probe in (probes.Probe("test-spy", "echo", ("spytool", "--host", "{host}"), params={"host": "host"}),
                  probes.Probe("test-plain", "echo", ("spytool", "plain")),
                  probes.Probe("test-slow", "sleeps", ("slowtool",)),
                  probes.Probe("test-flood", "floods", ("floodtool",)),
                  probes.Probe("test-writer", "writes", ("writertool",)),
                  probes.Probe("test-root-writer", "writes as root", ("writertool",), root=True)):
        monkeypatch.setitem(catalogue, probe.name, probe)
    monkeypatch.setenv("OMV_COPILOT_EXTRA_PATH", str(bindir))
    yield SimpleNamespace(bindir=bindir, tmp=tmp_path, shared=shared)
    shutil.rmtree(shared, ignore_errors=True)


def write_pattern(directory, pid, steps):
    directory.mkdir(exist_ok=True)
    data = {"pattern_id": pid, "title": f"Test pattern {pid}", "category": "services", "symptoms": ["test symptom"],
            "diagnostics": [{"name": f"step {i}", **step} for i, step in enumerate(steps)],
            "solutions": [{"priority": 1, "action": "rm -rf the world", "command": "spytool SOLUTION-RAN",
                           "explanation": "never run", "risk": "data-risk"}],
            "references": ["https://docs.openmediavault.org/"], "confidence": 0.5}
    (directory / f"services--{pid}.yaml").write_text(yaml.safe_dump(data))


# --- refusals ------------------------------------------------------------------------------------

@pytest.mark.parametrize("diag,params,reason", [
    ({"probe": "rm-rf"}, {}, "unknown probe 'rm-rf'"),
    ({"probe": "test-spy", "params": {"host": "{host}"}}, {}, "needs parameter 'host' (probe 'test-spy' argument 'host')"),
    ({"probe": "test-spy", "params": {"host": "{host}"}}, {"host": "nas; rm -rf /"}, "probe 'test-spy' parameter 'host'"),
    ({"probe": "test-spy", "params": {"host": "{host}"}}, {"host": "-oProxyCommand=id"}, "parameter 'host'"),
    ({"probe": "test-spy", "params": {"host": "{host}"}}, {"host": 42}, "must be a string"),
    ({"probe": "test-spy", "params": {"host": "nas", "extra": "-x"}}, {}, "has no parameter 'extra'"),
    ({"probe": "read-file", "params": {"file": "{f}"}}, {"f": "/etc/shadow"}, "may hold secrets"),
    ({"probe": "read-file", "params": {"file": "{f}"}}, {"f": "/proc/self/root/etc/shadow"}, "/proc/<pid>"),
    ({"probe": "read-file", "params": {"file": "{f}"}}, {"f": "/etc/../etc/shadow"}, "invalid value"),
    ({"probe": "path-acl", "params": {"path": "{p}"}}, {"p": "/tmp/x"}, "not under /srv"),
])
def test_refused_and_never_run(tools, diag, params, reason):
    result = diagnostics.run_step({"name": "t", **diag}, params)
    assert result["error"] and reason in result["error"], result["error"]
    assert result["returncode"] is None and result["stdout"] == "" and result["argv"] is None


def test_probe_runs_with_checked_value_as_one_argument(tools):
    result = diagnostics.run_step({"name": "t", "probe": "test-spy", "params": {"host": "{host}"}, "filter": "status|nope",
                                   "expected_output": "ALL GOOD"}, {"host": "nas.local"})
    assert result["error"] is None and result["returncode"] == 0 and result["ok"] is True
    assert result["argv"] == ["spytool", "--host", "nas.local", "|", "grep", "-i", "-E", "status|nope"]
    assert result["command"] == "spytool --host {host} | grep -i -E 'status|nope'"
    assert result["matched_expected"] is True and result["stdout"] == "status: all good\n"
    plain = diagnostics.run_step({"name": "t", "probe": "test-plain", "expected_output": "^FAILED"}, {})
    assert plain["stdout"] == "arg:plain\nstatus: all good\n" and plain["matched_expected"] is False


# --- the sandbox, end to end through a probe ------------------------------------------------------

def test_a_writing_probe_cannot_write_as_nobody_or_as_root(tools):
    for name, uid in (("test-writer", "65534"), ("test-root-writer", "0")):
        result = diagnostics.run_step({"name": "w", "probe": name}, {})
        assert result["error"] is None, result
        assert "Read-only file system" in result["stderr"] and "wrote" not in result["stdout"], result
        assert result["stdout"].strip().splitlines()[-1] == uid
        assert not (tools.shared / "written").exists()


def test_no_sandbox_no_probe(tools, monkeypatch):
    """Where bwrap is missing or cannot build namespaces the probe is refused with the reason, not run bare."""
    real_which = runner.which
    monkeypatch.setattr(runner, "which", lambda b: None if b == "bwrap" else real_which(b))
    monkeypatch.setattr(runner, "_sandbox_state", {})
    result = diagnostics.run_step({"name": "t", "probe": "test-plain"}, {})
    assert result["error"].startswith("refused: bubblewrap (bwrap) is not installed") and result["stdout"] == ""
    monkeypatch.setattr(runner, "which", real_which)
    monkeypatch.setattr(runner, "_sandbox_state", {})
    broken = tools.bindir / "bwrap"
    broken.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setattr(runner, "SAFE_PATH", "/nonexistent")
    result = diagnostics.run_step({"name": "t", "probe": "test-plain"}, {})
    assert "bwrap cannot build the probe sandbox here (bwrap: No permissions to create new namespace)" in result["error"]
    monkeypatch.setattr(runner, "_sandbox_state", {})


def test_runner_refuses_an_unsandboxed_or_unrecognised_probe_argv(tools):
    assert runner.run(["spytool", "plain"], checked=True).error.startswith("refused: a probe runs only")
    assert runner.run(["spytool", "-x"], checked=True, sandbox=runner.Sandbox()).error.startswith("refused")


# --- bounded regexes -------------------------------------------------------------------------------

def test_catastrophic_regex_costs_one_step_not_the_process(tools):
    started = time.monotonic()
    slow = diagnostics.run_step({"name": "t", "probe": "test-plain", "expected_output": "(a|aa)+$"}, {})
    assert slow["error"] is None or "took longer than" in slow["error"]
    flood = diagnostics.run_step({"name": "t", "probe": "test-flood", "expected_output": "(x|xx)+y"}, {}, max_output=4096)
    assert "judging the output failed" in flood["error"] and "took longer than" in flood["error"]
    assert flood["ok"] is False and flood["matched_expected"] is None
    filtered = diagnostics.run_step({"name": "t", "probe": "test-flood", "filter": "(x|xx)+y"}, {}, max_output=4096)
    assert "took longer than" in filtered["error"]
    assert time.monotonic() - started < 10


# --- timeouts and output caps --------------------------------------------------------------------

def test_overrunning_probe_is_killed_and_reported(tools):
    result = diagnostics.run_step({"name": "slow", "probe": "test-slow"}, {}, timeout=1)
    assert result["timed_out"] is True
    assert "did not finish within 1 s and was killed" in result["error"]
    assert result["matched_expected"] is None
    assert result["duration_s"] < 10
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _running("120.4242"):
        time.sleep(0.05)
    assert not _running("120.4242"), "the sandboxed tool outlived its timeout"


def _running(marker: str) -> bool:
    """Whether a process with ``marker`` in its command line exists (in any pid namespace: /proc is the host's)."""
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and marker in Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace"):
                return True
        except OSError:
            continue
    return False


def test_output_is_capped_and_marked(tools):
    result = diagnostics.run_step({"name": "flood", "probe": "test-flood"}, {}, max_output=4096)
    assert result["error"] is None and result["truncated"] is True
    assert len(result["stdout"]) == 4096


def test_knowledge_base_runs_every_step_in_order_and_never_a_solution(tools):
    write_pattern(tools.tmp / "p", "fake-checks", [{"probe": "test-plain", "expected_output": "all good"},
                                                   {"probe": "test-slow"},
                                                   {"probe": "test-spy", "params": {"host": "{host}"}}])
    kb = KnowledgeBase(tools.tmp / "p", timeout_s=1)
    assert kb.errors == []
    seen = []
    results = kb.run_diagnostics("fake-checks", {"host": "nas.local"}, progress=lambda i, n, d: seen.append((i, n)))
    assert seen == [(0, 3), (1, 3), (2, 3)]
    assert [r["name"] for r in results] == ["step 0", "step 1", "step 2"]
    assert results[0]["matched_expected"] is True and results[1]["timed_out"]
    assert results[2]["stdout"].startswith("arg:--host\narg:nas.local\n")
    assert "SOLUTION-RAN" not in "".join(r["stdout"] for r in results)
    assert kb.solutions("fake-checks")[0]["command"] == "spytool SOLUTION-RAN"  # shown, not run
    with pytest.raises(KeyError):
        kb.run_diagnostics("no-such-pattern")


def test_a_pattern_with_a_command_or_bad_probe_value_is_not_loaded(tools):
    write_pattern(tools.tmp / "p", "old-style", [{"command": "rm -rf /"}])
    write_pattern(tools.tmp / "p", "bad-value", [{"probe": "read-file", "params": {"file": "/etc/shadow"}}])
    kb = KnowledgeBase(tools.tmp / "p")
    assert kb.patterns == {}
    reasons = {(e["pattern_id"], e["field"]): e["reason"] for e in kb.errors}
    assert "patterns cannot run commands" in reasons[("old-style", "diagnostics.0.command")]
    assert "may hold secrets" in reasons[("bad-value", "diagnostics.0.params.file")]


def test_config_sets_timeout_and_cap(make_config, tools):
    write_pattern(tools.tmp / "p", "fake-checks", [{"probe": "test-plain"}])
    config, _ = make_config({"knowledge": {"patterns_dir": str(tools.tmp / "p"), "diagnostic_timeout_s": 2,
                                           "diagnostic_max_output_bytes": 2048}})
    kb = KnowledgeBase.from_config(config)
    assert (kb.timeout_s, kb.max_output) == (2.0, 2048)
    assert list(kb.patterns) == ["fake-checks"]


# --- shipped patterns against OMV's real engine (the test bed) ---------------------------------

def test_omv_rpc_diagnostics_run_against_the_real_engine(omv_engine):
    """The patterns' omv-rpc probes are real read methods with the parameters OMV 7 demands (run in the sandbox)."""
    from tests.conftest import ROOT

    kb = KnowledgeBase(ROOT / "patterns", timeout_s=120)

    def rpc_step(pid: str) -> int:  # a pattern's checks get added and reordered: find its omv-rpc one
        return next(i for i, d in enumerate(kb.patterns[pid]["diagnostics"]) if d["command"].startswith("omv-rpc"))

    answers = kb.run_diagnostics("engined-not-running", step=rpc_step("engined-not-running"))[0]
    assert answers["argv"] == ["omv-rpc", "-u", "admin", "System", "getInformation"]
    assert answers["returncode"] == 0 and answers["matched_expected"] is True, answers
    dirty = kb.run_diagnostics("config-apply-fails", step=rpc_step("config-apply-fails"))[0]
    assert dirty["returncode"] == 0 and dirty["stdout"].strip() in ("true", "false"), dirty
    assert dirty["matched_expected"] is (dirty["stdout"].strip() == "false")
    rsync = kb.run_diagnostics("rsync-job-fails", step=rpc_step("rsync-job-fails"))[0]
    assert rsync["returncode"] == 0 and '"total"' in rsync["stdout"], rsync
    every = [(pid, i) for pid, p in kb.patterns.items() for i, d in enumerate(p["diagnostics"]) if d["command"].startswith("omv-rpc")]
    assert len(every) >= 4
    for pid, i in every:  # each one is a method the engine accepts (no missing params, no write method)
        result = kb.run_diagnostics(pid, step=i)[0]
        assert result["error"] is None and result["returncode"] == 0, (pid, result["stderr"][-300:])
