"""The localhost HTTP API: ``create_app(agent)`` builds the Flask app.

One blueprint per resource, each a module of this package exposing ``bp``;
:data:`BLUEPRINTS` lists them. Views reach the running agent through
:func:`agent` and answer from its cached state, never by collecting inline.
"""

from __future__ import annotations

import importlib

from flask import Flask, current_app

from omv_copilot_agent.api import auth, errors

BLUEPRINTS = ("health", "system", "knowledge", "diagnostics", "rpc", "ui", "openapi")
BLUEPRINTS += ("alerts", "history", "metrics")  # alerts concern


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
    for name in BLUEPRINTS:
        module = importlib.import_module(f"omv_copilot_agent.api.{name}")
        app.register_blueprint(module.bp)
    return app
