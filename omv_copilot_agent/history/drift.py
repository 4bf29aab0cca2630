"""Configuration drift: what changed between two OMV configuration snapshots."""

from __future__ import annotations

from typing import Any


#: Fields OMV's RPCs report beside the settings that are live state, not configuration: traffic
#: counters, link and run state, fill levels. Kept out of configuration snapshots, or every
#: cycle would record a "change" (a NIC's byte counter moves all the time).
LIVE_STATE: dict[str, tuple[str, ...]] = {
    "network": ("stats", "state", "link", "speed"),
    "filesystems": ("used", "available", "percentage", "mounted", "status", "_used"),
    "services": ("running",),
    "raid": ("state",),
    "shared_folders": ("_used",),
}


def settings_only(config: dict) -> dict:
    """``config`` without the live-state fields of its record lists (see LIVE_STATE)."""
    out = {}
    for key, value in config.items():
        drop = LIVE_STATE.get(key, ())
        if drop and isinstance(value, list):
            value = [{k: v for k, v in item.items() if k not in drop} if isinstance(item, dict) else item for item in value]
        out[key] = value
    return out


def _key(item: Any) -> str | None:
    if isinstance(item, dict):
        for k in ("uuid", "name", "devicefile", "mountpoint", "id"):
            if item.get(k) is not None:
                return f"{k}={item[k]}"
    return None


def diff(old: Any, new: Any, path: str = "") -> list[dict]:
    """Flat list of {path, change (added|removed|changed), old, new}; lists of records match by uuid/name."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for k in sorted(set(old) | set(new), key=str):
            p = f"{path}.{k}" if path else str(k)
            if k not in old:
                out.append({"path": p, "change": "added", "old": None, "new": new[k]})
            elif k not in new:
                out.append({"path": p, "change": "removed", "old": old[k], "new": None})
            else:
                out += diff(old[k], new[k], p)
        return out
    if isinstance(old, list) and isinstance(new, list):
        ko, kn = [_key(i) for i in old], [_key(i) for i in new]
        if all(ko) and all(kn):
            return diff(dict(zip(ko, old)), dict(zip(kn, new)), path)
        return [] if old == new else [{"path": path, "change": "changed", "old": old, "new": new}]
    return [] if old == new else [{"path": path, "change": "changed", "old": old, "new": new}]
