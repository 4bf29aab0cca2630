"""``/api/v1/alerts*`` and ``/api/v1/health``: alerts, forecasts, delivery policy, snoozes and
maintenance windows, test notification, health score."""

from __future__ import annotations

import time

from flask import Blueprint, jsonify

from omv_copilot_agent.api import agent
from omv_copilot_agent.api.errors import ApiError, bad_request, not_found
from omv_copilot_agent.api.params import choice_arg, json_body, paging, path_id

bp = Blueprint("alerts", __name__, url_prefix="/api/v1")

STATES = ("firing", "acknowledged", "resolved", "open")
SEVERITIES = ("info", "warning", "critical")
ACK_SCHEMA = {"type": "object", "additionalProperties": False,
              "properties": {"note": {"type": ["string", "null"], "maxLength": 2000}}}
YEAR_S = 365 * 86400
REASON = {"type": ["string", "null"], "maxLength": 500}
SNOOZE_SCHEMA = {"type": "object", "additionalProperties": False, "required": ["for_s"],
                 "properties": {"rule": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"},
                                "subject": {"type": ["string", "null"], "minLength": 1, "maxLength": 500},
                                "alert_id": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
                                "for_s": {"type": "integer", "minimum": 60, "maximum": YEAR_S}, "reason": REASON}}
MAINTENANCE_SCHEMA = {"type": "object", "additionalProperties": False, "required": ["for_s"],
                      "properties": {"for_s": {"type": "integer", "minimum": 60, "maximum": 30 * 86400},
                                     "start": {"type": "number", "minimum": 0, "maximum": 2**33},
                                     "reason": REASON}}


def service():
    """The AlertService, or 503 when the alerts package is absent."""
    svc = getattr(agent(), "alerts", None)
    if svc is None:
        raise ApiError(503, "not_available", "alerts are not available")
    return svc


def alert_id_arg(raw: str) -> int:
    return path_id(raw, "alert id", "invalid_alert_id")


@bp.get("/alerts")
def list_alerts():
    state = choice_arg("state", STATES)
    severity = choice_arg("severity", SEVERITIES)
    limit, offset = paging(1000, 10000)
    total, rows = service().list(state=state, severity=severity, limit=limit, offset=offset)
    return jsonify({"total": total, "limit": limit, "offset": offset, "alerts": rows})


@bp.get("/alerts/forecasts")
def forecasts():
    return jsonify({"forecasts": service().forecasts()})


@bp.get("/alerts/policy")
def policy():
    return jsonify(service().policy())


@bp.post("/alerts/snooze")
def snooze():
    """Silence one alert (``alert_id``, or ``rule`` + ``subject``) or a whole class (``rule``) for ``for_s``."""
    body = json_body(SNOOZE_SCHEMA)
    if ("alert_id" in body) == ("rule" in body) or ("alert_id" in body and "subject" in body):
        raise bad_request("give either 'alert_id' or 'rule' (with an optional 'subject')", "invalid_body")
    svc, now = service(), time.time()
    if "alert_id" in body:
        alert = svc.get(body["alert_id"])
        if alert is None:
            raise not_found(f"no alert {body['alert_id']}")
        rule, subject = alert["rule"], str(alert["subject"])
    else:
        rule, subject = body["rule"], body.get("subject")
        if rule not in {r.NAME for r in svc.rules}:
            raise bad_request(f"field 'rule': no alert class {rule!r} (see GET /api/v1/alerts/policy)", "invalid_body")
    item = svc.notifier.dispatcher.snooze(rule, subject, now + body["for_s"], now, body.get("reason"))
    return jsonify(item), 201


@bp.delete("/alerts/snooze/<path:id>")
def unsnooze(id):  # noqa: A002
    if not service().notifier.dispatcher.unsnooze(path_id(id, "snooze id", "invalid_snooze_id")):
        raise not_found(f"no snooze {id}")
    return jsonify({"deleted": True})


@bp.post("/alerts/maintenance")
def maintenance():
    """A window that holds notifications (alerts are still recorded); what was held goes out when it ends."""
    body = json_body(MAINTENANCE_SCHEMA)
    start = body.get("start") or time.time()
    return jsonify(service().notifier.dispatcher.add_maintenance(start, start + body["for_s"], body.get("reason"))), 201


@bp.delete("/alerts/maintenance/<path:id>")
def end_maintenance(id):  # noqa: A002
    if not service().notifier.dispatcher.end_maintenance(path_id(id, "window id", "invalid_window_id"), time.time()):
        raise not_found(f"no open maintenance window {id}")
    return jsonify({"ended": True})


@bp.get("/alerts/<path:id>")
def get_alert(id):  # noqa: A002 (the documented path parameter)
    alert = service().get(alert_id_arg(id))
    if alert is None:
        raise not_found(f"no alert {id}")
    return jsonify(alert)


@bp.post("/alerts/acknowledge/<path:id>")
def acknowledge(id):  # noqa: A002
    alert_id = alert_id_arg(id)
    body = json_body(ACK_SCHEMA, optional=True)
    svc = service()
    alert = svc.get(alert_id)
    if alert is None:
        raise not_found(f"no alert {alert_id}")
    if alert["state"] == "resolved":
        raise ApiError(409, "conflict", f"alert {alert_id} is already resolved")
    if alert["state"] == "firing":
        svc.acknowledge(alert_id, body.get("note"))
    return jsonify(svc.get(alert_id))


@bp.post("/alerts/test-notification")
def test_notification():
    json_body({"type": "object", "additionalProperties": False}, optional=True)  # no fields; bad JSON is a 400
    result = service().test_notification()
    if not result["channels"]:
        raise ApiError(409, "no_channel", "no notification channel configured: set alerts.email, alerts.webhooks or alerts.alertmanager_url")
    if not result["sent"]:
        failed = "; ".join(f"{d['channel']}: {d['error']}" for d in result["deliveries"] if not d["ok"]) or "no delivery recorded"
        raise ApiError(502, "notification_failed", f"test notification failed: {failed}"[:500])
    return jsonify(result)


@bp.get("/health")
def health():
    svc = service()
    result = svc.health_score()
    open_alerts = svc.open_alerts()
    result["open_alerts"] = {s: sum(1 for a in open_alerts if a["severity"] == s) for s in SEVERITIES}
    snap = agent().snapshot
    result["snapshot_age_s"] = round(snap.age_s(), 1) if snap else None
    result["last_evaluation"] = svc.last_evaluation or None
    return jsonify(result)


@bp.get("/health/report")
def health_report():
    """The daily health report now: text (default), ``?format=html``, or ``?format=json`` ({text, html})."""
    from flask import Response

    fmt = choice_arg("format", ("text", "html", "json"), "text")
    if fmt == "json":
        return jsonify({"text": service().report(), "html": service().report(html=True)})
    body = service().report(html=fmt == "html")
    return Response(body, content_type="text/html; charset=utf-8" if fmt == "html" else "text/plain; charset=utf-8")
