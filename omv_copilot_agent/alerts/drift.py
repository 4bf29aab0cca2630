"""Configuration drift: what changed between two OMV configuration snapshots."""

from __future__ import annotations

from typing import Any


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
