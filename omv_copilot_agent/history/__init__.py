"""History: OMV's configuration revisions (recorded when they change, and once a day), the drift
between two revisions (:mod:`.drift`), and the admin's notes.

The Agent builds :class:`History` and subscribes it to ``events.SNAPSHOT_COLLECTED``; the
``/history`` views read the store's history queries (``store/history.py``).
"""

from __future__ import annotations

import hashlib
import json
import logging

from omv_copilot_agent.history.drift import settings_only

log = logging.getLogger(__name__)

#: the ``omv`` source's keys that make up a configuration revision
CONFIG_KEYS = ("services", "shared_folders", "smb_shares", "nfs_shares", "users", "network", "cron_jobs", "rsync_jobs",
               "notifications", "filesystems", "raid")
DAILY_S = 86400


class History:
    def __init__(self, store):
        self.store = store

    def on_snapshot(self, snapshot) -> None:
        try:
            self.save_config_revision(snapshot)
        except Exception:
            log.exception("recording the configuration revision failed")

    def save_config_revision(self, snapshot, *, daily_s: float = DAILY_S) -> int | None:
        """Store OMV's configuration when it changed, or once a day; returns the new row id."""
        omv = snapshot.data("omv") if snapshot.status("omv") in ("ok", "degraded") else {}
        config = settings_only({k: omv.get(k) for k in CONFIG_KEYS if omv.get(k) is not None})
        if not config:
            return None
        digest = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()
        last = self.store.latest_config_revision()
        if last and last["hash"] == digest and snapshot.taken_at - last["taken_at"] < daily_s:
            return None
        reason = "initial" if not last else ("changed" if last["hash"] != digest else "daily")
        return self.store.add_config_revision(snapshot.taken_at, digest, reason, config)


__all__ = ["CONFIG_KEYS", "History"]
