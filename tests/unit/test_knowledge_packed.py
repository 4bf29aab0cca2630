"""The knowledge base holds its patterns packed and its index with one object per term and weight.

Why these shapes matter: the daemon keeps them for weeks (docs/benchmarks.md, issue 17's idle
RSS); what a reader sees must not change with them.
"""

from __future__ import annotations

from tests.conftest import ROOT
from omv_copilot_agent.knowledge import KnowledgeBase, matcher, packed

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


def test_a_term_is_one_object_across_patterns():
    index = _kb().index
    holders = [doc for doc in index.docs.values() if "disk" in doc]
    assert len(holders) > 1
    keys = [next(k for k in doc if k == "disk") for doc in holders]
    assert all(k is keys[0] for k in keys)
    weights = [w for doc in index.docs.values() for w in doc.values() if w == 3.0]
    assert len(weights) > 1 and all(w is weights[0] for w in weights)


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
