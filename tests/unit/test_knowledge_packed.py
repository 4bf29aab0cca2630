"""The knowledge base holds its patterns packed and its index's term weights in flat arrays.

Why these shapes matter: the daemon keeps them for weeks (docs/benchmarks.md, issue 17's idle
RSS); what a reader sees must not change with them.
"""

from __future__ import annotations

from array import array
from collections import Counter

from tests.conftest import ROOT
from omv_copilot_agent.knowledge import KnowledgeBase, matcher, packed
from omv_copilot_agent.knowledge.text import tokens

PATTERNS_DIR = ROOT / "patterns"


def _kb() -> KnowledgeBase:
    return KnowledgeBase(PATTERNS_DIR)


def test_patterns_are_held_packed_and_read_whole():
    kb = _kb()
    assert type(kb.patterns) is packed.Packed
    assert all(isinstance(blob, bytes) for blob in kb.patterns._by_id.values())
    pattern = kb.get("mdadm-degraded")
    assert pattern["pattern_id"] == "mdadm-degraded" and pattern["solutions"] and pattern["diagnostics"]
    assert "mdadm-degraded" in kb.patterns and "no-such-pattern" not in kb.patterns
    assert kb.get("no-such-pattern") is None
    assert sorted(kb.patterns) == sorted(p["pattern_id"] for p in kb.patterns.values())


def test_a_reader_changing_its_copy_changes_nothing_for_the_next():
    kb = _kb()
    first = kb.get("mdadm-degraded")
    first["title"] = "changed by a caller"
    first["solutions"].clear()
    again = kb.get("mdadm-degraded")
    assert again["title"] != "changed by a caller" and again["solutions"]


def test_the_index_keeps_only_what_ranking_reads_of_every_pattern():
    kb = _kb()
    head = kb.index.heads["mdadm-degraded"]
    assert set(head) == set(matcher.HEAD_FIELDS)
    assert head["title"] == kb.get("mdadm-degraded")["title"]


def test_the_index_holds_term_weights_in_flat_arrays_not_a_dict_per_pattern():
    """Each pattern's weights are a slice of two arrays (term numbers, doubles): ~0.1 MB, not ~0.3 MB of dicts."""
    kb = _kb()
    index = kb.index
    assert isinstance(index.terms, array) and isinstance(index.weights, array) and index.weights.typecode == "d"
    assert not hasattr(index, "docs")
    assert len(index.bounds) == len(kb.patterns) + 1 and index.bounds[-1] == len(index.terms) == len(index.weights)
    terms = dict(index.doc_terms())
    assert list(terms) == list(kb.patterns)
    pattern = kb.get("mdadm-degraded")
    expected: Counter = Counter()
    for name, weight in matcher.FIELD_WEIGHTS.items():
        value = pattern.get(name) or []
        for text in ([value] if isinstance(value, str) else value):
            for tok in tokens(text, synonyms=False):
                expected[tok] += weight
    i = list(kb.patterns).index("mdadm-degraded")
    lo, hi = index.bounds[i], index.bounds[i + 1]
    assert terms["mdadm-degraded"] == sorted(expected)  # ascending term numbers: vocab is sorted
    assert dict(zip(terms["mdadm-degraded"], index.weights[lo:hi])) == expected
    assert index.lengths[i] == sum(expected.values())


def test_ranking_returns_the_whole_pattern_of_each_match():
    kb = _kb()
    matches = kb.search("my raid is degraded", limit=3)
    assert matches and matches[0].pattern["pattern_id"] == matches[0].pattern_id
    assert matches[0].pattern["solutions"] and matches[0].title == matches[0].pattern["title"]


def test_an_index_over_plain_dicts_ranks_the_same():
    kb = _kb()
    plain = matcher.Index({pid: kb.get(pid) for pid in kb.patterns})
    query = "samba share not visible from windows"
    assert [m.pattern_id for m in matcher.rank(plain, query)] == [m.pattern_id for m in matcher.rank(kb.index, query)]
