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


# -- confidence of a KB answer ------------------------------------------------------------------

def test_a_weak_best_match_is_not_more_confident_than_no_pattern(agent, monkeypatch):
    """"is my raid ok" matched an SMB guest pattern at 0.16 and four at 0.13-0.15: the answer said
    65 % (medium) while advising on SMB guests. Its advice holds the fix with about the best match's
    chance, so it is low, like the answer that has no pattern."""
    _stub_search(agent, monkeypatch, [("smb-guest-share-access", 0.16), ("mdadm-degraded", 0.15),
                                      ("mdadm-no-arrays-found-boot", 0.15)])
    answer = agent.assist.ask("is my raid ok", mode="kb_only")
    assert answer["confidence"] == 0.5 and answer["confidence_label"] == "low", answer["confidence"]


def test_a_kb_answer_is_never_more_sure_than_its_best_match(agent, monkeypatch):
    # seed rule: 0.5 + mean(0.73, 0.46, 0.21) + 0.1 = 1.07 -> 0.98 (high); the advice comes from a 0.73 match
    _stub_search(agent, monkeypatch, [("boot-emergency-mode-missing-disk", 0.73), ("luks-locked-after-reboot", 0.46),
                                      ("docker-starts-before-data-disk", 0.21)])
    answer = agent.assist.ask("emergency mode when my encrypted disk is locked", mode="kb_only")
    assert answer["confidence"] == 0.73 and answer["confidence_label"] == "medium"


def test_a_strong_best_match_keeps_the_seed_rule():
    assert kb_answer.confidence([0.96, 0.5]) == 0.96  # seed 0.98, at most the best match
    assert kb_answer.confidence([0.62, 0.6]) == 0.62  # seed 1.11 -> capped, then at most the best match
    assert kb_answer.confidence([]) == 0.5
