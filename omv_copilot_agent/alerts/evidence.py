"""An alert's evidence: what an admin needs first, attached when it opens and kept after it resolves.

* CPU / memory alerts (``load``, ``memory_pressure``): the top processes of the snapshot;
* disk alerts (SMART, NVMe, temperature): the SMART verdict and the temperature / reallocated
  trend from the store's metrics;
* every alert: the last OMV configuration change and the last note before it opened, the
  best knowledge-base pattern for its findings with that pattern's first check, and a link
  that opens the Assistant on the alert (:data:`ASSISTANT_LINK`).

Why capped and cleaned here: evidence leaves the box in e-mails, webhooks and Alertmanager
annotations, and it quotes what the box says (process names, device models, configuration
values) — untrusted text. Every string is stripped of control characters and credentials
(``password=…``), secret-named fields are dropped, lists are short and the whole object is
at most :data:`MAX_BYTES` of JSON (:func:`cap`). Building reads the snapshot, the store and
the knowledge index only; it never runs a command.
"""

from __future__ import annotations

import json
import re
import time

from omv_copilot_agent import credentials
from omv_copilot_agent.alerts.rules import foretold
from omv_copilot_agent.changes.omvconfig import SECRET_FIELD
from omv_copilot_agent.findings import Finding
from omv_copilot_agent.history.drift import diff
from omv_copilot_agent.knowledge import diagnostics, matcher

#: where the panel opens the Assistant with an alert's evidence (the UI shell owns the route)
ASSISTANT_LINK = "#/diagnostics/copilot/panel/assistant?alert={id}"
#: an open alert's evidence is rebuilt at most this often: its first evidence (at opening) is what
#: an admin reads first, a refresh keeps a long-open alert's current; hourly, all refreshed alerts
#: in one transaction, costs a boot stick ~24 small commits a day, not one per alert every 10 min
REFRESH_S = 3600.0
MAX_BYTES = 4096
MAX_TEXT = 200
MAX_ITEMS = 5
TREND_POINTS = MAX_ITEMS  # clean() keeps no more of any nested list
TREND_WINDOW_S = 30 * 86400

PROCESS_RULES = frozenset({"load", "memory_pressure"})
DISK_RULES = frozenset({"smart_health", "smart_attributes", "nvme_health", "disk_temperature"})

#: C0/C1 controls, and the Unicode ones that break or reorder a line (line/paragraph separators, bidi
#: overrides and isolates, zero-width characters): an e-mail or chat line must read as it is
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def clean_text(value: object, limit: int = MAX_TEXT) -> str:
    """``value`` as one line of at most ``limit`` characters, without control characters or credentials."""
    text = _CONTROL.sub(" ", str(value))
    text = credentials.mask(text, lambda _secret: "***")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clean(value: object, depth: int = 0):
    """A JSON-safe copy: secret-named keys dropped, strings cleaned, lists at most MAX_ITEMS, depth bounded."""
    if depth > 6:
        return None
    if isinstance(value, dict):
        return {clean_text(k, 40): clean(v, depth + 1) for k, v in value.items() if not SECRET_FIELD.search(str(k))}
    if isinstance(value, (list, tuple)):
        return [clean(v, depth + 1) for v in list(value)[:MAX_ITEMS if depth else 2 * MAX_ITEMS]]
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        return round(value, 2)
    return clean_text(value)


def cap(evidence: dict, max_bytes: int = MAX_BYTES) -> dict:
    """``evidence`` cleaned and within ``max_bytes`` of JSON: trend points go first, then whole sections."""
    out = clean(evidence)

    def size() -> int:
        return len(json.dumps(out, ensure_ascii=False).encode())

    for trend in ((out.get("disk") or {}).get("trend") or {}).values():
        if size() <= max_bytes:
            break
        trend.pop("points", None)
    for section in ("last_change", "last_note", "disk", "processes", "pattern"):
        if size() <= max_bytes:
            break
        if out.pop(section, None) is not None:
            out.setdefault("dropped", []).append(section)
    return out


def _processes(snapshot, limit: int = 3) -> dict | None:
    procs = (snapshot.data("system") or {}).get("processes") if snapshot is not None else None
    if not procs:
        return None
    keep = ("name", "pid", "cpu_percent", "rss")
    return {"count": procs.get("count"), "top_cpu": [{k: p.get(k) for k in keep} for p in (procs.get("top_cpu") or [])[:limit]],
            "top_rss": [{k: p.get(k) for k in keep} for p in (procs.get("top_rss") or [])[:limit]]}


def _trend(points: list[tuple[float, float]]) -> dict | None:
    if not points:
        return None
    values = [v for _, v in points]
    n = len(points)  # evenly spaced, the oldest and the newest always among them
    sampled = points if n <= TREND_POINTS else \
        [points[round(i * (n - 1) / (TREND_POINTS - 1))] for i in range(TREND_POINTS)]
    return {"first": values[0], "last": values[-1], "min": min(values), "max": max(values), "since": points[0][0],
            "points": [[round(t), v] for t, v in sampled]}


def _disk(device: str, snapshot, series, now: float) -> dict | None:
    disk = next((d for d in (snapshot.data("smart") or {}).get("disks") or [] if d.get("device") == device), None) \
        if snapshot is not None else None
    since = now - TREND_WINDOW_S
    trend = {name: t for name, t in ((label, _trend(series(metric, {"device": device}, since, now + 1)))
                                     for label, metric in (("temperature", "disk.temperature"),
                                                           ("reallocated", "disk.reallocated"))) if t}
    if disk is None and not trend:
        return None
    out: dict = {"device": device, "trend": trend}
    if disk is not None:
        passed = disk.get("passed")
        out.update(model=disk.get("model"), verdict="PASSED" if passed else ("FAILED" if passed is False else "unknown"),
                   temperature_c=disk.get("temperature_c"), power_on_hours=disk.get("power_on_hours"),
                   asleep=disk.get("asleep"), read_at=disk.get("read_at"))
        realloc = next((a.get("raw") for a in disk.get("attributes") or [] if a.get("id") == 5), None)
        if realloc is not None:
            out["reallocated"] = realloc
    return out


def _change_line(change: dict) -> str:
    path = change["path"]
    if SECRET_FIELD.search(path.rsplit(".", 1)[-1]):
        return f"{path}: {change['change']}"

    def short(v) -> str:
        # records compared whole (a list without names) quote every field: secret-named ones are dropped first
        return clean_text(json.dumps(clean(v), default=str) if isinstance(v, (dict, list)) else v, 60)

    if change["change"] == "changed":
        return f"{path}: {short(change['old'])} → {short(change['new'])}"
    return f"{path}: {change['change']}"


def _last_change(store, before: float, cache: dict) -> dict | None:
    rev = store.last_config_change_before(before)
    if rev is None:
        return None
    if rev["id"] in cache:  # alerts opened after the same change share its diff (two full configurations read once)
        return cache[rev["id"]]
    out = cache[rev["id"]] = {"revision_id": rev["id"], "taken_at": rev["taken_at"], "changes": [], "total": 0}
    previous_id = store.previous_config_revision_id(rev["id"])
    if previous_id is not None:
        new, old = store.get_config_revision(rev["id"]), store.get_config_revision(previous_id)
        changes = diff(old["data"], new["data"])
        out.update(changes=[_change_line(c) for c in changes[:MAX_ITEMS]], total=len(changes))
    return out


def best_match(index, found: list[Finding], title: str = "") -> matcher.Match | None:
    """The pattern ``found`` points to; among several, the one best worded for ``title``; without
    any, the best for ``title``.

    Why one function: the Dashboard shows this pattern for an alert or finding titled ``title``, and
    the alert's evidence (its page, e-mail, webhook) must name the same one. The first of several the
    findings reach is not the one meant (a data filesystem predicted full reaches the backup target's
    pattern first, the data disk's second); the title says which of them this alert is about.
    """
    signalled = matcher.rank(index, "", found, limit=5) if found else []
    if len(signalled) > 1 and title:
        ids = {m.pattern_id for m in signalled}
        signalled = [m for m in matcher.rank(index, title, found, limit=20) if m.pattern_id in ids] or signalled
    best = signalled[:1] or (matcher.rank(index, title, found, limit=1) if title else [])
    return best[0] if best else None


def best_pattern(index, alert: dict, found: list[Finding]) -> dict | None:
    """:func:`best_match` for the alert's findings and title, with the pattern's first check."""
    match = best_match(index, found, alert.get("title") or "")
    if match is None:
        return None
    pattern = match.pattern
    out = {"id": match.pattern_id, "title": pattern.get("title"), "score": round(match.score, 2)}
    steps = pattern.get("diagnostics") or []
    if steps:
        try:
            command = diagnostics.display(steps[0])
        except Exception:  # an unknown probe in an admin's pattern: name the step without its command
            command = None
        out["first_check"] = {"name": steps[0].get("name"), "probe": steps[0].get("probe"), "command": command}
    return out


def alert_findings(alert: dict, found: list[Finding], finding_ids: tuple[str, ...] | set[str]) -> list[Finding]:
    """The snapshot's findings behind ``alert``: its rule's finding ids, on its subject.

    Only its subject's: an alert whose own finding has cleared (it resolves after its hold-down) is
    not about another array's or disk's finding of the same rule, and the Dashboard (which calls
    this too) and the alert's evidence must name the same pattern for it.
    """
    return [f for f in found if f.id in finding_ids and f.subject == alert.get("subject")]


def build(alert: dict, *, snapshot, store, index=None, found: list[Finding] | None = None,
          now: float | None = None, cache: dict | None = None) -> dict:
    """The evidence of ``alert`` now, capped and cleaned (see the module docstring); ``cache`` is
    shared by the alerts built in one pass."""
    now = time.time() if now is None else now
    rule = alert.get("rule")
    evidence: dict = {"built_at": now, "kind": "general",
                      "assistant_url": ASSISTANT_LINK.format(id=alert.get("id"))}
    if rule in PROCESS_RULES:
        evidence["kind"] = "processes"
        evidence["processes"] = _processes(snapshot)
    elif rule in DISK_RULES:
        evidence["kind"] = "disk"
        evidence["disk"] = _disk(str(alert.get("subject")), snapshot, store.series, now)
    opened = alert.get("first_seen") or now
    evidence["last_change"] = _last_change(store, opened, {} if cache is None else cache)
    note = store.last_note_before(opened)
    evidence["last_note"] = {"id": note["id"], "created_at": note["created_at"], "text": note["text"]} if note else None
    if index is not None:
        evidence["pattern"] = best_pattern(index, alert, found or foretold(rule, str(alert.get("subject")), snapshot))
    return cap({k: v for k, v in evidence.items() if v is not None})


def summary(evidence: dict | None, host: str | None = None) -> list[str]:
    """The evidence as short lines for people (e-mail body, chat webhooks, Alertmanager annotations);
    with ``host`` the Assistant link is absolute (``http://<host>/#/...``)."""
    if not evidence:
        return []
    lines = []
    procs = evidence.get("processes") or {}
    if procs.get("top_cpu"):
        lines.append("Top CPU: " + ", ".join(f"{p['name']} (pid {p['pid']}) {p['cpu_percent']}%" for p in procs["top_cpu"]))
    if procs.get("top_rss"):
        lines.append("Top memory: " + ", ".join(f"{p['name']} (pid {p['pid']}) {_mib(p['rss'])}" for p in procs["top_rss"]))
    disk = evidence.get("disk")
    if disk:
        line = f"SMART {disk['device']}: {disk.get('verdict', 'unknown')}"
        if disk.get("temperature_c") is not None:
            line += f", {disk['temperature_c']} °C"
        if disk.get("reallocated") is not None:
            line += f", reallocated {disk['reallocated']}"
        lines.append(line)
        for name, t in (disk.get("trend") or {}).items():
            lines.append(f"  {name} trend: {t['first']} → {t['last']} (min {t['min']}, max {t['max']}) since {_ts(t['since'])}")
    change = evidence.get("last_change")
    if change:
        lines.append(f"Last configuration change: {_ts(change['taken_at'])} ({change['total']} setting(s))"
                     + "".join(f"\n  {c}" for c in change.get("changes") or []))
    note = evidence.get("last_note")
    if note:
        lines.append(f"Last note ({_ts(note['created_at'])}): {note['text']}")
    pattern = evidence.get("pattern")
    if pattern:
        lines.append(f"Matching pattern: {pattern['id']} ({pattern.get('title')})")
        check = pattern.get("first_check")
        if check:
            lines.append(f"First check: {check.get('name')}" + (f": {check['command']}" if check.get("command") else ""))
    if evidence.get("assistant_url"):
        lines.append(f"Ask the Assistant: {assistant_url(evidence, host)}")
    return lines


def assistant_url(evidence: dict, host: str | None = None) -> str:
    """The evidence's Assistant link, absolute on ``host`` when given (OMV's web UI serves the panel at /)."""
    link = evidence.get("assistant_url") or ""
    return f"http://{host}/{link}" if host and link.startswith("#") else link


def _mib(n) -> str:
    return f"{n / 2**20:.0f} MiB" if isinstance(n, (int, float)) else "?"


def _ts(t) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t)) if isinstance(t, (int, float)) else "?"

