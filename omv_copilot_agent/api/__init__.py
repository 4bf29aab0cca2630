"""The localhost HTTP API: ``create_app(agent)`` builds the Flask app.

The operations (services/operations.py) become routes in :mod:`.routes`; the
other blueprints serve what is not an operation: liveness, the OpenAPI document,
the RPC bridge, Prometheus metrics and the development web UI. Views reach the
running agent through :func:`agent` and answer from its cached state.
"""

from __future__ import annotations

import importlib
import io
import json

from flask import Flask, current_app

from omv_copilot_agent.api import auth, errors

BLUEPRINTS = ("health", "rpc", "ui", "openapi", "metrics")


def agent():
    """The running :class:`~omv_copilot_agent.daemon.agent.Agent` behind this request."""
    return current_app.extensions["copilot_agent"]


def create_app(agent_obj, token: str) -> Flask:
    app = Flask("omv_copilot_agent.api", static_folder=None)
    cfg = agent_obj.config
    app.config.update(
        API_TOKEN=token,
        ALLOWED_HOSTS=list(cfg.get_path("api.allowed_hosts", []) or []),
        MAX_CONTENT_LENGTH=int(cfg.get_path("api.max_body_bytes", 262144)),
    )
    app.json.sort_keys = False
    app.extensions["copilot_agent"] = agent_obj
    errors.register(app)
    auth.register(app)
    from omv_copilot_agent.api import routes

    app.register_blueprint(routes.blueprint())
    for name in BLUEPRINTS:
        module = importlib.import_module(f"omv_copilot_agent.api.{name}")
        app.register_blueprint(module.bp)
    app.wsgi_app = BodyLimit(app.wsgi_app, app.config["MAX_CONTENT_LENGTH"])
    return app


class BodyLimit:
    """WSGI middleware: a body over ``api.max_body_bytes`` is a 413 JSON error before any view runs.

    Werkzeug 2.2 enforces MAX_CONTENT_LENGTH only when parsing forms, not for
    ``get_json()``, and never for chunked bodies (no Content-Length); this
    checks both, buffering a chunked body up to the limit so views see a
    normal, length-delimited body.
    """

    def __init__(self, wsgi_app, limit: int):
        self.wsgi_app = wsgi_app
        self.limit = limit

    def __call__(self, environ, start_response):
        raw_length = environ.get("CONTENT_LENGTH") or ""
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if raw_length.strip():
            try:
                length = int(raw_length)
            except ValueError:
                return self._error(start_response, "400 Bad Request", "bad_request", "Content-Length is not a number")
            if length > self.limit:
                return self._too_large(start_response, length)
        elif chunked or environ.get("wsgi.input_terminated"):
            data = environ["wsgi.input"].read(self.limit + 1)
            if len(data) > self.limit:
                return self._too_large(start_response, None)
            environ["wsgi.input"] = io.BytesIO(data)
            environ["CONTENT_LENGTH"] = str(len(data))
        return self.wsgi_app(environ, start_response)

    def _too_large(self, start_response, length: int | None):
        size = f"{length} bytes" if length is not None else "more than the limit"
        return self._error(start_response, "413 Request Entity Too Large", "request_too_large",
                           f"request body too large: {size}; the limit is {self.limit} bytes (api.max_body_bytes)")

    @staticmethod
    def _error(start_response, status: str, code: str, message: str):
        body = json.dumps({"error": {"code": code, "message": message}}).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                                ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")])
        return [body]
