"""Who hears about an alert, when: a delivery policy per alert class and channel.

An *alert class* is a rule name (``fs_full``, ``smart_attributes`` …); TrueNAS
does the same with its alert classes. Each class has, per channel (``mail``,
``webhook``; Alertmanager only ``immediately``/``never`` since it groups by
itself), one mode:

* ``immediately`` — one message per event (new, severity change, resolve, reminder);
* ``hourly`` / ``daily`` — events wait in a digest that goes out at the top of
  the hour / at ``alerts.daily_digest_hour`` (local time);
* ``never``.

Unset classes follow ``alerts.default_policy`` by the alert's severity (critical
immediately, warning hourly, info daily). On top of that:

* a **snooze** (one alert's rule+subject, or a whole class) drops notifications
  until it ends; a rise in severity breaks through;
* a **maintenance window** holds every notification while alerts keep being
  recorded, and sends what was held as one digest when it ends;
* an unchanged condition is never announced again, except as a **reminder**
  every ``reminder_s`` (per severity or class; acknowledged alerts get none);
* a **flapping** condition (the same class and subject raised again within
  ``flap_window_s`` of its last announcement, or changing severity a third time
  within it) goes to the daily digest, so a service that crashes every few hours
  or a disk hovering at the critical threshold is one mail, then one digest a day;
* a **flood guard** allows ``max_notifications_per_hour`` single messages per
  channel; the rest wait in a digest that says what was held back.

Everything here runs on the clock it is given (``now``), so the backtest and the
tests replay months in seconds. The state (queues, snoozes, windows) is a JSON
document saved after each change, so a restart loses nothing.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)

MODES = ("immediately", "hourly", "daily", "never")
CHANNELS = ("mail", "webhook")  # channels that take messages; Alertmanager takes state (pushes())
DEFAULT_POLICY = {"critical": "immediately", "warning": "hourly", "info": "daily"}
HOUR = 3600.0
QUEUE_MAX = 500  # items per digest; beyond that only a count is kept


@dataclass
class Message:
    """One outgoing notification on one channel: a single event or a digest of items."""

    channel: str  # mail | webhook
    kind: str  # single | digest
    event: str | None = None
    alert: dict | None = None
    items: list[dict] = field(default_factory=list)  # digest: [{"event", "alert", "ts"}]
    title: str | None = None  # digest: what it is ("Hourly digest", "Held during maintenance …")
    note: str | None = None  # flood guard / dropped-items remark shown with the message
    now: float | None = None


def _next_local_hour(now: float, hour: int) -> float:
    lt = time.localtime(now)
    due = time.mktime((lt.tm_year, lt.tm_mon, lt.tm_mday, hour, 0, 0, 0, 0, -1))
    return due if due > now else time.mktime((lt.tm_year, lt.tm_mon, lt.tm_mday + 1, hour, 0, 0, 0, 0, -1))


class Dispatcher:
    """Routes lifecycle events to messages by policy; ``config()`` returns the live ``alerts`` section."""

    def __init__(self, config: Callable[[], dict], state_path: Path | None = None):
        self._config = config
        self._path = state_path
        self._lock = threading.RLock()
        self.state = self._load()
        self._saved = json.dumps(self.state, default=str)

    # -- policy --------------------------------------------------------
    def class_policy(self, rule: str) -> dict | str | None:
        return (self._config().get("policies") or {}).get(rule)

    def mode(self, alert: dict, channel: str) -> str:
        """The alert's mode on ``channel``: its class's setting, else the default for its severity."""
        pol = self.class_policy(alert["rule"])
        if isinstance(pol, str):
            return pol
        if isinstance(pol, dict) and pol.get(channel):
            return pol[channel]
        defaults = {**DEFAULT_POLICY, **(self._config().get("default_policy") or {})}
        return defaults.get(alert["severity"], "daily")

    def reminder_s(self, alert: dict) -> float:
        pol = self.class_policy(alert["rule"])
        if isinstance(pol, dict) and pol.get("reminder_s") is not None:
            return float(pol["reminder_s"])
        return float((self._config().get("reminder_s") or {}).get(alert["severity"], 0) or 0)

    def pushes(self, alert: dict, now: float) -> bool:
        """Whether Alertmanager gets this alert's state (not ``never``, not snoozed, no maintenance)."""
        pol = self.class_policy(alert["rule"])
        mode = pol if isinstance(pol, str) else (pol or {}).get("alertmanager", "immediately")
        return mode != "never" and self.snoozed(alert, now) is None and self.maintenance_now(now) is None

    # -- snoozes and maintenance ------------------------------------------
    def snooze(self, rule: str, subject: str | None, until: float, now: float, reason: str | None = None) -> dict:
        with self._lock:
            self.state["next_id"] += 1
            item = {"id": self.state["next_id"], "rule": rule, "subject": subject, "from": now, "until": until, "reason": reason}
            self.state["snoozes"].append(item)
            self._save()
            return item

    def unsnooze(self, snooze_id: int) -> bool:
        with self._lock:
            before = len(self.state["snoozes"])
            self.state["snoozes"] = [s for s in self.state["snoozes"] if s["id"] != snooze_id]
            self._save()
            return len(self.state["snoozes"]) < before

    def snoozed(self, alert: dict, now: float) -> dict | None:
        return next((s for s in self.state["snoozes"] if s["rule"] == alert["rule"] and s["from"] <= now < s["until"]
                     and s["subject"] in (None, str(alert["subject"]))), None)

    def add_maintenance(self, start: float, end: float, reason: str | None = None) -> dict:
        with self._lock:
            self.state["next_id"] += 1
            item = {"id": self.state["next_id"], "start": start, "end": end, "reason": reason}
            self.state["maintenance"].append(item)
            self._save()
            return item

    def end_maintenance(self, window_id: int, now: float) -> bool:
        """End a window now (its held notifications go out at the next tick); a planned one is cancelled."""
        with self._lock:
            for w in self.state["maintenance"]:
                if w["id"] == window_id and w["end"] > now:
                    if w["start"] >= now:
                        self.state["maintenance"].remove(w)
                    else:
                        w["end"] = now
                    self._save()
                    return True
            return False

    def maintenance_now(self, now: float) -> dict | None:
        return next((w for w in self.state["maintenance"] if w["start"] <= now < w["end"]), None)

    # -- routing ---------------------------------------------------------
    def submit(self, event: str, alert: dict, now: float, channels: list[str]) -> list[Message]:
        """Messages to send now for one lifecycle event; the rest is queued, held or dropped by policy."""
        with self._lock:
            try:
                return self._route(event, alert, now, channels)
            finally:
                self._save()

    def _route(self, event: str, alert: dict, now: float, channels: list[str]) -> list[Message]:
        item = {"event": event, "alert": alert, "ts": now}
        key = str(alert["id"])
        if event == "resolved":
            self.state["last_notified"].pop(key, None)
        else:
            self.state["last_notified"][key] = now  # counts for reminders even when held or snoozed
        snooze = self.snoozed(alert, now)
        if snooze is not None and event != "escalated":
            self._count("snoozed")
            return []
        window = self.maintenance_now(now)
        if window is not None:
            if event != "reminder":
                self._append(self.state["held"], item)
            return []
        flapping = self._flapping(event, alert, now)
        out = []
        for channel in channels:
            mode = self.mode(alert, channel)
            if mode == "never":
                continue
            if flapping and mode in ("immediately", "hourly"):
                mode = "daily"
            if mode != "immediately":
                self._enqueue(f"{channel}:{mode}", item, self._due(mode, now))
                continue
            sent = self._recent_sends(channel, now)
            cap = int(self._config().get("max_notifications_per_hour") or 0)
            if cap and len(sent) >= cap:
                self._enqueue(f"{channel}:flood", item, sent[0] + HOUR)
                continue
            sent.append(now)
            note = None
            if cap and len(sent) == cap:
                note = (f"This is notification {cap} of the {cap} allowed per hour on this channel; further ones are held "
                        f"and sent together at {time.strftime('%H:%M', time.localtime(sent[0] + HOUR))}.")
            out.append(Message(channel, "single", event, alert, note=note, now=now))
        return out

    def _flapping(self, event: str, alert: dict, now: float) -> bool:
        """Whether this event belongs to a flapping condition (then it waits for the daily digest).

        Flapping: raised again within ``flap_window_s`` of its last announcement, or a third
        severity change within that time (a disk hovering at 95 %).
        """
        key, ids = f"{alert['rule']}\x00{alert['subject']}", self.state["flapping"]
        window = float(self._config().get("flap_window_s", 86400))
        if event in ("escalated", "deescalated"):  # up and back down is news; a third change that soon is not
            recent = [t for t in self.state["changed"].get(str(alert["id"]), []) if now - t < window]
            self.state["changed"][str(alert["id"])] = (recent + [now])[-2:]
            if len(recent) >= 2:
                return True
        if event == "new":
            last = self.state["announced"].get(key)
            self.state["announced"][key] = now
            if last is not None and now - last < window:
                ids.append(alert["id"])
        flapping = alert["id"] in ids
        if flapping and event == "resolved":
            ids.remove(alert["id"])
        return flapping

    def tick(self, now: float, open_alerts: list[dict], channels: list[str]) -> list[Message]:
        """Due digests, reminders and the release of a finished maintenance window."""
        with self._lock:
            out = []
            if self.state["held"] and self.maintenance_now(now) is None:
                window = max((w for w in self.state["maintenance"] if w["end"] <= now), key=lambda w: w["end"], default=None)
                title = "Held during maintenance" + (f" ({window['reason']})" if window and window.get("reason") else "")
                for channel in channels:
                    items = [i for i in self.state["held"] if self.mode(i["alert"], channel) != "never"]
                    if items:
                        out.append(Message(channel, "digest", items=items, title=title, now=now))
                self.state["held"] = []
            for alert in open_alerts:
                every = self.reminder_s(alert)
                last = self.state["last_notified"].get(str(alert["id"]))
                if alert.get("state") != "firing" or every <= 0:
                    continue
                if last is None:  # first seen since start: count from now, not from the alert's birth
                    self.state["last_notified"][str(alert["id"])] = now
                elif now - last >= every:
                    out += self._route("reminder", alert, now, channels)
            for key in sorted(self.state["queues"]):
                queue = self.state["queues"][key]
                if now < queue["due"]:
                    continue
                channel, mode = key.split(":", 1)
                del self.state["queues"][key]
                if channel not in channels:
                    continue
                title = {"hourly": "Hourly digest", "daily": "Daily digest"}.get(mode, "Held back by the flood guard")
                note = (f"The flood guard held these {len(queue['items'])} notification(s) back: more than "
                        f"{self._config().get('max_notifications_per_hour')} per hour.") if mode == "flood" else None
                if queue.get("dropped"):
                    note = (note + " " if note else "") + f"{queue['dropped']} older item(s) were dropped from this digest."
                out.append(Message(channel, "digest", items=queue["items"], title=title, note=note, now=now))
            self.state["snoozes"] = [s for s in self.state["snoozes"] if s["until"] > now]
            self.state["maintenance"] = [w for w in self.state["maintenance"] if w["end"] > now or self.state["held"]]
            window = float(self._config().get("flap_window_s", 86400))
            self.state["announced"] = {k: t for k, t in self.state["announced"].items() if now - t < window}
            open_ids = {str(a["id"]) for a in open_alerts}
            self.state["flapping"] = [i for i in self.state["flapping"] if str(i) in open_ids]
            self.state["changed"] = {k: t for k, t in self.state["changed"].items() if k in open_ids}
            self.state["last_notified"] = {k: v for k, v in self.state["last_notified"].items() if k in open_ids}
            self._save()
            return out

    # -- status ------------------------------------------------------------
    def status(self, now: float) -> dict:
        with self._lock:
            return {"snoozes": [dict(s) for s in self.state["snoozes"] if s["until"] > now],
                    "maintenance": [dict(w) for w in self.state["maintenance"] if w["end"] > now],
                    "in_maintenance": self.maintenance_now(now) is not None,
                    "held": len(self.state["held"]),
                    "queued": {k: {"items": len(q["items"]), "due": q["due"]} for k, q in self.state["queues"].items()},
                    "counters": dict(self.state["counters"])}

    # -- internals -----------------------------------------------------------
    def _due(self, mode: str, now: float) -> float:
        if mode == "hourly":
            return (now // HOUR + 1) * HOUR
        return _next_local_hour(now, int(self._config().get("daily_digest_hour", 8)))

    def _enqueue(self, key: str, item: dict, due: float) -> None:
        queue = self.state["queues"].setdefault(key, {"due": due, "items": [], "dropped": 0})
        if self._append(queue["items"], item):
            queue["dropped"] += 1

    def _append(self, items: list, item: dict) -> bool:
        """Append; True when the oldest had to go (the list is capped)."""
        items.append(item)
        if len(items) > QUEUE_MAX:
            del items[0]
            return True
        return False

    def _recent_sends(self, channel: str, now: float) -> list[float]:
        sent = [t for t in self.state["sent"].get(channel, []) if now - t < HOUR]
        self.state["sent"][channel] = sent
        return sent

    def _count(self, name: str) -> None:
        self.state["counters"][name] = self.state["counters"].get(name, 0) + 1

    def _load(self) -> dict:
        state = {"next_id": 0, "snoozes": [], "maintenance": [], "held": [], "queues": {}, "sent": {},
                 "last_notified": {}, "counters": {}, "announced": {}, "flapping": [], "changed": {}}
        if self._path is not None and self._path.exists():
            try:
                saved = json.loads(self._path.read_text(encoding="utf-8"))
                state.update({k: v for k, v in saved.items() if k in state and isinstance(v, type(state[k]))})
            except (OSError, ValueError) as exc:
                log.warning("notification state %s unreadable, starting empty: %s", self._path, exc)
        return state

    def _save(self) -> None:
        """Write the state when it changed (a USB boot stick must not be written every cycle)."""
        if self._path is None or not self._path.parent.is_dir():  # no data dir (a scratch CLI run): memory only
            return
        text = json.dumps(self.state, default=str)
        if text == self._saved:
            return
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(prefix=".notify-", dir=str(self._path.parent))
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, self._path)
            self._saved = text
        except OSError as exc:  # a full disk must not stop alerting
            log.warning("cannot save notification state to %s: %s", self._path, exc)
            if tmp:
                Path(tmp).unlink(missing_ok=True)
