"""Evaluate a pattern's state_signals against a snapshot dict (docs/snapshot.md shape).

A signal names a source, optionally a list inside its data (``items``, dot path)
filtered by ``where`` (equality) and ``where_not`` (exclusion: a value or a list, e.g.
the loopback interface), a ``field`` (dot path; with ``attribute`` it is a
field of that SMART attribute id) and a comparison. Missing data never holds:
a degraded source must not invent a problem.
"""

from __future__ import annotations

from typing import Any

import regex

#: Time one state signal's ``matches`` regex may take over one value.
REGEX_TIMEOUT_S = 0.2


def _get(node: Any, path: str) -> Any:
    """Follow a dot path; a numeric part indexes a list ('cpu.load.0' is the 1-minute load)."""
    for part in path.split(".") if path else []:
        if isinstance(node, list) and part.isdigit():
            node = node[int(part)] if int(part) < len(node) else None
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
    return node


def _num(value):
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, bool):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def _compare(actual, op: str, expected) -> bool:
    if op == "true":
        return actual is True
    if op == "false":
        return actual is False
    if actual is None:
        return False
    if op == "eq":
        return actual == expected
    if op == "ne":
        return actual != expected
    if op == "in":
        return actual in (expected or [])
    if op == "matches":
        # A pattern's regex, maybe an admin's: bounded, so a catastrophic one is a non-match, not a frozen daemon.
        try:
            return isinstance(actual, str) and regex.search(str(expected), actual, regex.IGNORECASE,
                                                            timeout=REGEX_TIMEOUT_S) is not None
        except (TimeoutError, regex.error):
            return False
    a, e = _num(actual), _num(expected)
    if not isinstance(a, float) or not isinstance(e, float):
        return False
    return {"gt": a > e, "ge": a >= e, "lt": a < e, "le": a <= e}[op]


def _label(item: dict) -> str:
    for key in ("device", "mountpoint", "name", "unit", "devnode"):
        if isinstance(item, dict) and item.get(key):
            return str(item[key])
    return ""


def evaluate(signal: dict, snapshot: dict) -> list[str]:
    """Human-readable hits ('SMART 5 raw = 8 on /dev/sda') for one signal; empty when it does not hold."""
    source = ((snapshot or {}).get("sources") or {}).get(signal["source"]) or {}
    data = source.get("data") or {}
    items = _get(data, signal["items"]) if signal.get("items") else [data]
    if not isinstance(items, list):
        return []
    hits = []
    for item in items:
        if not isinstance(item, dict):
            continue
        if any(_get(item, k) != v for k, v in (signal.get("where") or {}).items()):
            continue
        if any(_get(item, k) in (v if isinstance(v, list) else [v]) for k, v in (signal.get("where_not") or {}).items()):
            continue
        target = item
        if "attribute" in signal:
            target = next((a for a in item.get("attributes") or [] if a.get("id") == signal["attribute"]), None)
            if target is None:
                continue
        actual = _get(target, signal["field"])
        if _compare(_num(actual) if signal["op"] in ("gt", "ge", "lt", "le") else actual, signal["op"], signal.get("value")):
            where = _label(item)
            shown = actual.get("value") if isinstance(actual, dict) else actual
            hits.append(f"{signal['description']} ({signal['field']}={shown!s:.60}{' on ' + where if where else ''})")
    return hits


def snapshot_dict(snapshot) -> dict | None:
    """Accept a Snapshot object or its dict."""
    if snapshot is None:
        return None
    return snapshot.to_dict() if hasattr(snapshot, "to_dict") else snapshot
