"""Rank patterns for a query and the box's findings: BM25 over title/symptoms/triggers + findings.

Score in [0, 1]: the text side is a relevance model (a logistic fit over the squashed BM25, the
share of the question's words a pattern answers to and how many it matched, then a calibration
map to the chance that the best such pattern holds the fix of a problem no pattern was written
from; ``relevance.json``);
a pattern whose ``findings:`` hold gets its odds multiplied by SIGNAL_ODDS (or SIGNAL_EVIDENCE
for a question without words), and feedback nudges by at most ±FEEDBACK_CAP. When a query's
words match patterns, only those are ranked (findings strengthen them); otherwise the patterns
whose findings hold. Every contribution is written into ``reasons`` so the answer can show why
a pattern was chosen.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from omv_copilot_agent.findings import Finding
from omv_copilot_agent.knowledge import signals as sig
from omv_copilot_agent.knowledge.text import edit_distance, is_real_word, phrase_synonyms, tokens, typed_words

#: How much a word in each field counts. Symptoms weigh least: they are users' sentences, often
#: copied from the thread a pattern was written from, so a heavy weight ranks the pattern for its
#: own thread's wording and not for the next user's (tools/rank-unseen: fix@1 42 -> 45 of 121,
#: relevant@3 83 -> 89 of 121 with the case's own patterns left out, at 2.0 -> 0.5).
FIELD_WEIGHTS = {"title": 3.0, "symptoms": 0.5, "triggers": 2.0, "keywords": 1.5, "category": 1.0}
K1, B = 1.2, 0.75
SQUASH = 6.0
SIGNAL_EVIDENCE = 0.6
SIGNAL_ODDS = 4.0
FEEDBACK_STEP, FEEDBACK_CAP = 0.02, 0.1
#: The relevance model, fit by tools/fit-relevance on the eval set's tuned split only (never the
#: held-out part): a logistic fit of "this pattern holds the fix" on the text features below, which
#: ranks, and a Platt map of its logit (``calibration``) to the score shown. The map is fit on
#: tuned questions ranked without the patterns written from their own source, because in-sample
#: the tuned questions' leaders hold the fix ~9 times in 10 and a new question's do not; it is
#: monotone, so it changes no ranking. Its floor (on the shown score) is where a pattern stops
#: counting as matched at all: the answer then says it has no pattern instead of offering a weak one.
MODEL_FILE = Path(__file__).with_name("relevance.json")


def _load_model() -> dict:
    try:
        model = json.loads(MODEL_FILE.read_text())
        cal = model.get("calibration") or {"intercept": 0.0, "slope": 1.0}
        return {"bias": float(model["bias"]), "weights": [float(w) for w in model["weights"]],
                "calibration": (float(cal["intercept"]), float(cal["slope"])), "floor": float(model["floor"])}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        # no fitted model (a checkout mid-refit): squashed BM25 times coverage, a conservative floor
        return {"bias": None, "weights": [], "calibration": (0.0, 1.0), "floor": 0.3}


MODEL = _load_model()


def features(raw: float, coverage: float, matched: int) -> list[float]:
    """What the relevance model looks at: BM25 squashed to 0-1, the share of the question's words
    the pattern answers to (one shared word of a five-word question is weak), how many words."""
    return [1 - math.exp(-raw / SQUASH), coverage, math.log1p(matched)]


def relevance(raw: float, coverage: float, matched: int, model: dict | None = None) -> float:
    """The pattern's score from its text features: the calibrated chance that it holds the fix."""
    model = model or MODEL
    x = features(raw, coverage, matched)
    if model["bias"] is None:
        return x[0] * x[1]
    intercept, slope = model.get("calibration", (0.0, 1.0))
    z = intercept + slope * (model["bias"] + sum(w * v for w, v in zip(model["weights"], x)))
    return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))


def calibrated(raw_probability: float, model: dict | None = None) -> float:
    """A probability of the uncalibrated model, as the score it is shown as (the same Platt map).

    Why: a threshold chosen on the raw model (the router's) stays the same threshold after a refit
    moves the map, instead of a constant that silently drifts from it."""
    intercept, slope = (model or MODEL).get("calibration", (0.0, 1.0))
    z = intercept + slope * math.log(raw_probability / (1 - raw_probability))
    return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))


@dataclass
class Match:
    pattern_id: str
    title: str
    category: str
    score: float
    reasons: list[str] = field(default_factory=list)
    pattern: dict = field(default_factory=dict, repr=False)

    def to_dict(self, *, with_pattern: bool = False) -> dict:
        out = {"pattern_id": self.pattern_id, "title": self.title, "category": self.category,
               "score": round(self.score, 4), "reasons": list(self.reasons)}
        if with_pattern:
            out["pattern"] = self.pattern
        return out


#: The fields ranking reads of every pattern (the rest is read only for the patterns an answer shows).
HEAD_FIELDS = ("title", "category", "findings")


class Index:
    """A BM25 index over weighted pattern fields, built once per load.

    ``patterns`` may be packed (knowledge.packed): each is unpacked once here, and only its
    ``HEAD_FIELDS`` are kept unpacked. A term is one string object however many patterns use it
    and a weight one float object: 231 patterns index ~7,000 (pattern, term) pairs over ~1,800
    terms, so that halves the index.
    """

    def __init__(self, patterns: Mapping[str, dict]):
        self.patterns = patterns
        self.heads: dict[str, dict] = {}
        self.docs: dict[str, dict[str, float]] = {}
        terms: dict[str, str] = {}
        weights: dict[float, float] = {}
        for pid, p in patterns.items():
            self.heads[pid] = {name: p.get(name) for name in HEAD_FIELDS}
            tf: Counter = Counter()
            for name, weight in FIELD_WEIGHTS.items():
                value = p.get(name) or []
                for text in ([value] if isinstance(value, str) else value):
                    for tok in tokens(text, synonyms=False):
                        tf[tok] += weight
            self.docs[pid] = {terms.setdefault(t, t): weights.setdefault(w, w) for t, w in tf.items()}
        n = max(len(self.docs), 1)
        df: Counter = Counter()
        for tf in self.docs.values():
            df.update(tf.keys())
        self.idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self.avglen = sum(sum(tf.values()) for tf in self.docs.values()) / n if self.docs else 1.0
        self.vocab = sorted(self.idf)
        self.max_idf = math.log(1 + (n + 0.5) / 0.5)  # the IDF of a term no pattern has
        self.by_length: dict[int, list[str]] = {}
        for term in self.vocab:
            self.by_length.setdefault(len(term), []).append(term)
        self.typos: dict[tuple[str, str], tuple[str | None, str | None]] = {}

    def _resolve(self, term: str, typed: str | None = None) -> tuple[str | None, str | None]:
        """The indexed term for a query token, tolerating typos ('smaba'→'samba').

        Only a token that is no word at all is a typo: an English or domain word that the
        patterns do not use ('bread', 'sick', 'fdisk') matches nothing rather than its nearest
        neighbour ('read', 'stick', 'disk'). A typo keeps its first letter (people rarely miss
        the first one), which keeps 'static' away from 'stat' and 'swapped' from 'swap'. It is
        at most one edit (two from nine letters) from a term or an inflection of it, as typed
        ('workng' → 'working', 'degarded' → 'degraded'); among equally close terms the most
        common wins, as the likelier word meant.
        """
        if term in self.idf:
            return term, None
        typed = typed or term
        if (term, typed) not in self.typos:
            if len(self.typos) >= 256:  # a question's words meet it three times; questions differ
                self.typos.clear()
            self.typos[term, typed] = self._nearest(term, typed)
        return self.typos[term, typed]

    def _nearest(self, term: str, typed: str) -> tuple[str | None, str | None]:
        if len(term) < 4 or not term.isalpha():
            return None, None
        # a real word is no typo: it may only be an inflection the light stemmer did not undo
        # ('answered' -> 'answere' is 'answer', 'modified' -> 'modifi' is 'modify'), never a neighbour
        limit = 0 if is_real_word(term) or is_real_word(typed) else 1 if len(typed) < 9 else 2
        best: tuple[int, float, str] | None = None
        lengths = range(min(len(term), len(typed)) - limit - 3, max(len(term), len(typed)) + limit + 1)
        for candidate in (t for n in lengths for t in self.by_length.get(n, ()) if t[0] == term[0]):
            forms = {candidate, candidate + "s", candidate + "ed", candidate + "ing"}
            if candidate.endswith("e"):
                forms |= {candidate + "d", candidate[:-1] + "ing"}
            elif candidate.endswith("y"):
                forms |= {candidate[:-1] + "ied", candidate[:-1] + "ies"}
            distance = min([edit_distance(word, form, limit) for word in {term, typed} for form in forms])
            if distance <= limit and (best is None or (distance, self.idf[candidate], candidate) < best):
                best = (distance, self.idf[candidate], candidate)
        if best is None:
            return None, None
        return best[2], (f"'{typed}'≈'{best[2]}'" if best[0] else None)

    def word_weight(self, family: set[str]) -> float:
        """How much a word of the question counts towards coverage: the IDF of its rarest indexed
        term, so 'omv', 'work' or 'fail' (in dozens of patterns) weigh little and 'apparmor' much;
        a word no pattern uses weighs as the rarest term could (what it asks about is not here)."""
        return max((self.idf[t] for t in family), default=self.max_idf)

    def score(self, query: str) -> dict[str, tuple[float, float, list[str]]]:
        """pattern id -> (BM25 score, coverage, matched words) for the patterns the query's words hit.

        Coverage is the share of the question's own words (before synonyms) that this pattern
        answers to: "how tall is mount everest" hits the mount patterns through one word of three,
        "filesystem not mounted after reboot" through all of them.
        """
        terms, notes = [], []
        typed = typed_words(query)
        for tok in dict.fromkeys(tokens(query)):
            resolved, note = self._resolve(tok, typed.get(tok))
            if resolved and resolved not in terms:
                terms.append(resolved)
                if note:
                    notes.append(note)
        # per word of the question: the searched terms it stands for (itself, its synonyms, and
        # the expansion of a phrase it is part of); a vague phrase dropped by expand() has none
        phrases = phrase_synonyms(query)
        families = []
        for word in dict.fromkeys(tokens(query, synonyms=False)):
            extra = [tok for phrase, expansion in phrases if word in phrase for tok in expansion]
            family = {self._resolve(t, typed.get(t))[0] for t in dict.fromkeys([word, *tokens(word), *extra])}
            families.append(family & set(terms))
        weights = [self.word_weight(f) for f in families]
        out = {}
        for pid, tf in self.docs.items():
            length = sum(tf.values()) or 1
            total, words = 0.0, []
            for term in terms:
                f = tf.get(term)
                if not f:
                    continue
                total += self.idf[term] * f * (K1 + 1) / (f + K1 * (1 - B + B * length / self.avglen))
                words.append(term)
            if total > 0:
                covered = sum(w for family, w in zip(families, weights) if family & set(words))
                out[pid] = (total, covered / max(sum(weights), 1e-9), words + notes)
        return out


def _with_odds(p: float, factor: float) -> float:
    odds = p / max(1e-9, 1 - p) * factor
    return odds / (1 + odds)


def from_text(match: dict) -> bool:
    """Whether a match (``Match.to_dict()``) was found by the question's words, not by the box's state alone."""
    return any(str(r).startswith("words: ") for r in match.get("reasons") or [])


def feedback_nudge(counts: tuple[int, int] | None) -> float:
    if not counts:
        return 0.0
    helpful, unhelpful = counts
    return max(-FEEDBACK_CAP, min(FEEDBACK_CAP, FEEDBACK_STEP * (helpful - unhelpful)))


def rank(index: Index, query: str, findings: list[Finding] | None = None, *, limit: int = 5,
         feedback: dict | None = None, min_score: float | None = None) -> list[Match]:
    """The best patterns for ``query`` and the box's current ``findings`` (findings.evaluate of its snapshot)."""
    min_score = MODEL["floor"] if min_score is None else min_score
    text = index.score(query) if query and query.strip() else {}
    if not text and tokens(query or ""):
        # The question has words and none of them is about anything the patterns know: the box's
        # state does not make an answer to "how do I bake bread". Only a question without content
        # ("is everything ok?", empty) is answered by what the state points to.
        return []
    results = []
    for pid, head in index.heads.items():
        reasons: list[str] = []
        text_score = 0.0
        if pid in text:
            raw, coverage, words = text[pid]
            text_score = relevance(raw, coverage, len(words))
            reasons.append(f"words: {', '.join(words)} (relevance {text_score:.2f}, {coverage:.0%} of the question)")
        elif text:
            # The question's words found other patterns: the box's state alone does not make this
            # one an answer (it would outrank what was asked about). A vague question whose words
            # match nothing ("something is wrong") still gets the patterns the state points to.
            continue
        hits = sig.evaluate(head, findings) if findings else []
        score = text_score
        if hits:
            # the box shows what the pattern is about: stronger evidence for a pattern the question
            # reached (its odds times SIGNAL_ODDS), the whole answer for a question without words
            score = _with_odds(text_score, SIGNAL_ODDS) if text_score else SIGNAL_EVIDENCE
            reasons.extend(f"finding: {h}" for h in hits[:5])
        if score <= 0:
            continue
        nudge = feedback_nudge((feedback or {}).get(pid))
        if nudge:
            h, u = feedback[pid]
            score += nudge
            reasons.append(f"feedback: {nudge:+.2f} ({h} helpful, {u} not helpful)")
        score = max(0.0, min(1.0, score))
        if score >= min_score:
            results.append((score, pid, reasons))
    results.sort(key=lambda r: (-r[0], r[1]))
    # only the patterns returned are unpacked in full
    return [Match(pid, index.heads[pid]["title"], index.heads[pid]["category"], score, reasons, index.patterns[pid])
            for score, pid, reasons in results[:limit]]
