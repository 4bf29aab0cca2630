"""``GET /api/v1/openapi.json``: the API's OpenAPI 3 document, made from the operations table.

``openapi.yaml`` beside this file holds the shared components and the HTTP-only
paths; every operation adds its path, parameters, body and answers. Built once,
lazily, so the daemon does not build it unless asked.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path

from flask import Blueprint, jsonify

from omv_copilot_agent.services import operations
from omv_copilot_agent.services.operations import Operation

bp = Blueprint("openapi", __name__)

SPEC_PATH = Path(__file__).with_name("openapi.yaml")
ERROR = {"$ref": "#/components/responses/Error"}
YAML_DOCUMENT = {"type": "string", "maxLength": 65536}


def _openapi_schema(schema: dict) -> dict:
    """A JSON Schema (draft 7) as OpenAPI 3.0 takes it: a type list with null becomes nullable."""
    out = {}
    for key, value in schema.items():
        if key == "type" and isinstance(value, list):
            types = [t for t in value if t != "null"]
            out["type"] = types[0] if len(types) == 1 else "string"
            if "null" in value:
                out["nullable"] = True
        elif key == "enum":
            out[key] = [v for v in value if v is not None]
        elif key == "properties":
            out[key] = {name: _openapi_schema(sub) for name, sub in value.items()}
        elif key == "additionalProperties" and isinstance(value, dict):
            out[key] = _openapi_schema(value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def path_item(op: Operation) -> tuple[str, str, dict]:
    """(path, method, OpenAPI operation object) of one operation."""
    from omv_copilot_agent.api.routes import rest_path, verb

    params = [{"name": name, "in": "path", "required": True, "schema": op.args.get(name, {"type": "string"})}
              for name in op.path_names]
    for name in op.query_names:
        schema = {k: v for k, v in op.args[name].items() if k != "required"}
        params.append({"name": name, "in": "query", "schema": schema, **({"required": True} if op.args[name].get("required") else {})})
    answer = {"application/json": {"schema": _openapi_schema(op.result)}}
    answer.update({media: {"schema": {"type": "string"}} for media in op.documents})
    responses: dict = {"200": {"description": op.summary, "content": answer}}
    if op.action in ("create", "update"):
        responses["201"] = {"description": "created", "content": answer}
    if op.body and "async" in op.body.get("properties", {}) or op.name == "startQuery":
        responses["202"] = {"description": "accepted: a job to poll", "content": answer}
    responses["default"] = ERROR
    item: dict = {"operationId": op.name, "summary": op.summary, "responses": responses}
    if params:
        item["parameters"] = params
    if op.body is not None:
        content = {"application/json": {"schema": _openapi_schema(op.body)}}
        if "application/yaml" in op.media_types:
            content["application/yaml"] = {"schema": YAML_DOCUMENT}
        item["requestBody"] = {"required": True, "content": content}
    return rest_path(op), verb(op).lower(), item


def document() -> dict:
    """The OpenAPI document for the operations table as it is now."""
    return _document(operations.OPERATIONS)


@functools.lru_cache(maxsize=2)
def _document(table: tuple[Operation, ...]) -> dict:
    import yaml

    doc = yaml.safe_load(SPEC_PATH.read_text())
    for op in table:
        path, method, item = path_item(op)
        doc["paths"].setdefault(path, {})[method] = item
        for alias in op.aliases:
            doc["paths"].setdefault("/api/v1/" + alias, {})[method] = {**item, "operationId": f"{op.name}_{alias.replace('/', '_')}"}
    return doc


@bp.get("/api/v1/openapi.json")
def openapi_json():
    return jsonify(document())
