"""Matching that means something: no pattern for a question that has none, typo tolerance only
for typos, and a knowledge-base answer that reads like one piece of advice.

The off-topic questions below were written for this test (the eval set's held-out questions in
tests/eval/ are never used to tune matching).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from omv_copilot_agent.knowledge import KnowledgeBase
from tests.assist_helpers import make_agent

ROOT = Path(__file__).resolve().parent.parent

OFF_TOPIC = [
    "how do i bake sourdough bread", "my cat is sick", "what is the best static ip for a printer",
    "which fdisk option makes a partition", "what's the weather tomorrow", "recommend a good laptop for gaming",
    "how do I learn python", "write me a poem about the sea", "my car won't start", "best pizza near me",
    "how to fix a leaking tap", "who won the world cup", "translate hello into french",
    "what is the capital of australia", "how many calories in an apple", "my phone battery drains fast",
    "can you help me with my tax return", "why is the sky blue", "how do i change a flat tyre", "tell me a joke",
    "how do I cook rice", "is it going to rain", "my printer is out of ink", "how tall is mount everest",
    "what movie should i watch tonight", "my kids wont go to sleep", "how to tie a tie", "what is love",
    "recommend a book about history",
]


@pytest.fixture(scope="module")
def kb():
    return KnowledgeBase(ROOT / "patterns")


@pytest.mark.parametrize("question", OFF_TOPIC)
def test_an_off_topic_question_matches_no_pattern(kb, question):
    assert [(m.pattern_id, round(m.score, 2)) for m in kb.search(question)] == []


@pytest.mark.parametrize("word,not_read_as", [("bread", "read"), ("sick", "stick"), ("fdisk", "disk"),
                                              ("static", "stat"), ("swapped", "swap")])
def test_a_real_word_is_not_corrected_into_another(kb, word, not_read_as):
    resolved, _note = kb.index._resolve(word)
    assert resolved != not_read_as


@pytest.mark.parametrize("typo,meant", [("smaba", "samba"), ("degarded", "degrade"), ("certficate", "certificate")])
def test_a_typo_is_still_understood(kb, typo, meant):
    from omv_copilot_agent.knowledge.text import stem

    resolved, note = kb.index._resolve(typo)
    assert resolved == stem(meant) and note


def test_a_raid_question_is_not_about_swap_memory(kb):
    ids = [m.pattern_id for m in kb.search("I swapped a disk and now my raid is degraded")]
    assert ids[0] == "mdadm-degraded" and "memory-swap-pressure" not in ids


def test_every_shipped_pattern_names_its_causes(kb):
    missing = [pid for pid, p in kb.patterns.items() if not p.get("causes")]
    assert missing == []
    symptom_as_cause = [(pid, c) for pid, p in kb.patterns.items() for c in p["causes"] if c in p["symptoms"]]
    assert symptom_as_cause == []


@pytest.fixture
def agent(make_config):
    made = make_agent(make_config)
    yield made
    made.close()


def test_no_pattern_answer_is_honest_and_low(agent):
    answer = agent.assist.ask("how do i bake sourdough bread", mode="kb_only")
    assert answer["matched_patterns"] == []
    assert answer["confidence"] == 0.5 and answer["confidence_label"] == "low"
    assert "I have no pattern for this question" in answer["analysis"]
    assert "LLM provider" in answer["analysis"]
    assert answer["possible_causes"] == [] and answer["recommended_actions"] == []


def test_kb_answer_advises_from_the_best_match_and_links_the_rest(agent):
    answer = agent.assist.ask("my raid is degraded", mode="kb_only")
    top = answer["matched_patterns"][0]
    assert top["pattern_id"] == "mdadm-degraded"
    pattern = agent.knowledge.patterns["mdadm-degraded"]
    assert [c["cause"] for c in answer["possible_causes"]] == pattern["causes"]
    assert top["title"] not in [c["cause"] for c in answer["possible_causes"]]
    assert {d["pattern_id"] for d in answer["suggested_diagnostics"]} == {"mdadm-degraded"}
    actions = [a["action"] for a in answer["recommended_actions"]]
    assert actions == [s["action"] for s in sorted(pattern["solutions"], key=lambda s: s["priority"])][:4]
    related = [r["pattern_id"] for r in answer["related_patterns"]]
    assert related == [m["pattern_id"] for m in answer["matched_patterns"][1:]]
    assert all(r in answer["analysis"] for r in related)
