"""Notifications: e-mail through the box's MTA, webhooks (generic, ntfy, Slack, Discord), Alertmanager.

What goes out, when, is decided by :class:`~omv_copilot_agent.alerts.policy.Dispatcher`
(policy per alert class and channel, digests, snoozes, maintenance, flood
guard); this module only sends its messages. Sending happens on one worker
thread fed by a queue, so collection never waits on a slow mail server; each
delivery is retried with exponential backoff. Messages are jinja2 templates;
digests come from alerts/report.py (plain text + HTML). ``deliveries`` keeps the
recent outcomes (for the API, the CLI's test command and the tests).
"""

from __future__ import annotations

import json
import logging
import queue
import socket
import threading
import time
from collections import deque
from email.message import EmailMessage
from typing import Callable

import jinja2

from omv_copilot_agent.alerts import evidence as evidence_mod, report
from omv_copilot_agent.alerts.policy import Dispatcher, Message
from omv_copilot_agent.alerts.rules import SEVERITIES

log = logging.getLogger(__name__)

_ENV = jinja2.Environment(autoescape=False, trim_blocks=True, lstrip_blocks=True)
_ENV.filters["ts"] = lambda t: time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t)) if t else "-"
SUBJECT = _ENV.from_string(
    "[{{ host }}] {% if event == 'resolved' %}RESOLVED{% elif event == 'test' %}TEST{% elif event == 'reminder' %}REMINDER {{ alert.severity|upper }}"
    "{% else %}{{ alert.severity|upper }}{% endif %}: {{ alert.title }}")
BODY = _ENV.from_string("""\
{% if event == 'resolved' %}Resolved{% elif event == 'escalated' %}Escalated to {{ alert.severity }}{% elif event == 'deescalated' %}Lowered to {{ alert.severity }}{% elif event == 'reminder' %}Still {{ alert.severity }} (reminder){% elif event == 'test' %}Test notification{% else %}New {{ alert.severity }} alert{% endif %} on {{ host }}:

{{ alert.title }}
{{ alert.message }}
{% if advice and event != 'resolved' %}

What to do: {{ advice }}
{% endif %}

{% if evidence %}
Evidence{% if event == 'resolved' %} (as last seen while open){% endif %}:
{% for line in evidence %}
{{ line }}
{% endfor %}

{% endif %}
Rule: {{ alert.rule }}   Subject: {{ alert.subject }}   Alert #{{ alert.id }}
First seen: {{ alert.first_seen|ts }}{% if alert.resolved_at %}   Resolved: {{ alert.resolved_at|ts }}{% endif %}
{% if note %}

{{ note }}
{% endif %}

-- OMV Co-Pilot
""")


def render(event: str, alert: dict, host: str, note: str | None = None) -> tuple[str, str]:
    ctx = {"event": event, "alert": alert, "host": host, "note": note, "advice": report.ADVICE.get(alert.get("rule")),
           "evidence": evidence_mod.summary(alert.get("evidence"), host)}
    return SUBJECT.render(**ctx), BODY.render(**ctx)


def _iso(t: float | None) -> str | None:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t)) if t else None


def alertmanager_payload(alerts: list[dict], host: str) -> list[dict]:
    """Alertmanager v2 ``POST /api/v2/alerts`` body; resolved alerts carry their endsAt."""
    out = []
    for a in alerts:
        item = {"labels": {"alertname": a["rule"], "subject": str(a["subject"]), "severity": a["severity"], "instance": host,
                           "job": "omv-copilot"},
                "annotations": {"summary": a["title"], "description": a["message"], **evidence_annotations(a, host)},
                "startsAt": _iso(a["first_seen"]), "generatorURL": f"http://{host}/copilot/alerts/details/{a['id']}"}
        if a.get("resolved_at"):
            item["endsAt"] = _iso(a["resolved_at"])
        out.append(item)
    return out


def evidence_annotations(alert: dict, host: str) -> dict[str, str]:
    """Alertmanager annotations (strings) for the alert's evidence: the summary, its pattern, first check and Assistant link."""
    ev = alert.get("evidence")
    if not ev:
        return {}
    out = {"evidence": "\n".join(evidence_mod.summary(ev, host))[:evidence_mod.MAX_BYTES],
           "assistant_url": evidence_mod.assistant_url(ev, host)}
    pattern = ev.get("pattern") or {}
    if pattern.get("id"):
        out["pattern"] = pattern["id"]
    check = pattern.get("first_check") or {}
    if check.get("command"):
        out["first_check"] = check["command"]
    return out


#: Alert text quotes what the box says (process, share and disk names): in chat it must not ping
#: anyone (Discord parses @everyone and <@id> unless told not to; Slack reads <!channel>, <@U1>)
DISCORD_NO_MENTIONS = {"allowed_mentions": {"parse": []}}


def _slack(text: str) -> str:
    """``text`` with Slack's control characters escaped (its mrkdwn stays: *bold*)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webhook_request(fmt: str, event: str, alert: dict, host: str, note: str | None = None) -> dict:
    """kwargs for ``requests.post`` in the receiver's format."""
    subject, body = render(event, alert, host, note)
    if fmt == "ntfy":
        prio = {"critical": "urgent", "warning": "high"}.get(alert["severity"], "default") if event != "resolved" else "low"
        return {"data": body.encode(), "headers": {"Title": subject.encode("ascii", "replace").decode(), "Priority": prio,
                                                  "Tags": "white_check_mark" if event == "resolved" else "warning"}}
    lines = "".join(f"\n{line}" for line in evidence_mod.summary(alert.get("evidence"), host))
    if fmt == "slack":
        return {"json": {"text": _slack(f"*{subject}*\n{alert['message']}{lines}")[:4000]}}
    if fmt == "discord":
        return {"json": {"content": f"**{subject}**\n{alert['message']}{lines}"[:2000], **DISCORD_NO_MENTIONS}}
    return {"json": {"event": event, "host": host, "subject": subject, "alert": alert, **({"note": note} if note else {})}}


def webhook_digest_request(fmt: str, msg: Message, subject: str, text: str, host: str) -> dict:
    """kwargs for ``requests.post`` carrying a digest in the receiver's format."""
    if fmt == "ntfy":
        return {"data": text.encode(), "headers": {"Title": subject.encode("ascii", "replace").decode(), "Tags": "inbox_tray"}}
    if fmt == "slack":
        return {"json": {"text": _slack(f"*{subject}*\n{text}")}}
    if fmt == "discord":
        return {"json": {"content": f"**{subject}**\n{text}"[:2000], **DISCORD_NO_MENTIONS}}
    return {"json": {"event": "digest", "host": host, "subject": subject, "title": msg.title, "note": msg.note, "text": text,
                     "items": [{"event": i["event"], "ts": i["ts"], "alert": i["alert"]} for i in msg.items]}}


#: put on the queue by :meth:`Notifier.close`, behind whatever was queued before: the worker ends there
_STOP = ("stop", None, None)


class Notifier:
    """Queue + worker thread; ``config()`` returns the live ``alerts`` config section.

    ``sleep``: the wait between retries (default: a wait that :meth:`close` cuts short).
    """

    def __init__(self, config: Callable[[], dict], context: Callable[[], dict] | None = None,
                 sleep: Callable[[float], None] | None = None, dispatcher: Dispatcher | None = None):
        self._config = config
        self.dispatcher = dispatcher or Dispatcher(config)
        self._context = context or (lambda: {})
        self._closed = threading.Event()  # close() was called: no new items, no more retries
        self._abandon = threading.Event()  # close()'s time is up: the worker sends nothing more
        self._sleep = sleep or self._closed.wait
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._idle = threading.Condition()
        self._pending = 0
        self.dropped = 0  # notifications not sent because the notifier was closed
        self.deliveries: deque = deque(maxlen=200)

    # -- public ------------------------------------------------------
    def email_on(self) -> bool:
        """E-mail is configured and not switched off in OMV's Notifications page (topic ``copilot``)."""
        return bool(self._config().get("email")) and self._context().get("copilot_topic_enabled") is not False

    def channels(self) -> list[str]:
        cfg = self._config()
        names = ["email"] if self.email_on() else []
        names += [f"webhook:{w.get('format', 'generic')}:{w['url']}" for w in cfg.get("webhooks") or []]
        if cfg.get("alertmanager_url"):
            names.append("alertmanager")
        return names

    def kinds(self) -> list[str]:
        """The message channels configured now (``mail``, ``webhook``); Alertmanager takes state instead."""
        return (["mail"] if self.email_on() else []) + (["webhook"] if self._config().get("webhooks") else [])

    def submit(self, event: str, alert: dict, *, force: bool = False, now: float | None = None) -> bool:
        """Hand one lifecycle event to the policy (``force``: straight to every channel, e.g. a test).

        False when filtered out (below ``notify_min_severity``, resolves off, no channel).
        """
        cfg = self._config()
        if not force:
            if event == "resolved" and not cfg.get("notify_on_resolve", True):
                return False
            if SEVERITIES.index(alert["severity"]) < SEVERITIES.index(cfg.get("notify_min_severity", "warning")):
                return False
        kinds = self.kinds()
        if not kinds:
            return False
        now = time.time() if now is None else now
        messages = [Message(k, "single", event, alert, now=now) for k in kinds] if force else \
            self.dispatcher.submit(event, alert, now, kinds)
        for message in messages:
            self._put(("message", None, message))
        return True

    def tick(self, now: float, open_alerts: list[dict]) -> int:
        """Send what the policy has due now (digests, reminders, a finished maintenance window)."""
        cfg = self._config()
        floor = SEVERITIES.index(cfg.get("notify_min_severity", "warning"))
        kinds = self.kinds()
        messages = self.dispatcher.tick(now, [a for a in open_alerts if SEVERITIES.index(a["severity"]) >= floor], kinds)
        for message in messages:
            self._put(("message", None, message))
        return len(messages)

    def send_report(self, subject: str, body: str) -> bool:
        """Mail the daily health report (e-mail channel only)."""
        if not self.email_on():
            return False
        self._put(("report", subject, body))
        return True

    def push_alertmanager(self, alerts: list[dict]) -> None:
        if alerts and self._config().get("alertmanager_url"):
            self._put(("alertmanager", None, alerts))

    def flush(self, timeout: float = 60) -> bool:
        """Wait until everything queued has been delivered or given up (tests, CLI test command)."""
        deadline = time.time() + timeout
        with self._idle:
            while self._pending:
                left = deadline - time.time()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def close(self, timeout: float = 10.0) -> int:
        """Stop the worker thread; returns how many queued notifications were dropped.

        What was queued before close() is still sent, one attempt each (no further retries, a
        retry's wait ends at once), for up to ``timeout`` seconds; what is left then is dropped and
        logged as a warning with its count. Why send rather than drop: the daemon closes on every
        restart (a settings change, a package upgrade, a reboot), and the mail saying an array went
        degraded a second earlier is the one a NAS owner must not lose; why bounded: a hung mail
        server must not hold up the shutdown (systemd kills the unit after 90 s). A notification
        submitted after close() is dropped (counted and logged). Idempotent.
        """
        with self._lock:
            if self._closed.is_set():
                return 0
            self._closed.set()
            thread = self._thread
            if thread is not None:
                self._queue.put(_STOP)
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():  # time is up: the worker is in a send; it drops what is still queued
                self._abandon.set()
                self._drop_queued()
                thread.join(1.0)
                if thread.is_alive():
                    log.warning("notifier: a delivery is still in progress at shutdown; it is abandoned")
        dropped = self.dropped
        if dropped:
            log.warning("notifier closed: %d queued notification(s) dropped unsent", dropped)
        return dropped

    # -- worker ------------------------------------------------------
    def _put(self, item) -> None:
        with self._lock:
            if self._closed.is_set():
                self.dropped += 1
                log.warning("notifier closed: a %s notification is dropped unsent", item[0])
                return
            with self._idle:
                self._pending += 1
            self._queue.put(item)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="alert-notifier", daemon=True)
                self._thread.start()

    def _drop_queued(self) -> None:
        """Take what is still queued off the queue, counted as dropped (the stop mark goes back)."""
        n = 0
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not _STOP:
                n += 1
        self._queue.put(_STOP)
        with self._idle:
            self.dropped += n
            self._pending -= n
            self._idle.notify_all()

    def _run(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=30)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            if item is _STOP or self._abandon.is_set():
                if item is not _STOP:
                    self._queue.put(item)
                    self._drop_queued()
                with self._lock:
                    self._thread = None
                return
            kind, event, payload = item
            try:
                if kind == "message":
                    self._send(payload)
                elif kind == "report":
                    self._deliver("email", "report", None, lambda: self._send_mail(event, payload))
                else:
                    self._deliver("alertmanager", "push", None, lambda: self._send_alertmanager(payload))
            except Exception:
                log.exception("notification failed")
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _send(self, msg: Message) -> None:
        host = self._host()
        if msg.kind == "single":
            subject, text = render(msg.event, msg.alert, host, msg.note)
            html, label = None, msg.event
        else:
            subject, text, html = report.digest(msg, host)
            label = "digest"
        if msg.channel == "mail":
            self._deliver("email", label, msg.alert, lambda: self._send_mail(subject, text, html), msg)
            return
        for hook in self._config().get("webhooks") or []:
            fmt = hook.get("format", "generic")
            request = (webhook_request(fmt, msg.event, msg.alert, host, msg.note) if msg.kind == "single"
                       else webhook_digest_request(fmt, msg, subject, text, host))
            self._deliver(f"webhook:{fmt}", label, msg.alert, lambda h=hook, r=request: self._post(h, r), msg)

    def _deliver(self, channel: str, event: str, alert: dict | None, send: Callable[[], None], msg: Message | None = None) -> None:
        cfg = self._config()
        retries, backoff = int(cfg.get("notify_retries", 4)), float(cfg.get("notify_backoff_s", 5))
        error = None
        for attempt in range(1, retries + 2):
            try:
                send()
                error = None
                break
            except Exception as exc:  # every transport error is retried the same way
                error = f"{exc.__class__.__name__}: {exc}"[:300]
                log.warning("notification via %s failed (attempt %d): %s", channel, attempt, error)
                if attempt > retries or self._closed.is_set():  # closing: one attempt, no waiting
                    break
                self._sleep(backoff * 2 ** (attempt - 1))
                if self._closed.is_set():
                    break
        self.deliveries.append({"ts": time.time(), "channel": channel, "event": event, "kind": msg.kind if msg else event,
                                "items": len(msg.items) if msg else 0, "alert_id": (alert or {}).get("id"),
                                "ok": error is None, "attempts": attempt, "error": error})

    # -- transports --------------------------------------------------
    def _host(self) -> str:
        return self._context().get("hostname") or socket.gethostname()

    def _send_mail(self, subject: str, body: str, html: str | None = None) -> None:
        cfg, ctx = self._config(), self._context()
        to = list(cfg.get("email_to") or []) or [e for e in [ctx.get("primaryemail")] if e]
        if not to:
            raise RuntimeError("no recipient: set alerts.email_to or OMV's primary notification e-mail")
        msg = EmailMessage()
        msg["Subject"], msg["To"] = subject, ", ".join(to)
        msg["From"] = cfg.get("email_from") or ctx.get("sender") or f"omv-copilot@{self._host()}"
        msg.set_content(body)
        if html:
            msg.add_alternative(html, subtype="html")
        import smtplib  # here, not at import: with it comes OpenSSL (memory.without_openssl)

        with smtplib.SMTP(cfg.get("smtp_host") or "localhost", int(cfg.get("smtp_port") or 25), timeout=30) as smtp:
            smtp.send_message(msg)

    def _post(self, hook: dict, request: dict) -> None:
        import requests

        response = requests.post(hook["url"], timeout=float(hook.get("timeout_s", 10)), **request)
        if response.status_code >= 300:
            raise RuntimeError(f"{hook['url']} answered {response.status_code}")

    def _send_alertmanager(self, alerts: list[dict]) -> None:
        import requests

        url = self._config()["alertmanager_url"].rstrip("/") + "/api/v2/alerts"
        response = requests.post(url, json=alertmanager_payload(alerts, self._host()), timeout=15)
        if response.status_code >= 300:
            raise RuntimeError(f"Alertmanager answered {response.status_code}: {response.text[:200]}")


def dumps(obj) -> str:
    return json.dumps(obj, default=str)
