"""The pattern knowledge base: browse, search, feedback, and editing patterns in the local overlay.

Reading the catalogue and changing it fail differently (a read-only data directory
must not break browsing): editing errors are ``unavailable`` with the reason. Every
rejected pattern lists each problem as field + reason, in the message (OMV's RPC
passes only the message on) and in ``details``.
"""

from __future__ import annotations

from omv_copilot_agent.knowledge import editing
from omv_copilot_agent.knowledge.loader import PATTERN_ID, PATTERN_ID_RULE
from omv_copilot_agent.services.call import JSON, Call, Created, Document
from omv_copilot_agent.services.errors import ServiceError, invalid, not_found, unavailable
from omv_copilot_agent.services.schemas import DIAG_SCHEMA, EDIT_SCHEMA, FEEDBACK_SCHEMA, SOLUTION_SCHEMA

YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")


def kb(call: Call):
    """The agent's KnowledgeBase, or ``unavailable`` when it is absent."""
    service = getattr(call.agent, "knowledge", None)
    if service is None:
        raise unavailable("not_available", "the knowledge base is not available")
    return service


def checked_id(call: Call, pattern_id, field: str = "pattern_id") -> str:
    """The id, if its shape is valid: traversal/unicode/oversized ids are refused naming ``field``."""
    if not isinstance(pattern_id, str) or not PATTERN_ID.fullmatch(pattern_id):
        raise invalid(f"{call.field(field)}: {PATTERN_ID_RULE}", "invalid_pattern_id")
    return pattern_id


def pattern_or_404(call: Call, pattern_id, field: str = "pattern_id") -> dict:
    pattern = kb(call).get(checked_id(call, pattern_id, field))
    if pattern is None:
        raise not_found(f"no pattern '{pattern_id}'")
    return pattern


def summary(call: Call, p: dict) -> dict:
    return {"pattern_id": p["pattern_id"], "title": p["title"], "category": p["category"],
            "confidence": p.get("confidence"), "has_signals": bool(p.get("findings")), **kb(call).origin(p["pattern_id"])}


def detail(call: Call, pattern: dict) -> dict:
    """One pattern as answered: the pattern, its parameters, origin and the YAML text to edit."""
    pid = pattern["pattern_id"]
    return {**pattern, "parameters": parameters(pattern), **kb(call).origin(pid), "yaml": kb(call).text(pid)}


def parameters(pattern: dict) -> list[str]:
    """Placeholders its diagnostics need (``{device}`` → 'device'), so callers know what to pass."""
    from omv_copilot_agent.knowledge.diagnostics import placeholders

    return sorted({name for d in pattern["diagnostics"] for name in placeholders(d)})


def patterns(call: Call) -> dict:
    category = call.arg("category")
    limit, offset = call.paging()
    items = sorted(kb(call).patterns.values(), key=lambda p: (p["category"], p["pattern_id"]))
    if category:
        items = [p for p in items if p["category"] == category]
    return {"total": len(items), "limit": limit, "offset": offset,
            "data": [summary(call, p) for p in items[offset:offset + limit]], "errors": kb(call).errors}


def pattern(call: Call):
    found = pattern_or_404(call, call.path["id"])
    fmt = call.arg("format")
    if fmt == "yaml":
        return Document(kb(call).text(found["pattern_id"]) or "", "application/yaml")
    return detail(call, found)


def pattern_text(call: Call) -> str:
    """A pattern as pretty JSON without its YAML source (OMV's read-only detail page)."""
    found = detail(call, pattern_or_404(call, call.path["id"]))
    found.pop("yaml", None)
    return pretty(found)


def pretty(value) -> str:
    import json

    return json.dumps(value, indent=4, ensure_ascii=False)


def probes(call: Call) -> dict:
    """The probes a pattern's diagnostics may name: what each runs and the shape of every parameter."""
    from omv_copilot_agent import probes as catalogue

    return {"total": len(catalogue.catalogue()), "data": [
        {"name": p.name, "description": p.description, "argv": list(p.argv), "root": p.root,
         "host_network": p.host_network, "ok_exit_codes": list(p.ok_exit_codes),
         "params": {name: {"type": kind, "expected": catalogue.TYPES[kind].expected} for name, kind in p.params.items()}}
        for p in catalogue.catalogue().values()]}


def search(call: Call) -> dict:
    query, limit = call.arg("q"), call.arg("limit")
    matches = kb(call).search(query, call.agent.snapshot, limit=limit)
    return {"query": query, "results": [{**m.to_dict(), **kb(call).origin(m.pattern_id)} for m in matches]}


def feedback(call: Call) -> Created:
    body = call.body(FEEDBACK_SCHEMA)
    pattern_or_404(call, body["pattern_id"])
    store = call.agent.store
    fid = store.add_feedback(body["pattern_id"], body["helpful"], body.get("comment"), body.get("query"))
    if body.get("query_id"):  # the answer rated: its buttons show the rating after a reload
        store.rate_turn(body["query_id"], body["helpful"])
    counts = store.feedback_counts().get(body["pattern_id"], (0, 0))
    return Created({"id": fid, "pattern_id": body["pattern_id"], "helpful": counts[0], "not_helpful": counts[1]})


# -- editing --------------------------------------------------------------------------------------


def submitted(call: Call, allow_id: bool = False) -> tuple[str | None, dict | None, list[dict], str | None]:
    """(yaml text, pattern, problems, expected id) from a JSON {yaml}|{pattern} document or raw YAML."""
    if call.media_type in YAML_TYPES:
        text = call.text()
        data, problems = editing.parse_text(text)
        return text, data, problems, None
    if call.media_type != JSON:
        raise invalid(f"Content-Type must be application/json with {{\"yaml\": \"<pattern YAML>\"}} "
                      f"(or application/yaml with the YAML itself), not '{call.media_type or 'none'}'", "invalid_content_type")
    body = call.body(EDIT_SCHEMA)
    if "pattern_id" in body and not allow_id:
        raise invalid(f"{call.unknown_field('pattern_id')} (the id is in the URL)", "invalid_body")
    expected = checked_id(call, body["pattern_id"]) if "pattern_id" in body else None
    if ("yaml" in body) == ("pattern" in body):
        raise invalid(f"{call.field('yaml')}: send exactly one of 'yaml' (the pattern's YAML text) or 'pattern' (an object)",
                      "invalid_body")
    if "yaml" in body:
        data, problems = editing.parse_text(body["yaml"])
        return body["yaml"], data, problems, expected
    text, data = editing.from_mapping(body["pattern"])
    if len(text.encode("utf-8", "surrogatepass")) > editing.MAX_YAML_BYTES:
        return None, None, [editing.problem("pattern", f"is larger than {editing.MAX_YAML_BYTES} bytes as YAML")], expected
    return text, data, [], expected


def _problems(call: Call, data: dict | None, problems: list[dict], expected: str | None) -> list[dict]:
    return problems if data is None else editing.check(data, kb(call).patterns.keys(), expected)


def _overlay_unavailable(exc: editing.OverlayUnavailable) -> ServiceError:
    return unavailable("patterns_dir_unavailable", str(exc))


def validate(call: Call) -> dict:
    """Check a pattern without saving it (the editor's Validate button)."""
    _text, data, problems, expected = submitted(call, allow_id=True)
    problems = _problems(call, data, problems, expected)
    pid = data.get("pattern_id") if isinstance(data, dict) and isinstance(data.get("pattern_id"), str) else None
    return {"valid": not problems, "pattern_id": pid, "exists": bool(pid and pid in kb(call).patterns), "problems": problems}


def save(call: Call):
    """Store an admin's pattern in the overlay (replacing a shipped one with that id) and reload."""
    pid = checked_id(call, call.path["id"])
    text, data, problems, _ = submitted(call)
    problems = _problems(call, data, problems, pid)
    if problems:
        listed = "; ".join(f"{p['field']}: {p['reason']}" for p in problems)
        raise invalid(f"pattern '{pid}' not saved — {len(problems)} problem(s): {listed}", "invalid_pattern", problems)
    service = kb(call)
    try:
        created = service.save_local(pid, text)
    except editing.OverlayUnavailable as exc:
        raise _overlay_unavailable(exc) from None
    answer = detail(call, service.get(pid))
    return Created(answer) if created else answer


def delete(call: Call) -> dict:
    """Remove the local file: back to the shipped pattern, or gone when it was local-only."""
    pid = checked_id(call, call.path["id"])
    service = kb(call)
    try:
        found = service.delete_local(pid)
    except editing.OverlayUnavailable as exc:
        raise _overlay_unavailable(exc) from None
    if not found:
        what = "it is a shipped pattern; only edits can be reverted" if service.get(pid) else "no such pattern"
        raise not_found(f"no local pattern '{pid}' to delete ({what})")
    shipped = service.get(pid)
    return {"pattern_id": pid, "deleted": True, "source": "shipped" if shipped else None,
            "pattern": detail(call, shipped) if shipped else None}


# -- diagnostics and solutions ------------------------------------------------------------------


def run_diagnostics(call: Call) -> dict:
    """Run a pattern's diagnostics: catalogue probes in their sandbox, values checked against each
    probe's parameter types (``step``: one only, so a client can show progress)."""
    body = call.body(DIAG_SCHEMA)
    pattern = pattern_or_404(call, body["pattern_id"])
    from omv_copilot_agent.knowledge.diagnostics import check_params

    for name, reason in check_params(pattern["diagnostics"], body.get("params") or {})[:1]:
        raise invalid(f"{call.field('params.' + name)}: {reason}", "invalid_parameter")
    step = body.get("step")
    count = len(pattern["diagnostics"])
    if step is not None and step >= count:
        raise invalid(f"{call.field('step')}: this pattern has {count} diagnostics (0-{count - 1})", "invalid_parameter")
    from omv_copilot_agent.probes.verdict import summary

    results = kb(call).run_diagnostics(pattern["pattern_id"], body.get("params") or {}, step=step)
    return {"pattern_id": pattern["pattern_id"], "parameters": parameters(pattern), "steps": count, "results": results,
            "passed": sum(1 for r in results if r["matched_expected"] is True),
            "failed": sum(1 for r in results if r["matched_expected"] is False or r["error"]),
            "states": summary(results)}


def solution(call: Call) -> dict:
    """A pattern's fixes: shown, never run."""
    body = call.body(SOLUTION_SCHEMA)
    pattern = pattern_or_404(call, body["pattern_id"])
    return {"pattern_id": pattern["pattern_id"], "title": pattern["title"],
            "solutions": kb(call).solutions(pattern["pattern_id"]),
            "note": "commands are shown for you to run; the agent never runs a solution"}
