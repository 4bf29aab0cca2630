"""A small client for OMV's engine: OMV's own Python client when importable, `omv-rpc` otherwise.

``omv-rpc`` starts a PHP process per call (the daemon's process tree peaked at 67 MiB while
one ran). OMV ships ``openmediavault.rpc``, which speaks to ``omv-engined`` over its Unix
socket from this process; it is used when importable and ``omv_rpc.command`` is the default
``omv-rpc``. Both paths apply the runner's ``omv-rpc`` rule (read methods only, as admin).

Failures come back as :class:`OmvRpcError` with a reason a human can act on:
missing binary, OMV's own error message (printed as JSON on stderr), timeout,
or output that is not JSON.
"""

from __future__ import annotations

import json
import socket as _socket
import types

from omv_copilot_agent import memory, runner


def _engine_module(timeout_s: float):
    """``openmediavault.rpc`` made safe for a daemon, or None when OMV's Python library is absent.

    Its receive loop compares ``bytes`` with ``""`` to detect a closed connection, so an engine
    that closes mid-answer (restarting during an OMV upgrade) would spin a thread forever: its
    sockets get a recv that raises on EOF, and this client's timeout. (Only this process uses
    the module, so adjusting it in place affects nobody else.) Its package imports natsort (~1 MiB)
    only to sort ``/etc/default/openmediavault`` when saving it, which this client never does:
    natsort is imported if that ever runs (:func:`memory.deferred`).
    """
    try:
        with memory.deferred("natsort"):
            import openmediavault.rpc as engine
    except ImportError:
        return None

    class _Socket(_socket.socket):
        def recv(self, *args):
            chunk = super().recv(*args)
            if not chunk:
                raise ConnectionError("the engine closed the connection before answering")
            return chunk

        def setsockopt(self, *args):  # OMV sets SO_SNDTIMEO/SO_RCVTIMEO (180 s); this client's timeout applies
            if args[:2] not in ((_socket.SOL_SOCKET, _socket.SO_SNDTIMEO), (_socket.SOL_SOCKET, _socket.SO_RCVTIMEO)):
                super().setsockopt(*args)

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.settimeout(timeout_s)

    # it also print()s every error answer (with OMV's PHP trace) to stdout: the error is raised anyway
    engine.print = lambda *args, **kwargs: None
    engine.socket = types.SimpleNamespace(**{k: getattr(_socket, k) for k in dir(_socket) if not k.startswith("__")})
    engine.socket.socket = _Socket
    return engine


class OmvRpcError(Exception):
    """One RPC failed; ``str(exc)`` is the reason, ``missing`` says omv-rpc is absent."""

    def __init__(self, reason: str, missing: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.missing = missing


class OmvRpcClient:
    """Calls ``<Service>.<method>(params)`` as admin and returns the parsed response.

    ``mode`` is ``"python"`` (OMV's engine client, in this process) or ``"omv-rpc"`` (a process per call).
    """

    def __init__(self, command: str = "omv-rpc", timeout_s: float = 15.0, *, engine=None):
        self.command = command
        self.timeout_s = timeout_s
        if engine is None and command == "omv-rpc":
            engine = _engine_module(timeout_s)
        self.engine = engine or None
        self.mode = "python" if self.engine else "omv-rpc"

    def available(self) -> bool:
        if self.engine:
            return True
        if self.command.startswith("/"):
            import os

            return os.access(self.command, os.X_OK)
        return runner.which(self.command) is not None

    def call(self, service: str, method: str, params: dict | None = None):
        argv = [self.command, "-u", "admin", service, method, json.dumps(params if params is not None else {})]
        if self.engine:
            return self._call_engine(argv, service, method, params if params is not None else {})
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


    def _call_engine(self, argv: list[str], service: str, method: str, params: dict):
        try:
            runner.check(["omv-rpc", *argv[1:]])
        except runner.CommandRefused as exc:
            raise OmvRpcError(f"refused: {exc}") from None
        try:
            return self.engine.call(service, method, params)
        except self.engine.RpcException as exc:
            raise OmvRpcError(f"{service}.{method} failed: {str(exc).strip() or 'no message'}") from None
        except _socket.timeout:
            raise OmvRpcError(f"{service}.{method} did not answer within {self.timeout_s:g} s") from None
        except (RuntimeError, OSError, ValueError) as exc:  # engine down, connection lost, not JSON
            raise OmvRpcError(f"{service}.{method}: {exc}") from None


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
