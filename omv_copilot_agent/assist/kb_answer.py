"""Knowledge-base-only answers: composed from the best-matching pattern, no LLM.

Used when no provider is configured (the default), when every provider failed, or when the
caller asks for ``kb_only``. The answer has the same fields as an LLM answer so every client
renders it the same way; ``mode`` says where it came from.

It reads like advice from one source: the best match's causes, checks and actions. Other
matches are offered as related topics, not blended in (mixing the mdadm and ZFS patterns
into one list of eight checks helps nobody). When nothing matched, it says so plainly.
"""

from __future__ import annotations

import re

from omv_copilot_agent.assist import parse, router
from omv_copilot_agent.assist import readings  # the values a question asks for, shown first (readings.first)
from omv_copilot_agent.knowledge import diagnostics, fill

#: Generic next questions per specialist context when no pattern matched.
FOLLOW_UPS = {
    "storage": ["Which disk or filesystem is affected (device or mount point)?",
                "Did anything change recently (new disk, power loss, OMV update)?"],
    "network": ["Can the NAS be reached by IP address but not by name?",
                "Is only one client affected, or all of them?"],
    "service": ["Which service shows the problem (and on which client, if one is involved)?",
                "What exact error message do you see, and where (web UI, a client, a log or a job's mail)?"],
    "performance": ["Is it slow all the time or only during transfers or backups?",
                    "How fast is it compared to what you expect (MB/s)?"],
    "security": ["Which user or share is affected?", "What exact 'denied' or login message do you see?"],
    "general": ["What did you expect to happen, and what happened instead?",
                "When did it start, and what changed around then?"],
}

#: The follow-up questions a question can already answer itself, each with what says so in it (what it
#: names, by kind, and its words): "Which disk …?" under "hdparm -C /dev/sdb always says active/idle" asks
#: the user for what they wrote.
_SPEED = re.compile(r"\b\d+(?:[.,]\d+)?\s*(?:[kmg]i?b(?:it)?(?:/s|ps)|[kmg]bps)\b", re.I)
_MOUNT = re.compile(r"(?:^|\s)/(?:srv|mnt|media|export)/\S+")
#: A share by its network path: an NFS export (``192.168.1.10:/export/media``, also what _MOUNT reads) or an SMB
#: share (``//nas/photos``, ``\\nas\photos``).
_SHARE = re.compile(r"(?:^|\s)(?://|\\\\)[\w.-]+[/\\]\w|\S:/(?:srv|mnt|media|export)/\S+")
#: The "denied" or login message itself, in the question's words: "fails with permission denied", "access is
#: denied", "NT_STATUS_LOGON_FAILURE"; "I cannot get into the share" gives none.
_DENIED = re.compile(r"\b(?:permission|access)\s+(?:is\s+)?denied\b|\bNT_STATUS_[A-Z_]+\b|\b(?:login|logon|authentication)\s+failed?\b"
                     r"|\bauthentication\s+failure\b", re.I)
#: The root file system by its name ("root file system", "rootfs", "the os disk") or its mount point with what it
#: shows ("df shows / at 100%", "/ is full"): a question about it names the file system it is about.
_ROOT_FS = re.compile(r"\broot\s*(?:file\s*system|filesystem|fs|partition)\b|\brootfs\b|\b(?:os|system|boot)\s+(?:disk|drive)\b"
                      r"|(?<!\S)/(?=\s+(?:is|at|was|has|shows|full|fills|filled)\b)", re.I)
#: A message the question quotes: in double quotes or backticks, after "says"/"saying"/"reads" (two words or
#: more), after "error:"/"failed:", or as a log line's words after its program, path or unit and a colon
#: ("libusb1: Could not open any HID devices", "/usr/bin/smbd: libldb.so.2: version ... not found",
#: "smbd[2350]: ..."; the name has a digit, dot, slash, @, _ or bracket); "gives an error" mentions one without
#: quoting it; an HTTP status with its reason ("I get 502 Bad Gateway", "413 Request Entity Too Large") is the
#: message a browser shows, "502 errors" is not.
_QUOTED = re.compile(r"[\"“`][^\"”`]{4,}[\"”`]|\b(?:says|saying|reads)\s+\w+\W+\w+|\b(?:error|failed|fails)\s*:\s*\S"
                     r"|(?<!\S)[a-z/][\w./@\[\]-]*[\d./@_\]][\w./@\[\]-]*:\s+\S+\s+\S"
                     r"|\b[45]\d\d\s+(?:bad\s+gateway|gateway\s+time-?\s?out|internal\s+server\s+error|forbidden|not\s+found"
                     r"|unauthori[sz]ed|service\s+unavailable|request\s+entity\s+too\s+large|payload\s+too\s+large)\b", re.I)
#: The change the problem followed, in the question's words: "after upgrading omv 7 to 8", "after the omv update to
#: 6.7.0-1", "after uninstalling the mergerfs plugin", "since I added my big drives", "after I edited the rsync
#: modules". "after a reboot" says when, not what changed; "changing the time server fails" is the failing step.
_CHANGED = re.compile(r"\b(?:after|since)(?:\s+[\w.'-]+){0,3}?\s+(?:upgrad|updat|install|uninstall|reinstall|remov|add|"
                      r"creat|replac|chang|mov|edit|switch|enabl|disabl|restor|migrat|swap|plug|unplug|delet|format|"
                      r"wip|convert|renam)(?:e|es|ed|ing|s|ped|ping|ted|ting|ged|ging|ion|ation)?\b", re.I)
ANSWERED_BY = {
    FOLLOW_UPS["storage"][0]: lambda named, query: bool(named["disk"] or named["md"] or _MOUNT.search(query)
                                                        or _ROOT_FS.search(query) or fill.pools_named(query)),
    FOLLOW_UPS["service"][0]: lambda named, query: bool(named["service"]),
    FOLLOW_UPS["security"][0]: lambda named, query: bool(_MOUNT.search(query) or _SHARE.search(query)),
    FOLLOW_UPS["performance"][1]: lambda named, query: bool(_SPEED.search(query)),
    FOLLOW_UPS["service"][1]: lambda named, query: bool(_QUOTED.search(query)),
    FOLLOW_UPS["security"][1]: lambda named, query: bool(_QUOTED.search(query) or _DENIED.search(query)),
    # "What happened instead" is the message a question quotes: "after uninstalling the mergerfs plugin I get error 500
    # Internal Server Error: No file system backend exists for fuse.mergerfs" says what happened and what was expected
    FOLLOW_UPS["general"][0]: lambda named, query: bool(_QUOTED.search(query)),
    FOLLOW_UPS["storage"][1]: lambda named, query: bool(_CHANGED.search(query)),
    FOLLOW_UPS["general"][1]: lambda named, query: bool(_CHANGED.search(query)),
}


#: A question that asks for a reading, a capability or the way to do something ("how much memory is my nas using
#: right now", "is the clock on my nas in sync", "can omv join my active directory domain", "how do I add a disk")
#: and reports no problem: every generic follow-up asks about a problem ("Which service shows the problem",
#: "What exact error message do you see"), which it has none of.
_ASKS = re.compile(r"^\W*(?:can|could|does|do|is|are|will|should|which|what(?:'s|\s+is|\s+are)?|how\s+(?:much|many|full|"
                   r"hot|warm|big|long|old|often|fast|do|can|should|would)|where)\b", re.I)
_PROBLEM = re.compile(r"n't\b|\b(?:not|never|no\s+longer|cannot|fail\w*|error\w*|errno|broken|denied|refus\w*|missing|"
                      r"stuck|down|wrong|slow\w*|crash\w*|degraded|dead|gone|lost|drop\w*|hang\w*|hung|disappear\w*|"
                      r"problems?|issues?|warn\w*|unable|unreachable|offline|bad|corrupt\w*)\b|\b100\s*%", re.I)


def asks(query: str) -> bool:
    """Whether the question asks for something (a reading, a capability, a how-to) and reports no problem."""
    query = str(query or "")
    return bool(_ASKS.search(query)) and not _PROBLEM.search(query)


#: A speed problem in the question's words: the performance context's follow-ups ask how slow and how fast ("How fast
#: is it compared to what you expect (MB/s)?"), which a question about memory, CPU or load ("my nas uses 90% memory
#: all the time") has no answer to.
_SLOWNESS = re.compile(r"\b(?:slow\w*|sluggish|lag\w*|laggy|latency|speeds?|fast|throughput|bandwidth|bottleneck|"
                       r"hang\w*|hung|stutter\w*|buffer\w*|takes?\s+(?:ages|forever|long)|transfer\w*|copy\w*|"
                       r"copies|[kmg]bit|[kmg]bps)\b", re.I)
ASKED_ONLY_IF = {q: lambda query: bool(_SLOWNESS.search(query) or _SPEED.search(query)) for q in FOLLOW_UPS["performance"]}


def follow_ups(context: str, query: str) -> list[str]:
    """The context's next questions, less the ones the question already answers; none for a question that asks
    for something and reports no problem."""
    named, query = _named(query), str(query or "")
    if asks(query):
        return []
    return [q for q in FOLLOW_UPS.get(context, FOLLOW_UPS["general"])
            if not (q in ANSWERED_BY and ANSWERED_BY[q](named, query)) and ASKED_ONLY_IF.get(q, lambda _: True)(query)]


#: The snapshot's sources that tell about each specialist context: "nothing points to a storage
#: problem" is only worth saying when they were read in full (a degraded SMART reading says nothing).
CONTEXT_SOURCES = {"storage": ("storage", "smart"), "network": ("network",), "service": ("services", "logs"),
                   "performance": ("system",), "security": ("logs", "omv")}

#: Where the user adds an LLM provider, said for the surface the user is on; every answer, notice and
#: error that tells it takes it from here. The web UI (and the API, whose answers it renders): OMV's
#: Diagnostics menu holds the Co-Pilot entry, whose Settings page links its LLM providers list
#: (webui-extjs/omv/.../route.d/copilot.settings.providers.yaml; the panel's banner says the same path).
#: The CLI has no command that edits the list: it is the config file's ``assist.providers``.
PROVIDER_PLACE = {
    "web": "OMV: Diagnostics → Co-Pilot → Settings → LLM providers",
    "cli": "assist.providers in /etc/omv-copilot/config.yaml or the file --config names; docs/assist.md, "
           "'Providers and fallback'",
}


def for_surface(text: str, surface: str) -> str:
    """``text`` (an answer's words, written for the web UI and the API) with the place to add an LLM
    provider said for ``surface`` ("web" or "cli")."""
    return str(text).replace(PROVIDER_PLACE["web"], PROVIDER_PLACE[surface])


#: How many checks and actions of the best match an answer shows.
MAX_DIAGNOSTICS, MAX_ACTIONS = 5, 4


#: A pattern's causes are alternatives, most frequent first (docs/knowledge.md, "Editing"): the first
#: takes the pattern's score, each later one CAUSE_DECAY of the one before. Every later cause at 0.8 of
#: the first made all nine causes of an apt-update-fails answer "high"; one problem rarely has nine
#: likely causes at once.
CAUSE_DECAY = 0.8


def likelihood(score: float) -> str:
    return "high" if score >= 0.7 else "medium" if score >= 0.4 else "low"


def weak(score: float) -> bool:
    """A best match this weak is offered as the closest one, to be checked against its symptoms, not as
    the answer (the analysis here and the CLI's list of matched patterns say the same)."""
    return likelihood(score) == "low"


def confidence_label(answer: dict) -> str | None:
    """The confidence label a client shows for ``answer``: the seed rule's (``confidence_label``), but "low" for a
    knowledge-base answer whose best match is weak. The rule's number counts every matched pattern's score over a
    base of 0.5, so a best match at 0.17 with its related ones read "65 % (medium)" above "No pattern matches this
    question well; the closest is a weak match": the label, not the words, was wrong (a pattern score is the
    relevance model's estimate that the pattern is the right one, and 0.17 is no medium certainty). The number
    stays the rule's. The seed rule's label is worked out from the answer's number, not read from it: an answer
    stored before this rule (or before it had a label) shows what the engine says today (services.assist)."""
    number = answer.get("confidence")
    label = parse.confidence_label(float(number)) if isinstance(number, (int, float)) and not isinstance(number, bool) \
        else answer.get("confidence_label")
    top = (answer.get("matched_patterns") or [None])[0]
    if answer.get("mode") == "kb_only" and isinstance(top, dict) and weak(float(top.get("score") or 0)):
        return "low"
    return label


@readings.first(asks)
def compose(query: str, context: str, matches: list[dict], signals: list[dict], reason: str, snapshot=None) -> dict:
    """Answer fields from ``matches`` (Match.to_dict(with_pattern=True), best first) and state ``signals``.

    The best match's checks and its actions' commands come with their ``{placeholders}`` filled from
    the question and ``snapshot`` where that is unambiguous (``params``), and name the ones still
    needed (``needs``; the command keeps them as ``{name}``).
    """
    if not matches:
        return _no_pattern(context, signals, reason, snapshot, query)
    top, related = matches[0], matches[1:]
    pattern = top.get("pattern") or {}
    causes = [{"cause": c, "likelihood": likelihood(top["score"] * CAUSE_DECAY ** i)}
              for i, c in enumerate(pattern.get("causes") or [])]
    shown = (pattern.get("diagnostics") or [])[:MAX_DIAGNOSTICS]
    diags = [_diagnostic(d, top, fill.values(shown, query, snapshot)) for d in shown]
    actions = [_action(s, query, snapshot)
               for s in sorted(pattern.get("solutions") or [], key=lambda s: s.get("priority", 99))[:MAX_ACTIONS]]
    lines = [f"Knowledge-base answer ({reason})."]
    if weak(top["score"]):
        lines.append(f"No pattern matches this question well; the closest is a weak match: {top['title']} "
                     f"(score {top['score']:.2f}, pattern {top['pattern_id']}). Check that its typical symptoms "
                     "below are what you see before you follow its advice.")
    else:
        lines.append(f"Best match: {top['title']} (score {top['score']:.2f}, pattern {top['pattern_id']}).")
    if related:
        # ids only: every client lists the matched patterns with their titles and scores (the CLI under
        # "Matched patterns", the web UI as chips); five titles here again made the analysis ~900 characters
        lines.append("Related: " + ", ".join(m["pattern_id"] for m in related) + " (see Matched patterns).")
    # a related match this weak shares words with the question, not its topic: the state its signal
    # shows ("CPU 100% busy" for a login that hangs on sendmail) does not bear on it
    topical = {top["pattern_id"]} | {m["pattern_id"] for m in related if not weak(m["score"])}
    bearing = bearing_signals(query, signals, topical)
    if bearing:
        lines.append("The box's state bears on this: " + "; ".join(state_said(bearing)) + ".")
    needs = [n for row in diags + actions for n in row.get("needs") or []]
    uses = needs + [n for row in diags + actions for n in row.get("params") or {}]  # what the advice is about
    absent, none_names = fill.absent_named(query, snapshot, uses)
    lines += fill.none_on_box(needs + none_names, snapshot)
    lines += absent
    symptoms = pattern.get("symptoms") or []
    explanation = ("Typical symptoms: " + "; ".join(symptoms[:3]) + ".") if symptoms else ""
    return {"analysis": " ".join(lines), "possible_causes": causes, "suggested_diagnostics": diags,
            "recommended_actions": actions, "explanation": explanation,
            "related_patterns": [{"pattern_id": m["pattern_id"], "title": m["title"], "score": m["score"]} for m in related],
            "follow_up_questions": follow_ups(context, query)}


def _diagnostic(diag: dict, top: dict, filled: dict[str, str]) -> dict:
    """One check of the best match as an answer row, with what the box filled in and what it still needs."""
    row = {"name": diag.get("name", ""), "command": diag.get("command", ""),
           "purpose": diag.get("purpose") or f"check for: {top['title']}", "pattern_id": top["pattern_id"]}
    if diag.get("probe"):
        params, needs = fill.apply(diag, filled)
        row["params"] = {name: filled[name] for name in diagnostics.placeholders(diag) if name in filled}
        row["needs"] = needs
        if row["params"]:
            row["command"] = diagnostics.display({**diag, "params": params})
    return row


def _action(solution: dict, query: str, snapshot) -> dict:
    """One solution of the best match as an answer row; a command naming ``{placeholders}`` comes with the
    ones the question or the box fill (``params``; a data-risk command only from what the question names
    alone or the box's only candidate) and the ones still to fill in (``needs``), shown as ``{name}``; its
    explanation's mentions of the same placeholders get the same values."""
    risk = str(solution.get("risk", "unknown"))
    row = {"action": solution.get("action", ""), "command": solution.get("command") or "", "risk": risk,
           "explanation": solution.get("explanation", "")}
    if fill.in_command(row["command"]):
        filled = fill.command_values(row["command"], query, snapshot, strict=risk == "data-risk")
        row["command"], row["needs"] = fill.apply_command(row["command"], filled)
        row["params"] = {name: value for name, value in filled.items() if name not in row["needs"]}
        # an explanation that names the command's device ("for XFS run xfs_repair {partition}") says the same value
        row["explanation"] = fill.apply_command(row["explanation"], filled)[0] if fill.in_command(row["explanation"]) \
            else row["explanation"]
    return row


#: The services a finding can be about (its "on <subject>"), each with the words a question names it
#: by (collect.services.UNITS' units and OMV names, and the everyday words for them).
SERVICE_WORDS = {
    "samba": {"smb", "samba", "cifs", "smbd", "nmbd"},
    "nfs": {"nfs", "nfsd", "nfs-server", "nfs-kernel-server"},
    "ssh": {"ssh", "sshd", "openssh"},
    "rsyncd": {"rsync", "rsyncd"},
    "ftp": {"ftp", "proftpd"},
    "docker": {"docker", "dockerd", "compose", "docker-compose"},
    "postfix": {"postfix"},
    "cron": {"cron", "crond", "anacron"},
    "engined": {"openmediavault-engined", "engined", "omv-engined"},
    "nginx": {"nginx", "webui", "webgui"},  # the web UI is nginx's site (and PHP-FPM's pool); "web ui" is read as one word
    "networking": {"networking", "systemd-networkd", "netplan"},
    "smartmontools": {"smartd", "smartmontools"},
}
_SUBJECT = re.compile(r"finding: \S+ on (.+?): ")
_MD, _DISK = re.compile(fill.MD_NAME), re.compile(fill.DISK_NAME)
_TOKEN = re.compile(r"[\w./@-]+")
_WEB_UI = re.compile(r"\bweb[\s-]?(?:ui|gui|interface)\b")


def _subject(subject: str) -> tuple[str | None, str]:
    """A finding's subject as (kind, key): ("md", "md0"), ("disk", "sdb"), ("service", "nfs"), or no kind.
    A systemd unit by its name ("nut-driver@ups.service") is a service, one of SERVICE_WORDS or not."""
    unit = str(subject).lower().endswith(".service")
    s = str(subject).lower().removeprefix("/dev/").removesuffix(".service")
    if _MD.fullmatch(s):
        return "md", s
    if _DISK.fullmatch(s):
        return "disk", s
    group = next((g for g, words in SERVICE_WORDS.items() if s == g or s in words), None)
    return ("service", group) if group else ("service", s) if unit and s else (None, s)


def _named(query: str) -> dict[str, set[str]]:
    """What the question names, per kind of subject (the md arrays, disks and services it speaks of)."""
    named: dict[str, set[str]] = {"md": set(), "disk": set(), "service": set()}
    for token in _TOKEN.findall(_WEB_UI.sub("webui", str(query or "").lower())):
        kind, key = _subject(token.strip(".,;:!?-").rstrip("/"))
        if kind:
            named[kind].add(key)
    return named


def bearing_signals(query: str, signals: list[dict], matched: set[str] | None = None) -> list[dict]:
    """The state signals that bear on the question: one about a subject the question names ("is md127 still
    rebuilding" and the box's md127 is degraded), whatever the pattern; else one whose pattern is among the
    ``matched`` ones (None: every signal is a candidate), unless the question names other subjects of its kind
    only ("nfs shows running although disabled" is not answered with "SSH is enabled but not running")."""
    named = _named(query)
    out = []
    for signal in signals:
        subjects = _subjects(signal)
        if _names_one_of(named, subjects):
            out.append(signal)
        elif (matched is None or signal["pattern_id"] in matched) and (
                not subjects or any(kind is None or not named[kind] for kind, _ in subjects)):
            out.append(signal)
    return out


def _subjects(signal: dict) -> list[tuple[str | None, str]]:
    return [_subject(m.group(1)) for r in signal.get("reasons") or [] for m in [_SUBJECT.match(str(r))] if m]


def _names_one_of(named: dict[str, set[str]], subjects: list[tuple[str | None, str]]) -> bool:
    """Does the question (``named``: what it names, by kind) name one of a finding's ``subjects``?"""
    return any(kind and key in named[kind] for kind, key in subjects)


def state_said(signals: list[dict], limit: int = 3) -> list[str]:
    """What the box's state shows, in its own measured words, for the patterns it points to.

    A signal's reasons hold its findings (``finding: raid-degraded on md0: md0 is degraded (1/2 devices
    active)``); the pattern's title ("Software RAID (mdadm) array degraded") is a topic, not what
    this box shows, and is said only for a signal without a finding's words.
    """
    said: list[str] = []
    for signal in signals:
        words = [str(r).split(": ", 2)[2] for r in signal.get("reasons") or []
                 if str(r).startswith("finding: ") and str(r).count(": ") >= 2]
        for text in words or [signal["title"]]:
            if text not in said:
                said.append(text)
    return said[:limit]


def _no_pattern(context: str, signals: list[dict], reason: str, snapshot=None, query: str = "") -> dict:
    """An honest answer when no pattern is relevant: what was checked, what to try next.

    The box's state is said only where it bears on the question: the problems it points to in the
    question's own specialist context, or about what the question names (its md array, disk or
    service), and not about another one of those it does not name. "What's a good movie tonight" on a busy
    box got "the box currently shows: Disk I/O bottleneck; High CPU usage", and "are my disks healthy" on a
    box with a degraded array got that array as "unrelated to the question".
    """
    lines = [f"Knowledge-base answer ({reason}).",
             "I have no pattern for this question: none of the knowledge base's patterns matches its words closely enough."]
    specialist = context in FOLLOW_UPS and context != "general"  # "general" has no state that bears on it
    named = _named(query)
    bearing = [s for s in bearing_signals(query, signals)
               if (specialist and router.pattern_context(s) == context) or _names_one_of(named, _subjects(s))]
    if snapshot is None:
        lines.append("Checked: the question against every pattern; this box's state has not been read yet.")
    elif bearing:
        lines.append("Checked: the question against every pattern, and this box's latest state, which points to "
                     + (f"{context} " if specialist else "") + "problems that may bear on it: " + "; ".join(state_said(bearing))
                     + " (see the Dashboard).")
    elif context != "general":
        unread = [f"{name} {snapshot.status(name) or 'not read'}" for name in CONTEXT_SOURCES.get(context, ())
                  if snapshot.status(name) != "ok"]
        lines.append(f"Checked: the question against every pattern, and this box's latest state: nothing in it "
                     f"points to a known {context} problem"
                     + (f" (but not all of it could be read: {', '.join(unread)})." if unread else "."))
    else:
        lines.append("Checked: the question against every pattern.")
    # what to try is what the question lacks: "smbd won't start: /usr/bin/smbd: libldb.so.2: version ... not
    # found" named its service and quoted its message, and was told to name the service and the exact message
    lacking = ([] if any(named.values()) or _MOUNT.search(str(query or "")) else ["the service, disk or share involved"]) \
        + ([] if _QUOTED.search(str(query or "")) else ["the exact error message"])
    lines.append((f"Try naming {' and '.join(lacking)}. " if lacking else
                  "Try other words for it: what you did, what you expected, and what happened instead. ")
                 + f"With an LLM provider configured ({PROVIDER_PLACE['web']}), Co-Pilot can also reason about "
                 "questions no pattern covers, using this box's state.")
    return {"analysis": " ".join(lines), "possible_causes": [], "suggested_diagnostics": [], "recommended_actions": [],
            "explanation": "", "related_patterns": [],
            "follow_up_questions": follow_ups(context, query)}
