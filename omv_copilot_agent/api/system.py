"""``/api/v1/system/*``: the box's state from the latest snapshot."""

from __future__ import annotations

import time

from flask import Blueprint, jsonify

from omv_copilot_agent import findings
from omv_copilot_agent.api import agent
from omv_copilot_agent.api.errors import ApiError
from omv_copilot_agent.api.params import int_arg, str_arg
from omv_copilot_agent.findings import Thresholds
from omv_copilot_agent.findings.summary import summarize

bp = Blueprint("system", __name__, url_prefix="/api/v1/system")


def _snapshot():
    snap = agent().snapshot
    if snap is None:
        raise ApiError(503, "no_snapshot", "no collection has finished yet; try again in a few seconds")
    return snap


def _meta(snap) -> dict:
    return {"taken_at": snap.taken_at, "age_s": round(snap.age_s(), 1)}


@bp.get("/status")
def status():
    """Every source's status and data, plus a summary."""
    snap = _snapshot()
    found = findings.evaluate(snap, Thresholds.from_config(agent().config))
    return jsonify({"snapshot": _meta(snap), "overall": snap.overall, "summary": summarize(snap, found),
                    "agent": agent().describe(), "sources": snap.to_dict()["sources"]})


@bp.get("/metrics")
def metrics():
    """Time series from the store: ?name=&labels=&since=SECONDS (default: list of series)."""
    name = str_arg("name", max_length=100)
    since = int_arg("since", 3600, minimum=1, maximum=10 * 365 * 86400)
    store = agent().store
    if not name:
        snap = _snapshot()
        return jsonify({"snapshot": _meta(snap), "series": [{"name": n, "labels": l} for n, l in store.metric_names()],
                        "current": _current_metrics(snap)})
    labels = str_arg("labels", "", max_length=300)
    points = store.series(name, labels, since=time.time() - since)
    return jsonify({"name": name, "labels": labels, "since_s": since, "points": [[round(t, 1), v] for t, v in points]})


def _current_metrics(snap) -> dict:
    system = snap.data("system")
    return {"cpu": system.get("cpu"), "memory": system.get("memory"), "swap": system.get("swap"),
            "temperatures": system.get("temperatures"),
            "filesystems": [{k: fs.get(k) for k in ("mountpoint", "total", "used", "free", "percent")} for fs in snap.data("storage").get("filesystems", [])]}


@bp.get("/logs")
def logs():
    """Recent warnings/errors from journald: ?since=SECONDS (1 .. 7 days) & ?priority=err|warning."""
    since = int_arg("since", 3600, minimum=1, maximum=7 * 86400)
    priority = str_arg("priority", None, max_length=10)
    if priority not in (None, "err", "warning"):
        raise ApiError(400, "invalid_parameter", "parameter 'priority' must be one of err, warning")
    snap = _snapshot()
    result = snap.sources.get("logs")
    cutoff = time.time() - since
    entries = [e for e in (result.data.get("entries", []) if result else []) if (e.get("ts") or 0) >= cutoff]
    if priority:
        entries = [e for e in entries if e.get("priority") == priority]
    return jsonify({"snapshot": _meta(snap), "since_s": since, "status": result.status if result else "unavailable",
                    "reason": result.reason if result else "logs source disabled", "entries": entries})


@bp.get("/configuration")
def configuration():
    """OMV's configuration as read through omv-rpc, and the agent's own (secrets removed)."""
    snap = _snapshot()
    omv = snap.sources.get("omv")
    return jsonify({"snapshot": _meta(snap),
                    "omv": {"status": omv.status if omv else "unavailable", "reason": omv.reason if omv else "disabled",
                            "data": omv.data if omv else {}},
                    "agent": agent().public_config()})
