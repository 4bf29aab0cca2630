"""Pick one of six assistant contexts for a question.

Whole-word matching (so "loader" is not "load"), a score per context, and the
box's findings may tip a tie or a vague query: a "slow" box with a degraded array
is a storage question. Ties are broken by a fixed priority, never by dict order.

The context names what is wrong, not which part: a refused SMB password is a
security question, slow SMB a performance one, a web UI answering 502 a service
one. So security's words weigh more than the words naming a part (smb, nfs, ssh),
and a few phrases are read before the words ("web interface" is no network
interface, "bad gateway" no gateway, "root login" is about access).

Hand-written words miss how users ask, so two votes learnt from the patterns join
them: a word model over the patterns' own title/symptoms/triggers/keywords, each
labelled with its context (``ContextWords``), and the best matched patterns'
contexts weighted by their scores (``by_pattern``). Neither decides alone: a
question without a trigger word and without a matched pattern is general.

Some words name a part or a problem plainly to anyone running a NAS but were missing from the
first lists: "fail2ban banned my ip" is about who may get in (security), "fsck", "noexec" or "bad
sectors" about the disks and their filesystems (storage), "ipv6", "vlan" or a "bridge" about the
network, "iowait" or a "bottleneck" about speed. Each such word was kept only where the patterns'
own text agrees: the patterns that use it are mostly (two thirds or more, counted per pattern and
scaled by how many patterns each context has) of that same context. "failed" or "systemd" are not
service words by that measure (the patterns say them about disks and installs as often).
"""

from __future__ import annotations

import math
import re
import weakref

from omv_copilot_agent.knowledge import matcher
from omv_copilot_agent.knowledge.text import tokens

CONTEXTS = ("storage", "network", "service", "performance", "security", "general")

#: Trigger words per context, with a few obvious synonyms.
TRIGGERS: dict[str, tuple[str, ...]] = {
    "storage": ("disk", "disks", "storage", "zfs", "raid", "filesystem", "filesystems", "mdadm", "smart", "array",
                "degraded", "mount", "drive", "drives", "ssd", "hdd", "btrfs", "ext4", "full", "space", "luks",
                "encrypted", "mergerfs", "snapraid", "unmount", "partition",
                "noexec", "fsck", "sata", "sectors", "parity", "resync", "rebuild", "xfs", "quota", "spindown", "hdparm",
                "reallocated", "superblock", "inode", "inodes"),
    "network": ("network", "connection", "firewall", "vpn", "interface", "ip", "dns", "ethernet", "wifi", "ping",
                "gateway", "route", "unreachable", "wireguard", "netplan", "dhcp", "nic", "wol", "lan",
                "ipv6", "ipv4", "subnet", "hostname", "bond", "bonding", "vlan", "bridge", "nics", "reachable"),
    "service": ("smb", "nfs", "ftp", "ssh", "plex", "service", "services", "samba", "cifs", "rsync", "docker",
                "daemon", "share", "shares", "vm", "kvm", "container", "containers", "compose", "mail",
                "email", "notification", "notifications", "postfix", "nginx"),
    "performance": ("slow", "performance", "cpu", "memory", "load", "ram", "swap", "latency", "sluggish", "hang", "lag",
                    "speed", "speeds", "throughput", "bandwidth", "gbit", "mbit", "mbps", "bottleneck", "iowait"),
    "security": ("permission", "permissions", "access", "security", "auth", "vulnerability", "password", "login",
                 "denied", "acl", "certificate", "ssl", "tls", "locked", "lockout", "passwd", "passwords", "credentials",
                 "unauthorized", "faillock", "fail2ban", "sshd", "sshd_config", "allowusers",
                 "ban", "banned", "bans", "brute", "chmod", "ownership", "privileges", "privilege", "ransomware"),
}
#: Phrases read before the words, each a hit for its context ("" = none): the web UI's names hold
#: "interface", a 502 names a "gateway", and "log in" is two words.
PHRASES: dict[str, str] = {"web interface": "", "web ui": "", "webui": "", "web gui": "", "webgui": "", "gui": "",
                           "bad gateway": "service", "502": "service",
                           "log in": "security", "logged in": "security", "logging in": "security",
                           "sign in": "security", "root login": "security", "ssh access": "security",
                           "ssh login": "security", "ssh key": "security", "ssh keys": "security", "public key": "security"}
#: The context that names what is wrong rather than the part it happens in weighs more: "smb password" is a
#: security question. (Performance words stay at 1: the box's findings may make "slow" a storage question.)
PROBLEM_WEIGHT = {"security": 1.5}
_PRIORITY = {name: i for i, name in enumerate(CONTEXTS)}
_WORD = re.compile(r"[a-z0-9][a-z0-9_-]*")
#: A rate ("maxes at 1gbit", "200 MB/s", "100Mbps") is a throughput question.
_RATE = re.compile(r"\b\d+(?:[.,]\d+)?\s*(?:[mg]bit|[mg]bps|[mg]b/s|[mg]bit/s)(?![a-z0-9])")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def hits(query: str) -> dict[str, list[str]]:
    """The trigger phrases and words a question holds, per context (phrases first, then whole
    words; each distinct one once)."""
    text = f" {' '.join(_words(_RATE.sub(' throughput ', query.lower())))} "
    found: dict[str, list[str]] = {ctx: [] for ctx in TRIGGERS}
    for phrase, ctx in PHRASES.items():
        if f" {phrase} " in text:
            text = text.replace(f" {phrase} ", " ")
            if ctx:
                found[ctx].append(phrase)
    words = set(text.split())
    for ctx, trig in TRIGGERS.items():
        found[ctx] += [t for t in trig if t in words]
    return found


def weighted(found: dict[str, list[str]]) -> dict[str, float]:
    """:func:`hits` as scores per context, problem contexts' hits weighted by PROBLEM_WEIGHT."""
    return {ctx: len(words) * PROBLEM_WEIGHT.get(ctx, 1.0) for ctx, words in found.items()}


def score(query: str) -> dict[str, float]:
    """Trigger hits per context, problem contexts' hits weighted by PROBLEM_WEIGHT."""
    return weighted(hits(query))


#: A pattern's category → the context of its questions; a pattern may name its own ``context:``
#: (a web UI browser-cache pattern is a services pattern asked as a general question).
CATEGORY_CONTEXT: dict[str, str] = {"storage": "storage", "hardware": "storage", "network": "network",
                                    "services": "service", "performance": "performance",
                                    "security": "security", "backup": "service"}
#: Additive smoothing of the word model, and the weight of its posterior (it sums to 1 over contexts).
#: 0.2 rather than 0.5: with ~2,000 words over 250 patterns a word seen in two security patterns and
#: nowhere else ("refused", "module") should lean security more than a smoothed half-count lets it
#: (measured as unseen problems, tests/eval/run.py --context-cv: 0.05–0.3 is a plateau, 0.5–1 lower).
WORDS_ALPHA, WORDS_WEIGHT = 0.2, 1.0
#: Words of how a question is asked, not of what it is about, that the knowledge index keeps (its
#: stopwords drop "how", "what", "can", not these). A handful of patterns happen to say "where" or
#: "should" in a symptom, and with smoothing 0.2 those few counts tipped "where should i mount a bird
#: house" from no lean (0.52) to storage (0.83): they are no evidence of a context. A question's own are
#: passed over; the patterns' counts stay as they are (so no other question's posterior moves).
QUESTION_WORDS = frozenset(("where", "which", "who", "whom", "whose", "should", "would", "shall", "might", "whether"))


def pattern_context(pattern: dict, category: str | None = None) -> str | None:
    """The context a pattern's questions belong to: its own ``context:``, else its category's."""
    return pattern.get("context") or CATEGORY_CONTEXT.get(category or pattern.get("category"))


class ContextWords:
    """A naive Bayes word model per context, learnt from the patterns' own text.

    Why: the hand-written triggers know a few words per context; the patterns' title, symptoms,
    triggers and keywords are written in users' words (250 documents labelled by their context).
    The words are the knowledge index's own terms per pattern (``matcher.Index.docs``: those fields
    and the category's name, already tokenised once), so the router does not tokenise every
    pattern again. A uniform prior over the contexts, so the many service patterns do not outvote
    the few security ones. Each word of a pattern counts once per pattern (a document frequency,
    not a term frequency).
    """

    def __init__(self, index: matcher.Index):
        self.counts: dict[str, dict[str, int]] = {}
        for pid, terms in index.docs.items():
            context = pattern_context(index.patterns[pid])
            if context not in CONTEXTS:
                continue
            bag = self.counts.setdefault(context, {})
            for tok in terms:
                bag[tok] = bag.get(tok, 0) + 1
        self.totals = {ctx: sum(bag.values()) for ctx, bag in self.counts.items()}
        self.vocab = set().union(*self.counts.values()) if self.counts else set()

    def posterior(self, query: str) -> dict[str, float]:
        """P(context | the question's known words); {} when none of its words is in any pattern."""
        known = [t for t in dict.fromkeys(tokens(query)) if t in self.vocab and t not in QUESTION_WORDS]
        if not known:
            return {}
        size = len(self.vocab)
        logp = {ctx: sum(math.log((bag.get(t, 0) + WORDS_ALPHA) / (self.totals[ctx] + WORDS_ALPHA * size)) for t in known)
                for ctx, bag in self.counts.items()}
        top = max(logp.values())
        odds = {ctx: math.exp(v - top) for ctx, v in logp.items()}
        total = sum(odds.values())
        return {ctx: v / total for ctx, v in odds.items()}


_WORD_MODELS: "weakref.WeakKeyDictionary[matcher.Index, ContextWords]" = weakref.WeakKeyDictionary()


def words_of(index: matcher.Index) -> ContextWords:
    """The word model of a knowledge index's patterns, built once per index (a reload builds a new one)."""
    model = _WORD_MODELS.get(index)
    if model is None:
        model = _WORD_MODELS[index] = ContextWords(index)
    return model


#: Findings that make a context likelier: each group with a finding (any severity) adds half a point.
HINTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("storage", ("raid-degraded", "raid-inactive", "raid-member-failed", "zfs-pool-unhealthy")),
    ("storage", ("filesystem-full", "filesystem-missing", "filesystem-read-only")),
    ("storage", ("smart-failed", "smart-attribute", "nvme-critical-warning", "nvme-media-errors", "nvme-spare-low", "disk-hot")),
    ("service", ("service-down", "core-unit-down", "unit-failed")),
    ("performance", ("cpu-busy", "load-high", "memory-high", "swap-high")),
    ("network", ("nic-errors", "link-slow", "link-half-duplex")),
)


def finding_hints(found) -> dict[str, float]:
    """Half-point nudges from what is visibly wrong on the box (the findings of its snapshot)."""
    hints = {ctx: 0.0 for ctx in TRIGGERS}
    ids = {f.id for f in found or []}
    for ctx, group in HINTS:
        if ids.intersection(group):
            hints[ctx] += 0.5
    return hints


def _best(total: dict[str, float]) -> str:
    return max(total, key=lambda c: (total[c], -_PRIORITY[c]))


def route(query: str, found=None, requested: str | None = None, words: ContextWords | None = None) -> tuple[str, dict]:
    """(context, details): an explicit valid request wins; no trigger word → general (until a pattern matches).

    ``found`` is the findings of the box's snapshot (``findings.evaluate``); they only tip
    a question that already has trigger words. ``words`` (``words_of(kb.index)``) adds the
    patterns' word model to the trigger hits; ``details["total"]`` is what ``by_pattern`` adds to.
    """
    hit = hits(query)
    scores = weighted(hit)
    if requested in CONTEXTS:
        return requested, {"scores": scores, "reason": "requested"}
    learnt = words.posterior(query) if words is not None else {}
    total = {c: WORDS_WEIGHT * learnt.get(c, 0.0) for c in CONTEXTS}
    if not any(scores.values()):
        return "general", {"scores": scores, "learnt": _rounded(learnt), "total": total, "reason": "no trigger word"}
    hints = finding_hints(found)
    # a finding nudges a context the question names, or any context when it asks about speed ("slow")
    nudges = {c: hints[c] if scores[c] or scores.get("performance") else 0.0 for c in scores}
    for c in scores:
        total[c] += scores[c] + nudges[c]
    return _best(total), {"scores": scores, "words": sorted(w for ws in hit.values() for w in ws), "hints": hints,
                          "nudges": nudges, "learnt": _rounded(learnt), "total": total, "reason": "score"}


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 3) for k, v in values.items() if v >= 0.001}


#: A matched pattern's score (its calibrated chance of holding the fix) from which it votes for its
#: context: 0.2 on the uncalibrated model, carried through knowledge/relevance.json's calibration map.
PATTERN_ROUTE_MIN = matcher.calibrated(0.2)
#: How many of the best matches vote, and the weight of a vote per point of score (a pattern at 0.5
#: weighs two trigger words).
PATTERN_VOTERS, PATTERN_WEIGHT = 5, 4.0


#: Below this share of the word model's posterior the patterns' words lean nowhere (1/6 is no lean).
GENERAL_BELOW = 0.6
#: Trigger words with an everyday sense outside a NAS ("share a playlist", "mount a tv", "a full
#: tank"): alone, with no pattern matched, they do not make a question a specialist's. "disk",
#: "raid" or "smb" alone still do ("my disk is clicking" is a storage question nothing covers yet).
#: (Security's words are none of them: weighing 1.5, one alone is already more than one everyday word.)
EVERYDAY = frozenset(("share", "shares", "mount", "drive", "drives", "full", "space", "load", "hang", "lag",
                      "speed", "speeds", "smart", "mail", "service", "services", "connection", "route",
                      "array", "memory"))


def _unsure(details: dict) -> bool:
    """Whether a question the knowledge base matched nothing for is general rather than a specialist's.

    Why: "how do i share a spotify playlist" or "how high should i mount a tv" hold one part word
    ("share", "mount") and no pattern; the part word alone made them service or storage questions.
    Unsure means: at most one trigger word, an EVERYDAY one (not a problem word: security's weigh
    1.5), no finding of the box nudging any context (a finding of another part than the question
    names nudges nothing: a busy CPU does not make "mount a tv" a storage question), and the
    patterns' word model leaning below GENERAL_BELOW. A question with a NAS word, a problem word, two trigger words, a finding, or
    words the patterns clearly share keeps its specialist.
    """
    scores = details.get("scores")
    if scores is None or sum(scores.values()) > 1.0 or any((details.get("nudges") or {}).values()):
        return False
    if not set(details.get("words") or ()) <= EVERYDAY:
        return False
    return max((details.get("learnt") or {}).values(), default=0.0) < GENERAL_BELOW


def by_pattern(chosen: str, details: dict, matches: list[dict]) -> tuple[str, dict]:
    """(context, details) after pattern matching: the words' totals plus the matched patterns' votes.

    Each of the best PATTERN_VOTERS matches scoring at least PATTERN_ROUTE_MIN adds
    PATTERN_WEIGHT × its score to its context (its own ``context:``, else its category's), so
    one confident pattern outweighs a stray trigger word, and two patterns agreeing outweigh one
    that does not. Without such a match ``chosen`` stands. ``matches`` are the answer's text
    matches, best first, each with its ``pattern``. An explicitly requested context is never
    passed here. When no pattern matched at all and the words are unsure (``_unsure``), the
    question is general: nothing here knows it, so no specialist should pretend to.

    Weak votes: a question naming no part of the NAS ("only the user section is shown after I log
    in", "the option I set is ignored after a restart") has no trigger word, so the words alone call
    it general. When no match is confident enough to vote either, every match the knowledge base
    returned (each already past its relevance floor, so an off-topic question has none) votes the
    same way, with the patterns' word model: the knowledge base found related problems, and the
    area they are in is a better guess than "no area". A trigger word or a confident pattern is
    stronger evidence and, where there is one, the weak matches do not vote.
    """
    if not matches and _unsure(details):
        return "general", {**details, "reason": "nothing confident", "by_words": chosen}
    votes = _votes(matches, PATTERN_ROUTE_MIN)
    reason = "patterns"
    if not votes and details.get("reason") == "no trigger word":
        # no part named and no confident pattern: the weaker matches say whose area it is
        votes, reason = _votes(matches, 0.0), "weak patterns"
    if not votes:
        return chosen, details
    words = details.get("total") or {}
    total = {c: words.get(c, 0.0) + votes.get(c, 0.0) for c in CONTEXTS}
    return _best(total), {**details, "reason": reason, "votes": _rounded(votes),
                          "pattern": matches[0]["pattern_id"], "by_words": chosen}


def _votes(matches: list[dict], floor: float) -> dict[str, float]:
    """PATTERN_WEIGHT × score per context, of the best PATTERN_VOTERS matches scoring at least ``floor``."""
    votes: dict[str, float] = {}
    for match in matches[:PATTERN_VOTERS]:
        context = pattern_context(match.get("pattern") or {}, match.get("category"))
        if match["score"] >= floor and context in CONTEXTS:
            votes[context] = votes.get(context, 0.0) + PATTERN_WEIGHT * match["score"]
    return votes
