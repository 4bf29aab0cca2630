"""Fourth review of the KB-only answer (docs/review-2026-12-07-fourteenth.md): one test per fix, each
failing on the code before it. The matches and the box's signals are stubbed, so what is tested is
the composition, not the ranking.
"""

from __future__ import annotations

from omv_copilot_agent.assist import kb_answer


def _match(pid: str, score: float, **pattern) -> dict:
    return {"pattern_id": pid, "title": pid.replace("-", " "), "category": "service", "score": score,
            "reasons": ["words: stub"], "pattern": {"causes": ["a cause"], "symptoms": ["a symptom"], **pattern}}


def _signal(pid: str, finding: str, context: str = "performance") -> dict:
    return {"pattern_id": pid, "title": pid.replace("-", " "), "category": context, "score": 0.9,
            "reasons": [f"finding: {finding}"], "context": context}


CPU_BUSY = _signal("high-cpu-process", "cpu-busy on cpu: CPU 100% busy (threshold 90%)")


# -- the box's state only where it bears on the question ------------------------------------------

def test_a_weak_related_match_does_not_bring_the_boxs_state_in():
    """N6 "after updating to 8.0-10 I can't log in to the web ui, every login leaves a php process waiting for
    sendmail/postdrop", before: "The box's state bears on this: CPU 100% busy (threshold 90%)." - said because
    high-cpu-process was a related match at 0.15, a word overlap, not a topic of the question."""
    q = "after updating to 8.0-10 I can't log in to the web ui, every login leaves a php process waiting for sendmail"
    matches = [_match("engined-not-running", 0.23), _match("high-cpu-process", 0.15)]
    text = kb_answer.compose(q, "security", matches, [CPU_BUSY], "stub")["analysis"]
    assert "CPU 100% busy" not in text, text
    # the same state bears when its pattern is the (even weak) best match, or a related match that is not weak
    for matches in ([_match("high-cpu-process", 0.23)],
                    [_match("engined-not-running", 0.8), _match("high-cpu-process", 0.45)]):
        text = kb_answer.compose("the web ui is sluggish", "performance", matches, [CPU_BUSY], "stub")["analysis"]
        assert "The box's state bears on this: CPU 100% busy (threshold 90%)." in text, (matches, text)
