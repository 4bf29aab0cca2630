"""Request parsing helpers: every bad value becomes a 400 that names the parameter."""

from __future__ import annotations

import math
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


def path_id(raw: str, what: str, code: str) -> int:
    """A row id from a URL path segment: a positive integer of at most 18 digits (SQLite holds it)."""
    if not raw.isdigit() or len(raw) > 18 or int(raw) < 1:
        raise bad_request(f"{what} must be a positive integer, not {raw[:40]!r}", code)
    return int(raw)


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


def _unstorable(node: Any) -> tuple[str, str] | None:
    """The field path and reason of the first value no store or response can hold.

    JSON allows escapes like ``\\ud800`` that Python decodes to strings that cannot be
    encoded as UTF-8, and numbers like ``1e400`` (or Python's ``NaN``/``Infinity``) that
    decode to non-finite floats; SQLite and every JSON response would fail on them later.
    """
    stack: list[tuple[Any, str]] = [(node, "")]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return where or "body", "contains an unpaired UTF-16 surrogate (invalid Unicode)"
        elif isinstance(value, float) and not math.isfinite(value):
            return where or "body", "is not a finite number"
        elif isinstance(value, dict):
            for key, child in value.items():
                path = f"{where}.{key}" if where else str(key)
                stack.append((key, path))
                stack.append((child, path))
        elif isinstance(value, list):
            stack.extend((child, f"{where}.{i}" if where else str(i)) for i, child in enumerate(value))
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def schema_error_reason(error: Any) -> str:
    """A jsonschema error as a reason that says what is wrong without echoing a huge value."""
    try:
        return _reason(error)
    except Exception:  # never turn a 400 into a 500 because a schema keyword has an odd value
        message = str(error.message)
        return message if len(message) <= 200 else message[:197] + "..."


def _reason(error: Any) -> str:
    kind, limit = error.validator, error.validator_value
    reasons = {
        "maxLength": f"is longer than {limit} characters",
        "minLength": f"is shorter than {limit} characters" if limit != 1 else "must not be empty",
        "maxItems": f"has more than {limit} items",
        "minItems": f"has fewer than {limit} items",
        "maxProperties": f"has more than {limit} fields",
        "minProperties": f"has fewer than {limit} fields",
        "maximum": f"must be at most {limit}",
        "minimum": f"must be at least {limit}",
        "exclusiveMaximum": f"must be less than {limit}",
        "exclusiveMinimum": f"must be greater than {limit}",
        "pattern": f"{_short(error.instance)} does not match {_short(limit)}",
        "enum": f"must be one of {', '.join(map(str, limit))}"[:200] if isinstance(limit, list) else "is not an allowed value",
        "type": f"must be of type {' or '.join(map(str, limit)) if isinstance(limit, list) else limit}, not {_short(error.instance)}",
        "required": error.message[:200],
    }
    if kind in reasons:
        return reasons[kind]
    message = error.message
    return message if len(message) <= 200 else message[:197] + "..."


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
    bad = _unstorable(data)
    if bad:
        raise bad_request(f"field '{bad[0]}': {bad[1]}", "invalid_body")
    if schema is not None:
        import jsonschema

        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(data), key=lambda e: list(e.absolute_path))
        if errors:
            error = errors[0]
            where = ".".join(str(p) for p in error.absolute_path)
            if error.validator == "additionalProperties":
                extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
                raise bad_request(f"unknown field '{'.'.join(filter(None, [where, extra[0] if extra else '']))}'", "invalid_body")
            if error.validator == "required":
                missing = error.message.split("'")[1] if error.message.count("'") >= 2 else ""
                raise bad_request(f"field '{'.'.join(filter(None, [where, missing])) or 'body'}' is required", "invalid_body")
            raise bad_request(f"field '{where or 'body'}': {schema_error_reason(error)}", "invalid_body")
    return data
