"""``/api/v1/traces``: the assistant's 9-point decision traces (seed Phase 2.5) and their Mermaid view."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from omv_copilot_agent.api import agent
from omv_copilot_agent.api.assist import checked_id
from omv_copilot_agent.api.errors import not_found
from omv_copilot_agent.api.params import choice_arg, paging

bp = Blueprint("traces", __name__, url_prefix="/api/v1/traces")


def trace_or_404(trace_id: str) -> dict:
    trace = agent().store.get_trace(checked_id(trace_id, "trace id"))
    if trace is None:
        raise not_found(f"no trace '{trace_id}' (traces are kept assist.trace_retention_days)")
    return trace


@bp.get("")
def traces():
    limit, offset = paging(50, 1000)
    total, rows = agent().store.list_traces(limit, offset)
    for row in rows:
        row["trace_id"] = row["id"]
        row["duration_s"] = round(row["duration_ms"] / 1000, 3) if row.get("duration_ms") is not None else None
    return jsonify({"total": total, "limit": limit, "offset": offset, "data": rows})


@bp.get("/<id>")
def trace(id):  # noqa: A002  (path names match the OpenAPI document)
    return jsonify(trace_or_404(id))


@bp.get("/<id>/mermaid")
def mermaid(id):  # noqa: A002
    trace_id = id
    from omv_copilot_agent.assist.trace import mermaid as render

    fmt = choice_arg("format", ("text", "json"), "text")
    text = render(trace_or_404(trace_id))
    if fmt == "json" or "application/json" in (request.headers.get("Accept") or "") and "text/plain" not in (request.headers.get("Accept") or ""):
        return jsonify({"trace_id": trace_id, "mermaid": text})
    return Response(text, mimetype="text/plain")
