"""JSON errors for every failure: ``{"error": {"code", "message"}}`` with the right status.

Handlers here replace Flask's HTML error pages and catch everything else as a
500 without a traceback in the body (the traceback goes to the log).
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    """Raise in a view to answer with this status, code and message."""

    def __init__(self, status: int, code: str, message: str, details: list | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details  # machine-readable specifics (e.g. every {field, reason} of a rejected pattern)


def bad_request(message: str, code: str = "bad_request") -> ApiError:
    return ApiError(400, code, message)


def error_response(status: int, code: str, message: str, details: list | None = None):
    error = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    response = jsonify({"error": error})
    response.status_code = status
    return response


#: The HTTP status of each kind of :class:`~omv_copilot_agent.services.errors.ServiceError`.
STATUS = {"invalid": 400, "not_found": 404, "conflict": 409, "unavailable": 503, "upstream_failed": 502,
          "not_implemented": 501}


def register(app: Flask) -> None:
    from omv_copilot_agent.services.errors import ServiceError

    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError):
        return error_response(STATUS[exc.kind], exc.code, exc.message, exc.details)

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        messages = {
            404: "no such endpoint; see /api/v1/openapi.json",
            405: f"method not allowed; allowed: {', '.join(sorted(exc.valid_methods or []))}" if getattr(exc, "valid_methods", None) else "method not allowed",
            413: "request body too large",
        }
        return error_response(exc.code or 500, code, messages.get(exc.code, exc.description or exc.name))

    from omv_copilot_agent.store import StoreError

    @app.errorhandler(StoreError)
    def _store_error(exc: StoreError):
        # The database (not the request) is at fault: say which file and why, as 503.
        log.error("store unavailable: %s", exc)
        return error_response(503, "store_unavailable", f"the agent's database is unavailable: {exc}")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return error_response(500, "internal_error", f"internal error ({exc.__class__.__name__}); see the agent's log")
