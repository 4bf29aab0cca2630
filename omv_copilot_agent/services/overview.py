"""One flat object for OMV's Overview page and dashboard widgets: daemon, health, alerts, summary.

Built from the same services the other operations use; a missing concern leaves its
fields null instead of failing the page. When the daemon does not answer at all, the
OMV proxy returns :data:`OFFLINE` with its own message (the operation's offline answer).
"""

from __future__ import annotations

import json
import time

from omv_copilot_agent.services import alerts, system
from omv_copilot_agent.services.call import Call
from omv_copilot_agent.services.errors import ServiceError

OFFLINE = {"daemon_state": "not running", "daemon_message": "", "version": None, "health_score": None,
           "health_grade": None, "open_alerts": None, "overall": None, "last_collection": None,
           "snapshot_age_s": None, "summary": ""}


def overview(call: Call) -> dict:
    result = {**OFFLINE, "daemon_state": "running"}
    try:
        status = system.status(call)
    except ServiceError as exc:
        return {**OFFLINE, "daemon_message": f"Co-Pilot: {exc.message}"}
    result["overall"] = status.get("overall")
    result["version"] = (status.get("agent") or {}).get("version")
    taken_at = (status.get("snapshot") or {}).get("taken_at")
    if taken_at is not None:
        result["last_collection"] = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(int(taken_at)))
        result["snapshot_age_s"] = status["snapshot"].get("age_s")
    summary = status.get("summary")
    if summary is not None:
        result["summary"] = summary if isinstance(summary, str) else plain_text(summary)
    try:
        health = alerts.health(call)
        result["health_score"], result["health_grade"] = health.get("score"), health.get("grade")
    except ServiceError:
        pass
    try:
        result["open_alerts"] = alerts.service(call).list(state="firing", severity=None, limit=1, offset=0)[0]
    except ServiceError:
        pass
    return result


def _scalar(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _listed(value) -> str:
    """One item of a list the way PHP's strval/json_encode showed it."""
    if isinstance(value, bool):
        return "1" if value else ""
    if value is None or isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":")).replace("/", "\\/")
    return _scalar(value)


def plain_text(value, indent: str = "") -> str:
    """'key: value' lines for a text page, which HTML-escapes what it shows (JSON would be a wall of &quot;)."""
    lines = []
    items = value.items() if isinstance(value, dict) else enumerate(value if isinstance(value, list) else [value])
    for key, item in items:
        if isinstance(item, dict) and item:
            lines.append(f"{indent}{key}:")
            lines.append(plain_text(item, indent + "  "))
        elif isinstance(item, (list, dict)):
            flat = [_listed(v) for v in item]
            lines.append(f"{indent}{key}: " + (", ".join(flat) if flat else "none"))
        else:
            lines.append(f"{indent}{key}: {_scalar(item)}")
    return "\n".join(line for line in lines if line)
