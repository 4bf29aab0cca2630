"""Alerts, forecasts, delivery policy, snoozes and maintenance windows, the test notification,
the health score and the daily report."""

from __future__ import annotations

import logging
import time

from omv_copilot_agent.alerts.verify import UnknownPattern
from omv_copilot_agent.services.call import Call, Created, Document, path_id
from omv_copilot_agent.services.errors import ServiceError, invalid, not_found, unavailable

log = logging.getLogger(__name__)

STATES = ("firing", "acknowledged", "resolved", "open")
SEVERITIES = ("info", "warning", "critical")
ACK_SCHEMA = {"type": "object", "additionalProperties": False,
              "properties": {"note": {"type": ["string", "null"], "maxLength": 2000}}}
#: a verification's collection and probes end within this (OMV's RPC bridge waits 45 s for the answer)
VERIFY_BUDGET_S = 35.0
VERIFY_SCHEMA = {"type": "object", "additionalProperties": False,
                 "properties": {"pattern_id": {"type": ["string", "null"], "pattern": "^[a-z0-9][a-z0-9_-]{2,63}$"},
                                "collect": {"type": "boolean"}}}
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


def fresh_snapshot(call: Call, body: dict):
    """A new collection for a verification (None: ``collect`` is false, or it failed — the last one is judged)."""
    if not body.get("collect", True):
        return None
    try:
        return call.agent.run_cycle()
    except Exception as exc:  # verify on the last snapshot rather than not at all; the answer says which
        log.warning("fresh collection for a verification failed: %s", exc)
        return None


def run_verification(call: Call, verify, issue_id: int, body: dict, missing: str) -> dict:
    """``verify(issue_id, snapshot, pattern_id)`` on a fresh snapshot, its errors as the caller's: 404, 400.

    One verification at a time (a second one is told so: 409), and the collection plus the probes
    within :data:`VERIFY_BUDGET_S`, so the answer comes before OMV's RPC bridge gives up (45 s) and
    a pattern with several hanging checks (a dead NFS mount, a stuck docker) cannot hold API threads.
    """
    svc = service(call)
    if not svc.verifying.acquire(blocking=False):
        raise ServiceError("conflict", "verification_running",
                           "another verification is running; try again when it has finished")
    try:
        deadline = time.monotonic() + VERIFY_BUDGET_S
        snapshot = fresh_snapshot(call, body)
        try:
            result = verify(issue_id, snapshot, body.get("pattern_id"), deadline=deadline)
        except UnknownPattern as exc:
            if body.get("pattern_id"):
                raise invalid(f"{call.field('pattern_id')}: no pattern {exc.args[0]!r}", "unknown_pattern") from None
            raise invalid(f"the pattern this issue names, {exc.args[0]!r} (its alert's evidence or its answer's best match), "
                          "is no longer in the knowledge base: choose another (pattern_id; omv-copilot verify --pattern)",
                          "unknown_pattern") from None
        except ValueError as exc:
            raise invalid(f"{call.field('pattern_id')}: {exc}", "pattern_needed") from None
    finally:
        svc.verifying.release()
    if result is None:
        raise not_found(missing)
    return {**result, "fresh_collection": snapshot is not None}


def verify_fix(call: Call) -> dict:
    """The admin marked the alert's action done: collect afresh (unless ``collect`` is false), re-run the
    pattern's probes and the alert's rule, record fixed | still_present | could_not_verify and the TTR."""
    aid = alert_id(call)
    body = call.body(VERIFY_SCHEMA, optional=True)
    svc = service(call)
    if svc.get(aid) is None:  # before collecting: a wrong id costs nothing
        raise not_found(f"no alert {aid}")
    return run_verification(call, svc.verify, aid, body, f"no alert {aid}")


def policy(call: Call) -> dict:
    return service(call).policy()


def snooze(call: Call) -> Created:
    """Silence one alert (``alert_id``, or ``rule`` + ``subject``) or a whole class (``rule``) for ``for_s``."""
    body = call.body(SNOOZE_SCHEMA)
    if ("alert_id" in body) == ("rule" in body) or ("alert_id" in body and "subject" in body):
        raise invalid("give either 'alert_id' or 'rule' (with an optional 'subject')", "invalid_body")
    svc, now = service(call), time.time()
    if "alert_id" in body:
        alert = svc.get(body["alert_id"])
        if alert is None:
            raise not_found(f"no alert {body['alert_id']}")
        rule, subject = alert["rule"], str(alert["subject"])
    else:
        rule, subject = body["rule"], body.get("subject")
        if rule not in {r.NAME for r in svc.rules}:
            raise invalid(f"field 'rule': no alert class {rule!r} (see GET /api/v1/alerts/policy)", "invalid_body")
    return Created(svc.notifier.dispatcher.snooze(rule, subject, now + body["for_s"], now, body.get("reason")))


def unsnooze(call: Call) -> dict:
    if not service(call).notifier.dispatcher.unsnooze(path_id(call.path["id"], "snooze id", "invalid_snooze_id")):
        raise not_found(f"no snooze {call.path['id']}")
    return {"deleted": True}


def maintenance(call: Call) -> Created:
    """A window that holds notifications (alerts are still recorded); what was held goes out when it ends."""
    body = call.body(MAINTENANCE_SCHEMA)
    start = body.get("start") or time.time()
    return Created(service(call).notifier.dispatcher.add_maintenance(start, start + body["for_s"], body.get("reason")))


def end_maintenance(call: Call) -> dict:
    window = path_id(call.path["id"], "window id", "invalid_window_id")
    if not service(call).notifier.dispatcher.end_maintenance(window, time.time()):
        raise not_found(f"no open maintenance window {call.path['id']}")
    return {"ended": True}


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
    result["resolution"] = svc.resolution_stats()
    return result


def health_report(call: Call):
    """The daily health report now: text (default), html, or json ({text, html})."""
    fmt = call.arg("format")
    if fmt == "json":
        return {"text": service(call).report(), "html": service(call).report(html=True)}
    body = service(call).report(html=fmt == "html")
    return Document(body, "text/html; charset=utf-8" if fmt == "html" else "text/plain; charset=utf-8")
