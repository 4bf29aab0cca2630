"""The request's JSON body for views that are not operations (the RPC envelope).

Operations read their input through :class:`~omv_copilot_agent.services.call.Call`;
this gives the same checks and messages to the few HTTP-only views.
"""

from __future__ import annotations

from typing import Any

from flask import request

from omv_copilot_agent.services.call import Call


def json_body(schema: dict | None = None, *, optional: bool = False) -> dict[str, Any]:
    """The request's JSON object, validated against ``schema`` (JSON Schema)."""
    return Call(None, document=request.get_data(cache=True)).body(schema, optional=optional)
