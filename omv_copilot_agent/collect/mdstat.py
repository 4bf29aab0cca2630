"""Parse /proc/mdstat into the snapshot's ``raid`` entries (every state the kernel prints)."""

from __future__ import annotations

import re

_HEAD = re.compile(r"^(md\S+)\s*:\s*(active|inactive)\s*(.*)$")
_MEMBER = re.compile(r"^(\S+?)\[(\d+)\](\((?:F|S|W|R)\))?$")
_COUNT = re.compile(r"\[(\d+)/(\d+)\]\s*\[([U_]+)\]")
_ACTION = re.compile(r"\b(resync|recovery|check|repair|reshape)\s*=\s*([\d.]+)%")
_PENDING = re.compile(r"\b(resync|recovery|check)\s*=\s*(DELAYED|PENDING)")


def parse(text: str) -> list[dict]:
    arrays: list[dict] = []
    current: dict | None = None
    for line in text.splitlines():
        head = _HEAD.match(line.strip()) if not line.startswith((" ", "\t")) else None
        if head:
            name, state, rest = head.groups()
            words = rest.split()
            read_only = False
            while words and words[0].startswith("("):
                read_only = read_only or "read-only" in words[0]
                words.pop(0)
            level = words.pop(0) if words and not _MEMBER.match(words[0]) else None
            members, failed, spares = [], [], []
            for word in words:
                m = _MEMBER.match(word)
                if not m:
                    continue
                dev, _, flag = m.groups()
                (failed if flag == "(F)" else spares if flag == "(S)" else members).append(dev)
            current = {"name": name, "level": level, "state": state, "degraded": False,
                       "devices_total": None, "devices_active": None, "members": members, "failed": failed,
                       "spares": spares, "action": None, "progress_percent": None, "read_only": read_only}
            arrays.append(current)
            continue
        if current is None:
            continue
        count = _COUNT.search(line)
        if count:
            total, active = int(count.group(1)), int(count.group(2))
            current["devices_total"], current["devices_active"] = total, active
            current["degraded"] = active < total or "_" in count.group(3)
        elif "blocks" in line and current["devices_total"] is None and current["level"] in ("raid0", "linear"):
            n = len(current["members"])
            current["devices_total"] = current["devices_active"] = n
        action = _ACTION.search(line)
        if action:
            current["action"], current["progress_percent"] = action.group(1), float(action.group(2))
        pending = _PENDING.search(line)
        if pending:
            current["action"] = pending.group(1)
            current["pending"] = pending.group(2).lower()
    for array in arrays:
        if array["state"] == "inactive":
            array["degraded"] = True
    return arrays
