"""``/api/v1/assist/diagnostics`` and ``/assist/solution``: run a pattern's checks, show its fixes.

``step`` runs one diagnostic only, so a client (the CLI) can show progress step by step.

Diagnostics are catalogue probes run in their sandbox (values checked against each probe's parameter types);
solutions are only returned, never executed.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from omv_copilot_agent.api.errors import bad_request
from omv_copilot_agent.api.knowledge import kb, parameters, pattern_or_404
from omv_copilot_agent.api.params import json_body

bp = Blueprint("knowledge_assist", __name__, url_prefix="/api/v1/assist")

DIAG_SCHEMA = {"type": "object", "additionalProperties": False, "required": ["pattern_id"],
               "properties": {"pattern_id": {"type": "string", "maxLength": 64},
                              "params": {"type": "object", "maxProperties": 20,
                                         "additionalProperties": {"type": "string", "maxLength": 300}},
                              "step": {"type": "integer", "minimum": 0, "maximum": 99}}}
SOLUTION_SCHEMA = {"type": "object", "additionalProperties": False, "required": ["pattern_id"],
                   "properties": {"pattern_id": {"type": "string", "maxLength": 64}}}


@bp.post("/diagnostics")
def run_diagnostics():
    body = json_body(DIAG_SCHEMA)
    pattern = pattern_or_404(body["pattern_id"])
    from omv_copilot_agent.knowledge.diagnostics import check_params

    for name, reason in check_params(pattern["diagnostics"], body.get("params") or {})[:1]:
        raise bad_request(f"field 'params.{name}': {reason}", "invalid_parameter")
    step = body.get("step")
    if step is not None and step >= len(pattern["diagnostics"]):
        raise bad_request(f"field 'step': this pattern has {len(pattern['diagnostics'])} diagnostics (0-{len(pattern['diagnostics']) - 1})",
                          "invalid_parameter")
    results = kb().run_diagnostics(pattern["pattern_id"], body.get("params") or {}, step=step)
    return jsonify({"pattern_id": pattern["pattern_id"], "parameters": parameters(pattern),
                    "steps": len(pattern["diagnostics"]), "results": results,
                    "passed": sum(1 for r in results if r["matched_expected"] is True),
                    "failed": sum(1 for r in results if r["matched_expected"] is False or r["error"])})


@bp.post("/solution")
def solution():
    body = json_body(SOLUTION_SCHEMA)
    pattern = pattern_or_404(body["pattern_id"])
    return jsonify({"pattern_id": pattern["pattern_id"], "title": pattern["title"],
                    "solutions": kb().solutions(pattern["pattern_id"]),
                    "note": "commands are shown for you to run; the agent never runs a solution"})
