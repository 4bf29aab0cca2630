"""Past issues, OMV configuration snapshots and their drift, admin notes, and the timeline of all of them."""

from __future__ import annotations

import time

from omv_copilot_agent.collect import apt_history, boots
from omv_copilot_agent.history import timeline as tl
from omv_copilot_agent.services.alerts import VERIFY_SCHEMA, run_verification, service
from omv_copilot_agent.services.call import Call, Created, path_id
from omv_copilot_agent.services.errors import invalid, not_found
from omv_copilot_agent.services.schemas import NOTE_SCHEMA


def issues(call: Call) -> dict:
    """Past and present alerts with their outcome (newest first).

    ``kind`` = alert (default) | question | all. Assistant questions are conversations
    (Assistant → Conversations), not issues: they come only when asked for. A ``state`` or
    ``severity`` filter means alerts only.
    """
    limit, offset = call.paging()
    severity, state, kind = call.arg("severity"), call.arg("state"), call.arg("kind") or "alert"
    if state or severity:
        kind = "alert"
    total, items = 0, []
    if kind in ("alert", "all"):
        n, rows = service(call).list(state=state, severity=severity, limit=offset + limit, offset=0)
        resolutions = call.agent.store.latest_resolutions([r["id"] for r in rows])
        for r in rows:
            r["resolution"] = _resolution(resolutions.get(r["id"]))
            r["kind"] = "alert"
            r["outcome"] = {"resolved": "resolved", "acknowledged": "acknowledged"}.get(r["state"], "open")
            if r.get("resolved_at"):
                r["duration_s"] = round(r["resolved_at"] - r["first_seen"], 1)
        total, items = total + n, items + rows
    if kind in ("question", "all"):
        from omv_copilot_agent.assist.kb_answer import confidence_label  # an old stored answer shows today's label

        n, rows = call.agent.store.question_history(limit=offset + limit, label=confidence_label)
        resolutions = call.agent.store.latest_resolutions([int(r["id"][1:]) for r in rows], of="turn_id")
        for r in rows:
            r["resolution"] = _resolution(resolutions.get(int(r["id"][1:])))
        total, items = total + n, items + rows
    items.sort(key=lambda i: i["last_seen"] or 0, reverse=True)
    return {"total": total, "limit": limit, "offset": offset, "issues": items[offset:offset + limit]}


def _resolution(found: dict | None) -> dict | None:
    """An issue's newest verification as History shows it."""
    return {k: found[k] for k in ("verified_at", "outcome", "ttr_s", "pattern_id")} if found else None


def verify_issue(call: Call) -> dict:
    """Mark an issue's action done and verify the fix: an alert (``12``) or an assistant answer (``q34``)."""
    raw = call.path["id"]
    body = call.body(VERIFY_SCHEMA, optional=True)
    svc = service(call)
    question = raw[:1] == "q"
    digits = raw[1:] if question else raw
    if not (digits.isascii() and digits.isdigit()) or int(digits) < 1:
        raise invalid("issue id must be an alert's number (12) or q and a question's number (q34), "
                      f"not {raw[:40]!r}", "invalid_issue_id")
    number = path_id(digits, "issue id", "invalid_issue_id")
    if question:
        if call.agent.store.get_turn(number) is None:
            raise not_found(f"no question {raw}")
        return run_verification(call, svc.verify_answer, number, body, f"no question {raw}")
    if svc.get(number) is None:
        raise not_found(f"no alert {number}")
    return run_verification(call, svc.verify, number, body, f"no alert {number}")


def snapshots(call: Call) -> dict:
    limit, offset = call.paging()
    total, rows = call.agent.store.list_config_revisions(limit=limit, offset=offset)
    return {"total": total, "limit": limit, "offset": offset, "snapshots": rows}


def snapshot_diff(call: Call) -> dict:
    """What changed between snapshot ``from`` and ``to`` (defaults: the newest, and the one taken before ``to``)."""
    from omv_copilot_agent.history.drift import diff

    store = call.agent.store
    to_id, from_id = call.arg("to"), call.arg("from")
    if to_id is None:
        newest = store.list_config_revisions(limit=1)[1]
        if not newest:
            raise not_found("no configuration snapshot recorded yet")
        to_id = newest[0]["id"]
    if from_id is None:
        from_id = store.previous_config_revision_id(to_id) or to_id
    old, new = store.get_config_revision(from_id), store.get_config_revision(to_id)
    for sid, snap in ((from_id, old), (to_id, new)):
        if snap is None:
            raise not_found(f"no configuration snapshot {sid}")
    changes = diff(old["data"], new["data"])
    return {"from": {k: old[k] for k in ("id", "taken_at", "hash", "reason")},
            "to": {k: new[k] for k in ("id", "taken_at", "hash", "reason")},
            "changes": changes, "total": len(changes)}


def snapshot(call: Call) -> dict:
    """One configuration snapshot with its data (the OMV configuration as recorded then)."""
    raw = call.path["id"]
    found = call.agent.store.get_config_revision(path_id(raw, "snapshot id", "invalid_snapshot_id"))
    if found is None:
        raise not_found(f"no configuration snapshot {raw}")
    return found


def notes(call: Call) -> dict:
    limit, offset = call.paging()
    alert_id = call.arg("alert_id")
    total, rows = call.agent.store.list_notes(alert_id=alert_id, limit=limit, offset=offset)
    return {"total": total, "limit": limit, "offset": offset, "notes": rows}


def add_note(call: Call) -> Created:
    body = call.body(NOTE_SCHEMA)
    text = body["text"].strip()
    if not text:
        raise invalid(f"{call.field('text')}: must not be blank", "invalid_body")
    alert_id = body.get("alert_id")
    if alert_id is not None and call.agent.store.get_alert(alert_id) is None:
        raise not_found(f"no alert {alert_id}")
    if body.get("pattern_id"):
        text = f"[pattern {body['pattern_id']}] {text}"
    return Created(call.agent.store.add_note(text, alert_id))


def timeline(call: Call) -> dict:
    """Alerts, notes, configuration changes, package updates and reboots in one list, newest first.

    ``since`` is seconds back from ``until`` (a Unix time, default now); ``kinds`` a comma list of
    :data:`history.timeline.KINDS` (default all). apt's history and wtmp are read on each call:
    both are small local files, and nothing else keeps them.
    """
    until = call.arg("until") or time.time()
    since = until - call.arg("since")
    limit = call.arg("limit")
    raw = [k.strip() for k in (call.arg("kinds") or "").split(",") if k.strip()]
    unknown = [k for k in raw if k not in tl.KINDS]
    if unknown:
        raise invalid(f"parameter 'kinds': unknown kind(s) {', '.join(unknown)}; use any of {', '.join(tl.KINDS)}",
                      "invalid_parameter")
    kinds = set(raw or tl.KINDS)
    store, groups = call.agent.store, []
    if "alert" in kinds:
        groups.append(tl.alert_events(store.alerts_between(since, until, limit)))
    if "note" in kinds:
        groups.append(tl.note_events(store.notes_between(since, until, limit)))
    if "config" in kinds:
        ids = store.config_revision_ids_between(since, until, limit)  # a revision is a whole OMV configuration:
        groups.append(tl.config_events((store.get_config_revision(i) for i in ids), since))  # two in memory at a time
    if "package" in kinds:
        groups.append(tl.package_events(apt_history.read(apt_history.LOG, since)))
    if "reboot" in kinds:
        groups.append(tl.reboot_events(boots.read(boots.WTMP, since)))
    return {**tl.merge(groups, since, until, limit), "kinds": [k for k in tl.KINDS if k in kinds]}
