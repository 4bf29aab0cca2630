"""A small publish/subscribe between the agent's concerns.

Concerns do not call into each other to say "this happened": the one that knows
publishes, the ones that care subscribe (the Agent wires them in one place). A
subscriber that fails is logged and the others still run; the publisher never
sees the error.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

log = logging.getLogger(__name__)

#: a collection cycle finished and was stored; handler(snapshot)
SNAPSHOT_COLLECTED = "snapshot_collected"
#: a pattern's diagnostics ran; handler(pattern_id, results)
DIAGNOSTIC_RAN = "diagnostic_ran"
#: the settings were saved; handler(config as a plain dict)
CONFIG_CHANGED = "config_changed"

TOPICS = (SNAPSHOT_COLLECTED, DIAGNOSTIC_RAN, CONFIG_CHANGED)


class Events:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Callable]] = {topic: [] for topic in TOPICS}
        self._lock = threading.Lock()

    def subscribe(self, topic: str, handler: Callable) -> None:
        if topic not in self._handlers:
            raise ValueError(f"unknown event topic {topic!r} (known: {', '.join(TOPICS)})")
        with self._lock:
            self._handlers[topic].append(handler)

    def publish(self, topic: str, *args) -> None:
        """Call every handler of ``topic`` in subscription order."""
        if topic not in self._handlers:
            raise ValueError(f"unknown event topic {topic!r} (known: {', '.join(TOPICS)})")
        with self._lock:
            handlers = list(self._handlers[topic])
        for handler in handlers:
            try:
                handler(*args)
            except Exception:
                log.exception("%s handler %r failed", topic, handler)
