"""``/ui/``: the built web UI (``build/webui``) served by the daemon in development.

On an OMV box OMV's nginx serves the same files at ``/copilot/``; here the daemon
serves them when ``api.serve_ui`` names a directory, so ``make run`` needs no web
server. The files are public (they hold no data); every data call the app makes
still needs the bearer token. The CSP mirrors OMV's ``security.conf`` so a page
that would break inside OMV also breaks here.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, redirect, send_from_directory

from omv_copilot_agent.api import agent
from omv_copilot_agent.api.errors import ApiError

bp = Blueprint("ui", __name__)

CSP = ("default-src 'self'; script-src 'self' 'unsafe-eval' 'unsafe-inline'; "
       "style-src 'self' 'unsafe-inline'; img-src 'self' data:;")


def _ui_dir() -> Path:
    configured = agent().config.get_path("api.serve_ui")
    if not configured:
        raise ApiError(404, "ui_disabled", "the web UI is not served here: set api.serve_ui to the built UI directory (make webui)")
    path = Path(configured)
    if not (path / "index.html").is_file():
        raise ApiError(404, "ui_not_built", f"api.serve_ui={configured} has no index.html: run 'make webui' first")
    return path


@bp.get("/")
def root():
    """Send a browser that opens the bare address to the UI (when it is served)."""
    _ui_dir()
    return redirect("/ui/", code=302)


@bp.get("/ui")
def ui_bare():
    """Relative asset paths need the trailing slash."""
    _ui_dir()
    return redirect("/ui/", code=301)


@bp.get("/ui/")
@bp.get("/ui/<path:name>")
def static_file(name: str = "index.html"):
    response = send_from_directory(_ui_dir(), name, max_age=0)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "no-cache"
    return response
