"""What the daemon writes to its data dir, and when: little and seldom, for boot disks on flash.

Writing every cycle (a snapshot row plus a commit of metric samples, ~71 MB a day with WAL
pages) wears out the USB sticks and SD cards OMV boxes often boot from. The API serves the
latest snapshot from memory, so the store only needs:

* metric samples, buffered in memory and written in one transaction every
  ``store.flush_interval_s`` (0 = every cycle);
* a snapshot when its content changed in substance (see :func:`substance`) or an hour after
  the last one stored, written in that same transaction.

* open alerts' ``last_seen``/``count`` while nothing else about them changes, in that same
  transaction (alerts are written at once when they open, change or close).

On a power cut at most ``store.flush_interval_s`` of samples, snapshots and open alerts'
``last_seen``/``count`` is lost. A clean stop flushes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time

from omv_copilot_agent.collect import Snapshot
from omv_copilot_agent.store import StoreError

log = logging.getLogger(__name__)

SNAPSHOT_EVERY_S = 3600.0
#: keys whose values are measurements kept as metric samples, clocks, or counters: not "substance".
#: ``processes`` (the system source's top-5 rankings, re-read every 5 min) is a measurement too: with
#: it, every 5-minute re-ranking stored a snapshot row, so nearly every flush carried one.
VOLATILE = frozenset({"taken_at", "duration_s", "collected_at", "cycle_at", "checked_at", "read_at", "uptime_s", "lists_age_s",
                      "counters", "cpu", "memory", "swap", "temperatures", "used", "free", "available", "live_at",
                      "processes"})
#: values compared in steps (a filesystem 1 % fuller, a disk 1 °C warmer is not a new state)
STEPS = {"percent": 5, "temperature_c": 5}


def _strip(node):
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in VOLATILE:
                continue
            if key in STEPS and isinstance(value, (int, float)):
                value = int(value // STEPS[key])
            out[key] = _strip(value)
        return out
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def substance(snapshot: Snapshot) -> str:
    """A digest of what a snapshot says about the box, without its clocks and measurements."""
    body = {name: {"status": r.status, "reason": r.reason, "data": _strip(r.data)} for name, r in snapshot.sources.items()}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


class WriteBehind:
    """Buffers a cycle's writes and commits them together every ``flush_interval_s``."""

    def __init__(self, store, flush_interval_s: float, *, last: Snapshot | None = None, clock=time.time):
        self.store = store
        self.flush_interval_s = float(flush_interval_s)
        self.clock = clock
        self.pending: Snapshot | None = None
        self.stored_digest = substance(last) if last is not None else None
        self.stored_at = last.taken_at if last is not None else 0.0
        self.flushed_at = 0.0  # the first cycle of a process is written at once
        self.commits = 0
        store.buffer_metrics()

    def add(self, snapshot: Snapshot, samples) -> None:
        """Take one cycle's snapshot and samples; flush when the interval is up."""
        self.store.add_metrics(snapshot.taken_at, samples)
        digest = substance(snapshot)
        since = snapshot.taken_at - self.stored_at
        # a clock that jumped backwards (since < 0) would otherwise hold every write until it caught up
        if digest != self.stored_digest or since >= SNAPSHOT_EVERY_S or since < 0:
            self.pending = snapshot
            self.stored_digest, self.stored_at = digest, snapshot.taken_at
        waited = self.clock() - self.flushed_at
        if waited >= self.flush_interval_s or waited < 0:
            self.flush()

    def flush(self) -> None:
        """One transaction: the pending snapshot (if any) and every buffered sample.

        On failure the samples stay buffered for the next attempt; the snapshot is retried too.
        """
        self.flushed_at = self.clock()
        if self.pending is None and not self.store.has_buffered_writes():
            return
        self.store.flush_buffered(self.pending)
        self.pending = None
        self.commits += 1

    def close(self) -> None:
        try:
            self.flush()
        except StoreError as exc:
            log.error("could not write the last samples: %s", exc)
