"""Who may talk to the API: loopback Host headers only, and a bearer token.

The token is compared with :func:`hmac.compare_digest` (constant time). The
Host check stops DNS-rebinding: a page on evil.example that resolves to
127.0.0.1 still sends ``Host: evil.example`` and is refused.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from flask import Flask, current_app, request

from omv_copilot_agent.api.errors import ApiError

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]", "ip6-localhost"}
PUBLIC_PATHS = {"/healthz"}


def ensure_token(path: Path) -> str:
    """Read the token, creating a random one (mode 0640) if the file does not exist."""
    try:
        token = path.read_text().strip()
        if token:
            return token
    except FileNotFoundError:
        pass
    token = secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    with open(fd, "w") as handle:
        handle.write(token + "\n")
    return token


def host_allowed(host_header: str, extra: list[str]) -> bool:
    """Whether ``Host`` names this machine: a local name (or a configured one) and at most a numeric port.

    Strict on purpose: anything after the name but ``:<digits>`` (``localhost:80@evil``,
    ``[::1]x``) is refused rather than guessed at.
    """
    host = host_header.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        name, rest = (host[: end + 1], host[end + 1:]) if end > 0 else (host, "")
    elif host.count(":") == 1:
        name, _, port = host.partition(":")
        rest = ":" + port
    else:
        name, rest = host, ""
    if rest and not (rest.startswith(":") and rest[1:].isascii() and rest[1:].isdigit()):
        return False
    return name in LOCAL_HOSTS or name in {h.lower() for h in extra}


def register(app: Flask) -> None:
    @app.before_request
    def _check_access():
        extra = current_app.config.get("ALLOWED_HOSTS", [])
        if not host_allowed(request.host or "", extra):
            raise ApiError(403, "forbidden_host", "Host header is not a local name; add it to api.allowed_hosts to allow it")
        if request.path in PUBLIC_PATHS or request.path.startswith("/ui/") or request.path == "/ui" or request.path == "/":
            return None
        expected = current_app.config["API_TOKEN"]
        header = request.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not given:
            raise ApiError(401, "unauthorized", "missing bearer token: send 'Authorization: Bearer <token>' (token file: api.token_file)")
        if not hmac.compare_digest(given.strip().encode(), expected.encode()):
            raise ApiError(401, "unauthorized", "invalid token")
        return None

    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Cache-Control", "no-store")
        return response
