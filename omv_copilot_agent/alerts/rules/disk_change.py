"""Disks added or removed while the daemon runs (pyudev events), held for ``device_event_hold_s``."""

from omv_copilot_agent.alerts.rules import Condition, RuleContext

NAME = "disk_change"


def evaluate(ctx: RuleContext):
    hold = ctx.config["device_event_hold_s"]
    out = {}
    for ev in ctx.device_events:
        if ctx.now - ev["ts"] > hold:
            continue
        dev, action = ev["device"], ev["action"]
        removed = action == "remove"
        out[dev] = Condition(NAME, dev, "warning" if removed else "info",
                           f"Disk {dev} {'removed' if removed else 'added'}",
                           f"{dev} ({ev.get('model') or 'unknown model'}, serial {ev.get('serial') or '?'}) was "
                           f"{'removed' if removed else 'added'}" + (" — if it was part of an array or held shares, check them." if removed else "."),
                           {k: ev.get(k) for k in ("action", "model", "serial", "ts")})
    return list(out.values())
