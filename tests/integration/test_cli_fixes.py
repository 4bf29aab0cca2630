"""CLI bugs a reviewer found, each as a real subprocess (`run_cli`), no daemon (in-process mode).

History with questions, writes refused when the data dir cannot hold them, options that
were silently ignored, user input in URL paths, diagnose errors on their own line,
copy-pasteable commands, and the no-daemon notice on every command.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from omv_copilot_agent.store import Store
from tests.conftest import run_cli

QUICK = {"disabled_sources": ["smart", "logs", "apt"]}
NO_OMV = {"command": "/nonexistent/omv-rpc"}


def _one_line(stderr: str) -> str:
    lines = [ln for ln in stderr.strip().splitlines() if "collected now, not by the daemon" not in ln]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


@pytest.fixture
def cli(make_config, tmp_path):
    """run(*args) against a config whose data dir holds a real (daemon-less) database."""
    data = tmp_path / "data"
    data.mkdir()
    Store(data).close()
    _, path = make_config({"data_dir": str(data), "collect": QUICK, "omv_rpc": NO_OMV})

    def run(*args, **kw):
        return run_cli("--config", str(path), *args, **kw)

    return run


def test_history_lists_questions_next_to_alerts(cli):
    asked = cli("ask", "--kb-only", "hi")
    assert asked.returncode == 0, asked.stderr
    assert "question" not in cli("history").stdout  # questions are conversations, not issues
    shown = cli("history", "--questions")
    assert shown.returncode == 0 and "Traceback" not in shown.stderr, shown.stderr
    assert "question" in shown.stdout and "hi" in shown.stdout
    data = json.loads(cli("history", "--questions", "--json").stdout)
    assert any(i["kind"] == "question" for i in data["issues"])


@pytest.mark.parametrize("breakage", ["db_is_a_directory", "data_dir_is_a_file"])
def test_writes_fail_when_the_data_dir_cannot_hold_them(make_config, tmp_path, breakage):
    if breakage == "db_is_a_directory":
        data = tmp_path / "data"
        (data / "copilot.db").mkdir(parents=True)
    else:
        (tmp_path / "afile").write_text("x")
        data = tmp_path / "afile" / "data"
    _, path = make_config({"data_dir": str(data), "collect": QUICK, "omv_rpc": NO_OMV})
    noted = run_cli("--config", str(path), "history", "note", "x")
    assert noted.returncode == 1 and "saved" not in noted.stdout, noted.stdout
    line = _one_line(noted.stderr)
    assert str(data) in line and "cannot save the note" in line
    acked = run_cli("--config", str(path), "alerts", "ack", "1")
    assert acked.returncode == 1 and str(data) in _one_line(acked.stderr)
    # Reads still answer (from the throw-away database).
    listed = run_cli("--config", str(path), "history", "notes")
    assert listed.returncode == 0, listed.stderr


def test_patterns_json_before_the_action(cli):
    r = cli("patterns", "--json", "list")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["total"] > 0


def test_health_report_json_and_html(cli):
    r = cli("health", "--json", "--report")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert "text" in data and "html" in data
    r = cli("health", "--html")  # implies --report (see --help)
    assert r.returncode == 0, r.stderr
    assert "<html" in r.stdout.lower()
    assert "implies --report" in cli("health", "--help").stdout


@pytest.mark.parametrize("args,needle", [
    (("alerts", "list", "extra"), "extra"),
    (("alerts", "forecasts", "5"), "'5'"),
    (("history", "notes", "extra"), "extra"),
    (("ask", "--wait", "-5", "hi"), "--wait"),
    (("ask", "--wait", "nan", "hi"), "--wait"),
    (("alerts", "--limit", "99999999"), "--limit must be between 1 and 1000"),
    (("alerts", "--limit", "0"), "--limit must be between 1 and 1000"),
    (("history", "--limit", "0"), "--limit must be between 1 and 10000"),
])
def test_bad_options_exit_2_naming_them(cli, args, needle):
    r = cli(*args)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert needle in _one_line(r.stderr)


def test_ask_direct_without_a_provider_fails(cli):
    r = cli("ask", "--direct", "hello")
    assert r.returncode == 1, (r.stdout, r.stderr)
    line = _one_line(r.stderr)
    assert "no LLM provider is configured" in line and "assist.providers" in line


@pytest.mark.parametrize("bad", ["../../etc/passwd", "a/b", "x?y=1", "..", "%2e%2e"])
def test_pattern_ids_stay_in_their_path_segment(cli, bad):
    for args in (("patterns", "show", bad), ("diagnose", bad)):
        r = cli(*args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        line = _one_line(r.stderr)
        assert "invalid pattern id" in line and "no such endpoint" not in line


def test_diagnose_bad_param_is_its_own_line(cli):
    r = cli("diagnose", "smb-permission-denied", "--param", "path=relative/../x;rm")
    assert r.returncode != 0
    line = _one_line(r.stderr)
    assert line.startswith("omv-copilot: ") and "params.path" in line
    # On a terminal stdout and stderr interleave: the progress line must be finished first.
    assert r.stdout.endswith("\n") and "params.path" not in r.stdout, r.stdout


def test_diagnose_shows_commands_that_can_be_pasted(cli):
    r = cli("diagnose", "slow-smb-transfers")
    assert "Traceback" not in r.stderr, r.stderr
    shown = [ln.strip()[2:] for ln in r.stdout.splitlines() if ln.strip().startswith("$ ")]
    assert shown, r.stdout
    for cmd in shown:
        shlex.split(cmd)  # balanced quotes
    assert "testparm -s -v | grep -i -E 'signing|min protocol|aio|use sendfile'" in shown, shown


@pytest.mark.parametrize("args", [("alerts",), ("health",), ("history",), ("ask", "--kb-only", "hi"), ("patterns",),
                                  ("alerts", "--json"), ("patterns", "--json")])
def test_every_command_says_it_answered_without_the_daemon(cli, args):
    r = cli(*args)
    assert r.returncode == 0, r.stderr
    notice = [ln for ln in r.stderr.splitlines() if "collected now, not by the daemon (" in ln]
    assert len(notice) == 1, r.stderr
    assert "collected now" not in r.stdout
    if "--json" in args:
        json.loads(r.stdout)


def test_the_no_daemon_notice_is_wrapped_at_80_columns_off_a_terminal(cli, tmp_path):
    """The notice naming an unreadable token file was one line of ~130 characters: it wraps like ``ask``'s
    prose (80 columns when stderr is not a terminal), its later lines indented, its path kept whole."""
    r = cli("patterns", "--json", env={"COLUMNS": ""})
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()
    assert lines[0].startswith("omv-copilot: collected now, not by the daemon (cannot read the token file")
    assert all(len(line) <= 80 for line in lines) and len(lines) > 1, r.stderr
    assert any(len(line) > 60 for line in lines), r.stderr
    assert all(line.startswith("  ") for line in lines[1:]), r.stderr
    token = str(tmp_path / "token")
    assert " ".join(line.strip() for line in lines) == (
        f"omv-copilot: collected now, not by the daemon (cannot read the token file {token}: No such file or directory)")
    json.loads(r.stdout)


def test_columns_sets_the_notices_width_too(cli):
    """Before: the notice ignored COLUMNS (80 columns off a terminal) while the answer took it, so
    ``COLUMNS=60 omv-copilot ask ... 2>&1 | less`` showed the notice wider than the answer under it."""
    r = cli("ask", "--kb-only", "my raid is degraded", env={"COLUMNS": "60"})
    assert r.returncode == 0, r.stderr
    notice = r.stderr.splitlines()
    assert notice[0].startswith("omv-copilot: collected now, not by the daemon ("), r.stderr
    assert len(notice) > 1 and all(len(line) <= 60 or " " not in line.strip() for line in notice), r.stderr  # a path stays whole
    analysis = r.stdout.split("\nAnalysis\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert len(analysis) > 1 and all(len(line) <= 60 for line in analysis), r.stdout  # the answer's width


def test_a_user_who_cannot_write_the_data_dir_is_told_so(make_config, tmp_path):
    """The real case behind the bug: an admin without root runs the CLI while the daemon is down."""
    import os
    import shutil

    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to run the CLI as an unprivileged user")
    import tempfile

    top = Path(tempfile.mkdtemp(prefix="omv-copilot-ro-"))  # pytest's tmp root is 0700: nobody cannot reach it
    try:
        _run_as_nobody(make_config, top)
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _run_as_nobody(make_config, top):
    import subprocess

    from tests.conftest import PYTHON, ROOT

    data = top / "data"
    Store(data).close()
    _, made = make_config({"data_dir": str(data), "collect": QUICK, "omv_rpc": NO_OMV})
    path = top / "config.yaml"
    path.write_text(made.read_text())
    for p in (top, data, data / "copilot.db", path):
        p.chmod(0o755 if p.is_dir() else 0o644)
    probe = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", PYTHON, "-c",
                            "import omv_copilot_agent"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        pytest.skip(f"nobody cannot read the source tree: {probe.stderr.strip()[-200:]}")
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env", "HOME=/tmp",
                        PYTHON, "-m", "omv_copilot_agent", "--config", str(path), "history", "note", "x"],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "saved" not in r.stdout, (r.stdout, r.stderr)
    assert str(data) in _one_line(r.stderr)


#: Answers as an earlier release stored them: one labelled by the seed rule alone ("medium" over a best match at
#: 0.17, before kb_answer.confidence_label), one with no label at all.
OLD_ANSWERS = [
    ("how do I go from omv 6 to omv 7",
     {"mode": "kb_only", "context": "general", "confidence": 0.65, "confidence_label": "medium", "analysis": "old",
      "matched_patterns": [{"pattern_id": "release-upgrade-how-to", "title": "t", "score": 0.17},
                           {"pattern_id": "apt-update-fails", "title": "t", "score": 0.13}]}, "low"),
    ("my raid is degraded",
     {"mode": "kb_only", "context": "storage", "confidence": 0.98, "analysis": "old",
      "matched_patterns": [{"pattern_id": "mdadm-degraded", "title": "t", "score": 0.95}]}, "high"),
]


def test_an_answer_stored_before_the_label_rule_shows_today_s_label(cli, make_config, tmp_path):
    """Before: ``history --questions`` showed a stored answer's own label: "medium" for the weak best match the
    engine now calls "low", and "kb_only" (its mode) for an answer stored without a label; the conversation the
    web UI shows said the same. Both now show the label the engine's rule gives (kb_answer.confidence_label)."""
    import sqlite3

    from omv_copilot_agent.cli.client import InProcessClient

    db = sqlite3.connect(tmp_path / "data" / "copilot.db")
    with db:
        for n, (query, answer, _) in enumerate(OLD_ANSWERS):
            db.execute("INSERT INTO assist_turns (conversation_id, created_at, query, answer) VALUES (?, ?, ?, ?)",
                       (f"c{n}", 1_700_000_000 + n, query, json.dumps(answer)))
    db.close()
    issues = json.loads(cli("history", "--questions", "--json").stdout)["issues"]
    assert {i["title"]: i["outcome"] for i in issues} == {q: label for q, _, label in OLD_ANSWERS}, issues
    table = cli("history", "--questions").stdout
    for query, _, label in OLD_ANSWERS:
        assert any(query in line and f" {label} " in line for line in table.splitlines()), table
    config, _ = make_config({"data_dir": str(tmp_path / "data"), "collect": QUICK, "omv_rpc": NO_OMV})
    client = InProcessClient(config)
    try:
        for n, (_, _, label) in enumerate(OLD_ANSWERS):
            (turn,) = client.get(f"/api/v1/assist/conversations/c{n}")["turns"]
            assert turn["answer"]["confidence_label"] == label, turn
    finally:
        client.close()
