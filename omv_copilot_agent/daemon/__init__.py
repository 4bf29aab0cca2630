"""The daemon: collection scheduler + API server in one process.

Entry point :func:`serve`. The scheduler runs a cycle every
``collect.interval_s`` (first one at once), prunes hourly, and stops cleanly on
SIGTERM/SIGINT: the API server is closed, the store is closed, exit code 0.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import signal
import socket
import threading
import time

from omv_copilot_agent.collect import CollectorClosed
from omv_copilot_agent.config import ConfigError
from omv_copilot_agent.events import CONFIG_CHANGED
from omv_copilot_agent.memory import limit_arenas, settle, trim

log = logging.getLogger(__name__)

PRUNE_EVERY_S = 3600
#: Exit status for a fault a restart fixes (the database was damaged while running; the start sets it aside):
#: systemd restarts it (Restart=on-failure); 2 stays reserved for config errors it must not retry.
EXIT_RESTART = 3


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(config) -> tuple[str, int]:
    """host, port to bind; refuses a non-loopback address unless api.allow_remote."""
    host, port = config.daemon.host, config.daemon.port
    if not is_loopback(host) and not config["api"]["allow_remote"]:
        raise ConfigError(f"api.listen: {host} is not a loopback address; set api.allow_remote: true to expose the API")
    return host, port


class Scheduler:
    """Runs collection cycles on an interval until stopped.

    A settings change (``events.CONFIG_CHANGED``) sets the new interval and wakes
    the wait, so a new ``collect.interval_s`` applies at once, not after a restart.
    """

    def __init__(self, agent, interval_s: float):
        self.agent = agent
        self.interval_s = interval_s
        self.stop_event = threading.Event()
        self.wake = threading.Event()
        agent.events.subscribe(CONFIG_CHANGED, self._config_changed)

    def _config_changed(self, config: dict) -> None:
        self.interval_s = float(config.get("collect", {}).get("interval_s", self.interval_s))
        self.wake.set()

    def _wait(self, started: float) -> None:
        """Until ``interval_s`` after ``started`` (re-read when woken), or until stopped."""
        while not self.stop_event.is_set():
            remaining = self.interval_s - (time.monotonic() - started)
            if remaining <= 0:
                return
            self.wake.wait(remaining)
            self.wake.clear()

    def run(self) -> None:
        last_prune = 0.0
        last_overall = None
        while not self.stop_event.is_set():
            start = time.monotonic()
            try:
                snap = self.agent.run_cycle()
                # one journal line per cycle is ~1,440 a day of writes to a flash boot disk: say only what changed
                level = logging.INFO if snap.overall != last_overall else logging.DEBUG
                log.log(level, "cycle %d done in %.2f s (%s)", self.agent.cycles, snap.duration_s, snap.overall)
                last_overall = snap.overall
            except CollectorClosed:
                break  # shutting down: the interrupted cycle is not stored
            except Exception:
                log.exception("collection cycle failed")
            trim()  # the cycle's command output and JSON are garbage now: give the pages back
            if time.monotonic() - last_prune > PRUNE_EVERY_S:
                self.agent.prune()
                last_prune = time.monotonic()
            if getattr(self.agent, "store_corrupt", None):
                log.critical("the database is corrupted (%s): exiting so that the restart sets it aside",
                             self.agent.store_corrupt)
                return
            self._wait(start)

    def stop(self) -> None:
        """Stop after (or, by closing the collector, during) the current cycle."""
        self.stop_event.set()
        self.wake.set()
        self.agent.collector.close()


WAITRESS_BODY_CAP = 16 << 20  # bodies up to this are read fully, so the API's JSON 413 reaches the client
#: A request (line, headers, body) must arrive within this many seconds of its first byte, and an idle
#: keep-alive connection is closed after as long: a local client dribbling one header line every few
#: seconds (slowloris) otherwise holds its connection forever. Loopback clients send in milliseconds.
REQUEST_DEADLINE_S = 10
#: Open connections waitress accepts (its default, 100, was used up by 100 slow local clients,
#: after which nothing — /healthz, the CLI, OMV's bridge — got an answer). The CLI also has the
#: root-only Unix socket, a separate server with its own limit.
CONNECTION_LIMIT = 1000


def _json_error_channel():
    """Waitress' HTTP channel whose own errors (a body over its cap, bad chunking) are JSON, not text/plain."""
    import json

    from waitress.channel import HTTPChannel
    from waitress.task import ErrorTask

    class JsonErrorTask(ErrorTask):
        def execute(self):
            error = self.request.error
            code = "request_too_large" if error.code == 413 else "bad_request"
            message = (f"request body too large: {error.body}" if error.code == 413 else f"{error.reason}: {error.body}")
            body = json.dumps({"error": {"code": code, "message": message}}).encode()
            self.status = f"{error.code} {error.reason}"
            self.response_headers.extend([("Content-Type", "application/json"), ("Connection", "close")])
            self.close_on_finish = True
            self.content_length = len(body)
            self.write(body)

    class JsonErrorChannel(HTTPChannel):
        error_task_class = JsonErrorTask
        request_started = 0.0

        def received(self, data):
            if self.request is None:
                self.request_started = time.time()
            result = super().received(data)
            if self.request is not None:  # a request still arriving: its deadline counts from its first byte
                self.last_activity = self.request_started  # (waitress' idle cleanup then closes it in time)
                if time.time() - self.request_started > REQUEST_DEADLINE_S:
                    self.will_close = True
            return result

    return JsonErrorChannel


def build_server(app, host: str, port: int, threads: int, *, unix_socket: str | None = None):
    """A waitress server bound now (so a busy port fails fast with a clear error); on ``unix_socket``
    (mode 0600) instead of host:port when given."""
    from waitress.server import create_server

    # Waitress buffers a whole body before the app sees it (default cap 1 GiB). Its cap stays well
    # above the API's own limit (MAX_CONTENT_LENGTH, answered by api.BodyLimit with a JSON 413 after
    # the body was read, so no connection reset); above its cap waitress answers itself, in JSON too.
    limit = int(getattr(app, "config", {}).get("MAX_CONTENT_LENGTH") or 262144)
    where = {"unix_socket": unix_socket, "unix_socket_perms": "600"} if unix_socket else {"host": host, "port": port}
    try:
        server = create_server(app, **where, threads=threads, ident="omv-copilot",
                               clear_untrusted_proxy_headers=True, channel_timeout=REQUEST_DEADLINE_S,
                               cleanup_interval=2, connection_limit=CONNECTION_LIMIT,
                               max_request_body_size=max(4 * limit, WAITRESS_BODY_CAP))
    except OSError as exc:
        if unix_socket:
            raise
        raise ConfigError(f"api.listen: cannot bind {host}:{port}: {exc.strerror}") from None
    channel = _json_error_channel()
    for each in [server, *getattr(server, "map", {}).values()]:
        if hasattr(each, "channel_class"):
            each.channel_class = channel
    return server


def unix_socket_path(config) -> str | None:
    """Where the root-only API socket is (api.unix_socket; "" = api.sock in data_dir, None = none)."""
    value = config.get_path("api.unix_socket", "")
    if value is None:
        return None
    return value or str(config.data_dir / "api.sock")


def _unix_server(app, path: str | None):
    """The API on the Unix socket, or None (logged) when it cannot listen: the TCP port still serves."""
    import os
    import stat

    if not path:
        return None
    try:
        if stat.S_ISSOCK(os.lstat(path).st_mode):
            with socket.socket(socket.AF_UNIX) as probe:
                try:
                    probe.connect(path)
                    log.warning("api.unix_socket: %s is served by another process; not listening there", path)
                    return None
                except OSError:
                    os.unlink(path)  # left by a daemon that died
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warning("api.unix_socket: cannot use %s: %s", path, exc.strerror or exc)
        return None
    try:
        return build_server(app, "", 0, 2, unix_socket=path)
    except (OSError, ValueError) as exc:
        log.warning("api.unix_socket: cannot listen on %s (%s); the CLI uses the TCP port", path, exc)
        return None


def serve(config, *, ready=None) -> int:
    """Run until SIGTERM. ``ready`` (callable) is told when the API is listening."""
    from omv_copilot_agent.api import create_app
    from omv_copilot_agent.api.auth import ensure_token
    from omv_copilot_agent.daemon.agent import Agent

    from omv_copilot_agent.store import StoreError

    limit_arenas()  # before any worker thread exists
    from omv_copilot_agent.config.exposure import world_readable_secret

    exposed = world_readable_secret(config)
    if exposed:  # refused, not warned: a warning in a log nobody reads leaves the key readable to every user
        raise ConfigError(exposed)
    host, port = check_bind(config)
    try:
        token = ensure_token(config.token_file)
    except OSError as exc:
        raise ConfigError(f"api.token_file: cannot read or create {config.token_file}: {exc.strerror or exc}") from None
    try:
        agent = Agent(config)
    except StoreError as exc:  # a corrupted file is set aside by the store; what is left is the path or its rights
        raise ConfigError(f"data_dir: {exc}") from None
    app = create_app(agent, token)
    server = build_server(app, host, port, int(config["api"]["threads"]))
    local = _unix_server(app, unix_socket_path(config))
    scheduler = Scheduler(agent, float(config["collect"]["interval_s"]))

    def _stop(signum, _frame):
        log.info("signal %d: shutting down", signum)
        scheduler.stop()
        server.close()
        if local is not None:
            local.close()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    settle()  # startup's YAML/schema/index garbage is freed and the rest frozen: give the pages back before idling
    api_thread = threading.Thread(target=_serve_forever, args=(server,), name="api", daemon=True)
    api_thread.start()
    if local is not None:
        threading.Thread(target=_serve_forever, args=(local,), name="api-unix", daemon=True).start()
        log.info("API also on the Unix socket %s (root only)", local.adj.unix_socket)
    log.info("API listening on http://%s:%d/ (token in %s)", host, port, config.token_file)
    if ready:
        ready()
    _notify_systemd("READY=1")
    try:
        scheduler.run()
    finally:
        _notify_systemd("STOPPING=1")
        server.close()
        if local is not None:
            local.close()
            with contextlib.suppress(OSError):
                os.unlink(local.adj.unix_socket)
        api_thread.join(timeout=5)
        agent.close()
    return EXIT_RESTART if agent.store_corrupt else 0


def _serve_forever(server) -> None:
    try:
        server.run()
    except (OSError, ValueError):  # closed during shutdown
        pass


def _notify_systemd(message: str) -> None:
    """sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET, if set."""
    import os

    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(message.encode())
    except OSError as exc:
        log.debug("sd_notify failed: %s", exc)
