"""Alerts, forecasts, the test notification, the health score and the daily report."""

from __future__ import annotations

from omv_copilot_agent.services.call import Call, Document, path_id
from omv_copilot_agent.services.errors import ServiceError, not_found, unavailable

STATES = ("firing", "acknowledged", "resolved", "open")
SEVERITIES = ("info", "warning", "critical")
ACK_SCHEMA = {"type": "object", "additionalProperties": False,
              "properties": {"note": {"type": ["string", "null"], "maxLength": 2000}}}


def service(call: Call):
    """The AlertService, or ``unavailable`` when the alerts concern is absent."""
    svc = getattr(call.agent, "alerts", None)
    if svc is None:
        raise unavailable("not_available", "alerts are not available")
    return svc


def alert_id(call: Call) -> int:
    return path_id(call.path["id"], "alert id", "invalid_alert_id")


def list_alerts(call: Call) -> dict:
    state, severity = call.arg("state"), call.arg("severity")
    limit, offset = call.paging()
    total, rows = service(call).list(state=state, severity=severity, limit=limit, offset=offset)
    return {"total": total, "limit": limit, "offset": offset, "alerts": rows}


def forecasts(call: Call) -> dict:
    return {"forecasts": service(call).forecasts()}


def get_alert(call: Call) -> dict:
    alert = service(call).get(alert_id(call))
    if alert is None:
        raise not_found(f"no alert {call.path['id']}")
    return alert


def acknowledge(call: Call) -> dict:
    aid = alert_id(call)
    body = call.body(ACK_SCHEMA, optional=True)
    svc = service(call)
    alert = svc.get(aid)
    if alert is None:
        raise not_found(f"no alert {aid}")
    if alert["state"] == "resolved":
        raise ServiceError("conflict", "conflict", f"alert {aid} is already resolved")
    if alert["state"] == "firing":
        svc.acknowledge(aid, body.get("note"))
    return svc.get(aid)


def test_notification(call: Call) -> dict:
    call.body({"type": "object", "additionalProperties": False}, optional=True)  # no fields; bad JSON is refused
    result = service(call).test_notification()
    if not result["channels"]:
        raise ServiceError("conflict", "no_channel",
                           "no notification channel configured: set alerts.email, alerts.webhooks or alerts.alertmanager_url")
    if not result["sent"]:
        failed = "; ".join(f"{d['channel']}: {d['error']}" for d in result["deliveries"] if not d["ok"]) or "no delivery recorded"
        raise ServiceError("upstream_failed", "notification_failed", f"test notification failed: {failed}"[:500])
    return result


def health(call: Call) -> dict:
    svc = service(call)
    result = svc.health_score()
    open_alerts = svc.open_alerts()
    result["open_alerts"] = {s: sum(1 for a in open_alerts if a["severity"] == s) for s in SEVERITIES}
    snap = call.agent.snapshot
    result["snapshot_age_s"] = round(snap.age_s(), 1) if snap else None
    result["last_evaluation"] = svc.last_evaluation or None
    return result


def health_report(call: Call):
    """The daily health report now: text (default), html, or json ({text, html})."""
    fmt = call.arg("format")
    if fmt == "json":
        return {"text": service(call).report(), "html": service(call).report(html=True)}
    body = service(call).report(html=fmt == "html")
    return Document(body, "text/html; charset=utf-8" if fmt == "html" else "text/plain; charset=utf-8")
