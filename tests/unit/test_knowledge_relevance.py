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
from tests.eval import evalset

ROOT = Path(__file__).resolve().parents[2]

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


@pytest.mark.parametrize("question,typed,meant", [
    ("raid degarded after disk failure", "degarded", "degrade"),    # a swap: difflib saw 'dead' closer
    ("webui login not workng", "workng", "work"),                   # an inflection: 'working', not 'worn'
    ("nvme temprature 80 degrees", "temprature", "temperature"),
    ("smaba share not acessible", "acessible", "accessible"),
])
def test_a_typo_in_a_question_is_read_as_the_word_meant(kb, question, typed, meant):
    """Through the question's path, where the typo is stemmed first ('degarded' -> 'degard')."""
    notes = [r for m in kb.search(question, limit=3) for r in m.reasons]
    assert any(f"'{typed}'≈'{meant}'" in r for r in notes), notes


def test_a_double_s_word_is_not_a_plural():
    from omv_copilot_agent.knowledge.text import stem

    assert stem("access") == stem("accessed") == stem("accesses") == "access"
    assert stem("address") == "address" and stem("disks") == "disk"


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


def test_the_shipped_relevance_model_is_the_fit_of_todays_patterns_and_tuned_cases():
    """knowledge/relevance.json is generated by tools/fit-relevance from the tuned split only; a
    pattern added or changed without a refit would be scored by a model fit on other patterns."""
    import subprocess

    from tests.conftest import PYTHON

    # Measured (twelfth session, 2 CPUs shared with other helpers' fits and test runs): 31.6 CPU-s
    # before fit() summed by column, ~22 after (~10 of it prepare(): the matcher's index, rebuilt per
    # left-out source). Wall time is CPU time times the contention: 42 s / 79 s at load 5 / 9; at
    # load 11, with a second fit running beside it, 262 s before and 215 s after, so 300 s was too
    # close even after the cut. 600 s: ~2.8x the worst measured.
    result = subprocess.run([PYTHON, str(ROOT / "tools" / "fit-relevance"), "--check"], capture_output=True, text=True,
                            timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def _newton_terms_per_sample(beta, xs, ys, l2):
    """fit()'s gradient and Hessian as written until the twelfth session: a Python loop per sample and entry."""
    tool = _fit_tool()
    grad = [l2 * b if j else 0.0 for j, b in enumerate(beta)]
    hess = [[(l2 if i == j and i else 0.0) for j in range(len(beta))] for i in range(len(beta))]
    for x, y in zip(([1.0] + x for x in xs), ys):
        p = tool._sigmoid(sum(b * v for b, v in zip(beta, x)))
        for i in range(len(beta)):
            grad[i] += (p - y) * x[i]
            for j in range(len(beta)):
                hess[i][j] += p * (1 - p) * x[i] * x[j]
    return grad, hess


@pytest.mark.parametrize("features,l2", [(3, 0.1), (1, 0.0)])  # the pair model's shape, the Platt map's
def test_a_newton_step_is_the_per_sample_loops_bit_for_bit(features, l2):
    """fit() sums by column for speed; its floats must be the loop's, or relevance.json would change.

    A step, not the fit's result: Newton's method converges to the same last bit from a slightly
    different step, so comparing fits would not see a changed sum."""
    import random

    tool, rnd = _fit_tool(), random.Random(12)
    xs = [[rnd.random() * 3 - 0.5 for _ in range(features)] for _ in range(2000)]
    ys = [int(rnd.random() < 0.2 + 0.2 * x[0]) for x in xs]
    columns = [[1.0] * len(xs)] + [[x[i] for x in xs] for i in range(features)]
    for beta in ([0.0] * (features + 1), [rnd.uniform(-2, 2) for _ in range(features + 1)]):
        assert tool.newton_terms(beta, columns, ys, l2) == _newton_terms_per_sample(beta, xs, ys, l2)
    assert tool.fit(xs, ys, l2) == tool.fit(xs[:], ys[:], l2)  # and the fit runs


def test_the_relevance_model_never_reads_the_held_out_split():
    text = (ROOT / "tools" / "fit-relevance").read_text()
    assert '["split"] == "tuned"' in text and "heldout" not in text.replace("held-out split is never read", "")


def _fit_tool():
    from tests.conftest import load_tool

    return load_tool("fit-relevance")


def _shipped_model() -> dict:
    import json

    from omv_copilot_agent.knowledge import matcher

    return json.loads(matcher.MODEL_FILE.read_text())


def test_the_score_is_calibrated_on_unseen_problems_by_cross_validation():
    """The shipped map was fit out of sample: the tuned questions ranked without the patterns written
    from their source, its error estimated by grouped cross-validation (tools/fit-relevance writes
    the numbers; the --check test above proves they are today's). Issue 16's target is ECE <= 0.10."""
    model = _shipped_model()
    cal, cv = model["calibration"], model["cross_validation"]
    assert cal["slope"] > 0  # monotone: the map re-labels scores, it never re-ranks
    assert cv["folds"] >= 5 and cv["repeats"] >= 3 and cv["grouped_by"].startswith("source")
    unseen = cv["unseen"]
    # the shipped score is whichever of the two calibrates unseen problems better, within the target
    shipped_is_map = (cal["intercept"], cal["slope"]) != (0.0, 1.0)
    assert shipped_is_map == (unseen["ece_calibrated"] < unseen["ece_raw"]), (cal, unseen)
    assert min(unseen["ece_calibrated"], unseen["ece_raw"]) <= 0.10, unseen
    # what the map learnt is a new problem's base rate, not the tuned split's in-sample one
    assert unseen["fix_top1"] < cv["seen"]["fix_top1"] - 0.3


def test_the_ece_a_perfectly_calibrated_score_would_show_is_computed_exactly():
    """The sampling part of an ECE: answers whose top pattern holds the fix exactly as often as its
    score says still read an ECE above 0 with a hundred answers in 10 bins. Exact values (no draws)."""
    tool = _fit_tool()
    assert tool.expected_ece([]) == 0.0
    assert tool.expected_ece([0.0, 1.0, 1.0]) == 0.0  # certain outcomes: no sampling error
    assert tool.expected_ece([0.5]) == pytest.approx(0.5)  # one answer: |0 or 1 - 0.5|
    # two answers in the 0.5-0.6 bin: 0, 1 or 2 hold the fix (0.2025, 0.495, 0.3025) against 0.55
    assert tool.expected_ece([0.55, 0.55]) == pytest.approx(0.2025 * 0.55 + 0.495 * 0.05 + 0.3025 * 0.45)
    # bins are weighed by their answers, as tests/eval/run.calibration weighs them
    assert tool.expected_ece([0.55, 0.55, 0.0, 0.0]) == pytest.approx(tool.expected_ece([0.55, 0.55]) / 2)
    # it shrinks with more answers per bin: ~1/sqrt(n)
    small, large = tool.expected_ece([0.3] * 25), tool.expected_ece([0.3] * 100)
    assert 0.4 < large / small < 0.6


def test_the_cross_validation_reports_its_spread_and_the_sampling_floor():
    """Fifteenth session (s15-calib): a calibration map is only better than another by more than the
    partitions' spread, and no map gets under the ECE a perfectly calibrated score would read on the
    same number of answers. Both are written next to the ECE they qualify."""
    unseen = _shipped_model()["cross_validation"]["unseen"]
    for key in ("ece_raw_spread", "ece_calibrated_spread", "ece_if_calibrated"):
        assert 0 < unseen[key] < 0.2, (key, unseen)
    # ~120 answers in 10 bins: a right score reads several hundredths of ECE from sampling alone
    assert unseen["ece_if_calibrated"] > 0.05


def test_the_calibration_keeps_the_ranking_and_the_matched_set(kb, monkeypatch):
    """The same questions through the pair model alone (identity map, its own floor) match the same
    patterns in the same order: calibration changes what a score says, not what is matched."""
    import math

    from omv_copilot_agent.knowledge import matcher
    from tests.eval import evalset

    intercept, slope = matcher.MODEL["calibration"]
    floor = matcher.MODEL["floor"]
    raw_floor = 1 / (1 + math.exp(-((math.log(floor / (1 - floor)) - intercept) / slope)))
    questions = [c["question"] for c in evalset.load() if c["split"] == "tuned"][:40] + OFF_TOPIC[:5]
    as_shipped = {q: [m.pattern_id for m in kb.search(q)] for q in questions}
    # the shipped map (or, when the identity is shipped, a made-up one) with the floor carried through it
    other = (0.0, 1.0) if (intercept, slope) != (0.0, 1.0) else (-0.7, 0.6)
    monkeypatch.setitem(matcher.MODEL, "calibration", other)
    monkeypatch.setitem(matcher.MODEL, "floor", 1 / (1 + math.exp(-(other[0] + other[1] * math.log(raw_floor / (1 - raw_floor))))) - 1e-6)
    assert {q: [m.pattern_id for m in kb.search(q)] for q in questions} == as_shipped
    assert sum(1 for ids in as_shipped.values() if ids) >= 30


def test_leave_source_out_removes_the_patterns_written_from_a_case_but_not_the_design(kb):
    tool = _fit_tool()
    new = next(pid for pid, p in kb.patterns.items() if pid not in evalset.DESIGN_PATTERNS and p.get("sources"))
    url = kb.patterns[new]["sources"][0]
    assert new in evalset.written_from(kb.patterns, url)
    # the same thread or docs page however it is spelled
    variant = url.replace("https://", "http://").rstrip("/") + "#issuecomment-1"
    assert new in evalset.written_from(kb.patterns, variant.replace("/en/stable/", "/en/latest/"))
    assert evalset.source_key("https://docs.openmediavault.org/en/latest/faq.html") == \
        evalset.source_key("https://docs.openmediavault.org/en/stable/faq.html#x") == \
        evalset.source_key("https://openmediavault.readthedocs.io/en/6.x/faq.html")
    # a comment of a thread or its pull-request twin is the thread (evalset.source_key's rules)
    assert evalset.source_key("https://github.com/O/r/pull/5#issuecomment-1") == evalset.source_key("https://github.com/o/r/issues/5")
    design = next(pid for pid in evalset.DESIGN_PATTERNS if kb.patterns.get(pid, {}).get("sources"))
    assert design not in evalset.written_from(kb.patterns, kb.patterns[design]["sources"][0])
    assert evalset.DESIGN_PATTERNS <= set(kb.patterns)  # renamed design patterns would silently count as new
    # a tuned question asked of the knowledge base without the patterns written from its source
    case = {"question": kb.patterns[new]["title"], "source": url, "fix_keys": [["zzz-no-such-fix"]]}
    prepared = tool.prepare(kb, [case])[0]
    assert new in {pid for pid, _x, _y in prepared["seen"]}
    assert new not in {pid for pid, _x, _y in prepared["unseen"]} and prepared["left_out"] >= 1


def test_written_from_reads_both_source_forms_and_never_leaves_the_design_out():
    """The one leave-source-out rule of the relevance fit, rank-unseen and the context CV: a
    ``{url: ...}`` source cites as a string does (the fit read only strings), and a design pattern
    citing the thread stays (the context CV left it out)."""
    url = "https://github.com/o/r/issues/7"
    design = sorted(evalset.DESIGN_PATTERNS)[0]
    patterns = {"as-string": {"sources": [url + "#issuecomment-2"]}, "as-dict": {"sources": [{"url": url + "/"}]},
                design: {"sources": [url]}, "other": {"sources": ["https://github.com/o/r/issues/70", {"x": 1}]},
                "none": {}}
    assert evalset.written_from(patterns, url) == {"as-string", "as-dict"}
    assert evalset.written_from(patterns, url, strict=True) == {"as-string", "as-dict", design}


def test_index_without_leaves_out_the_patterns_gone_and_keeps_the_full_index_when_none_is(kb):
    """The one leave-own-source-out index of tools/rank-unseen and tools/ece-noise: the full index
    itself when nothing is written from the case's source, else one without those patterns."""
    from omv_copilot_agent.knowledge import matcher

    assert evalset.index_without(kb.patterns, set(), kb.index) is kb.index
    new = next(pid for pid, p in kb.patterns.items() if pid not in evalset.DESIGN_PATTERNS and p.get("sources"))
    gone = evalset.written_from(kb.patterns, kb.patterns[new]["sources"][0])
    unseen = evalset.index_without(kb.patterns, gone, kb.index)
    assert set(unseen.patterns) == set(kb.patterns) - gone and new not in unseen.patterns
    question = kb.patterns[new]["title"]
    assert new in {m.pattern_id for m in matcher.rank(kb.index, question)}
    assert not gone & {m.pattern_id for m in matcher.rank(unseen, question, min_score=0.0)}


@pytest.mark.parametrize("argv", [["--draws", "0"], ["5", "0"], ["--draws", "x"], ["-3"]])
def test_ece_noise_refuses_a_size_or_a_number_of_draws_below_one_in_one_line(argv, capsys):
    """0 draws ended in statistics' traceback, a size 0 in a TypeError: argparse's usage error instead."""
    from tests.conftest import load_tool

    with pytest.raises(SystemExit) as exit:
        load_tool("ece-noise").main(argv)
    err = capsys.readouterr().err
    assert exit.value.code == 2 and "is not a whole number from 1" in err and "Traceback" not in err


def test_the_map_is_fit_on_unseen_leaders_not_in_sample_ones():
    """Leaders that hold the fix as written but not once their own pattern is gone: the map must
    learn the second (a fit in sample would say 'always right')."""
    tool = _fit_tool()
    beta = [0.0, 1.0, 0.0, 0.0]
    prepared = []
    for i in range(40):
        strong = [0.2 + i / 50, 0.5, 0.5]
        weak = [0.1 + i / 100, 0.5, 0.5]
        prepared.append({"off": False, "group": f"g{i}", "left_out": 1,
                         "seen": [("own", strong, 1), ("other", weak, 0)],
                         "unseen": [("other", weak, int(i % 4 == 0))]})
    cal = tool.platt(beta, 0.0, prepared)
    assert (cal["leaders"], cal["holding_fix"]) == (40, 10)
    mean = sum(tool.calibrated(cal, tool._logit(beta, c["seen"][0][1])) for c in prepared) / 40
    assert 0.1 < mean < 0.4  # ~ the unseen rate (1 in 4), far from the in-sample 1.0


def test_a_fit_whose_floor_would_match_nothing_is_refused_with_the_culprit():
    tool = _fit_tool()
    prepared = [{"group": "off-topic:my car won't start", "off": True,
                 "seen": [("engine-wont-start", [0.9, 1.0, 1.1], 0)], "unseen": [], "left_out": 0}]
    beta = [0.0, 3.0, 3.0, 3.0]  # the off-topic question reaches the pattern with p ~ 1
    with pytest.raises(tool.FloorTooHigh, match="my car won't start.*engine-wont-start"):
        tool.check_floor(beta, 0.95, prepared)
    tool.check_floor(beta, 0.5, prepared)  # a sane floor passes


def test_a_map_is_not_fit_on_too_few_leaders():
    """A fold (or a fit) where hardly a question clears the floor, or all leaders hold the fix, gets the
    identity map instead of a ZeroDivisionError from a singular Newton step (seen with one leader)."""
    tool = _fit_tool()
    beta, floor = [0.0, 1.0, 0.0, 0.0], 0.01
    one = [{"off": False, "unseen": [("p", [2.0, 0.5, 1.0], 1)]}]
    same = [{"off": False, "unseen": [(f"p{i}", [0.1 * i, 0.5, 1.0], 1)]} for i in range(20)]
    for prepared in (one, same, []):
        cal = tool.platt(beta, floor, prepared)
        assert (cal["intercept"], cal["slope"]) == (0.0, 1.0) and cal["leaders"] == len(prepared)


def test_an_apostrophe_does_not_split_a_word():
    """"don't" was 'don' + 't' (the apostrophe stop words never matched), two words that reached patterns."""
    from omv_copilot_agent.knowledge.text import tokens

    for question in ("I don't get emails", "I don\u2019t get emails", "I\u00b4ve lost it, can't log in"):
        toks = tokens(question)
        assert not {"don", "t", "ve", "can"} & set(toks), (question, toks)
    assert {"email", "lost", "log"} <= set(tokens("I don't get emails, I\u00b4ve lost it, can't log in"))
    assert tokens("my disk won\u2019t mount") == tokens("my disk wont mount")


def _synthetic(**fields_by_id) -> dict:
    return {pid: {"title": "", "category": "x", "symptoms": [], "triggers": [], "keywords": [], **f}
            for pid, f in fields_by_id.items()}


def test_coverage_weighs_a_question_word_by_how_rare_it_is():
    """A pattern answering the rare word of "omv apparmor" covers more of the question than one
    answering 'omv', a word of every other pattern (each word counted the same before: 50 % each)."""
    from omv_copilot_agent.knowledge import matcher

    patterns = _synthetic(**{f"generic-{i}": {"title": f"omv thing{i} fails"} for i in range(12)},
                          profile={"title": "apparmor profile not loaded"})
    hits = matcher.Index(patterns).score("omv apparmor")
    assert hits["profile"][1] > 0.75 and hits["generic-0"][1] < 0.25
    assert hits["profile"][1] + hits["generic-0"][1] == pytest.approx(1.0)


def test_a_symptom_sentence_weighs_less_than_the_title():
    """Symptoms are users' sentences, often the very thread a pattern came from: their words must not
    outweigh a title naming the problem (at the old weight 2.0 three symptom sentences did)."""
    from omv_copilot_agent.knowledge import matcher

    patterns = _synthetic(named={"title": "docker apparmor profile not loaded, containers do not start"},
                          echoed={"title": "container will not start",
                                  "symptoms": ["docker apparmor profile error", "docker apparmor profile not loaded",
                                               "docker apparmor profile"]},
                          **{f"other-{i}": {"title": f"unrelated thing{i} with a long title here"} for i in range(10)})
    hits = matcher.Index(patterns).score("docker apparmor profile")
    assert hits["named"][0] > hits["echoed"][0]


def test_a_real_word_is_joined_only_to_the_term_it_inflects(kb):
    """'proceed' (stem 'proce') is 'proceed', not 'process'; 'answered' (stem 'answere') is 'answer'."""
    from omv_copilot_agent.knowledge.text import typed_words

    for question, meant in (("the installer did not proceed", "proceed"), ("port 53 answered nothing", "answer")):
        typed = typed_words(question)
        stem_of = next(s for s, word in typed.items() if word in question.split() and word.startswith(meant[:4]))
        assert kb.index._resolve(stem_of, typed[stem_of]) == (meant, None)


def test_cause_likelihoods_fall_with_their_order():
    """A hub's causes are alternatives, most frequent first: nine causes of a 0.95 match are not all
    "high" (they were, when every later cause got 0.8 of the first), the first keeps the match's label,
    and no cause is more likely than one listed before it."""
    from omv_copilot_agent.assist import kb_answer

    causes = [f"cause {i}" for i in range(9)]
    match = {"pattern_id": "p", "title": "t", "score": 0.95, "pattern": {"causes": causes, "symptoms": ["s"]}}
    labels = [c["likelihood"] for c in kb_answer.compose("q", "general", [match], [], "test")["possible_causes"]]
    order = {"high": 2, "medium": 1, "low": 0}
    assert labels[0] == "high" and labels.count("high") < 9 and "low" in labels
    assert all(order[a] >= order[b] for a, b in zip(labels, labels[1:])), labels
