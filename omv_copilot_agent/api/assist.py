"""``/api/v1/assist/query|jobs|conversations``: ask the assistant, now or as a polled job.

The answer shape is the contract in docs/contracts.md "Assist". ``async: true``
answers 202 ``{job_id, conversation_id}`` at once (OMV's nginx cuts PHP at 60 s,
an LLM may take longer); the job is polled and may be cancelled.
"""

from __future__ import annotations

import re

from flask import Blueprint, jsonify

from omv_copilot_agent.api import agent
from omv_copilot_agent.api.errors import ApiError, bad_request, not_found
from omv_copilot_agent.api.params import json_body, paging

bp = Blueprint("assist", __name__, url_prefix="/api/v1/assist")

CONTEXTS = ["storage", "network", "service", "performance", "security", "general"]
MODES = ["auto", "llm", "kb_only", "direct"]
ID = re.compile(r"[A-Za-z0-9_.-]{1,100}")

QUERY_SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["query"],
    "properties": {
        "query": {"type": "string", "minLength": 1, "maxLength": 4000, "pattern": r"\S"},
        "context": {"type": ["string", "null"], "enum": CONTEXTS + ["", "auto", None]},
        "mode": {"type": ["string", "null"], "enum": MODES + [None]},
        "direct": {"type": ["boolean", "null"]},
        "conversation_id": {"type": ["string", "null"], "pattern": r"^[A-Za-z0-9_.-]{1,100}$"},
        "async": {"type": ["boolean", "null"]},
    },
}


def service():
    svc = getattr(agent(), "assist", None)
    if svc is None:
        raise ApiError(503, "not_available", "the assistant is not available")
    return svc


def checked_id(value: str, what: str) -> str:
    if not ID.fullmatch(value or ""):
        raise bad_request(f"{what} must be 1-100 characters of A-Z, a-z, 0-9, '_', '.' or '-'", f"invalid_{what.replace(' ', '_')}")
    return value


@bp.post("/query")
def query():
    body = json_body(QUERY_SCHEMA)
    mode = body.get("mode") or "auto"
    if body.get("direct"):
        if mode not in ("auto", "direct"):
            raise bad_request("field 'direct': cannot be combined with mode '" + mode + "'", "invalid_body")
        mode = "direct"
    context = body.get("context") or None
    context = None if context == "auto" else context
    kwargs = {"context": context, "mode": mode, "conversation_id": body.get("conversation_id")}
    svc = service()
    if body.get("async"):
        from omv_copilot_agent.assist.jobs import PoolFull

        try:
            job = svc.submit(body["query"], **kwargs)
        except PoolFull as exc:
            raise ApiError(503, "busy", str(exc)) from None
        return jsonify({"job_id": job.id, "status": job.status, "conversation_id": job.conversation_id}), 202
    return jsonify(svc.ask(body["query"], **kwargs))


PROBE_SCHEMA = {"type": "object", "additionalProperties": False, "required": ["command"],
                "properties": {"command": {"type": "string", "minLength": 1, "maxLength": 1000}}}


@bp.post("/probe")
def run_probe():
    """Run the command an answer shows — only when it is exactly a catalogue probe call, and exactly that argv."""
    from omv_copilot_agent.assist import risk

    body = json_body(PROBE_SCHEMA)
    svc = service()
    verdict = risk.classify(body["command"], svc.recognise)
    if verdict["probe"] is None:
        raise bad_request(f"field 'command': {verdict['reason']}; only catalogue probes run "
                          f"(this one is {verdict['risk']})", "not_a_probe")
    return jsonify({"command": body["command"], "probe": verdict["probe"], "result": svc.run_probe(verdict["probe"])})


def job_or_404(job_id: str):
    job = service().pool.get(checked_id(job_id, "job id"))
    if job is None:
        raise not_found(f"no job '{job_id}' (finished jobs are kept for an hour)")
    return job


@bp.get("/jobs/<id>")
def job(id):  # noqa: A002  (path names match the OpenAPI document)
    return jsonify(job_or_404(id).to_dict())


@bp.post("/jobs/<id>/cancel")
def cancel(id):  # noqa: A002
    job_or_404(id)
    return jsonify(service().pool.cancel(id).to_dict())


@bp.get("/conversations")
def conversations():
    limit, offset = paging(50, 1000)
    total, rows = agent().store.conversations(limit, offset)
    for row in rows:
        row["id"] = row["conversation_id"]
    return jsonify({"total": total, "limit": limit, "offset": offset, "data": rows})


@bp.get("/conversations/<id>")
def conversation(id):  # noqa: A002
    conversation_id = id
    checked_id(conversation_id, "conversation id")
    turns = agent().store.turns(conversation_id, limit=200)
    if not turns:
        raise not_found(f"no conversation '{conversation_id}'")
    return jsonify({"conversation_id": conversation_id, "id": conversation_id, "turns": turns})
