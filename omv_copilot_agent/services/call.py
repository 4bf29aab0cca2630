"""One call of an operation: its named arguments, its submitted document, and the agent.

Handlers read their input only through :class:`Call`, so the REST routes and the
RPC bridge (and the CLI without a daemon) build a Call each in their own way and
the same checks produce the same messages. Every bad value is an ``invalid``
:class:`~omv_copilot_agent.services.errors.ServiceError` naming the argument or field.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from omv_copilot_agent.services.errors import invalid

SQLITE_MAX_INT = 2**63 - 1
JSON = "application/json"


MAX_DEPTH = 16  # no operation takes more than a few levels; deeper input only exhausts recursion


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


class Call:
    """The input of one operation call.

    ``args`` are named scalar arguments as text (a URL query, or RPC params given as
    text), checked by :meth:`arg` against ``arg_schemas`` (the operation's ``args``:
    type, bounds, enum, default, required); ``path`` the values that name the resource;
    ``document`` the submitted document as bytes with its ``media_type``; ``accept``
    the media types the caller prefers. ``field_prefix`` is how messages name a document
    field: ``None`` says ``field 'x'``, ``"params"`` says ``params.x`` (RPC).
    """

    def __init__(self, agent, *, args: Mapping[str, str] | None = None, arg_schemas: Mapping[str, dict] | None = None,
                 path: Mapping[str, str] | None = None, document: bytes = b"", media_type: str = JSON,
                 field_prefix: str | None = None, accept: str = ""):
        self.agent = agent
        self.args = dict(args or {})
        self.arg_schemas = dict(arg_schemas or {})
        self.path = dict(path or {})
        self.document, self.media_type = document, media_type
        self.field_prefix = field_prefix
        self.accept = accept

    # -- naming -----------------------------------------------------------------------------
    def field(self, name: str) -> str:
        """How a message names document field ``name`` ('' is the whole document)."""
        if self.field_prefix is None:
            return f"field '{name or 'body'}'"
        return self.field_prefix if name in ("", "body") else f"{self.field_prefix}.{name}"

    def unknown_field(self, name: str) -> str:
        return f"unknown {self.field(name)}" if self.field_prefix else f"unknown field '{name}'"

    # -- named arguments --------------------------------------------------------------------
    def arg(self, name: str):
        """Named argument ``name``, checked against its schema; its default when absent."""
        schema = self.arg_schemas[name]
        raw = self.args.get(name)
        if raw is None or raw == "":
            if schema.get("required"):
                raise invalid(f"parameter '{name}' is required", "missing_parameter")
            return schema.get("default")
        if schema.get("type") == "integer":
            return self._int(name, minimum=schema.get("minimum", 0), maximum=schema.get("maximum", SQLITE_MAX_INT))
        if "enum" in schema:
            return self._choice(name, schema["enum"])
        return self._str(name, max_length=schema.get("maxLength", 500))

    def paging(self) -> tuple[int, int]:
        """``limit`` and ``offset`` of a list."""
        return self.arg("limit"), self.arg("offset")

    def _int(self, name: str, *, minimum: int, maximum: int) -> int:
        raw = self.args[name]
        try:
            value = int(raw)
        except ValueError:
            raise invalid(f"parameter '{name}' must be an integer, not {raw[:40]!r}", "invalid_parameter") from None
        if not minimum <= value <= maximum:
            raise invalid(f"parameter '{name}' must be between {minimum} and {maximum}", "invalid_parameter")
        return value

    def _choice(self, name: str, choices) -> str:
        raw = self.args[name]
        if raw not in choices:
            raise invalid(f"parameter '{name}' must be one of {', '.join(choices)}", "invalid_parameter")
        return raw

    def _str(self, name: str, *, max_length: int) -> str:
        raw = self.args[name]
        if len(raw) > max_length:
            raise invalid(f"parameter '{name}' is longer than {max_length} characters", "invalid_parameter")
        return raw

    # -- the submitted document -------------------------------------------------------------
    def body(self, schema: dict | None = None, *, optional: bool = False) -> dict[str, Any]:
        """The submitted JSON object, validated against ``schema`` (JSON Schema)."""
        if not self.document:
            if optional:
                return {}
            raise invalid("request body must be a JSON object", "invalid_body")
        try:
            data = json.loads(self.document)
        except (ValueError, UnicodeDecodeError):
            raise invalid("request body is not valid JSON", "invalid_json") from None
        if not isinstance(data, dict):
            raise invalid("request body must be a JSON object", "invalid_body")
        deep = _too_deep(data)
        if deep:
            raise invalid(f"{self.field(deep)}: request body is nested deeper than {MAX_DEPTH} levels", "invalid_body")
        bad = _unstorable(data)
        if bad:
            raise invalid(f"{self.field(bad[0])}: {bad[1]}", "invalid_body")
        if schema is not None:
            self._check(schema, data)
        return data

    def _check(self, schema: dict, data: dict) -> None:
        import jsonschema

        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(data), key=lambda e: list(e.absolute_path))
        if not errors:
            return
        error = errors[0]
        where = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "additionalProperties":
            extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            raise invalid(f"{self.unknown_field('.'.join(filter(None, [where, extra[0] if extra else ''])))}", "invalid_body")
        if error.validator == "required":
            missing = error.message.split("'")[1] if error.message.count("'") >= 2 else ""
            raise invalid(f"{self.field('.'.join(filter(None, [where, missing])))} is required", "invalid_body")
        raise invalid(f"{self.field(where)}: {schema_error_reason(error)}", "invalid_body")

    def text(self) -> str:
        """The submitted document as UTF-8 text (a raw YAML pattern)."""
        try:
            return self.document.decode("utf-8")
        except UnicodeDecodeError:
            raise invalid(f"{self.field('yaml')}: the body is not UTF-8 text", "invalid_body") from None


def path_id(raw: str, what: str, code: str) -> int:
    """A row id named in a path: a positive integer of at most 18 digits (SQLite holds it)."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18 or int(raw) < 1:
        raise invalid(f"{what} must be a positive integer of at most 18 digits, not {raw[:40]!r}", code)
    return int(raw)


class Created:
    """A handler's answer that made a new thing (REST answers 201)."""

    def __init__(self, value: Any):
        self.value = value


class Accepted:
    """A handler's answer for work that goes on after it (REST answers 202)."""

    def __init__(self, value: Any):
        self.value = value


class Document:
    """A handler's answer that is a text document, not JSON (a report, a pattern's YAML)."""

    def __init__(self, text: str, media_type: str):
        self.text, self.media_type = text, media_type
