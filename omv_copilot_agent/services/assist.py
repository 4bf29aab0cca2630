"""Ask the assistant now or as a polled job; its conversations and decision traces.

``async`` answers ``{job_id, conversation_id}`` at once (OMV's nginx cuts PHP at 60 s,
an LLM may take longer); the job is polled and may be cancelled.
"""

from __future__ import annotations

import re

from omv_copilot_agent.services.call import Accepted, Call
from omv_copilot_agent.services.errors import invalid, not_found, unavailable
from omv_copilot_agent.services.schemas import PROBE_SCHEMA, QUERY_SCHEMA, RENAME_SCHEMA

ID = re.compile(r"[A-Za-z0-9_.-]{1,100}")


def service(call: Call):
    svc = getattr(call.agent, "assist", None)
    if svc is None:
        raise unavailable("not_available", "the assistant is not available")
    return svc


def checked_id(value: str, what: str) -> str:
    if not ID.fullmatch(value or ""):
        raise invalid(f"{what} must be 1-100 characters of A-Z, a-z, 0-9, '_', '.' or '-'", f"invalid_{what.replace(' ', '_')}")
    return value


def query(call: Call, *, force_async: bool = False):
    body = call.body(QUERY_SCHEMA)
    mode = body.get("mode") or "auto"
    if body.get("direct"):
        if mode not in ("auto", "direct"):
            raise invalid(f"{call.field('direct')}: cannot be combined with mode '" + mode + "'", "invalid_body")
        mode = "direct"
    context = body.get("context") or None
    context = None if context == "auto" else context
    if body.get("reply_to") and not body.get("conversation_id"):
        raise invalid(f"{call.field('reply_to')}: answers a follow-up question of a conversation; give its "
                      "conversation_id", "invalid_body")
    kwargs = {"context": context, "mode": mode, "conversation_id": body.get("conversation_id"),
              "reply_to": body.get("reply_to") or None}
    svc = service(call)
    if body.get("async") or force_async:
        from omv_copilot_agent.assist.jobs import PoolFull

        try:
            job = svc.submit(body["query"], **kwargs)
        except PoolFull as exc:
            raise unavailable("busy", str(exc)) from None
        return Accepted({"job_id": job.id, "status": job.status, "conversation_id": job.conversation_id})
    return svc.ask(body["query"], **kwargs)


def start_query(call: Call):
    """The assistant as a job, always (OMV's PHP must answer within nginx's 60 s)."""
    return query(call, force_async=True)


def _job(call: Call):
    job_id = call.path["job_id"]
    job = service(call).pool.get(checked_id(job_id, "job id"))
    if job is None:
        raise not_found(f"no job '{job_id}' (finished jobs are kept for an hour)")
    return job


def job(call: Call) -> dict:
    return _job(call).to_dict()


def cancel(call: Call) -> dict:
    found = _job(call)
    return service(call).pool.cancel(found.id).to_dict()


def conversations(call: Call) -> dict:
    """Conversations, newest first; ``q`` keeps those whose title, questions or answers contain it."""
    limit, offset = call.paging()
    total, rows = call.agent.store.conversations(limit, offset, search=(call.arg("q") or "").strip() or None)
    for row in rows:
        row["id"] = row["conversation_id"]
    return {"total": total, "limit": limit, "offset": offset, "data": rows}


def rename_conversation(call: Call) -> dict:
    conversation_id = checked_id(call.path["id"], "conversation id")
    title = " ".join(call.body(RENAME_SCHEMA)["title"].split())
    if not call.agent.store.rename_conversation(conversation_id, title):
        raise not_found(f"no conversation '{conversation_id}'")
    return {"id": conversation_id, "conversation_id": conversation_id, "title": title}


def delete_conversation(call: Call) -> dict:
    conversation_id = checked_id(call.path["id"], "conversation id")
    deleted = call.agent.store.delete_conversation(conversation_id)
    if not deleted:
        raise not_found(f"no conversation '{conversation_id}'")
    return {"id": conversation_id, "deleted_turns": deleted}


def conversation(call: Call) -> dict:
    conversation_id = checked_id(call.path["id"], "conversation id")
    turns = call.agent.store.turns(conversation_id, limit=200)
    if not turns:
        raise not_found(f"no conversation '{conversation_id}'")
    from omv_copilot_agent.assist.kb_answer import confidence_label

    for turn in turns:  # an answer stored before the engine's label rule (or without a label) shows today's
        if isinstance(turn.get("answer"), dict):
            turn["answer"]["confidence_label"] = confidence_label(turn["answer"])
    return {"conversation_id": conversation_id, "id": conversation_id, "turns": turns}


# -- decision traces ----------------------------------------------------------------------------

def trace_or_404(call: Call) -> dict:
    trace_id = call.path["id"]
    found = call.agent.store.get_trace(checked_id(trace_id, "trace id"))
    if found is None:
        raise not_found(f"no trace '{trace_id}' (traces are kept assist.trace_retention_days)")
    return found


def traces(call: Call) -> dict:
    limit, offset = call.paging()
    total, rows = call.agent.store.list_traces(limit, offset)
    for row in rows:
        row["trace_id"] = row["id"]
        row["duration_s"] = round(row["duration_ms"] / 1000, 3) if row.get("duration_ms") is not None else None
    return {"total": total, "limit": limit, "offset": offset, "data": rows}


def trace(call: Call) -> dict:
    return trace_or_404(call)


def trace_text(call: Call) -> str:
    """A trace as pretty JSON (OMV's read-only detail page)."""
    from omv_copilot_agent.services.knowledge import pretty

    return pretty(trace_or_404(call))


def mermaid(call: Call):
    """A trace as a Mermaid flowchart: text, or ``{trace_id, mermaid}`` when JSON is asked for."""
    from omv_copilot_agent.assist.trace import mermaid as render
    from omv_copilot_agent.services.call import Document

    fmt = call.arg("format")
    text = render(trace_or_404(call))
    if fmt == "json" or "application/json" in call.accept and "text/plain" not in call.accept:
        return {"trace_id": call.path["id"], "mermaid": text}
    return Document(text, "text/plain; charset=utf-8")


def run_probe(call: Call) -> dict:
    """Run the command an answer shows — only when it is exactly a catalogue probe call, and exactly that."""
    from omv_copilot_agent.assist import risk

    body = call.body(PROBE_SCHEMA)
    svc = service(call)
    verdict = risk.classify(body["command"], svc.recognise)
    if verdict.get("needs"):
        raise invalid(f"{call.field('command')}: fill in {', '.join(verdict['needs'])} first (the command shows "
                      "a placeholder there); then it runs as a catalogue probe", "needs_params")
    if verdict["probe"] is None:
        raise invalid(f"{call.field('command')}: {verdict['reason']}; only catalogue probes run "
                      f"(this one is {verdict['risk']})", "not_a_probe")
    return {"command": body["command"], "probe": verdict["probe"], "result": svc.run_probe(verdict["probe"])}
