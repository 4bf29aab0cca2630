"""Alerts: rules over each snapshot's findings, forecasts, lifecycle, notifications, health score.

The Agent builds the :class:`AlertService` and subscribes it to
``events.SNAPSHOT_COLLECTED``; the API, CLI and /metrics read it.
Contract: docs/contracts.md "Alerts".
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import deque
from typing import Callable

from omv_copilot_agent import findings
from omv_copilot_agent.alerts import evidence, forecasting, health, lifecycle, verify
from omv_copilot_agent.alerts.notify import Notifier
from omv_copilot_agent.alerts.policy import Dispatcher
from omv_copilot_agent.alerts.rules import Condition, RuleContext, load_rules, rule_of_finding
from omv_copilot_agent.findings import Finding, Thresholds
from omv_copilot_agent.knowledge import fill, signals

log = logging.getLogger(__name__)


class AlertService:
    def __init__(self, config, store, latest_snapshot: Callable[[], object], knowledge=None):
        """``config``: the live Config (settings changes apply at the next evaluation);
        ``latest_snapshot()``: the newest collected snapshot or None; ``knowledge``: the
        KnowledgeBase whose best pattern an alert's evidence names (None: no pattern)."""
        self.settings = config
        self.store = store
        self.latest = latest_snapshot
        self.knowledge = knowledge
        #: held while a verification runs: each one collects afresh and runs probes, so they queue for nobody
        self.verifying = threading.Lock()
        self.rules = load_rules()
        # The Notifier and its Dispatcher get callables that hold the settings and the snapshot getter,
        # not this service's bound methods: with those, service and notifier were a reference cycle
        # that only the cycle collector frees (after the daemon's gc.freeze: never).
        self._config = _LiveConfig(config)
        self.rule_of_finding = rule_of_finding()
        self._lock = threading.RLock()
        self._forecasts: dict[str, forecasting.Forecast] = {}
        self._forecast_at: float | None = None
        self.device_events: deque = deque(maxlen=200)
        self.notifier = Notifier(self._config, functools.partial(_notify_context, latest_snapshot),
                                 dispatcher=Dispatcher(self._config, config.data_dir / "alerts-notify-state.json"))
        self.watcher = None
        self.last_evaluation: dict = {}
        self.last_report_at = time.time()  # the first daily report goes out a day after start
        self.rrd_imported: dict | None = None  # None until the first snapshot tried it

    # -- config ------------------------------------------------------
    def config(self) -> dict:
        """The live ``alerts`` config section (defaults, settings, OMV's notification switches)."""
        return self._config()

    def thresholds(self) -> Thresholds:
        """The findings thresholds of the live config (a settings change applies at the next evaluation)."""
        return Thresholds.from_config(self.settings)

    def findings(self, snapshot=None) -> list[Finding]:
        """What the findings engine says about ``snapshot`` (default: the latest) now."""
        snapshot = snapshot if snapshot is not None else self.latest()
        return findings.evaluate(snapshot, self.thresholds())

    # -- evaluation --------------------------------------------------
    def on_snapshot(self, snapshot) -> None:
        cfg = self.config()
        if not cfg["enabled"]:
            return
        if cfg["udev_monitor"] and self.watcher is None:
            self.start_watcher()
        if self.rrd_imported is None:
            self.rrd_imported = self.import_rrd(snapshot) if cfg["rrd_import"] else {}
        self.evaluate(snapshot)
        if cfg["email"] and cfg["daily_report"] and snapshot.taken_at - self.last_report_at >= 86400:
            self.last_report_at = snapshot.taken_at
            self.mail_report()

    def compute_forecasts(self, snapshot, now: float | None = None) -> dict[str, forecasting.Forecast]:
        cfg = self.config()
        now = now or snapshot.taken_at
        guards = forecasting.Guards.from_config(cfg)
        out = {}
        for fs in snapshot.data("storage").get("filesystems") or []:
            mp = fs.get("mountpoint")
            if not mp or fs.get("mounted") is False or not fs.get("total"):
                continue
            points = self.store.usage_series("fs.used_bytes", {"mountpoint": mp}, now - cfg["forecast_window_s"], now + 1)
            out[mp] = forecasting.forecast(mp, points, fs["total"], now, guards)
        with self._lock:
            self._forecasts, self._forecast_at = out, now
        return out

    def evaluate(self, snapshot, now: float | None = None) -> lifecycle.Events:
        """Run every rule on ``snapshot``, update alerts, queue notifications."""
        cfg = self.config()
        now = now or snapshot.taken_at
        with self._lock:
            started = time.perf_counter()
            mounts = {f.get("mountpoint") for f in snapshot.data("storage").get("filesystems") or []}
            fresh = (self._forecast_at is not None and 0 <= now - self._forecast_at < cfg["forecast_interval_s"]
                     and set(self._forecasts) <= mounts)
            forecasts = dict(self._forecasts) if fresh else self.compute_forecasts(snapshot, now)
            forecast_s = time.perf_counter() - started
            ctx = RuleContext(snapshot, cfg, now, self.store.series, forecasts, list(self.device_events),
                              self.findings(snapshot))
            results, errors = {}, {}
            for rule in self.rules:
                try:
                    results[rule.NAME] = rule.evaluate(ctx)
                except Exception as exc:  # one broken rule must not stop the others
                    log.exception("rule %s failed", rule.NAME)
                    results[rule.NAME], errors[rule.NAME] = None, f"{exc.__class__.__name__}: {exc}"
            rules_s = time.perf_counter() - started - forecast_s
            events = lifecycle.apply(self.store, results, now, resolve_after=cfg["resolve_after_clear_cycles"],
                                     reopen_within_s=cfg["reopen_within_s"])
            self.attach_evidence(events, snapshot, ctx.findings, now)
            self.last_evaluation = {"at": now, "rules_s": rules_s, "forecast_s": forecast_s, "forecasts_cached": fresh, "total_s": time.perf_counter() - started,
                                    "findings": sum(len(r or []) for r in results.values()), "errors": errors,
                                    "skipped": sorted(n for n, r in results.items() if r is None and n not in errors),
                                    "new": len(events.new), "resolved": len(events.resolved)}
        for event, alert in events.notifications():
            self.notifier.submit(event, alert, now=now)
        self.notifier.tick(now, self.open_alerts())
        if cfg.get("alertmanager_url"):
            pushes = self.notifier.dispatcher.pushes
            self.notifier.push_alertmanager([a for a in self.open_alerts(state="firing") + events.resolved if pushes(a, now)])
        return events

    # -- evidence ----------------------------------------------------
    def attach_evidence(self, events: lifecycle.Events, snapshot, found: list[Finding], now: float) -> int:
        """Build the evidence of each new alert, and refresh open alerts' evidence older than
        ``evidence.REFRESH_S`` (bounded: one commit per pass, at most one pass of refreshes per interval); the new alerts'
        dicts in ``events`` get it too, so their notifications carry it. Returns how many were built."""
        finding_ids = {rule.NAME: tuple(getattr(rule, "FINDINGS", ())) for rule in self.rules}
        new_ids = {a["id"] for a in events.new}
        due = [a for a in self.store.open_alert_rows()
               if a["id"] in new_ids or a.get("evidence_at") is None or now - a["evidence_at"] >= evidence.REFRESH_S]
        built, cache = {}, {}
        for alert in due:
            try:
                mine = evidence.alert_findings(alert, found, finding_ids.get(alert["rule"], ()))
                built[alert["id"]] = evidence.build(alert, snapshot=snapshot, store=self.store, found=mine, now=now, cache=cache,
                                                    index=self.knowledge.index if self.knowledge is not None else None)
            except Exception:  # evidence is a help: a failure must not stop alerting
                log.exception("evidence of alert %s failed", alert["id"])
        if built:
            self.store.set_alerts_evidence(built, now)  # one commit for the pass
        for alert in events.new + events.escalated + events.deescalated:
            if alert["id"] in built:
                alert["evidence"] = built[alert["id"]]
        return len(built)

    # -- verify a fix ------------------------------------------------
    def verify(self, alert_id: int, snapshot=None, pattern_id: str | None = None, now: float | None = None,
               deadline: float | None = None) -> dict | None:
        """The admin says the alert's action is done: re-run the pattern's probes and the alert's rule
        on ``snapshot`` (default: the latest), record the outcome and, when fixed, the time to resolution.

        A fixed alert that is still open is resolved now (and its resolve is announced, evidence
        included). ``deadline`` (``time.monotonic()``) bounds the probes. None when there is no such
        alert; verify.UnknownPattern when the pattern is unknown.
        """
        alert = self.store.get_alert(alert_id)
        if alert is None:
            return None
        snapshot = snapshot if snapshot is not None else self.latest()
        now = time.time() if now is None else now
        pattern_id = pattern_id or ((alert.get("evidence") or {}).get("pattern") or {}).get("id")
        readings = self._readings(pattern_id, f"{alert['title']} {alert['subject']}", snapshot, deadline)
        outcome, reason = verify.judge(self._still_holds(alert, snapshot, now), readings)
        ttr = round(now - alert["first_seen"], 1) if outcome == "fixed" else None
        record = self.store.add_resolution(now, outcome, ttr, pattern_id, readings, alert_id=alert_id)
        if outcome == "fixed" and alert["state"] != "resolved":
            with self._lock:
                self.store.resolve_alert(alert_id, now)
            self.notifier.submit("resolved", self.store.get_alert(alert_id), now=now)
        return {**record, "reason": reason, "alert": self.get(alert_id)}

    def verify_answer(self, turn_id: int, snapshot=None, pattern_id: str | None = None, now: float | None = None,
                      deadline: float | None = None) -> dict | None:
        """The admin did what an assistant answer said: re-run its pattern's probes (the answer's best
        match, or ``pattern_id``) and the pattern's findings on ``snapshot``; record the outcome, and the
        time from the question to the verified fix. None when there is no such answer; verify.UnknownPattern for an
        unknown pattern; ValueError when the answer matched no pattern and none is given."""
        turn = self.store.get_turn(turn_id)
        if turn is None:
            return None
        snapshot = snapshot if snapshot is not None else self.latest()
        now = time.time() if now is None else now
        matched = [m.get("pattern_id") for m in turn["answer"].get("matched_patterns") or [] if isinstance(m, dict)]
        pattern_id = pattern_id or next(iter(matched), None)
        if not pattern_id:
            raise ValueError("this answer matched no pattern: name the one whose checks tell whether it is fixed")
        readings = self._readings(pattern_id, turn["query"], snapshot, deadline)
        pattern = self.knowledge.get(pattern_id)
        if pattern.get("findings") and snapshot is not None:
            present = bool(signals.evaluate(pattern, self.findings(snapshot)))
        else:  # nothing on the box to judge by: the checks' healthy answers decide, if they state one
            present = False if any(r["matched_expected"] is not None for r in readings) else None
        outcome, reason = verify.judge(present, readings, what="the pattern's findings")
        ttr = round(now - turn["created_at"], 1) if outcome == "fixed" else None
        record = self.store.add_resolution(now, outcome, ttr, pattern_id, readings, turn_id=turn_id)
        return {**record, "reason": reason, "question": turn["query"]}

    def _readings(self, pattern_id: str | None, text: str, snapshot, deadline: float | None = None) -> list[dict]:
        """The pattern's diagnostics run now, placeholders filled from ``text`` and the box; verify.UnknownPattern if unknown."""
        if not pattern_id:
            return []
        pattern = self.knowledge.get(pattern_id) if self.knowledge is not None else None
        if pattern is None:
            raise verify.UnknownPattern(pattern_id)
        params = fill.values(pattern["diagnostics"], text, snapshot)  # as a KB answer fills them
        asleep = verify.sleeping_disks(snapshot if snapshot is not None else self.latest())
        steps = self.knowledge.run_diagnostics(pattern_id, params, deadline=deadline,
                                               skip=lambda diag: verify.wakes_sleeping(diag, params, asleep))
        return [verify.reading(step) for step in steps]

    def _still_holds(self, alert: dict, snapshot, now: float) -> bool | None:
        """Whether the alert's rule reports its (rule, subject) on ``snapshot``; None when it cannot tell."""
        rule = next((r for r in self.rules if r.NAME == alert["rule"]), None)
        if rule is None or snapshot is None:
            return None
        ctx = RuleContext(snapshot, self.config(), now, self.store.series, self.compute_forecasts(snapshot, now),
                          list(self.device_events), self.findings(snapshot))
        try:
            conditions = rule.evaluate(ctx)
        except Exception:
            log.exception("rule %s failed while verifying", rule.NAME)
            return None
        if conditions is None:
            return None
        return any(c.subject == alert["subject"] for c in conditions)

    def resolution_stats(self, now: float | None = None) -> dict:
        """Mean / median time to resolution of the alerts verified fixed in the last ``verify.TTR_WINDOW_DAYS``,
        and how many (the health report and GET /health)."""
        now = time.time() if now is None else now
        return {**verify.ttr_stats(self.store.verified_ttrs(now - verify.TTR_WINDOW_DAYS * 86400)),
                "window_days": verify.TTR_WINDOW_DAYS}

    def import_rrd(self, snapshot, rrd_dir: str | None = None) -> dict:
        """Backfill metric history from OMV's collectd RRD files (once per start; idempotent)."""
        from omv_copilot_agent.collect.rrd_import import import_history

        try:
            return import_history(self.store, snapshot, rrd_dir or self.config()["rrd_dir"])
        except Exception as exc:  # no rrdtool module, unreadable directory: forecasts just start later
            log.warning("RRD history import failed: %s", exc)
            return {"error": str(exc)}

    # -- udev --------------------------------------------------------
    def start_watcher(self, source: str = "udev") -> bool:
        from omv_copilot_agent.collect.udev import DeviceWatcher

        self.watcher = DeviceWatcher(self.record_device_event, source=source)
        return self.watcher.start()

    def record_device_event(self, action: str, device: str, model: str | None = None, serial: str | None = None,
                            ts: float | None = None) -> lifecycle.Events:
        """A disk appeared or vanished: raise its alert now, not at the next cycle."""
        from omv_copilot_agent.alerts.rules import disk_change

        now = ts or time.time()
        with self._lock:
            self.device_events.append({"action": action, "device": device, "model": model, "serial": serial, "ts": now})
            ctx = RuleContext(self.latest(), self.config(), now, self.store.series, {}, list(self.device_events))
            events = lifecycle.apply(self.store, {disk_change.NAME: disk_change.evaluate(ctx)}, now,
                                     resolve_after=self.config()["resolve_after_clear_cycles"], reopen_within_s=0)
            self.attach_evidence(events, ctx.snapshot, [], now)
        for event, alert in events.notifications():
            self.notifier.submit(event, alert, now=now)
        return events

    def raise_condition(self, condition, now: float | None = None) -> lifecycle.Events:
        """Raise a condition found outside the rules (the database replaced at start) as an alert now."""
        now = now or time.time()
        with self._lock:
            events = lifecycle.apply(self.store, {condition.rule: [condition]}, now,
                                     resolve_after=self.config()["resolve_after_clear_cycles"], reopen_within_s=0)
            self.attach_evidence(events, self.latest(), [], now)
        for event, alert in events.notifications():
            self.notifier.submit(event, alert)
        return events

    # -- contract API ------------------------------------------------
    def list(self, state: str | None = None, severity: str | None = None, limit: int = 100, offset: int = 0):
        return self.store.list_alerts(state=state, severity=severity, limit=limit, offset=offset)

    def get(self, alert_id: int) -> dict | None:
        alert = self.store.get_alert(alert_id)
        if alert is not None:
            alert["notes"] = self.store.list_notes(alert_id)[1]
            alert["resolution"] = self.store.latest_resolutions([alert_id]).get(alert_id)
        return alert

    def acknowledge(self, alert_id: int, note: str | None = None) -> bool:
        ok = self.store.ack_alert(alert_id, note)
        if ok and note:
            self.store.add_note(note, alert_id)
        return ok

    def open_alerts(self, state: str | None = None) -> list[dict]:
        rows = self.store.list_alerts(state=state or "open", limit=10000)[1]
        return rows

    def forecasts(self) -> list[dict]:
        with self._lock:
            have = dict(self._forecasts)
        if not have and self.latest() is not None:
            have = self.compute_forecasts(self.latest(), time.time())
        return [f.to_dict() for f in sorted(have.values(), key=lambda f: f.mountpoint)]

    def policy(self, now: float | None = None) -> dict:
        """Every alert class's mode per channel and reminder, with snoozes, windows and queued digests."""
        from omv_copilot_agent.alerts.policy import CHANNELS
        from omv_copilot_agent.alerts.report import ADVICE

        now = time.time() if now is None else now
        d = self.notifier.dispatcher
        classes = []
        for rule in self.rules:
            row = {"class": rule.NAME, "advice": ADVICE.get(rule.NAME), "configured": d.class_policy(rule.NAME)}
            for sev in ("critical", "warning", "info"):
                probe = {"rule": rule.NAME, "severity": sev}
                row[sev] = {**{ch: d.mode(probe, ch) for ch in CHANNELS}, "reminder_s": d.reminder_s(probe)}
            classes.append(row)
        known = {r.NAME for r in self.rules}
        unknown = sorted(set(self.config().get("policies") or {}) - known)
        return {"classes": classes, "unknown_classes": unknown, "channels": self.notifier.kinds(), **d.status(now)}

    def health_score(self, snapshot=None) -> dict:
        snapshot = snapshot if snapshot is not None else self.latest()
        interval = float(self.settings.get_path("collect.interval_s", 60) or 60)
        return health.score(self.findings(snapshot), self.open_alerts(), snapshot, self.forecasts(),
                            rule_of=self.rule_of_finding, stale_after_s=max(3 * interval, 300))

    def test_notification(self) -> dict:
        """Send a test message on every configured channel; wait for the outcome."""
        channels = self.notifier.channels()
        if not channels:
            return {"sent": False, "channels": [], "deliveries": [], "reason": "no notification channel configured"}
        alert = {"id": 0, "rule": "test", "subject": "test", "severity": "info", "state": "firing",
                 "title": "OMV Co-Pilot test notification", "message": "If you read this, alert notifications reach you.",
                 "first_seen": time.time(), "last_seen": time.time(), "resolved_at": None}
        before = len(self.notifier.deliveries)
        self.notifier.submit("test", alert, force=True)
        self.notifier.flush(timeout=120)
        got = list(self.notifier.deliveries)[before:]
        return {"sent": all(d["ok"] for d in got) and bool(got), "channels": channels, "deliveries": got}

    def report(self, html: bool = False) -> str:
        from omv_copilot_agent.alerts import report

        return report.render(report.build(self), html=html)

    def mail_report(self) -> bool:
        from omv_copilot_agent.alerts import report

        data = report.build(self)
        subject = f"[{data['host']}] Health report: {data['health']['score']}/100, {len(data['open'])} open alert(s)"
        return self.notifier.send_report(subject, report.render(data))

    def close(self) -> None:
        """Stop the disk watcher and let go of it (it holds ``record_device_event``, a cycle back here);
        stop the notifier's worker (what it has queued is still sent, for up to 10 s: Notifier.close)."""
        watcher, self.watcher = self.watcher, None
        if watcher is not None:
            watcher.stop()
        self.notifier.close()


class _LiveConfig:
    """``()`` -> the live ``alerts`` config section; holds the settings only (no AlertService)."""

    def __init__(self, settings):
        self.settings = settings
        self._defaults: dict | None = None

    def __call__(self) -> dict:
        from omv_copilot_agent import config as config_mod

        if self._defaults is None:  # built once: defaults() walks the whole schema
            self._defaults = config_mod.defaults()["alerts"]
        base = self._defaults
        live = self.settings.get_path("alerts", {}) or {}
        cfg = {**base, **live}
        switches = self.settings.get_path("notifications", {}) or {}  # OMV settings form's two switches
        if switches.get("email"):
            cfg["email"] = True
        if switches.get("webhook_url") and not any(w.get("url") == switches["webhook_url"] for w in cfg["webhooks"] or []):
            cfg["webhooks"] = [*(cfg["webhooks"] or []), {"url": switches["webhook_url"], "format": "generic"}]
        return cfg


def _notify_context(latest: Callable[[], object]) -> dict:
    """What the Notifier needs from the newest snapshot: host name, OMV's notification settings."""
    snap = latest()
    if snap is None:
        return {}
    notifications = snap.data("omv").get("notifications") or {}
    email = notifications.get("email") or {}
    topic = next((t for t in notifications.get("topics") or [] if t.get("id") == "copilot"), None)
    return {"hostname": snap.data("system").get("hostname"), "primaryemail": email.get("primaryemail"),
            "sender": email.get("sender"),
            # OMV's System > Notification switch for the "copilot" topic (None: not on OMV / never saved)
            "copilot_topic_enabled": None if topic is None else bool(topic.get("enable"))}


__all__ = ["AlertService", "Condition"]
