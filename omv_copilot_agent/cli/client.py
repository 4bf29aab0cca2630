"""How CLI commands reach the agent: the daemon's API if it answers, else in-process.

Commands call :func:`connect` and get an object with ``get(path, **params)`` and
``post(path, body)`` returning decoded JSON either way, plus ``mode``
('daemon' or 'in-process') so output can say which one answered.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from omv_copilot_agent import config as config_mod
from omv_copilot_agent.cli import CliError
from omv_copilot_agent.cli.output import width, wrap


# Lines main() prints on stderr once the command has finished without an error
# (a failing command keeps its error to one line).
NOTICES: list[str] = []


@dataclass
class ApiReply:
    status: int
    body: dict


class Client:
    mode = "daemon"

    def __init__(self, base_url: str, token: str, timeout: float = 30.0):
        self.base_url, self.token, self.timeout = base_url, token, timeout

    def request(self, method: str, path: str, params: dict | None = None, body: dict | None = None) -> ApiReply:
        import requests

        try:
            response = requests.request(method, self.base_url + path, params=params, json=body, timeout=self.timeout,
                                        headers={"Authorization": f"Bearer {self.token}"})
        except requests.RequestException as exc:
            raise CliError(f"cannot reach the daemon at {self.base_url}: {exc.__class__.__name__}") from None
        try:
            data = response.json()
        except ValueError:
            raise CliError(f"daemon answered {response.status_code} without JSON") from None
        return ApiReply(response.status_code, data)

    def get(self, path: str, **params) -> dict:
        return unwrap(self.request("GET", path, params={k: v for k, v in params.items() if v is not None}))

    def post(self, path: str, body: dict | None = None) -> dict:
        return unwrap(self.request("POST", path, body=body or {}))

    def close(self) -> None:
        """Release what the client holds (nothing for the daemon's API)."""

    def require_durable(self, what: str) -> None:
        """Writes through the daemon are stored by it; nothing to check."""


class UnixClient(Client):
    """The daemon's API over its root-only Unix socket (api.unix_socket): a separate server, so
    slow or many TCP clients on the loopback port cannot starve the CLI."""

    def __init__(self, socket_path: str, token: str, timeout: float = 30.0):
        super().__init__(f"unix:{socket_path}", token, timeout)
        self.socket_path = socket_path

    def request(self, method: str, path: str, params: dict | None = None, body: dict | None = None) -> ApiReply:
        import http.client
        import socket
        from urllib.parse import urlencode

        socket_path, timeout = self.socket_path, self.timeout

        class Connection(http.client.HTTPConnection):
            def connect(self):
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.settimeout(timeout)
                self.sock.connect(socket_path)

        conn = Connection("localhost", timeout=timeout)
        headers = {"Authorization": f"Bearer {self.token}", "Host": "localhost"}
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        try:
            conn.request(method, path + (f"?{urlencode(params)}" if params else ""), body=data, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise CliError(f"cannot reach the daemon at {socket_path}: {exc.__class__.__name__}") from None
        finally:
            conn.close()
        try:
            return ApiReply(response.status, json.loads(raw))
        except ValueError:
            raise CliError(f"daemon answered {response.status} without JSON") from None


class InProcessClient(Client):
    """Runs the operations in this process against a freshly collected snapshot.

    A request names an operation the way it would over HTTP (method and path, so
    commands are written once); the operation's handler runs directly, no web app.

    Looking must not change anything: the snapshot is collected but not stored, and no
    alert rule runs (so no alert state changes and no mail goes out from a shell
    command). The daemon's database is used when it exists and is readable — for its
    alerts, history and what the admin asks to write (an ack, a note) — and is never
    created here: a box without the daemon gets a throw-away one.
    """

    mode = "in-process"
    why = "the daemon is not running"

    def __init__(self, config):
        import atexit
        import shutil
        import tempfile

        from omv_copilot_agent.daemon.agent import Agent
        from omv_copilot_agent.store import Store, StoreError

        store = None
        # Why a write would be lost (None when it goes to the daemon's own database).
        self.scratch_reason: str | None = None
        if Path(config.data_dir).is_dir():
            try:
                store = Store(config.data_dir)
            except (StoreError, OSError) as exc:
                self.scratch_reason = (f"cannot open the database in the data dir {config.data_dir} ({exc}); "
                                       "fix its ownership/permissions or start the daemon (systemctl start omv-copilot)")
            if store is not None and not (os.access(config.data_dir, os.W_OK) and os.access(store.path, os.W_OK)):
                # Opened for reading (alerts, history still show) but a write would fail half-way.
                self.scratch_reason = (f"the data dir {config.data_dir} is not writable by this user; "
                                       "run the command as root (sudo) or start the daemon (systemctl start omv-copilot)")
        else:
            self.scratch_reason = (f"the data dir {config.data_dir} does not exist or is not a directory; "
                                   "start the daemon once (systemctl start omv-copilot) so it creates it")
        if store is None:
            scratch = tempfile.mkdtemp(prefix="omv-copilot-")
            atexit.register(shutil.rmtree, scratch, True)
            store = Store(scratch)
        self.agent = Agent(config, store=store)
        atexit.register(self.agent.close)  # commands that forget close() still kill a hung source's programs
        self.agent.snapshot = self.agent.collector.collect()

    def request(self, method: str, path: str, params: dict | None = None, body: dict | None = None) -> ApiReply:
        from omv_copilot_agent.api.errors import STATUS
        from omv_copilot_agent.api.routes import resolve
        from omv_copilot_agent.services.call import Accepted, Call, Created, Document
        from omv_copilot_agent.services.errors import ServiceError
        from omv_copilot_agent.store import StoreError

        found = resolve(method, path)
        if found is None:
            return ApiReply(404, {"error": {"code": "not_found", "message": f"no operation {method} {path}"}})
        op, values = found
        call = Call(self.agent, args={k: str(v) for k, v in (params or {}).items() if v is not None}, arg_schemas=op.args,
                    path=values,
                    document=json.dumps(body).encode() if body is not None and method != "GET" else b"")
        try:
            answer = op.handler(call)
        except ServiceError as exc:
            error = {"code": exc.code, "message": exc.message, **({"details": exc.details} if exc.details else {})}
            return ApiReply(STATUS[exc.kind], {"error": error})
        except StoreError as exc:
            return ApiReply(503, {"error": {"code": "store_unavailable", "message": f"the agent's database is unavailable: {exc}"}})
        if isinstance(answer, (Created, Accepted)):
            return ApiReply(201 if isinstance(answer, Created) else 202, answer.value)
        return ApiReply(200, {"text": answer.text} if isinstance(answer, Document) else answer)

    def require_durable(self, what: str) -> None:
        """Refuse a write that would only land in the throw-away database (and vanish at exit)."""
        if self.scratch_reason:
            raise CliError(f"cannot save {what}: {self.scratch_reason}")

    def close(self) -> None:
        """Close the in-process agent: kills any program a hung source still waits on."""
        self.agent.close()


def unwrap(reply: ApiReply) -> dict:
    if reply.status >= 400:
        error = reply.body.get("error", {}) if isinstance(reply.body, dict) else {}
        raise CliError(error.get("message") or f"HTTP {reply.status}")
    return reply.body


def quote(segment) -> str:
    """User input put into a URL path: one segment, so '../x' or 'a/b' cannot reach another endpoint."""
    from urllib.parse import quote as _quote

    return _quote(str(segment), safe="")


def connect(args, *, allow_in_process: bool = True, announce: bool = True) -> Client:
    """The daemon's API when it is up and the token is readable; otherwise in-process.

    ``announce``: say on stderr (never in --json stdout), when the command has succeeded,
    that the answer is collected now, not by the daemon — commands that say it in their
    own output pass False.
    """
    config = config_mod.load(args.config)
    from omv_copilot_agent.config.exposure import world_readable_secret

    exposed = world_readable_secret(config)
    if exposed:
        NOTICES.append(_wrapped(f"omv-copilot: warning: {exposed}"))
    url = config.daemon.url
    try:
        token = config.token_file.read_text().strip()
        why = f"the daemon does not answer on {url.removeprefix('http://')}"
    except OSError as exc:
        token = None
        why = f"cannot read the token file {config.token_file}: {exc.strerror or exc}"
    if token:
        from omv_copilot_agent.daemon import unix_socket_path

        timeout = float(getattr(args, "timeout", 0) or 30)
        socket_path = unix_socket_path(config)
        candidates = [Client(url, token, timeout=timeout)]
        if socket_path and os.path.exists(socket_path) and os.access(socket_path, os.R_OK | os.W_OK):
            candidates.insert(0, UnixClient(socket_path, token, timeout=timeout))
        for client in candidates:
            try:
                client.request("GET", "/healthz")
                return client
            except CliError:
                pass
    elif why.startswith("the daemon"):
        why = f"the token file {config.token_file} is empty"
    if not allow_in_process:
        raise CliError(f"this command needs the daemon (systemctl start omv-copilot), but {why}")
    client = InProcessClient(config)
    client.why = why
    if announce:
        NOTICES.append(_wrapped(f"omv-copilot: collected now, not by the daemon ({why})"))
    return client


def _wrapped(notice: str) -> str:
    """``notice`` wrapped for stderr the way ``ask`` wraps its prose (a path stays whole), at
    :func:`~omv_copilot_agent.cli.output.width` of stderr (80 columns off a terminal); its later lines indented."""
    return "\n".join(wrap(notice, "  ", width(sys.stderr, 80), first=""))
