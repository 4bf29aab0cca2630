"""``/api/v1/history/*``: past issues, OMV configuration snapshots and drift, admin notes."""

from __future__ import annotations

from flask import Blueprint, jsonify

from omv_copilot_agent.api import agent
from omv_copilot_agent.api.alerts import SEVERITIES, service
from omv_copilot_agent.api.errors import bad_request, not_found
from omv_copilot_agent.api.params import SQLITE_MAX_INT, choice_arg, int_arg, json_body, paging, path_id

bp = Blueprint("history", __name__, url_prefix="/api/v1/history")

NOTE_SCHEMA = {"type": "object", "additionalProperties": False, "required": ["text"],
               "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 10000},
                              "alert_id": {"type": ["integer", "null"], "minimum": 1, "maximum": SQLITE_MAX_INT},
                              "pattern_id": {"type": ["string", "null"], "maxLength": 64}}}


def _paging(default: int = 200) -> tuple[int, int]:
    return paging(default, 10000)


@bp.get("/issues")
def issues():
    """Past and present alerts with their outcome, and assistant questions with theirs (newest first).

    ``kind`` = alert | question | all (default). A ``state`` or ``severity`` filter means alerts only.
    """
    limit, offset = _paging()
    severity = choice_arg("severity", SEVERITIES)
    state = choice_arg("state", ("firing", "acknowledged", "resolved", "open"))
    kind = choice_arg("kind", ("alert", "question", "all"), "all")
    if state or severity:
        kind = "alert"
    total, items = 0, []
    if kind in ("alert", "all"):
        n, rows = service().list(state=state, severity=severity, limit=offset + limit, offset=0)
        for r in rows:
            r["kind"] = "alert"
            r["outcome"] = {"resolved": "resolved", "acknowledged": "acknowledged"}.get(r["state"], "open")
            if r.get("resolved_at"):
                r["duration_s"] = round(r["resolved_at"] - r["first_seen"], 1)
        total, items = total + n, items + rows
    if kind in ("question", "all"):
        n, rows = agent().store.question_history(limit=offset + limit)
        total, items = total + n, items + rows
    items.sort(key=lambda i: i["last_seen"] or 0, reverse=True)
    return jsonify({"total": total, "limit": limit, "offset": offset, "issues": items[offset:offset + limit]})


@bp.get("/snapshots")
def snapshots():
    limit, offset = _paging(50)
    total, rows = agent().store.list_config_revisions(limit=limit, offset=offset)
    return jsonify({"total": total, "limit": limit, "offset": offset, "snapshots": rows})


@bp.get("/snapshots/diff")
def snapshot_diff():
    """What changed between snapshot ``from`` and ``to`` (defaults: the newest, and the one taken before ``to``)."""
    from omv_copilot_agent.history.drift import diff

    store = agent().store
    to_id = int_arg("to", None, minimum=1)
    from_id = int_arg("from", None, minimum=1)
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
    return jsonify({"from": {k: old[k] for k in ("id", "taken_at", "hash", "reason")},
                    "to": {k: new[k] for k in ("id", "taken_at", "hash", "reason")},
                    "changes": changes, "total": len(changes)})


@bp.get("/snapshots/<path:id>")
def snapshot(id):  # noqa: A002 (the documented path parameter)
    """One configuration snapshot with its data (the OMV configuration as recorded then)."""
    found = agent().store.get_config_revision(path_id(id, "snapshot id", "invalid_snapshot_id"))
    if found is None:
        raise not_found(f"no configuration snapshot {id}")
    return jsonify(found)


@bp.get("/notes")
def notes():
    limit, offset = _paging()
    alert_id = int_arg("alert_id", None, minimum=1)
    total, rows = agent().store.list_notes(alert_id=alert_id, limit=limit, offset=offset)
    return jsonify({"total": total, "limit": limit, "offset": offset, "notes": rows})


@bp.post("/notes")
@bp.post("/note")
def add_note():
    body = json_body(NOTE_SCHEMA)
    text = body["text"].strip()
    if not text:
        raise bad_request("field 'text': must not be blank", "invalid_body")
    alert_id = body.get("alert_id")
    if alert_id is not None and agent().store.get_alert(alert_id) is None:
        raise not_found(f"no alert {alert_id}")
    if body.get("pattern_id"):
        text = f"[pattern {body['pattern_id']}] {text}"
    note = agent().store.add_note(text, alert_id)
    return jsonify(note), 201
