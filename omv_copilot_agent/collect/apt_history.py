"""Package updates as apt recorded them: ``/var/log/apt/history.log`` and its rotated copies.

apt writes one stanza per transaction (``Start-Date``, ``Commandline``, ``Requested-By``,
``Install``/``Upgrade``/``Remove``/``Purge``/``Downgrade``/``Reinstall`` lists, ``End-Date``)
for every apt run, OMV's Update Management and unattended-upgrades included, so it answers
"which packages changed, when" without dpkg's per-file noise. Rotated files (``.1``,
``.2.gz``…, monthly) older than the asked range are not opened.
"""

from __future__ import annotations

import glob
import gzip
import os
import re
import time

LOG = "/var/log/apt/history.log"
ACTIONS = ("Install", "Upgrade", "Downgrade", "Reinstall", "Remove", "Purge")
#: ``name:arch (old, new)``, ``name:arch (version, automatic)`` or ``name:arch (version)``
_PACKAGE = re.compile(r"([^\s,()]+) \(([^)]*)\)")
#: Stanzas kept per read: a box's history is small, a hostile or runaway log is not.
MAX_TRANSACTIONS = 5000


def _when(value: str) -> float | None:
    """apt's local ``YYYY-MM-DD  HH:MM:SS`` as a Unix time (None when unreadable)."""
    try:
        return time.mktime(time.strptime(" ".join(value.split()), "%Y-%m-%d %H:%M:%S"))
    except ValueError:
        return None


def _packages(action: str, text: str) -> list[dict]:
    out = []
    for name, inner in _PACKAGE.findall(text):
        parts = [p.strip() for p in inner.split(",")]
        versions = [p for p in parts if p != "automatic"]
        old, new = (versions[0], versions[1]) if action in ("Upgrade", "Downgrade") and len(versions) > 1 else (
            (versions[0] if versions else None, None) if action in ("Remove", "Purge") else (None, versions[0] if versions else None))
        out.append({"name": name.split(":")[0], "action": action.lower(), "old": old, "new": new})
    return out


def parse(text: str) -> list[dict]:
    """Transactions (``start``, ``end``, ``command``, ``requested_by``, ``packages``) in file order."""
    out: list[dict] = []
    for stanza in re.split(r"\n\s*\n", text):
        fields = {}
        for line in stanza.splitlines():
            key, sep, value = line.partition(": ")
            if sep:
                fields[key.strip()] = value.strip()
        start = _when(fields.get("Start-Date", ""))
        if start is None:
            continue
        packages = [p for action in ACTIONS if action in fields for p in _packages(action, fields[action])]
        out.append({"start": start, "end": _when(fields.get("End-Date", "")), "command": fields.get("Commandline", ""),
                    "requested_by": fields.get("Requested-By", ""), "error": fields.get("Error", ""), "packages": packages})
        if len(out) >= MAX_TRANSACTIONS:
            break
    return out


def read(path: str = LOG, since: float = 0.0) -> list[dict]:
    """Transactions that started at or after ``since``, oldest first; [] when apt kept no history."""
    out: list[dict] = []
    for name in sorted(glob.glob(glob.escape(path) + "*")):
        try:
            if os.stat(name).st_mtime < since:
                continue  # its last transaction ended before the range
            opener = gzip.open if name.endswith(".gz") else open
            with opener(name, "rt", errors="replace") as fh:
                out += [t for t in parse(fh.read(8 * 1024 * 1024)) if t["start"] >= since]
        except (OSError, EOFError, ValueError):
            continue  # unreadable or truncated rotation: the other files still count
    return sorted(out, key=lambda t: t["start"])
