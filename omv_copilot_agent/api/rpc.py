"""``POST /api/v1/rpc {method, params}``: one method table for OMV's PHP service and the web UI.

OMV's ``Copilot`` RPC service and the dev-mode web UI both speak OMV-style
method names; this bridge maps each to the REST endpoint that already
implements it and replays the call internally (same app, same token, same
validation), so there is one implementation per operation. List methods get
OMV's paging (start, limit, sortfield, sortdir, search -> {total, data}) here,
because OMV datatables expect exactly that shape.

Endpoints other concerns add later (knowledge, alerts, assist) are listed by
their contract paths; until they are merged the method answers 501.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import MethodNotAllowed, NotFound

from omv_copilot_agent.api.errors import ApiError, bad_request
from omv_copilot_agent.api.params import json_body

bp = Blueprint("rpc", __name__, url_prefix="/api/v1")

PAGING = ("start", "limit", "sortfield", "sortdir", "search")


@dataclass(frozen=True)
class Method:
    """How one RPC method maps onto REST: verb, path template, where params go."""

    verb: str
    path: str
    path_params: tuple[str, ...] = ()
    query: tuple[str, ...] = ()  # params passed as query string
    body: bool = False  # remaining params sent as JSON body
    paged: bool = False
    fixed_body: dict = field(default_factory=dict)
    page_size: int = 500  # REST limit per internal request when collecting a paged list


MAX_PAGES = 100  # a paged method collects at most MAX_PAGES * page_size items


METHODS: dict[str, Method] = {
    "getStatus": Method("GET", "/api/v1/system/status"),
    "getMetrics": Method("GET", "/api/v1/system/metrics", query=("name", "labels", "since")),
    "getLogs": Method("GET", "/api/v1/system/logs", query=("since", "priority")),
    "getConfiguration": Method("GET", "/api/v1/system/configuration"),
    "getHealth": Method("GET", "/api/v1/health"),
    "getPatterns": Method("GET", "/api/v1/knowledge/patterns", paged=True),
    "getPattern": Method("GET", "/api/v1/knowledge/patterns/{id}", path_params=("id",)),
    "search": Method("GET", "/api/v1/knowledge/search", query=("q", "limit")),
    "getProbes": Method("GET", "/api/v1/knowledge/probes"),
    "setPattern": Method("PUT", "/api/v1/knowledge/patterns/{id}", path_params=("id",), body=True),
    "deletePattern": Method("DELETE", "/api/v1/knowledge/patterns/{id}", path_params=("id",)),
    "validatePattern": Method("POST", "/api/v1/knowledge/patterns/validate", body=True),
    "feedback": Method("POST", "/api/v1/knowledge/feedback", body=True),
    "runDiagnostics": Method("POST", "/api/v1/assist/diagnostics", body=True),
    "runProbe": Method("POST", "/api/v1/assist/probe", body=True),
    "getSolution": Method("POST", "/api/v1/assist/solution", body=True),
    "getAlerts": Method("GET", "/api/v1/alerts", query=("state", "severity"), paged=True),
    "getAlert": Method("GET", "/api/v1/alerts/{id}", path_params=("id",)),
    "acknowledgeAlert": Method("POST", "/api/v1/alerts/acknowledge/{id}", path_params=("id",), body=True),
    "getForecasts": Method("GET", "/api/v1/alerts/forecasts"),
    "getHistory": Method("GET", "/api/v1/history/issues", paged=True),
    "getNotes": Method("GET", "/api/v1/history/notes", paged=True),
    "addNote": Method("POST", "/api/v1/history/notes", body=True),
    "getSnapshots": Method("GET", "/api/v1/history/snapshots", paged=True),
    "getSnapshot": Method("GET", "/api/v1/history/snapshots/{id}", path_params=("id",)),
    "getSnapshotDiff": Method("GET", "/api/v1/history/snapshots/diff", query=("from", "to")),
    "getTraces": Method("GET", "/api/v1/traces", paged=True),
    "getTrace": Method("GET", "/api/v1/traces/{id}", path_params=("id",)),
    "getSettings": Method("GET", "/api/v1/settings"),
    "setSettings": Method("PUT", "/api/v1/settings", body=True),
    "startQuery": Method("POST", "/api/v1/assist/query", body=True, fixed_body={"async": True}),
    "getQueryResult": Method("GET", "/api/v1/assist/jobs/{job_id}", path_params=("job_id",)),
    "cancelQuery": Method("POST", "/api/v1/assist/jobs/{job_id}/cancel", path_params=("job_id",)),
    "getConversations": Method("GET", "/api/v1/assist/conversations", paged=True),
    "getConversation": Method("GET", "/api/v1/assist/conversations/{id}", path_params=("id",)),
}

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
    """A path parameter that cannot change which endpoint answers.

    test_request_context decodes the path again, so a quoted '/' or '%' could route the
    call to another endpoint (``<trace>/mermaid``); such values are refused, not escaped.
    """
    text = str(value)
    if len(text) > PATH_PARAM_MAX:
        raise bad_request(f"params.{name} is longer than {PATH_PARAM_MAX} characters", "invalid_parameter")
    if any(c in _PATH_FORBIDDEN or ord(c) < 32 or ord(c) == 127 for c in text):
        raise bad_request(f"params.{name} must not contain '/', '?', '#', '%', '\\' or control characters", "invalid_parameter")
    return text


_FIELD = re.compile(r"(unknown )?field '([^']*)'")


def _as_params(response):
    """A 400 from the REST view names body fields; through the bridge they are params.<name>."""
    if response is None or response.status_code != 400:
        return response
    payload = response.get_json(silent=True)
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("message"), str):
        return response

    def repl(match: re.Match) -> str:
        where = match.group(2)
        name = "params" if where in ("", "body") else f"params.{where}"
        return ("unknown " if match.group(1) else "") + name

    error["message"] = _FIELD.sub(repl, error["message"])
    response.set_data(json.dumps(payload))
    return response


def _dispatch(method: Method, params: dict, extra_query: dict | None = None):
    """Run the REST view for ``method`` in a synthetic request carrying the caller's auth."""
    params = dict(params)
    path = method.path
    for name in method.path_params:
        value = params.pop(name, None)
        if value is None or value == "":
            raise bad_request(f"params.{name} is required", "missing_parameter")
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise bad_request(f"params.{name} must be a string or an integer", "invalid_parameter")
        path = path.replace("{" + name + "}", quote(_path_param(name, value), safe=""))
    for name in PAGING if method.paged else ():
        params.pop(name, None)
    query = {k: params.pop(k) for k in method.query if k in params and params[k] is not None}
    query = {k: (("true" if v else "false") if isinstance(v, bool) else str(v)) for k, v in query.items()}
    query.update(extra_query or {})
    body = {**params, **method.fixed_body} if method.body else None
    adapter = current_app.url_map.bind("localhost")
    try:
        adapter.match(path, method=method.verb)
    except (NotFound, MethodNotAllowed):
        return None
    headers = {k: v for k, v in request.headers.items() if k.lower() in ("authorization", "host")}
    kwargs: dict[str, Any] = {"method": method.verb, "query_string": query, "headers": headers}
    if body is not None:
        kwargs["data"] = json.dumps(body)
        kwargs["content_type"] = "application/json"
    with current_app.test_request_context(path, **kwargs):
        response = current_app.full_dispatch_request()
    return _as_params(response) if method.body else response


@bp.post("/rpc")
def rpc():
    """Dispatch ``{method, params}``; the answer is the REST answer (paged for list methods)."""
    data = json_body(RPC_SCHEMA)
    name = data["method"]
    method = METHODS.get(name)
    if method is None:
        raise bad_request(f"unknown RPC method '{name[:64]}'; known: {', '.join(sorted(METHODS))}", "unknown_method")
    params = data.get("params") or {}
    if method.paged:
        _paging(params)  # reject bad paging before doing any work
    if not method.paged:
        response = _dispatch(method, params)
        if response is None:
            raise _missing(name, method)
        return response
    items, response = _collect(name, method, params)
    if response.status_code >= 400:
        return response
    return jsonify(apply_paging(items, params))


def _missing(name: str, method: Method) -> ApiError:
    return ApiError(501, "not_implemented",
                    f"RPC method '{name}' is not available in this version ({method.verb} {method.path} is missing)")


def _collect(name: str, method: Method, params: dict):
    """Every item of a REST list (walking its limit/offset pages), so OMV's search and sort see them all."""
    items: list = []
    response = None
    for _ in range(MAX_PAGES):
        response = _dispatch(method, params, {"limit": str(method.page_size), "offset": str(len(items))})
        if response is None:
            raise _missing(name, method)
        if response.status_code >= 400:
            return items, response
        payload = response.get_json(silent=True)
        batch = _items(payload)
        items.extend(batch)
        total = payload.get("total") if isinstance(payload, dict) else None
        if len(batch) < method.page_size or not batch or (isinstance(total, int) and len(items) >= total):
            break
    return items, response
