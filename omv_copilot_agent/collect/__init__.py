"""Collection: run every source in parallel with its own timeout, assemble a Snapshot.

Entry point: :class:`Collector` (``collect()`` → :class:`Snapshot`). One hung
source is cut at ``collect.source_timeout_s`` and reported ``degraded``; the
cycle still completes. Sources are the modules named in :data:`SOURCES`.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor, TimeoutError as FutureTimeout, wait
from dataclasses import dataclass, field
from typing import Any

from omv_copilot_agent.collect.base import DEGRADED, OK, UNAVAILABLE, Degraded, SourceResult, Unavailable
from omv_copilot_agent.collect.snapshot import Snapshot

log = logging.getLogger(__name__)

SOURCES = ("system", "storage", "smart", "services", "omv", "network", "logs", "apt")


@dataclass
class CollectContext:
    """What a source may use: the config, per-run cache, and the previous snapshot."""

    config: Any
    previous: Snapshot | None = None
    cache: dict = field(default_factory=dict)


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
    except Exception as exc:  # a bug in a source must not stop the cycle
        log.exception("source %s failed", name)
        result = SourceResult(name, DEGRADED, {}, f"internal error: {exc.__class__.__name__}: {exc}")
    result.duration_s = time.monotonic() - start
    result.collected_at = started_at
    return result


class Collector:
    """Runs the enabled sources in parallel; keeps per-source caches across cycles."""

    def __init__(self, config, sources: tuple[str, ...] | None = None):
        self.config = config
        disabled = set(config.get_path("collect.disabled_sources", []) or [])
        names = [n for n in (sources or SOURCES) if n not in disabled]
        self.modules = [importlib.import_module(f"omv_copilot_agent.collect.{n}") for n in names]
        self.cache: dict = {}
        self.previous: Snapshot | None = None
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(self.modules)), thread_name_prefix="collect")
        self._busy: dict[str, threading.Event] = {}

    def collect(self) -> Snapshot:
        timeout = float(self.config.get_path("collect.source_timeout_s", 20))
        ctx = CollectContext(self.config, self.previous, self.cache)
        start = time.monotonic()
        taken_at = time.time()
        futures = {}
        results: dict[str, SourceResult] = {}
        for module in self.modules:
            if self._busy.get(module.NAME) and not self._busy[module.NAME].is_set():
                results[module.NAME] = SourceResult(module.NAME, DEGRADED, {}, "still running from the previous cycle (hung?)", 0.0, taken_at)
                continue
            done = threading.Event()
            self._busy[module.NAME] = done
            futures[self._pool.submit(self._run, module, ctx, done)] = module
        finished, pending = wait(futures, timeout=timeout)
        for future in finished:
            result = future.result()
            results[result.name] = result
        for future in pending:
            module = futures[future]
            results[module.NAME] = SourceResult(module.NAME, DEGRADED, {}, f"timed out after {timeout:g} s", timeout, taken_at)
        ordered = {m.NAME: results[m.NAME] for m in self.modules if m.NAME in results}
        snapshot = Snapshot(taken_at=taken_at, sources=ordered, duration_s=time.monotonic() - start)
        self.previous = snapshot
        return snapshot

    @staticmethod
    def _run(module, ctx, done: threading.Event) -> SourceResult:
        try:
            return run_source(module, ctx)
        finally:
            done.set()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


__all__ = ["Collector", "CollectContext", "Snapshot", "SourceResult", "Degraded", "Unavailable", "SOURCES", "OK", "DEGRADED", "UNAVAILABLE"]
