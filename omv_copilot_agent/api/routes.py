"""The REST routes, one per operation of :data:`~omv_copilot_agent.services.operations.OPERATIONS`.

``/api/v1/<resource>`` with the verb of the operation's action; the view builds a
:class:`~omv_copilot_agent.services.call.Call` from the URL, query and body, runs the
handler and renders its answer (JSON; 201/202 for Created/Accepted; a Document as itself).
"""

from __future__ import annotations

import functools
import re

from flask import Blueprint, Response, jsonify, request

from omv_copilot_agent.services.call import Accepted, Call, Created, Document
from omv_copilot_agent.services import operations
from omv_copilot_agent.services.operations import Operation

PREFIX = "/api/v1/"
VERBS = {"read": "GET", "create": "POST", "update": "PUT", "delete": "DELETE", "invoke": "POST"}

def verb(op: Operation) -> str:
    return VERBS[op.action]


def rest_path(op: Operation, resource: str | None = None) -> str:
    """The OpenAPI-style path: /api/v1/alerts/{id}."""
    return PREFIX + (resource or op.resource)


def _rule(op: Operation, resource: str) -> str:
    """The Flask rule: an id that may hold '/' still reaches the handler, which names what is wrong with it."""
    def converter(match: re.Match) -> str:
        name = match.group(1)
        plain = "pattern" in op.args.get(name, {})
        return f"<{name}>" if plain else f"<path:{name}>"

    return re.sub(r"{([^}]+)}", converter, rest_path(op, resource))


@functools.lru_cache(maxsize=1)
def _url_map(table: tuple[Operation, ...]):
    from werkzeug.routing import Map, Rule

    return Map([Rule(_rule(op, resource), endpoint=op.name, methods=[verb(op)])
                for op in table for resource in (op.resource, *op.aliases)])


def resolve(method: str, path: str) -> tuple[Operation, dict] | None:
    """The operation a REST request names and its path values (None: no operation there)."""
    from werkzeug.exceptions import HTTPException

    try:
        name, values = _url_map(operations.OPERATIONS).bind("localhost").match(path, method=method)
    except HTTPException:
        return None
    return next(op for op in operations.OPERATIONS if op.name == name), values


def render(answer):
    """A handler's answer as a Flask response."""
    if isinstance(answer, Created):
        return jsonify(answer.value), 201
    if isinstance(answer, Accepted):
        return jsonify(answer.value), 202
    if isinstance(answer, Document):
        return Response(answer.text, content_type=answer.media_type)
    return jsonify(answer)


def _view(op: Operation):
    def view(**path):
        from omv_copilot_agent.api import agent

        call = Call(agent(), args=request.args.to_dict(), arg_schemas=op.args, path=path, document=request.get_data(cache=True),
                    media_type=request.mimetype,
                    accept=request.headers.get("Accept") or "")
        return render(op.handler(call))

    view.__name__ = op.name
    view.__doc__ = op.summary
    return view


def blueprint() -> Blueprint:
    """A route per operation of the table as it is now (create_app calls this for each app)."""
    bp = Blueprint("operations", __name__)
    for op in operations.OPERATIONS:
        for resource in (op.resource, *op.aliases):
            bp.add_url_rule(_rule(op, resource), endpoint=f"{op.name}:{resource}", view_func=_view(op), methods=[verb(op)])
    return bp
