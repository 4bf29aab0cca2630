"""The box's state from the latest snapshot: status, metrics, logs, configuration."""

from __future__ import annotations

import time

from omv_copilot_agent import findings
from omv_copilot_agent.findings import Thresholds
from omv_copilot_agent.findings.summary import summarize
from omv_copilot_agent.services.call import Call
from omv_copilot_agent.services.errors import ServiceError


def snapshot(call: Call):
    snap = call.agent.snapshot
    if snap is None:
        raise ServiceError("unavailable", "no_snapshot", "no collection has finished yet; try again in a few seconds")
    return snap


def meta(snap) -> dict:
    return {"taken_at": snap.taken_at, "age_s": round(snap.age_s(), 1)}


def status(call: Call) -> dict:
    """Every source's status and data, plus a summary."""
    snap = snapshot(call)
    found = findings.evaluate(snap, Thresholds.from_config(call.agent.config))
    return {"snapshot": meta(snap), "overall": snap.overall, "summary": summarize(snap, found),
            "agent": call.agent.describe(), "sources": snap.to_dict()["sources"]}


def metrics(call: Call) -> dict:
    """Time series from the store: name, labels, since (seconds), step (seconds per averaged point, 0 = as
    stored); without a name the list of series."""
    name, since, labels, step = call.arg("name"), call.arg("since"), call.arg("labels"), call.arg("step")
    store = call.agent.store
    if not name:
        snap = snapshot(call)
        return {"snapshot": meta(snap), "series": [{"name": n, "labels": lb} for n, lb in store.metric_names()],
                "current": _current_metrics(snap)}
    points = store.series(name, labels, since=time.time() - since, step=step)
    return {"name": name, "labels": labels, "since_s": since, "step_s": step, "points": [[round(t, 1), v] for t, v in points]}


def _current_metrics(snap) -> dict:
    system = snap.data("system")
    return {"cpu": system.get("cpu"), "memory": system.get("memory"), "swap": system.get("swap"),
            "temperatures": system.get("temperatures"),
            "filesystems": [{k: fs.get(k) for k in ("mountpoint", "total", "used", "free", "percent")}
                            for fs in snap.data("storage").get("filesystems", [])]}


def logs(call: Call) -> dict:
    """Recent warnings/errors from journald: since (1 s .. 7 days), priority err|warning."""
    since, priority = call.arg("since"), call.arg("priority")
    snap = snapshot(call)
    result = snap.sources.get("logs")
    cutoff = time.time() - since
    entries = [e for e in (result.data.get("entries", []) if result else []) if (e.get("ts") or 0) >= cutoff]
    if priority:
        entries = [e for e in entries if e.get("priority") == priority]
    return {"snapshot": meta(snap), "since_s": since, "status": result.status if result else "unavailable",
            "reason": result.reason if result else "logs source disabled", "entries": entries}


def configuration(call: Call) -> dict:
    """OMV's configuration as read through omv-rpc, and the agent's own (secrets removed)."""
    snap = snapshot(call)
    omv = snap.sources.get("omv")
    return {"snapshot": meta(snap),
            "omv": {"status": omv.status if omv else "unavailable", "reason": omv.reason if omv else "disabled",
                    "data": omv.data if omv else {}},
            "agent": call.agent.public_config()}
