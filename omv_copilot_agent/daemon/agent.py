"""The Agent: the composition root that owns config, store, collector and the latest snapshot.

The daemon builds one Agent; the API reads from it; the CLI builds one
in-process when no daemon answers. Later concerns (knowledge, alerts,
assistant) hang off it as attributes created on first use, and subscribe to
``on_snapshot`` to react to every collection cycle.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from omv_copilot_agent import __version__
from omv_copilot_agent.collect import Collector, Snapshot
from omv_copilot_agent.store import Store, StoreError, is_corruption

log = logging.getLogger(__name__)

SECRET_WORDS = ("key", "token", "password", "secret")

#: Concerns attached to the Agent in this order (later ones may use earlier ones):
#: module ``omv_copilot_agent.<name>`` exposing ``attach(agent) -> service``,
#: stored as ``agent.<name>``. A concern not yet present is skipped.
EXTENSIONS = ("knowledge", "alerts", "assist")


def redact_config(node, parent_key: str = ""):
    """A copy of the config with every secret-looking value replaced by '***'."""
    if isinstance(node, dict):
        return {k: redact_config(v, k) for k, v in node.items()}
    if isinstance(node, list):
        return [redact_config(v, parent_key) for v in node]
    key = parent_key.lower()
    if node and any(w in key for w in SECRET_WORDS) and not key.endswith(("_file", "file")):
        return "***"
    return node


class Agent:
    def __init__(self, config, *, store: Store | None = None, collector: Collector | None = None):
        self.config = config
        self.store = store if store is not None else Store(config.data_dir)
        self.collector = collector if collector is not None else Collector(config)
        self.started_at = time.time()
        self.snapshot: Snapshot | None = None
        self.cycles = 0
        self.last_store_error: str | None = None
        #: set when the database turned out corrupted while running: the daemon exits so that the
        #: restart's start-up check moves it aside (systemd restarts it; see debian/*.service)
        self.store_corrupt: str | None = None
        self.on_snapshot: list[Callable[[Snapshot], None]] = []
        self._cycle_lock = threading.Lock()
        self.config_listeners: list[Callable[[dict], None]] = []
        for name in EXTENSIONS:
            setattr(self, name, self._attach(name))
        if self.store.recovered:
            self._report_recovery(self.store.recovered)
        try:
            self.snapshot = self.store.latest_snapshot()
        except StoreError as exc:
            log.warning("could not read the last snapshot: %s", exc)

    def _report_recovery(self, recovered: dict) -> None:
        """The store replaced a corrupted database at start: say so where the admin looks (an alert)."""
        from omv_copilot_agent.alerts.rules import Finding

        finding = Finding("database_recovered", "copilot.db", "warning", "The Co-Pilot database was corrupted and replaced",
                          f"The database could not be used ({recovered['reason']}); it was moved to {recovered['moved_to']} "
                          "and a fresh one was started. Alerts, history and feedback before now are in that file.",
                          dict(recovered))
        alerts = getattr(self, "alerts", None)
        try:
            if alerts is not None:
                alerts.raise_finding(finding)
        except Exception:  # the alert is a courtesy; the daemon must start regardless
            log.exception("could not raise the database_recovered alert")

    def _attach(self, name: str):
        import importlib

        try:
            module = importlib.import_module(f"omv_copilot_agent.{name}")
        except ImportError:
            return None
        attach = getattr(module, "attach", None)
        return attach(self) if attach else None

    def run_cycle(self) -> Snapshot:
        """Collect, store, and notify listeners; a store failure is logged, not fatal."""
        with self._cycle_lock:
            snapshot = self.collector.collect()
            self.snapshot = snapshot
            self.cycles += 1
            try:
                self.store.save_snapshot(snapshot)
                from omv_copilot_agent.daemon.summary import metric_samples

                self.store.add_metrics(snapshot.taken_at, metric_samples(snapshot))
                self.last_store_error = None
            except StoreError as exc:
                self.last_store_error = str(exc)
                log.error("%s", exc)
                if is_corruption(str(exc)):
                    self.store_corrupt = str(exc)
            for listener in list(self.on_snapshot):
                try:
                    listener(snapshot)
                except Exception:
                    log.exception("snapshot listener %r failed", listener)
            return snapshot

    def prune(self) -> None:
        try:
            self.store.prune(snapshot_days=int(self.config.get_path("collect.snapshot_retention_days", 7)),
                             history_days=int(self.config.get_path("alerts.history_retention_days", 365)))
        except StoreError as exc:
            self.last_store_error = str(exc)
            log.error("retention failed: %s", exc)
        damage = self.store.damage()  # hourly with retention: a file damaged under us is noticed
        if damage:
            self.store_corrupt = damage

    def describe(self) -> dict:
        """The agent's own state for /system/status."""
        return {"version": __version__, "started_at": self.started_at, "uptime_s": round(time.time() - self.started_at, 1),
                "cycles": self.cycles, "interval_s": self.config.get_path("collect.interval_s"),
                "store": {"path": str(self.store.path), "error": self.last_store_error}}

    def public_config(self) -> dict:
        return redact_config(dict(self.config))

    def close(self) -> None:
        """Stop collecting (kills programs a hung source waits on), then the concerns, then the store."""
        self.collector.close()
        for name in reversed(EXTENSIONS):
            close = getattr(getattr(self, name, None), "close", None)
            if callable(close):
                try:
                    close()
                except Exception:
                    log.exception("closing %s failed", name)
        self.store.close()
