"""``PUT/DELETE /api/v1/knowledge/patterns/<id>``, ``POST …/patterns/validate``: edit patterns in the overlay.

Why here and not in knowledge.py: reading the catalogue and changing it are separate
concerns with separate failure modes (a read-only data directory must not break
browsing). Every rejected pattern is a 400 listing each problem as field + reason,
in the message (OMV's RPC passes only the message on) and in ``error.details``.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from omv_copilot_agent.api.errors import ApiError, bad_request, not_found
from omv_copilot_agent.api.knowledge import checked_id, detail, kb
from omv_copilot_agent.api.params import json_body
from omv_copilot_agent.knowledge import editing

bp = Blueprint("knowledge_edit", __name__, url_prefix="/api/v1/knowledge")

YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
BODY_SCHEMA = {"type": "object", "additionalProperties": False,
               "properties": {"yaml": {"type": "string"}, "pattern": {"type": "object"},
                              "pattern_id": {"type": "string", "maxLength": 64}}}


def submitted(allow_id: bool = False) -> tuple[str | None, dict | None, list[dict], str | None]:
    """(yaml text, pattern, problems, expected id) from a JSON {yaml}|{pattern} body or a raw YAML body."""
    if request.mimetype in YAML_TYPES:
        try:
            text = request.get_data(cache=True).decode("utf-8")
        except UnicodeDecodeError:
            raise bad_request("field 'yaml': the body is not UTF-8 text", "invalid_body") from None
        data, problems = editing.parse_text(text)
        return text, data, problems, None
    if request.mimetype != "application/json":
        raise bad_request(f"Content-Type must be application/json with {{\"yaml\": \"<pattern YAML>\"}} "
                          f"(or application/yaml with the YAML itself), not '{request.mimetype or 'none'}'", "invalid_content_type")
    body = json_body(BODY_SCHEMA)
    if "pattern_id" in body and not allow_id:
        raise bad_request("unknown field 'pattern_id' (the id is in the URL)", "invalid_body")
    expected = checked_id(body["pattern_id"]) if "pattern_id" in body else None
    if ("yaml" in body) == ("pattern" in body):
        raise bad_request("field 'yaml': send exactly one of 'yaml' (the pattern's YAML text) or 'pattern' (an object)", "invalid_body")
    if "yaml" in body:
        data, problems = editing.parse_text(body["yaml"])
        return body["yaml"], data, problems, expected
    text, data = editing.from_mapping(body["pattern"])
    if len(text.encode("utf-8", "surrogatepass")) > editing.MAX_YAML_BYTES:
        return None, None, [editing.problem("pattern", f"is larger than {editing.MAX_YAML_BYTES} bytes as YAML")], expected
    return text, data, [], expected


def problems_of(data: dict | None, problems: list[dict], expected: str | None) -> list[dict]:
    return problems if data is None else editing.check(data, kb().patterns.keys(), expected)


def unavailable(exc: editing.OverlayUnavailable) -> ApiError:
    return ApiError(503, "patterns_dir_unavailable", str(exc))


@bp.post("/patterns/validate")
def validate():
    """Check a pattern without saving it (the editor's Validate button)."""
    text, data, problems, expected = submitted(allow_id=True)
    problems = problems_of(data, problems, expected)
    pid = data.get("pattern_id") if isinstance(data, dict) and isinstance(data.get("pattern_id"), str) else None
    return jsonify({"valid": not problems, "pattern_id": pid, "exists": bool(pid and pid in kb().patterns),
                    "problems": problems})


@bp.put("/patterns/<path:pattern_id>")
def save(pattern_id):
    """Store an admin's pattern in the overlay (replacing a shipped one with that id) and reload."""
    pid = checked_id(pattern_id)
    text, data, problems, _ = submitted()
    problems = problems_of(data, problems, pid)
    if problems:
        listed = "; ".join(f"{p['field']}: {p['reason']}" for p in problems)
        raise ApiError(400, "invalid_pattern", f"pattern '{pid}' not saved — {len(problems)} problem(s): {listed}", problems)
    service = kb()
    try:
        created = service.save_local(pid, text)
    except editing.OverlayUnavailable as exc:
        raise unavailable(exc) from None
    return jsonify(detail(service.get(pid))), 201 if created else 200


@bp.delete("/patterns/<path:pattern_id>")
def delete(pattern_id):
    """Remove the local file: back to the shipped pattern, or gone when it was local-only."""
    pid = checked_id(pattern_id)
    service = kb()
    try:
        found = service.delete_local(pid)
    except editing.OverlayUnavailable as exc:
        raise unavailable(exc) from None
    if not found:
        what = "it is a shipped pattern; only edits can be reverted" if service.get(pid) else "no such pattern"
        raise not_found(f"no local pattern '{pid}' to delete ({what})")
    shipped = service.get(pid)
    return jsonify({"pattern_id": pid, "deleted": True, "source": "shipped" if shipped else None,
                    "pattern": detail(shipped) if shipped else None})
