"""Helpers for the alerts tests: snapshots from fixtures, an AlertService on a real store, a loopback SMTP sink and webhook."""

from __future__ import annotations

import json
import socketserver
import threading
from email import message_from_bytes, policy as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from omv_copilot_agent.collect.base import SourceResult
from omv_copilot_agent.collect.snapshot import Snapshot

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "captures"


def snapshot(ts: float, **sources: dict) -> Snapshot:
    """A Snapshot with each keyword as an 'ok' source's data."""
    return Snapshot(ts, {name: SourceResult(name, "ok", data, collected_at=ts) for name, data in sources.items()})


def smart_disk(fixture: str, device: str) -> dict:
    from omv_copilot_agent.collect import smart

    return smart.parse(json.loads((FIXTURES / "smartctl" / fixture).read_text()), device)


def fs(mountpoint: str, percent: float, total: float = 1000 * 2**30, **extra) -> dict:
    used = total * percent / 100
    return {"device": "/dev/sdb1", "mountpoint": mountpoint, "fstype": "ext4", "total": total, "used": used,
            "free": total - used, "percent": percent, "readonly": False, "mounted": True, "omv_managed": True, **extra}


def make_agent(tmp_path, alerts: dict | None = None):
    """A real Agent (real SQLite store) whose collector is never used."""
    from omv_copilot_agent import config as config_mod
    from omv_copilot_agent.daemon.agent import Agent

    cfg = config_mod.from_dict({"data_dir": str(tmp_path / "data"), "alerts": {"udev_monitor": False, "rrd_import": False, **(alerts or {})}})
    return Agent(cfg)


def cycle(agent, snap: Snapshot):
    """What Agent.run_cycle does after collecting: store, metrics, listeners."""
    from omv_copilot_agent.collect.samples import metric_samples

    agent.snapshot = snap
    agent.store.save_snapshot(snap)
    agent.store.add_metrics(snap.taken_at, metric_samples(snap))
    return agent.alerts.evaluate(snap)


class SmtpSink(socketserver.ThreadingTCPServer):
    """A minimal SMTP server (RFC 5321 subset smtplib uses); ``fail_first`` transactions get 451."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, fail_first: int = 0):
        self.messages: list = []
        self.fail_left = fail_first
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), SmtpHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.server_address[1]


class SmtpHandler(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())

    def handle(self) -> None:
        self.reply("220 sink ESMTP")
        rcpt = []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.decode(errors="replace").strip()
            verb = cmd.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 sink")
            elif verb == "MAIL":
                with self.server.lock:
                    if self.server.fail_left > 0:
                        self.server.fail_left -= 1
                        self.reply("451 try again later")
                        continue
                rcpt = []
                self.reply("250 ok")
            elif verb == "RCPT":
                rcpt.append(cmd.split(":", 1)[1].strip("<> "))
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 go")
                lines = []
                while True:
                    chunk = self.rfile.readline()
                    if chunk in (b".\r\n", b".\n", b""):
                        break
                    lines.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                with self.server.lock:
                    self.server.messages.append((rcpt, message_from_bytes(b"".join(lines), policy=email_policy.default)))
                self.reply("250 queued")
            elif verb == "RSET":
                self.reply("250 ok")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class Hook(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.gate = threading.Event()  # requests wait here until it is set
        self.gate.set()
        self.received: list = []
        super().__init__(("127.0.0.1", 0), HookHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class HookHandler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.gate.wait(120)
        status = self.server.statuses.pop(0) if self.server.statuses else 200
        self.server.received.append({"path": self.path, "status": status, "headers": dict(self.headers), "body": body})
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def sink():
    servers = []

    def _make(**kw):
        servers.append(SmtpSink(**kw))
        return servers[-1]

    yield _make
    for s in servers:
        s.shutdown()
        s.server_close()


@pytest.fixture
def hook():
    servers = []

    def _make(statuses=()):
        servers.append(Hook(statuses))
        return servers[-1]

    yield _make
    for s in servers:
        s.shutdown()
        s.server_close()
