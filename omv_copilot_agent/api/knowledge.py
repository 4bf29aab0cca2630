"""``/api/v1/knowledge/*``: browse and search the pattern knowledge base, record feedback."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from omv_copilot_agent.api import agent
from omv_copilot_agent.api.errors import ApiError, bad_request, not_found
from omv_copilot_agent.api.params import choice_arg, int_arg, json_body, paging, str_arg
from omv_copilot_agent.knowledge.loader import PATTERN_ID, PATTERN_ID_RULE

bp = Blueprint("knowledge", __name__, url_prefix="/api/v1/knowledge")

CATEGORIES = ("storage", "network", "services", "performance", "security", "hardware", "backup")


def kb():
    """The agent's KnowledgeBase, or 503 when the package is absent."""
    service = getattr(agent(), "knowledge", None)
    if service is None:
        raise ApiError(503, "not_available", "the knowledge base is not available")
    return service


def checked_id(pattern_id, field: str = "pattern_id") -> str:
    """The id, if its shape is valid: traversal/unicode/oversized ids are a clean 400 naming ``field``."""
    if not isinstance(pattern_id, str) or not PATTERN_ID.fullmatch(pattern_id):
        raise bad_request(f"field '{field}': {PATTERN_ID_RULE}", "invalid_pattern_id")
    return pattern_id


def pattern_or_404(pattern_id, field: str = "pattern_id") -> dict:
    pattern = kb().get(checked_id(pattern_id, field))
    if pattern is None:
        raise not_found(f"no pattern '{pattern_id}'")
    return pattern


def summary(p: dict) -> dict:
    return {"pattern_id": p["pattern_id"], "title": p["title"], "category": p["category"],
            "confidence": p.get("confidence"), "has_signals": bool(p.get("findings")), **origin(p["pattern_id"])}


def origin(pattern_id: str) -> dict:
    """source shipped|local (+ overrides_shipped): which file answers, so the UI can badge an admin's edits."""
    return kb().origin(pattern_id)


def detail(pattern: dict) -> dict:
    """One pattern as the API answers it: the pattern, its parameters, origin and the YAML text to edit."""
    pid = pattern["pattern_id"]
    return {**pattern, "parameters": parameters(pattern), **origin(pid), "yaml": kb().text(pid)}


@bp.get("/patterns")
def patterns():
    category = choice_arg("category", CATEGORIES)
    limit, offset = paging(50, 500, max_offset=100000)
    items = sorted(kb().patterns.values(), key=lambda p: (p["category"], p["pattern_id"]))
    if category:
        items = [p for p in items if p["category"] == category]
    return jsonify({"total": len(items), "limit": limit, "offset": offset,
                    "data": [summary(p) for p in items[offset:offset + limit]], "errors": kb().errors})


def parameters(pattern: dict) -> list[str]:
    """Placeholders its diagnostics need (``{device}`` → 'device'), so callers know what to pass."""
    from omv_copilot_agent.knowledge.diagnostics import placeholders

    return sorted({name for d in pattern["diagnostics"] for name in placeholders(d)})


@bp.get("/patterns/<path:pattern_id>")
def pattern(pattern_id):
    found = pattern_or_404(pattern_id)
    fmt = choice_arg("format", ("json", "yaml"), "json")
    if fmt == "yaml":
        return Response(kb().text(found["pattern_id"]) or "", mimetype="application/yaml")
    return jsonify(detail(found))


@bp.get("/probes")
def probe_catalogue():
    """The probes a pattern's diagnostics may name: what each runs and the shape of every parameter."""
    from omv_copilot_agent import probes

    return jsonify({"total": len(probes.catalogue()), "data": [
        {"name": p.name, "description": p.description, "argv": list(p.argv), "root": p.root,
         "host_network": p.host_network, "ok_exit_codes": list(p.ok_exit_codes),
         "params": {name: {"type": kind, "expected": probes.TYPES[kind].expected} for name, kind in p.params.items()}}
        for p in probes.catalogue().values()]})


@bp.get("/search")
def search():
    query = str_arg("q", required=True, max_length=500)
    limit = int_arg("limit", 5, minimum=1, maximum=50)
    matches = kb().search(query, agent().snapshot, limit=limit)
    return jsonify({"query": query, "results": [{**m.to_dict(), **origin(m.pattern_id)} for m in matches]})


FEEDBACK_SCHEMA = {"type": "object", "additionalProperties": False, "required": ["pattern_id", "helpful"],
                   "properties": {"pattern_id": {"type": "string", "maxLength": 64}, "helpful": {"type": "boolean"},
                                  "comment": {"type": ["string", "null"], "maxLength": 2000},
                                  "query": {"type": ["string", "null"], "maxLength": 500}}}


@bp.post("/feedback")
def feedback():
    body = json_body(FEEDBACK_SCHEMA)
    pattern_or_404(body["pattern_id"])
    fid = agent().store.add_feedback(body["pattern_id"], body["helpful"], body.get("comment"), body.get("query"))
    counts = agent().store.feedback_counts().get(body["pattern_id"], (0, 0))
    return jsonify({"id": fid, "pattern_id": body["pattern_id"], "helpful": counts[0], "not_helpful": counts[1]}), 201
