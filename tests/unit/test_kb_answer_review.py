"""The KB-only answer as a NAS user reads it (review of 2026-12-07, docs/review-2026-12-07.md).

Each test failed on the code before its fix. Matches are stubbed with fixed scores so the tests do
not move when patterns are added or ranking is refit: they check how an answer is composed.
"""

from __future__ import annotations

import pytest

from omv_copilot_agent.assist import kb_answer
from omv_copilot_agent.knowledge.matcher import Match
from tests.assist_helpers import make_agent


@pytest.fixture
def agent(make_config):
    made = make_agent(make_config)
    yield made
    made.close()


def _stub_search(agent, monkeypatch, scored: list[tuple[str, float]]):
    """The knowledge base answers every question with these (pattern_id, score) text matches."""
    kb = agent.knowledge

    def search(query, snapshot=None, limit=5):
        return [Match(pid, kb.patterns[pid]["title"], kb.patterns[pid]["category"], score, ["words: stub"],
                      kb.patterns[pid]) for pid, score in scored][:limit]
    monkeypatch.setattr(kb, "search", search)


# -- the answer with no pattern: the box's state only where it bears on the question -------------

def _box_titles(agent):
    """The titles of the patterns the fixture box's state points to (its degraded md0 among them)."""
    return [m.title for m in agent.knowledge.signals(agent.snapshot)[:5]]


def test_an_off_topic_question_gets_no_box_state(agent, monkeypatch):
    """The fixture box has a degraded array: a question about films is not about it."""
    _stub_search(agent, monkeypatch, [])
    answer = agent.assist.ask("what's a good movie to watch tonight", mode="kb_only")
    assert answer["context"] == "general" and answer["confidence_label"] == "low"
    text = answer["analysis"]
    assert "I have no pattern for this question" in text and "LLM provider" in text
    assert not any(title in text for title in _box_titles(agent)), text
    assert "Checked: the question against every pattern." in text


def test_a_storage_question_without_pattern_gets_the_storage_state_as_bearing(agent, monkeypatch):
    _stub_search(agent, monkeypatch, [])
    answer = agent.assist.ask("are my disks healthy", mode="kb_only")
    assert answer["context"] == "storage"
    text = answer["analysis"]
    assert "Unrelated to the question" not in text
    assert "which points to storage problems that may bear on it" in text, text
    assert "Failed password" not in text  # the box's ssh finding is a security one, not a disk's


def test_no_pattern_and_no_snapshot_says_the_state_was_not_read(make_config, monkeypatch):
    agent = make_agent(make_config, snapshot=False)
    try:
        _stub_search(agent, monkeypatch, [])
        answer = agent.assist.ask("are my disks healthy", mode="kb_only")
        assert "this box's state has not been read yet" in answer["analysis"]
    finally:
        agent.close()


# -- a weak best match is said to be weak ----------------------------------------------------------

def test_a_weak_best_match_is_offered_as_weak_not_as_the_answer(agent, monkeypatch):
    """"is my raid ok" -> "Best match: Guest access to a public SMB share is refused (score 0.16)" with
    its causes and actions as if they were the answer."""
    _stub_search(agent, monkeypatch, [("smb-guest-share-access", 0.16), ("mdadm-degraded", 0.15)])
    text = agent.assist.ask("is my raid ok", mode="kb_only")["analysis"]
    assert "Best match" not in text
    assert "No pattern matches this question well" in text and "weak match" in text and "smb-guest-share-access" in text
    assert "typical symptoms" in text


def test_a_good_best_match_is_the_best_match(agent, monkeypatch):
    _stub_search(agent, monkeypatch, [("mdadm-degraded", 0.45), ("zfs-pool-degraded", 0.2)])
    text = agent.assist.ask("my raid is degraded", mode="kb_only")["analysis"]
    assert "Best match: " in text and "weak" not in text


# -- the related matches once, not twice -------------------------------------------------------------

def test_related_matches_are_named_once_by_id_in_the_analysis(agent, monkeypatch):
    """Five related titles in the analysis repeated what every client lists under Matched patterns:
    "wiped both old raid disks..." got a 900-character analysis paragraph."""
    from omv_copilot_agent.cli.ask import render

    related = [("mdadm-degraded", 0.27), ("disk-in-use-cannot-format-or-wipe", 0.23), ("mdadm-replace-disk-grow-remove", 0.2)]
    _stub_search(agent, monkeypatch, [("capacity-smaller-than-expected", 0.39), *related])
    answer = agent.assist.ask("wiped both old raid disks but md0 still has the old ext4", mode="kb_only")
    text = answer["analysis"]
    assert all(pid in text for pid, _ in related)
    said = text.split("Related: ", 1)[1].split(". ", 1)[0]  # (the box's state may still name a related pattern it points to)
    assert not any(agent.knowledge.patterns[pid]["title"] in said for pid, _ in related), said
    assert len(said) < 120 and len(text) < 700, (len(said), len(text))
    shown = render(answer, width=400).split("Matched patterns\n", 1)[1]
    # its 0.39 is a weak match: "the closest, weak match above", not "the answer above" (second review)
    assert "capacity-smaller-than-expected" in shown.splitlines()[0] and "weak match above" in shown.splitlines()[0]
    assert all(agent.knowledge.patterns[pid]["title"] in shown and "related" in shown for pid, _ in related)


# -- the box's state in its measured words ----------------------------------------------------------

def test_the_box_state_is_said_as_measured_not_as_a_pattern_title(agent, monkeypatch):
    """"why is my nas slow right now" got "The box's state bears on this: Disk I/O bottleneck (high
    iowait, one busy disk); High CPU usage, ..." - the titles of the patterns, not what the box
    shows. The fixture box: md0 degraded (1/2 devices active), /dev/sdb failing SMART."""
    _stub_search(agent, monkeypatch, [("mdadm-degraded", 0.9), ("smart-overall-failed", 0.5)])
    text = agent.assist.ask("my raid is degraded", mode="kb_only")["analysis"]
    said = text.split("The box's state bears on this: ", 1)[1]
    assert "md0 is degraded (1/2 devices active)" in said and "/dev/sdb reports SMART overall health FAILED" in said
    assert "Software RAID (mdadm) array degraded" not in said


def test_no_pattern_storage_question_gets_the_measured_storage_state(agent, monkeypatch):
    _stub_search(agent, monkeypatch, [])
    text = agent.assist.ask("are my disks healthy", mode="kb_only")["analysis"]
    assert "may bear on it: " in text and "md0 is degraded (1/2 devices active)" in text, text


def test_state_said_keeps_each_fact_once_and_falls_back_to_the_title():
    signals = [{"title": "A", "reasons": ["finding: x on md0: md0 is degraded", "words: raid"]},
               {"title": "B", "reasons": ["finding: x on md0: md0 is degraded"]},
               {"title": "C: a title", "reasons": []},
               {"title": "D", "reasons": ["finding: y on ssh: 1 log line(s) like: Failed password for bernd"]}]
    assert kb_answer.state_said(signals, limit=5) == ["md0 is degraded", "C: a title", "1 log line(s) like: Failed password for bernd"]


def test_nothing_found_is_qualified_when_the_context_s_sources_were_not_read(make_config, monkeypatch):
    """"are my disks healthy" on the daemon of this VM (SMART reading degraded) got "nothing in it
    points to a known storage problem", as if the disks had been read."""
    from omv_copilot_agent.collect.snapshot import SourceResult
    from tests.assist_helpers import fixture_snapshot

    agent = make_agent(make_config, snapshot=False)
    try:
        snap = fixture_snapshot()
        snap.sources["storage"] = SourceResult(name="storage", status="ok", data={"raid": [], "zfs": []})
        snap.sources["smart"] = SourceResult(name="smart", status="degraded", data={"disks": []}, reason="smartctl: not found")
        agent.snapshot = snap
        _stub_search(agent, monkeypatch, [])
        text = agent.assist.ask("are my disks healthy", mode="kb_only")["analysis"]
        assert "nothing in it points to a known storage problem (but not all of it could be read: smart degraded)" in text, text
    finally:
        agent.close()


# -- the CLI's answer fits a terminal ---------------------------------------------------------------

def test_the_cli_answer_fits_an_80_column_terminal_and_keeps_commands_whole(agent, monkeypatch):
    """Before: 84 of the review's answer lines were longer than 200 characters (action explanations,
    the analysis as one line), wrapping at the terminal's edge without their indent, and every check
    of a KB answer repeated "[pattern <id>]" although all come from one pattern."""
    from omv_copilot_agent.cli.ask import render

    _stub_search(agent, monkeypatch, [("mdadm-degraded", 0.9), ("zfs-pool-degraded", 0.3)])
    answer = agent.assist.ask("my raid is degraded", mode="kb_only")
    text = render(answer, width=80)
    commands = {d["command"] for d in answer["suggested_diagnostics"] if d.get("command")} | \
               {r["command"] for r in answer["recommended_actions"] if r.get("command")}
    assert commands and all(f"      $ {c}" in text.splitlines() for c in commands)  # whole, on their own line
    prose = [ln for ln in text.splitlines()[1:-1] if not ln.lstrip().startswith(("$ ", "needs: "))]
    assert max(len(ln) for ln in prose) <= 80, max(prose, key=len)
    assert "[pattern " not in text.split("Diagnostics\n", 1)[1].split("\n\n", 1)[0]
    # the words are all still there, only wrapped
    flat = " ".join(text.split())
    assert " ".join(answer["analysis"].split()) in flat
    assert all(" ".join(r["explanation"].split()) in flat for r in answer["recommended_actions"] if r.get("explanation"))
