"""Collection: run every source in parallel with its own timeout, assemble a Snapshot.

Entry point: :class:`Collector` (``collect()`` → :class:`Snapshot`). One hung
source is cut at ``collect.source_timeout_s`` and reported ``degraded``; the
cycle still completes. Sources are the modules in :data:`MODULES`.

A source that needs another one's data of the same cycle (storage and services
need OMV's view) asks ``ctx.source("omv")``: it waits for that source, never
reads a previous cycle's leftovers.

Each source runs in its own daemon thread inside its own
:class:`runner.ProcessScope`: cutting a source at its timeout, or closing the
collector (daemon SIGTERM, end of a CLI run), kills the programs it is still
waiting on, so neither the next cycle nor process exit waits for a hung
``omv-rpc``/``smartctl`` to reach its own, longer, timeout. Daemon threads
(not a ThreadPoolExecutor, whose workers are joined at interpreter exit) mean
even a source hung in Python code cannot hold the process open.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from omv_copilot_agent import runner
from omv_copilot_agent.collect import apt, logs, network, omv, omv_files, omv_jobs, services, smart, storage, system
from omv_copilot_agent.collect.base import DEGRADED, OK, UNAVAILABLE, Degraded, SourceResult, Unavailable
from omv_copilot_agent.collect.snapshot import Snapshot

log = logging.getLogger(__name__)

#: the source modules, in snapshot order
MODULES = (system, storage, smart, services, omv, omv_files, omv_jobs, network, logs, apt)
SOURCES = tuple(m.NAME for m in MODULES)
#: how long before the cycle's cut-off a source stops waiting for another one (it still has time to finish)
WAIT_RESERVE = 0.25


@dataclass
class CollectContext:
    """What a source may use: the config, its cache across cycles, the previous snapshot, and
    ``source(name)``: another source's data of this cycle."""

    config: Any
    previous: Snapshot | None = None
    cache: dict = field(default_factory=dict)
    wait_for: Callable[[str], SourceResult | None] = lambda name: None

    def source(self, name: str) -> dict:
        """The data ``name`` collected in this cycle, after waiting for it; {} when it is disabled,
        unavailable, failed or still not done near the cycle's cut-off."""
        result = self.wait_for(name)
        if result is None or result.status not in (OK, DEGRADED) or not isinstance(result.data, dict):
            return {}
        return result.data


class CollectorClosed(RuntimeError):
    """collect() was called on, or interrupted by, a closed collector (shutdown): no snapshot."""


def run_source(module, ctx: CollectContext) -> SourceResult:
    """Run one source module and turn its outcome into a SourceResult."""
    name = module.NAME
    start = time.monotonic()
    started_at = time.time()
    try:
        data = module.collect(ctx)
        result = SourceResult(name, OK, data or {})
    except Degraded as exc:
        result = SourceResult(name, DEGRADED, exc.data, exc.reason)
    except Unavailable as exc:
        result = SourceResult(name, UNAVAILABLE, exc.data, exc.reason)
    except runner.Cancelled as exc:  # the collector gave up on this source (timeout or shutdown)
        result = SourceResult(name, DEGRADED, {}, f"cancelled: {exc}")
    except Exception as exc:  # a bug in a source must not stop the cycle
        log.exception("source %s failed", name)
        result = SourceResult(name, DEGRADED, {}, f"internal error: {exc.__class__.__name__}: {exc}")
    result.duration_s = time.monotonic() - start
    result.collected_at = started_at
    return result


@dataclass
class _Running:
    """One source's run in one cycle: its thread, scope and (once done) result."""

    module: Any
    scope: runner.ProcessScope
    done: threading.Event = field(default_factory=threading.Event)
    result: SourceResult | None = None


class Collector:
    """Runs the enabled sources in parallel; keeps per-source caches across cycles."""

    def __init__(self, config, sources: tuple | None = None):
        """``sources``: names of :data:`MODULES`, or source modules themselves (default: all)."""
        self.config = config
        disabled = set(config.get_path("collect.disabled_sources", []) or [])
        by_name = {m.NAME: m for m in MODULES}
        chosen = [by_name[s] if isinstance(s, str) else s for s in (sources or MODULES)]
        self.modules = [m for m in chosen if m.NAME not in disabled]
        self.cache: dict = {}
        self.previous: Snapshot | None = None
        self.closed = False
        # RLock: close() may run in a signal handler that interrupted collect() in the same thread.
        self._cond = threading.Condition(threading.RLock())
        self._running: dict[str, _Running] = {}

    def collect(self) -> Snapshot:
        """One cycle: every source in parallel, each cut at ``collect.source_timeout_s``.

        Raises :class:`CollectorClosed` when the collector is (or gets) closed,
        so a shutdown never stores a snapshot of sources it killed.
        """
        if self.closed:
            raise CollectorClosed("the collector is closed")
        timeout = float(self.config.get_path("collect.source_timeout_s", 20))
        start = time.monotonic()
        taken_at = time.time()
        results: dict[str, SourceResult] = {}
        started: list[_Running] = []

        def wait_for(name: str) -> SourceResult | None:
            run = next((r for r in started if r.module.NAME == name), None)
            if run is None:
                return None
            run.done.wait(max(0.0, start + timeout * (1 - WAIT_RESERVE) - time.monotonic()))
            return run.result if run.done.is_set() else None

        ctx = CollectContext(self.config, self.previous, self.cache, wait_for)
        for module in self.modules:
            previous = self._running.get(module.NAME)
            if previous is not None and not previous.done.is_set():
                results[module.NAME] = SourceResult(module.NAME, DEGRADED, {}, "still running from the previous cycle (hung?)", 0.0, taken_at)
                continue
            run = _Running(module, runner.ProcessScope(f"source {module.NAME}"))
            self._running[module.NAME] = run
            started.append(run)
        for run in started:  # all registered first: a source may wait for one listed after it
            threading.Thread(target=self._run, args=(run, ctx), name=f"collect-{run.module.NAME}", daemon=True).start()
        with self._cond:
            self._cond.wait_for(lambda: self.closed or all(r.done.is_set() for r in started), timeout=timeout)
        if self.closed:
            raise CollectorClosed("the collector was closed during a cycle")
        for run in started:
            if run.done.is_set() and run.result is not None:
                results[run.module.NAME] = run.result
            else:
                run.scope.cancel()  # kill what it waits on; its thread then ends on its own
                results[run.module.NAME] = SourceResult(run.module.NAME, DEGRADED, {}, f"timed out after {timeout:g} s", timeout, taken_at)
        ordered = {m.NAME: results[m.NAME] for m in self.modules if m.NAME in results}
        snapshot = Snapshot(taken_at=taken_at, sources=ordered, duration_s=time.monotonic() - start)
        self.previous = snapshot
        return snapshot

    def _run(self, run: _Running, ctx: CollectContext) -> None:
        try:
            with runner.process_scope(run.scope):
                run.result = run_source(run.module, ctx)
        finally:
            run.done.set()
            with self._cond:
                self._cond.notify_all()

    def running_processes(self) -> int:
        """Programs the sources are still waiting on (0 once closed)."""
        return sum(r.scope.running() for r in list(self._running.values()))

    def close(self) -> None:
        """Stop: kill every program a source still waits on and wake a waiting collect().

        Safe to call twice and from a signal handler.
        """
        self.closed = True
        for run in list(self._running.values()):
            run.scope.cancel()
        with self._cond:
            self._cond.notify_all()


__all__ = ["Collector", "CollectorClosed", "CollectContext", "Snapshot", "SourceResult", "Degraded", "Unavailable", "SOURCES", "OK", "DEGRADED", "UNAVAILABLE"]
