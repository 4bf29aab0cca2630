"""Source 'apt': pending and security updates, from the local apt lists (no network)."""

from __future__ import annotations

import glob
import os
import time

from omv_copilot_agent.collect.base import Unavailable

NAME = "apt"
LISTS = "/var/lib/apt/lists"
STATUS = "/var/lib/dpkg/status"


def _stanzas(text: str):
    for block in text.split("\n\n"):
        fields = {}
        for line in block.splitlines():
            if line and not line[0].isspace() and ":" in line:
                k, _, v = line.partition(":")
                fields[k] = v.strip()
        if fields.get("Package"):
            yield fields




def _newer(a: str, b: str) -> bool:
    """Is version ``a`` newer than ``b``? (python3-apt when available, else dpkg-like)."""
    try:
        import apt_pkg

        apt_pkg.init_system()
        return apt_pkg.version_compare(a, b) > 0
    except ImportError:
        import re

        def parts(v):
            return [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", v.replace("~", "\x00"))]
        try:
            return parts(a) > parts(b)
        except TypeError:
            return a != b and a > b


def pending(lists_dir: str = LISTS, status_file: str = STATUS) -> tuple[list[dict], float | None]:
    installed = {}
    with open(status_file, errors="replace") as fh:
        for s in _stanzas(fh.read()):
            if "install ok installed" in s.get("Status", ""):
                installed[(s["Package"], s.get("Architecture"))] = s.get("Version", "")
    names = {p for p, _ in installed}
    best: dict[str, dict] = {}
    files = glob.glob(os.path.join(lists_dir, "*_Packages"))
    newest = max((os.stat(f).st_mtime for f in files), default=None)
    for path in files:
        security = "security" in os.path.basename(path)
        with open(path, errors="replace") as fh:
            for s in _stanzas(fh.read()):
                name, arch = s["Package"], s.get("Architecture")
                if name not in names:
                    continue
                cur = installed.get((name, arch)) or installed.get((name, "all"))
                if cur is None or not _newer(s.get("Version", ""), cur):
                    continue
                prev = best.get(name)
                if prev is None or _newer(s["Version"], prev["version"]):
                    best[name] = {"name": name, "version": s["Version"], "security": security or bool(prev and prev["security"])}
                elif s["Version"] == prev["version"] and security:
                    prev["security"] = True
    return sorted(best.values(), key=lambda p: p["name"]), newest


def collect(ctx) -> dict:
    try:
        items, newest = pending()
    except FileNotFoundError:
        raise Unavailable("no dpkg status file (not a Debian box)") from None
    return {"pending": items, "pending_count": len(items), "security_count": sum(1 for p in items if p["security"]),
            "lists_age_s": round(time.time() - newest, 1) if newest else None}
