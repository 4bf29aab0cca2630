"""A small client for OMV's `omv-rpc` command line tool.

Every call goes through :func:`runner.run` (allowlisted, timed out, no shell).
Failures come back as :class:`OmvRpcError` with a reason a human can act on:
missing binary, OMV's own error message (printed as JSON on stderr), timeout,
or output that is not JSON.
"""

from __future__ import annotations

import json

from omv_copilot_agent import runner


class OmvRpcError(Exception):
    """One RPC failed; ``str(exc)`` is the reason, ``missing`` says omv-rpc is absent."""

    def __init__(self, reason: str, missing: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.missing = missing


class OmvRpcClient:
    """Runs ``omv-rpc -u admin <Service> <method> '<json>'`` and returns the parsed response."""

    def __init__(self, command: str = "omv-rpc", timeout_s: float = 15.0):
        self.command = command
        self.timeout_s = timeout_s

    def available(self) -> bool:
        if self.command.startswith("/"):
            import os

            return os.access(self.command, os.X_OK)
        return runner.which(self.command) is not None

    def call(self, service: str, method: str, params: dict | None = None):
        argv = [self.command, "-u", "admin", service, method, json.dumps(params if params is not None else {})]
        result = runner.run(argv, timeout=self.timeout_s, max_output=16 * 1024 * 1024)
        if result.error and not result.timed_out and result.returncode is None:
            missing = "not installed" in result.error
            raise OmvRpcError("omv-rpc not found (not an OpenMediaVault box)" if missing else result.error, missing)
        if result.timed_out:
            raise OmvRpcError(f"{service}.{method} did not answer within {self.timeout_s:g} s")
        if result.returncode != 0:
            raise OmvRpcError(f"{service}.{method} failed: {_error_message(result.stderr or result.stdout)}")
        text = result.stdout.strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            raise OmvRpcError(f"{service}.{method} returned invalid JSON: {text[:80]!r}") from None


def _error_message(text: str) -> str:
    """OMV prints ``{"response":null,"error":{"code","message","trace"}}``; keep the message."""
    text = (text or "").strip()
    try:
        data = json.loads(text)
        err = data.get("error") or {}
        message = err.get("message")
        if message:
            return str(message).strip()
    except (ValueError, AttributeError):
        pass
    lines = [l for l in text.splitlines() if l.strip()]
    return lines[-1][:300] if lines else "exited non-zero without a message"
