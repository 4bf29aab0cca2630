"""One timeline of what happened on the box — "what changed before it broke?".

Alerts (opened and resolved), the admin's notes, OMV configuration changes (with their diff),
package transactions (apt's history) and reboots are turned into events of one shape,
``{kind, at, title, detail, severity, ref}``, and merged newest first. The readers of each
source live below (store, collect.apt_history, collect.boots); this module only shapes and merges.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from omv_copilot_agent.changes.omvconfig import SECRET_FIELD
from omv_copilot_agent.history.drift import diff

KINDS = ("alert", "note", "config", "package", "reboot")
#: Changed settings listed per configuration event (the full diff is getSnapshotDiff's).
MAX_DIFF = 30
#: Packages named in one package event's title before "and N more".
TITLE_PACKAGES = 4
_VALUE_CHARS = 120


def event(kind: str, at: float, title: str, *, detail: dict | None = None, severity: str = "info", ref: str | None = None) -> dict:
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    return {"kind": kind, "at": at, "title": title, "detail": detail or {}, "severity": severity, "ref": ref}


def alert_events(alerts: Iterable[dict]) -> list[dict]:
    """An alert opens (its severity) and, when it cleared, resolves (info)."""
    out = []
    for a in alerts:
        detail = {"rule": a.get("rule"), "subject": a.get("subject"), "message": a.get("message"), "state": a.get("state")}
        out.append(event("alert", a["first_seen"], f"Alert: {a.get('title')}", detail=detail,
                         severity=a.get("severity") or "warning", ref=f"alert:{a.get('id')}"))
        if a.get("resolved_at"):
            out.append(event("alert", a["resolved_at"], f"Resolved: {a.get('title')}", detail=detail, ref=f"alert:{a.get('id')}"))
    return out


def note_events(notes: Iterable[dict]) -> list[dict]:
    return [event("note", n["created_at"], f"Note: {n.get('text', '')[:200]}", detail={"text": n.get("text"), "alert_id": n.get("alert_id")},
                  ref=f"note:{n.get('id')}") for n in notes]


def _short(value, path: str) -> str | None:
    """A value as shown in the timeline: cut to a line; never a secret's (the collector drops them; belt and braces)."""
    if value is None:
        return None
    if SECRET_FIELD.search(path.rsplit(".", 1)[-1]):
        return "(secret)"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= _VALUE_CHARS else text[:_VALUE_CHARS] + "…"


def config_events(revisions: Iterable[dict | None], since: float) -> list[dict]:
    """One event per recorded revision in range that differs from the one before it (daily copies say nothing new).

    ``revisions`` oldest first, the first possibly from before ``since``; read one at a time, so a
    generator keeps only two configurations in memory. A revision pruned meanwhile (None) is skipped.
    """
    out, previous = [], None
    for rev in revisions:
        if rev is None:
            continue
        if rev["taken_at"] >= since:
            if previous is None:
                out.append(event("config", rev["taken_at"], "First OMV configuration snapshot recorded",
                                 detail={"changes": [], "total": 0}, ref=f"snapshot:{rev['id']}"))
            else:
                changes = diff(previous["data"], rev["data"])
                if changes:
                    shown = [{"path": c["path"], "change": c["change"], "old": _short(c["old"], c["path"]),
                              "new": _short(c["new"], c["path"])} for c in changes[:MAX_DIFF]]
                    areas = sorted({c["path"].split(".")[0] for c in changes})
                    out.append(event("config", rev["taken_at"], f"OMV configuration changed: {len(changes)} setting(s) in "
                                     f"{', '.join(areas)}", detail={"changes": shown, "total": len(changes), "from": previous["id"]},
                                     severity="info", ref=f"snapshot:{rev['id']}"))
        previous = rev
    return out


def package_events(transactions: Iterable[dict]) -> list[dict]:
    out = []
    for t in transactions:
        packages = t.get("packages") or []
        if not packages:
            continue
        names = [p["name"] for p in packages]
        counts: dict[str, int] = {}
        for p in packages:
            counts[p["action"]] = counts.get(p["action"], 0) + 1
        what = ", ".join(f"{n} {a}" for a, n in counts.items())
        more = f" and {len(names) - TITLE_PACKAGES} more" if len(names) > TITLE_PACKAGES else ""
        kernel = any(n.startswith(("linux-image-", "pve-kernel-", "proxmox-kernel-")) for n in names)
        out.append(event("package", t["start"], f"Packages: {what} — {', '.join(names[:TITLE_PACKAGES])}{more}",
                         detail={"command": t.get("command"), "requested_by": t.get("requested_by"), "end": t.get("end"),
                                 "error": t.get("error"), "packages": packages, "kernel": kernel},
                         severity="warning" if t.get("error") else "info"))
    return out


def reboot_events(boots: Iterable[dict]) -> list[dict]:
    return [event("reboot", b["at"], "Boot" + (f" (kernel {b['kernel']})" if b.get("kernel") else ""), detail=dict(b))
            for b in boots]


def merge(groups: Iterable[list[dict]], since: float, until: float, limit: int) -> dict:
    """Events of every group in [since, until], newest first, at most ``limit`` (``truncated`` says when cut)."""
    events = [e for g in groups for e in g if since <= e["at"] <= until]
    events.sort(key=lambda e: (e["at"], KINDS.index(e["kind"])), reverse=True)
    counts = {k: sum(e["kind"] == k for e in events) for k in KINDS}
    return {"since": since, "until": until, "total": len(events), "truncated": len(events) > limit,
            "counts": counts, "events": events[:limit]}


__all__ = ["KINDS", "alert_events", "config_events", "event", "merge", "note_events", "package_events", "reboot_events"]
