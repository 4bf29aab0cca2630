"""The diagnostics runner: only allowlisted read-only argv, validated placeholders, timeouts, output caps.

Fake tools are small shell scripts on OMV_COPILOT_EXTRA_PATH, allowlisted for the test only; a
refused command must never start, which the scripts prove by leaving a marker file when they run.
"""

from __future__ import annotations

import os
import stat
from types import SimpleNamespace

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omv_copilot_agent import runner
from omv_copilot_agent.knowledge import KnowledgeBase, diagnostics

PLACEHOLDERS = sorted(set(diagnostics._RX) | {"client_ip", "ip"})


@pytest.fixture
def tools(tmp_path, monkeypatch):
    """Fake tools: spytool (records its argv), slowtool (sleeps), floodtool (prints 1 MiB)."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    marker = tmp_path / "ran"
    scripts = {
        "spytool": f'#!/bin/sh\nprintf "%s\\n" "$@" >> {marker}\necho "status: all good"\n',
        "slowtool": f'#!/bin/sh\necho $$ > {tmp_path}/slow.pid\nexec sleep 120\n',
        "floodtool": '#!/bin/sh\nhead -c 1048576 /dev/zero | tr "\\0" "x"\n',
    }
    for name, body in scripts.items():
        path = bindir / name
        path.write_text(body)
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
        monkeypatch.setitem(runner.ALLOWLIST, name, lambda args: None)
    monkeypatch.setenv("OMV_COPILOT_EXTRA_PATH", str(bindir))
    return SimpleNamespace(bindir=bindir, marker=marker, tmp=tmp_path)


def write_pattern(directory, pid, commands):
    directory.mkdir(exist_ok=True)
    data = {"pattern_id": pid, "title": f"Test pattern {pid}", "category": "services", "symptoms": ["test symptom"],
            "diagnostics": [{"name": f"step {i}", "command": c, **({"expected_output": e} if e else {})}
                            for i, (c, e) in enumerate(commands)],
            "solutions": [{"priority": 1, "action": "rm -rf the world", "command": "spytool SOLUTION-RAN",
                           "explanation": "never run", "risk": "data-risk"}],
            "references": ["https://docs.openmediavault.org/"], "confidence": 0.5}
    (directory / f"services--{pid}.yaml").write_text(yaml.safe_dump(data))


# --- refusals ------------------------------------------------------------------------------------

@pytest.mark.parametrize("command,params,reason", [
    ("rm -rf /", {}, "not on the allowlist"),
    ("bash -c id", {}, "not on the allowlist"),
    ("/tmp/evil/df -h", {}, "not a path"),             # a path would bypass the fixed search path
    ("./spytool x", {}, "not a path"),
    ("systemctl restart smbd", {}, "subcommands"),
    ("smartctl -t long /dev/sda", {}, "changes the system"),
    ("apt-get install nginx", {}, "simulate"),
    ("cat /etc/shadow", {}, "secrets"),
    ("cat /etc/openmediavault/config.xml", {}, "secrets"),
    ("cat /etc/postfix/sasl_passwd", {}, "secrets"),
    ("cat /proc/1/environ", {}, "secrets"),
    ("cat /etc/nut/upsd.users", {}, "secrets"),
    ("docker inspect web", {}, "only with --format"),
    ("docker inspect --format {{json .Config.Env}} web", {}, "environment"),
    ("docker inspect -f {{json .}} web", {}, "environment"),
    ("omv-rpc -u admin System reboot", {}, "not a read method"),
    ("spytool 'a;b'", {}, "shell metacharacters"),
    ("spytool '$(id)'", {}, "shell metacharacters"),
    ("spytool '`id`'", {}, "shell metacharacters"),
    ("spytool a && spytool b", {}, "shell metacharacters"),
    ("spytool a > /etc/passwd", {}, "shell metacharacters"),
    ("spytool a | sh", {}, "may follow a pipe"),
    ("spytool a | grep '('", {}, "bad grep arguments"),
    ("spytool a | head -n lots", {}, "bad head arguments"),
    ("spytool a |", {}, "empty pipeline stage"),
    ("spytool 'unclosed", {}, "cannot parse command"),
    ("spytool {host}", {}, "needs parameter 'host'"),
    ("spytool {host}", {"host": "nas; rm -rf /"}, "invalid value"),
    ("spytool {host}", {"host": "$(reboot)"}, "invalid value"),
    ("spytool {device}", {"device": "/dev/sda; rm -rf /"}, "invalid value"),
    ("spytool {device}", {"device": "/dev/sda /etc/shadow"}, "invalid value"),
    ("spytool {path}", {"path": "/srv/../etc/shadow"}, "invalid value"),
    ("spytool {path}", {"path": "/tmp/x"}, "expected a path under /srv, /mnt, /media, /export, /var/log or /etc"),
    ("spytool {path}", {"path": "/srv/share\nrm"}, "invalid value"),
    ("spytool {client_ip}", {"client_ip": "10.0.0.1 && reboot"}, "not an IP address"),
    ("spytool {user}", {"user": "-rf"}, "invalid value"),
    ("spytool {unit}", {"unit": "smbd.service`id`"}, "invalid value"),
    ("spytool {nonsense}", {"nonsense": "x"}, "unknown parameter"),
    ("spytool {host}", {"host": 42}, "must be a string"),
])
def test_refused_and_never_run(tools, command, params, reason):
    result = diagnostics.run_step({"name": "t", "command": command}, params)
    assert result["error"] and reason in result["error"], result["error"]
    assert result["returncode"] is None and result["stdout"] == ""
    assert not tools.marker.exists(), "a refused command was started"


def test_allowed_command_runs_with_validated_placeholder_as_one_argument(tools):
    result = diagnostics.run_step({"name": "t", "command": "spytool --share {share} | grep -i -E 'status|nope'",
                                   "expected_output": "ALL GOOD"}, {"share": "My Media"})
    assert result["error"] is None and result["returncode"] == 0
    assert result["argv"] == ["spytool", "--share", "My Media", "|", "grep", "-i", "-E", "status|nope"]
    assert result["matched_expected"] is True and result["stdout"] == "status: all good\n"
    assert tools.marker.read_text().splitlines() == ["--share", "My Media"]
    nomatch = diagnostics.run_step({"name": "t", "command": "spytool x", "expected_output": "^FAILED"}, {})
    assert nomatch["matched_expected"] is False


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(PLACEHOLDERS),
       value=st.one_of(st.text(max_size=80),
                       st.builds(lambda a, m, b: a + m + b, st.sampled_from(["/dev/sda", "nas", "/srv/x", "10.0.0.1", "eth0", "", "-", "--"]),
                                 st.sampled_from([";", "|", "&&", "`", "$(", "\n", " ", "../", ">", "\x00", "'", '"']),
                                 st.sampled_from(["rm -rf /", "reboot", "id)", "etc/shadow", "", "x"]))))
def test_placeholder_values_never_inject(tools, name, value):
    """Whatever the value, it is refused, or it lands as exactly one argument free of shell metacharacters."""
    command = f"spytool --flag {{{name}}} --end"
    try:
        stages = diagnostics.build(command, {name: value})
    except runner.CommandRefused:
        return
    assert stages == [["spytool", "--flag", value, "--end"]]
    assert not runner.SHELL_METACHARACTERS.intersection(value)
    assert not value.startswith("-"), "a value must never become an option of the tool"
    assert ".." not in value.split("/")


# --- timeouts and output caps --------------------------------------------------------------------

def test_overrunning_command_is_killed_and_reported(tools):
    result = diagnostics.run_step({"name": "slow", "command": "slowtool"}, {}, timeout=1)
    assert result["timed_out"] is True
    assert "did not finish within 1 s and was killed" in result["error"]
    assert result["matched_expected"] is None
    pid = int((tools.tmp / "slow.pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_output_is_capped_and_marked(tools):
    result = diagnostics.run_step({"name": "flood", "command": "floodtool"}, {}, max_output=4096)
    assert result["error"] is None and result["truncated"] is True
    assert len(result["stdout"]) == 4096


def test_knowledge_base_runs_every_step_in_order_and_never_a_solution(tools):
    write_pattern(tools.tmp / "p", "fake-checks", [("spytool one", "all good"), ("rm -rf /", None),
                                                   ("slowtool", None), ("spytool {host}", None)])
    kb = KnowledgeBase(tools.tmp / "p", timeout_s=1)
    seen = []
    results = kb.run_diagnostics("fake-checks", {"host": "nas.local"}, progress=lambda i, n, d: seen.append((i, n)))
    assert seen == [(0, 4), (1, 4), (2, 4), (3, 4)]
    assert [r["name"] for r in results] == ["step 0", "step 1", "step 2", "step 3"]
    assert results[0]["matched_expected"] is True
    assert results[1]["error"].startswith("refused") and results[2]["timed_out"]
    assert results[3]["returncode"] == 0
    assert tools.marker.read_text().splitlines() == ["one", "nas.local"]
    assert kb.solutions("fake-checks")[0]["command"] == "spytool SOLUTION-RAN"  # shown, not run
    with pytest.raises(KeyError):
        kb.run_diagnostics("no-such-pattern")


def test_config_sets_timeout_and_cap(make_config, tools):
    write_pattern(tools.tmp / "p", "fake-checks", [("spytool one", None)])
    config, _ = make_config({"knowledge": {"patterns_dir": str(tools.tmp / "p"), "diagnostic_timeout_s": 2,
                                           "diagnostic_max_output_bytes": 2048}})
    kb = KnowledgeBase.from_config(config)
    assert (kb.timeout_s, kb.max_output) == (2.0, 2048)
    assert list(kb.patterns) == ["fake-checks"]


# --- shipped patterns against OMV's real engine (the test bed) ---------------------------------

def test_omv_rpc_diagnostics_run_against_the_real_engine(omv_engine):
    """The patterns' omv-rpc diagnostics are real read methods with the parameters OMV 7 demands."""
    from tests.conftest import ROOT

    kb = KnowledgeBase(ROOT / "patterns", timeout_s=120)
    answers = kb.run_diagnostics("engined-not-running", step=2)[0]
    assert answers["argv"] == ["omv-rpc", "-u", "admin", "System", "getInformation"]
    assert answers["returncode"] == 0 and answers["matched_expected"] is True, answers
    dirty = kb.run_diagnostics("config-apply-fails", step=0)[0]
    assert dirty["returncode"] == 0 and dirty["stdout"].strip() in ("true", "false"), dirty
    assert dirty["matched_expected"] is (dirty["stdout"].strip() == "false")
    rsync = kb.run_diagnostics("rsync-job-fails", step=0)[0]
    assert rsync["returncode"] == 0 and '"total"' in rsync["stdout"], rsync
    every = [(pid, i) for pid, p in kb.patterns.items() for i, d in enumerate(p["diagnostics"]) if d["command"].startswith("omv-rpc")]
    assert len(every) >= 4
    for pid, i in every:  # each one is a method the engine accepts (no missing params, no write method)
        result = kb.run_diagnostics(pid, step=i)[0]
        assert result["error"] is None and result["returncode"] == 0, (pid, result["stderr"][-300:])
