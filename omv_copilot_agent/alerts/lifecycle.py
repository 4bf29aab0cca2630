"""Alert lifecycle: firing -> acknowledged -> resolved, one row per (rule, subject) episode.

* dedup: a condition that holds again updates its open alert (last_seen, count);
* flap damping: an alert resolves only after ``resolve_after`` clear cycles in a
  row, and a condition that returns within ``reopen_within_s`` of its resolve
  reopens the old alert instead of opening (and announcing) a new one;
* a rule that could not evaluate (``None``) leaves its alerts alone.

``apply`` returns the events worth telling a human about: new, escalated, resolved.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from omv_copilot_agent.alerts.rules import SEVERITIES, Condition


@dataclass
class Events:
    new: list[dict] = field(default_factory=list)
    escalated: list[dict] = field(default_factory=list)
    resolved: list[dict] = field(default_factory=list)
    updated: int = 0
    reopened: int = 0

    def notifications(self) -> list[tuple[str, dict]]:
        return [("new", a) for a in self.new] + [("escalated", a) for a in self.escalated] + [("resolved", a) for a in self.resolved]


def apply(store, results: dict[str, list[Condition] | None], now: float, *, resolve_after: int = 2,
          reopen_within_s: float = 900) -> Events:
    events = Events()
    open_rows = {(r["rule"], r["subject"]): r for r in store.open_alert_rows()}
    for rule, findings in results.items():
        if findings is None:
            continue
        seen = set()
        for f in findings:
            key = (f.rule, f.subject)
            if key in seen:
                continue
            seen.add(key)
            data = f.to_dict()
            row = open_rows.get(key)
            if row is not None:
                store.touch_alert(row["id"], data, now)
                events.updated += 1
                if SEVERITIES.index(f.severity) > SEVERITIES.index(row["severity"]):
                    events.escalated.append(store.get_alert(row["id"]))
                continue
            old = store.recently_resolved(f.rule, f.subject, now - reopen_within_s) if reopen_within_s else None
            if old is not None:
                store.reopen_alert(old["id"], data, now)
                events.reopened += 1
                continue
            events.new.append(store.get_alert(store.insert_alert(data, now)))
        for key, row in open_rows.items():
            if key[0] != rule or key in seen:
                continue
            if store.mark_clear(row["id"]) >= resolve_after:
                store.resolve_alert(row["id"], now)
                events.resolved.append(store.get_alert(row["id"]))
    return events
