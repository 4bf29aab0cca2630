"""A stand-in for the RPC bridge (``api/rpc.py``, owned by the omv concern) for web UI tests.

Used only when the real bridge is not in this build. It answers the method table of
docs/contracts.md ("RPC bridge") with data shaped as the contracts say, so the browser
tests exercise every page; getStatus and getMetrics go to the real system views.
"""

from __future__ import annotations

import time

from flask import Blueprint, current_app, jsonify, request

bp = Blueprint("rpc_stub", __name__)

PATTERN = {
    "pattern_id": "omv-001", "title": "SMB share inaccessible from Windows", "category": "services",
    "symptoms": ["Windows cannot access \\\\server\\share", "Network path not found"],
    "diagnostics": [{"name": "Check SMB service status", "command": "systemctl status smbd", "expected_output": "active (running)"}],
    "solutions": [{"priority": 1, "action": "Restart SMB service", "command": "systemctl restart smbd", "explanation": "Service may be hung"}],
    "confidence": 0.9,
}
ANSWER = {
    "query_id": "q1", "conversation_id": "c1", "context": "service", "mode": "kb_only", "provider": None, "model": None,
    "analysis": "SMB (smbd) is the likely culprit: the knowledge base matched one pattern.",
    "possible_causes": [{"cause": "smbd is stopped", "likelihood": "high"}],
    "suggested_diagnostics": [{"name": "Check SMB service status", "command": "systemctl status smbd", "purpose": "is it running", "pattern_id": "omv-001"}],
    "recommended_actions": [{"action": "Restart SMB service", "command": "systemctl restart smbd", "risk": "low", "explanation": "Service may be hung"}],
    "follow_up_questions": ["Does the share work from another client?"],
    "confidence": 0.62, "confidence_label": "medium",
    "matched_patterns": [{"pattern_id": "omv-001", "title": PATTERN["title"], "score": 0.8}],
    "notices": ["No LLM configured: answered from the knowledge base only."], "trace_id": "t1",
}
STATE: dict = {"alerts": [], "notes": [], "jobs": {}}


def reset() -> None:
    now = time.time()
    STATE["alerts"] = [{"id": 1, "rule": "fs_usage", "subject": "/srv/data", "severity": "warning", "state": "firing",
                        "title": "Filesystem /srv/data is 91% full", "message": "91% used", "first_seen": now - 3600,
                        "last_seen": now, "resolved_at": None, "acknowledged_at": None, "count": 3, "details": {}}]
    STATE["notes"] = [{"id": 1, "text": "Replaced the SATA cable of sdb", "created_at": now - 86400, "alert_id": None}]
    STATE["jobs"] = {}


def _internal(path: str, query: dict | None = None):
    client = current_app.test_client()
    token = current_app.config["API_TOKEN"]
    resp = client.get(path, query_string=query or {}, headers={"Authorization": f"Bearer {token}", "Host": "127.0.0.1"})
    return resp.get_json(), resp.status_code


@bp.post("/api/v1/rpc")
def rpc():
    body = request.get_json(silent=True) or {}
    method, params = body.get("method"), body.get("params") or {}
    if method == "getStatus":
        data, code = _internal("/api/v1/system/status")
        return jsonify(data), code
    if method == "getMetrics":
        data, code = _internal("/api/v1/system/metrics", {k: v for k, v in params.items() if v not in (None, "")})
        return jsonify(data), code
    if method == "getHealth":
        return jsonify({"score": 82, "grade": "B", "deductions": [{"reason": "Filesystem /srv/data 91% full", "points": 18}]})
    if method == "getForecasts":
        return jsonify([{"mountpoint": "/", "status": "filling", "rate_bytes_per_day": 1e9, "full_at": time.time() + 40 * 86400, "days_left": 40, "reason": None}])
    if method in ("getAlerts", "getHistory"):
        rows = [a for a in STATE["alerts"] if not params.get("state") or a["state"] == params["state"]]
        rows = [a for a in rows if not params.get("severity") or a["severity"] == params["severity"]]
        return jsonify({"total": len(rows), "data": rows})
    if method == "acknowledgeAlert":
        for alert in STATE["alerts"]:
            if alert["id"] == params.get("id"):
                alert.update(state="acknowledged", acknowledged_at=time.time())
                return jsonify(alert)
        return jsonify({"error": {"code": "not_found", "message": "no such alert"}}), 404
    if method == "getPatterns":
        return jsonify({"total": 1, "data": [PATTERN]})
    if method == "getPattern":
        return jsonify(PATTERN)
    if method == "runDiagnostics":
        return jsonify([{"name": "Check SMB service status", "argv": ["systemctl", "status", "smbd"], "returncode": 3,
                         "stdout": "inactive (dead)", "stderr": "", "duration_s": 0.05, "timed_out": False, "error": None,
                         "matched_expected": False}])
    if method == "feedback":
        return jsonify({"ok": True})
    if method == "getNotes":
        return jsonify({"total": len(STATE["notes"]), "data": STATE["notes"]})
    if method == "addNote":
        STATE["notes"].append({"id": len(STATE["notes"]) + 1, "text": params.get("text"), "created_at": time.time(), "alert_id": None})
        return jsonify({"ok": True})
    if method == "getTraces":
        return jsonify({"total": 1, "data": [{"id": "t1", "query": "smb not working", "started_at": time.time(), "duration_s": 0.2, "mode": "kb_only"}]})
    if method == "getTrace":
        return jsonify({"id": "t1", "query": "smb not working", "mode": "kb_only", "context": "service",
                        "decision_points": [{"name": n, "duration_s": 0.01} for n in ("query_received", "context_selection", "kb_search", "response_assembly")],
                        "mermaid": "flowchart TD\n  A[query_received] --> B[context_selection]"})
    if method == "startQuery":
        job_id = f"j{len(STATE['jobs']) + 1}"
        STATE["jobs"][job_id] = {"polls": 0}
        return jsonify({"job_id": job_id})
    if method == "getQueryResult":
        job = STATE["jobs"].get(params.get("job_id"))
        if job is None:
            return jsonify({"error": {"code": "not_found", "message": "no such job"}}), 404
        job["polls"] += 1
        if job["polls"] < 2:
            return jsonify({"job_id": params["job_id"], "status": "running"})
        return jsonify({"job_id": params["job_id"], "status": "done", "answer": ANSWER})
    if method == "cancelQuery":
        return jsonify({"ok": True})
    if method == "getConversations":
        return jsonify({"total": 0, "data": []})
    if method == "getConversation":
        return jsonify({"id": params.get("id"), "turns": []})
    return jsonify({"error": {"code": "unknown_method", "message": f"unknown method {method!r}"}}), 400
