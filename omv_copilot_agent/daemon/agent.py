"""The Agent: the composition root that owns config, store, collector, the latest snapshot and the services.

The daemon builds one Agent; the API reads from it; the CLI builds one
in-process when no daemon answers. Every service is built here with its
dependencies, and every event subscription is made here (``events.py``), so
this file is where to look for "who reacts to what".
"""

from __future__ import annotations

import logging
import threading
import time
import weakref

from omv_copilot_agent import __version__, events, probes
from omv_copilot_agent.alerts import AlertService
from omv_copilot_agent.assist import AssistService
from omv_copilot_agent.collect import Collector, Snapshot
from omv_copilot_agent.daemon.persist import WriteBehind
from omv_copilot_agent.collect.samples import metric_samples
from omv_copilot_agent.events import Events
from omv_copilot_agent.history import History
from omv_copilot_agent.knowledge import KnowledgeBase
from omv_copilot_agent.store import Store, StoreError, is_corruption

log = logging.getLogger(__name__)

SECRET_WORDS = ("key", "token", "password", "secret")


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
        self._cycle_lock = threading.Lock()
        self.events = Events()
        self.knowledge = KnowledgeBase.from_config(config, store=self.store, events=self.events)
        latest = _latest_of(self)
        self.alerts = AlertService(config, self.store, latest, self.knowledge)
        self.assist = AssistService(config, self.store, self.knowledge, latest, probes.recognise)
        self.history = History(self.store)
        self.events.subscribe(events.SNAPSHOT_COLLECTED, self.alerts.on_snapshot)
        self.events.subscribe(events.SNAPSHOT_COLLECTED, self.history.on_snapshot)
        self.events.subscribe(events.SNAPSHOT_COLLECTED, self.assist.on_snapshot)
        self.events.subscribe(events.DIAGNOSTIC_RAN, self.assist.record_diagnostics)
        self.events.subscribe(events.CONFIG_CHANGED, self.knowledge.apply_config)
        if self.store.recovered:
            self._report_recovery(self.store.recovered)
        try:
            self.snapshot = self.store.latest_snapshot()
        except StoreError as exc:
            log.warning("could not read the last snapshot: %s", exc)
        if self.collector.previous is None:
            # sources start from the last stored readings (a sleeping disk's SMART, for one)
            self.collector.previous = self.snapshot
        self.persist = WriteBehind(self.store, float(config.get_path("store.flush_interval_s", 900)), last=self.snapshot)

    def _report_recovery(self, recovered: dict) -> None:
        """The store replaced a corrupted database at start: say so where the admin looks (an alert)."""
        from omv_copilot_agent.alerts.rules import Condition

        condition = Condition("database_recovered", "copilot.db", "warning", "The Co-Pilot database was corrupted and replaced",
                          f"The database could not be used ({recovered['reason']}); it was moved to {recovered['moved_to']} "
                          "and a fresh one was started. Alerts, history and feedback before now are in that file.",
                          dict(recovered))
        try:
            self.alerts.raise_condition(condition)
        except Exception:  # the alert is a courtesy; the daemon must start regardless
            log.exception("could not raise the database_recovered alert")

    def run_cycle(self) -> Snapshot:
        """Collect, store, and publish SNAPSHOT_COLLECTED; a store failure is logged, not fatal."""
        with self._cycle_lock:
            snapshot = self.collector.collect()
            self.snapshot = snapshot
            self.cycles += 1
            try:
                self.persist.add(snapshot, metric_samples(snapshot))
                self.last_store_error = None
            except StoreError as exc:
                self.last_store_error = str(exc)
                log.error("%s", exc)
                if is_corruption(str(exc)):
                    self.store_corrupt = str(exc)
            self.events.publish(events.SNAPSHOT_COLLECTED, snapshot)
            return snapshot

    def prune(self) -> None:
        try:
            # no flush first: buffered samples are minutes old, retention and rollups cut at days; an
            # extra hourly commit (often of nothing but an alert's last_seen) was ~10 pages each
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
                # a failed cycle write, or any other write (an API call) since the last one that worked:
                # with buffered writes the cycle alone may not touch the disk for many minutes
                "store": {"path": str(self.store.path), "error": self.last_store_error or self.store.last_write_error}}

    def public_config(self) -> dict:
        return redact_config(dict(self.config))

    def close(self) -> None:
        """Stop collecting (kills programs a hung source waits on), then the concerns, then the store;
        the knowledge base lets go of its patterns (their file closes once no reader holds them)."""
        self.collector.close()
        for service in (self.assist, self.alerts, self.knowledge):
            try:
                service.close()
            except Exception:
                log.exception("closing %s failed", type(service).__name__)
        self.persist.close()
        self.store.close()


def _latest_of(agent: Agent):
    """``agent.snapshot`` at each call, holding ``agent`` weakly (None once it is gone).

    Why: the services keep this getter, and a strong reference back (``lambda: self.snapshot``)
    put the Agent in reference cycles (Agent -> its Events -> a service's handler -> the service ->
    the getter -> Agent) that only the cycle collector frees: after the daemon's gc.freeze, never.
    """
    ref = weakref.ref(agent)

    def latest() -> Snapshot | None:
        owner = ref()
        return owner.snapshot if owner is not None else None

    return latest
