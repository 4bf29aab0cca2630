"""Request parsing helpers: every bad value becomes a 400 that names the parameter."""

from __future__ import annotations

from typing import Any

from flask import request

from omv_copilot_agent.api.errors import bad_request

SQLITE_MAX_INT = 2**63 - 1


def int_arg(name: str, default: int | None = None, *, minimum: int = 0, maximum: int = SQLITE_MAX_INT) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"parameter '{name}' must be an integer, not {raw[:40]!r}", "invalid_parameter") from None
    if not minimum <= value <= maximum:
        raise bad_request(f"parameter '{name}' must be between {minimum} and {maximum}", "invalid_parameter")
    return value


def paging(default: int, maximum: int, *, max_offset: int = 10**9) -> tuple[int, int]:
    """``limit`` and ``offset`` of a list endpoint, each a 400 naming it when out of range."""
    return int_arg("limit", default, minimum=1, maximum=maximum), int_arg("offset", 0, minimum=0, maximum=max_offset)


def choice_arg(name: str, choices: tuple[str, ...] | list[str], default: str | None = None) -> str | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if raw not in choices:
        raise bad_request(f"parameter '{name}' must be one of {', '.join(choices)}", "invalid_parameter")
    return raw


def str_arg(name: str, default: str | None = None, *, max_length: int = 500, required: bool = False) -> str | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        if required:
            raise bad_request(f"parameter '{name}' is required", "missing_parameter")
        return default
    if len(raw) > max_length:
        raise bad_request(f"parameter '{name}' is longer than {max_length} characters", "invalid_parameter")
    return raw


MAX_DEPTH = 16  # no route takes more than a few levels; deeper input only exhausts recursion


def _too_deep(node: Any) -> str | None:
    """The top-level field (or 'body') under which the value nests deeper than MAX_DEPTH; no recursion."""
    stack = [(node, 1, None)]
    while stack:
        value, level, top = stack.pop()
        if level > MAX_DEPTH:
            return top or "body"
        if isinstance(value, dict):
            stack.extend((child, level + 1, top if top is not None else str(key)[:64]) for key, child in value.items())
        elif isinstance(value, list):
            stack.extend((child, level + 1, top) for child in value)
    return None


def json_body(schema: dict | None = None, *, optional: bool = False) -> dict[str, Any]:
    """The request's JSON object, validated against ``schema`` (JSON Schema)."""
    if not request.get_data(cache=True):
        if optional:
            return {}
        raise bad_request("request body must be a JSON object", "invalid_body")
    try:
        data = request.get_json(force=True, silent=False)
    except Exception:
        raise bad_request("request body is not valid JSON", "invalid_json") from None
    if not isinstance(data, dict):
        raise bad_request("request body must be a JSON object", "invalid_body")
    deep = _too_deep(data)
    if deep:
        raise bad_request(f"field '{deep}': request body is nested deeper than {MAX_DEPTH} levels", "invalid_body")
    if schema is not None:
        import jsonschema

        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(data), key=lambda e: list(e.absolute_path))
        if errors:
            error = errors[0]
            where = ".".join(str(p) for p in error.absolute_path)
            if error.validator == "additionalProperties":
                extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
                raise bad_request(f"unknown field '{'.'.join(filter(None, [where, extra[0] if extra else '']))}'", "invalid_body")
            raise bad_request(f"field '{where or 'body'}': {error.message[:200]}", "invalid_body")
    return data
