"""``POST /api/v1/rpc {method, params}``: the operations under OMV-style method names.

OMV's ``Copilot`` RPC service and the dev-mode web UI call operations by name;
this bridge builds a :class:`~omv_copilot_agent.services.call.Call` from ``params``
(path names, named arguments, the rest as the submitted document) and runs the
operation's handler, so there is one implementation per operation. List methods
get OMV's paging (start, limit, sortfield, sortdir, search -> {total, data}) here,
because OMV datatables expect exactly that shape.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, request

from omv_copilot_agent.api.errors import bad_request
from omv_copilot_agent.api.routes import render
from omv_copilot_agent.services.call import Call
from omv_copilot_agent.services import operations
from omv_copilot_agent.services.operations import Operation

bp = Blueprint("rpc", __name__, url_prefix="/api/v1")

PAGING = ("start", "limit", "sortfield", "sortdir", "search")
PAGE_SIZE = 500  # items per handler call when collecting a paged list
MAX_PAGES = 100  # a paged method collects at most MAX_PAGES * PAGE_SIZE items

def methods() -> dict[str, Operation]:
    """The methods OMV's service forwards: every operation not marked ``rpc=False``."""
    return {op.name: op for op in operations.OPERATIONS if op.rpc}


METHODS = methods()


RPC_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["method"],
    "properties": {"method": {"type": "string", "minLength": 1, "maxLength": 64},
                   "params": {"type": ["object", "null"]}},
}


def _paging(params: dict) -> tuple[int, int | None, str | None, str, str | None]:
    """OMV's rpc.common.getlist values, checked; limit None or -1 means all."""
    start = params.get("start", 0)
    limit = params.get("limit", None)
    if not isinstance(start, int) or isinstance(start, bool) or start < 0:
        raise bad_request("params.start must be an integer >= 0", "invalid_parameter")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < -1):
        raise bad_request("params.limit must be an integer >= -1 or null", "invalid_parameter")
    sortfield = params.get("sortfield")
    if sortfield is not None and not isinstance(sortfield, str):
        raise bad_request("params.sortfield must be a string", "invalid_parameter")
    sortdir = str(params.get("sortdir") or "ASC").upper()
    if sortdir not in ("ASC", "DESC"):
        raise bad_request("params.sortdir must be ASC or DESC", "invalid_parameter")
    search = params.get("search")
    if isinstance(search, int) and not isinstance(search, bool):
        search = str(search)  # OMV's rpc.common.getlist allows an integer search
    if search is not None and not isinstance(search, str):
        raise bad_request("params.search must be a string", "invalid_parameter")
    return start, (None if limit in (None, -1) else limit), sortfield or None, sortdir, search or None


def _items(payload: Any) -> list:
    """The list inside a REST list answer (a bare list, or the first list value of an object)."""
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict):
        for key in ("data", "items", "patterns", "alerts", "traces", "notes", "issues", "conversations", "snapshots"):
            if isinstance(payload.get(key), list):
                return payload[key]
        for value in payload.values():
            if isinstance(value, list):
                return value
    return []


def _sort_key(field_name: str):
    def key(item):
        value = item.get(field_name) if isinstance(item, dict) else None
        if value is None:
            return (0, "")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return (1, value)
        return (2, str(value).lower())
    return key


def apply_paging(items: list, params: dict) -> dict:
    """OMV paging over ``items``: search (substring, any field), sort, slice -> {total, data}."""
    start, limit, sortfield, sortdir, search = _paging(params)
    if search:
        needle = search.lower()
        items = [i for i in items if needle in json.dumps(i, default=str).lower()]
    if sortfield:
        items = sorted(items, key=_sort_key(sortfield), reverse=sortdir == "DESC")
    total = len(items)
    data = items[start:] if limit is None else items[start:start + limit]
    return {"total": total, "data": data}


PATH_PARAM_MAX = 200
_PATH_FORBIDDEN = set("/?#%\\")


def _path_param(name: str, value: str | int) -> str:
    """A value naming a resource: at most PATH_PARAM_MAX characters, none that could name another one."""
    text = str(value)
    if len(text) > PATH_PARAM_MAX:
        raise bad_request(f"params.{name} is longer than {PATH_PARAM_MAX} characters", "invalid_parameter")
    if any(c in _PATH_FORBIDDEN or ord(c) < 32 or ord(c) == 127 for c in text):
        raise bad_request(f"params.{name} must not contain '/', '?', '#', '%', '\\' or control characters", "invalid_parameter")
    return text


def rpc_arg_names(op: Operation) -> tuple[str, ...]:
    """Named arguments an RPC caller may pass: those of the datamodel that are not path names (nor paging)."""
    return tuple(n for n in op.query_names if n in op.params and not (op.paged and n in ("limit", "offset")))


def make_call(agent, op: Operation, params: dict, extra_args: dict | None = None) -> Call:
    """The Call for ``params``: path names, named arguments as text, the rest as the document."""
    params = dict(params)
    path = {}
    for name in op.path_names:
        value = params.pop(name, None)
        if value is None or value == "":
            raise bad_request(f"params.{name} is required", "missing_parameter")
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise bad_request(f"params.{name} must be a string or an integer", "invalid_parameter")
        path[name] = _path_param(name, value)
    for name in PAGING if op.paged else ():
        params.pop(name, None)
    args = {k: params.pop(k) for k in rpc_arg_names(op) if k in params and params[k] is not None}
    args = {k: (("true" if v else "false") if isinstance(v, bool) else str(v)) for k, v in args.items()}
    args.update(extra_args or {})
    takes_document = op.body is not None
    document = json.dumps(params).encode() if takes_document else b""
    return Call(agent, args=args, arg_schemas=op.args, path=path, document=document, field_prefix="params" if takes_document else None)


def call_operation(agent, op: Operation, params: dict) -> Any:
    """Run ``op`` for an RPC caller: its answer, or for a paged method {total, data} in OMV's paging."""
    if not op.paged:
        return op.handler(make_call(agent, op, params))
    _paging(params)  # reject bad paging before doing any work
    items: list = []
    for _ in range(MAX_PAGES):
        payload = op.handler(make_call(agent, op, params, {"limit": str(PAGE_SIZE), "offset": str(len(items))}))
        batch = _items(payload)
        items.extend(batch)
        total = payload.get("total") if isinstance(payload, dict) else None
        if len(batch) < PAGE_SIZE or not batch or (isinstance(total, int) and len(items) >= total):
            break
    return apply_paging(items, params)


@bp.post("/rpc")
def rpc():
    """Dispatch ``{method, params}``; the answer is the operation's (paged for list methods)."""
    from omv_copilot_agent.api import agent

    data = Call(None, document=request.get_data(cache=True)).body(RPC_SCHEMA)
    name = data["method"]
    known = methods()
    op = known.get(name)
    if op is None:
        raise bad_request(f"unknown RPC method '{name[:64]}'; known: {', '.join(sorted(known))}", "unknown_method")
    answer = call_operation(agent(), op, data.get("params") or {})
    return render(answer)
