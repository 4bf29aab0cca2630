"""Source 'apt': pending and security updates, from the local apt lists (no network).

A stock Debian/OMV box keeps its ``*_Packages`` lists uncompressed (~50 MB), so
they are read only when they or dpkg's status change (their paths, sizes and
mtimes are the cache key; ``apt update`` and ``dpkg`` are the only writers),
and streamed line by line keeping only the stanzas of installed packages — the
cycle never holds a list in memory. Between changes a cycle costs a few
``stat()`` calls. ``bench/scale.py`` measures this against python3-apt's cache
(``apt_pkg.Cache``), which maps the whole ~40 MB binary cache and rebuilds it
(a write) when stale; see docs/benchmarks.md.
"""

from __future__ import annotations

import glob
import gzip
import lzma
import os
import re
import time
from typing import Iterator, TextIO

from omv_copilot_agent.collect.base import Unavailable

NAME = "apt"
LISTS = "/var/lib/apt/lists"
STATUS = "/var/lib/dpkg/status"
#: list files apt may keep (Acquire::GzipIndexes / CompressionTypes); lz4 lists (no stdlib reader) are skipped
_EXTENSIONS = ("", ".gz", ".xz")
_FIELDS = ("Package", "Version", "Architecture", "Status")


def _open(path: str) -> TextIO:
    if path.endswith(".gz"):
        return gzip.open(path, "rt", errors="replace")
    if path.endswith(".xz"):
        return lzma.open(path, "rt", errors="replace")
    return open(path, errors="replace")


def _stanzas(fh: TextIO, wanted: set[str] | None = None) -> Iterator[dict[str, str]]:
    """The Package/Version/Architecture/Status fields of each stanza, streamed.

    With ``wanted``, stanzas of other packages are skipped at their first line
    (``Package:`` comes first in lists and in dpkg's status), so their other
    fields are never split.
    """
    fields: dict[str, str] = {}
    skip = False
    for line in fh:
        if line == "\n":
            if fields.get("Package") and not skip:
                yield fields
            fields, skip = {}, False
            continue
        if skip or line[0] in " \t":
            continue
        if line.startswith("Package:"):
            name = line[8:].strip()
            skip = wanted is not None and name not in wanted
            fields["Package"] = name
            continue
        key, sep, value = line.partition(":")
        if sep and key in _FIELDS:
            fields[key] = value.strip()
    if fields.get("Package") and not skip:
        yield fields


def _newer(a: str, b: str) -> bool:
    """Is version ``a`` newer than ``b``? (python3-apt when available, else dpkg-like)."""
    try:
        import apt_pkg

        apt_pkg.init_system()
        return apt_pkg.version_compare(a, b) > 0
    except ImportError:
        def parts(v):
            return [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", v.replace("~", "\x00"))]
        try:
            return parts(a) > parts(b)
        except TypeError:
            return a != b and a > b


def list_files(lists_dir: str | None = None) -> list[str]:
    lists_dir = lists_dir or LISTS
    return sorted(p for ext in _EXTENSIONS for p in glob.glob(os.path.join(lists_dir, f"*_Packages{ext}")))


def inputs_key(lists_dir: str | None = None, status_file: str | None = None) -> tuple:
    """What the answer depends on: every list's and dpkg status's (path, size, mtime)."""
    key = []
    for path in [status_file or STATUS, *list_files(lists_dir)]:
        st = os.stat(path)
        key.append((path, st.st_size, st.st_mtime_ns))
    return tuple(key)


def pending(lists_dir: str | None = None, status_file: str | None = None) -> tuple[list[dict], float | None]:
    """(pending updates of installed packages, mtime of the newest list), reading every list once."""
    installed: dict[tuple[str, str | None], str] = {}
    with open(status_file or STATUS, errors="replace") as fh:
        for s in _stanzas(fh):
            if "install ok installed" in s.get("Status", ""):
                installed[(s["Package"], s.get("Architecture"))] = s.get("Version", "")
    names = {p for p, _ in installed}
    best: dict[str, dict] = {}
    files = list_files(lists_dir)
    newest = max((os.stat(f).st_mtime for f in files), default=None)
    for path in files:
        security = "security" in os.path.basename(path)
        with _open(path) as fh:
            for s in _stanzas(fh, names):
                name, arch = s["Package"], s.get("Architecture")
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
    cache = ctx.cache.setdefault(NAME, {})
    try:
        key = inputs_key()
        if cache.get("key") != key:
            cache["items"], cache["newest"] = pending()
            cache["key"] = key
    except FileNotFoundError:
        raise Unavailable("no dpkg status file (not a Debian box)") from None
    items, newest = cache["items"], cache["newest"]
    return {"pending": items, "pending_count": len(items), "security_count": sum(1 for p in items if p["security"]),
            "lists_age_s": round(time.time() - newest, 1) if newest else None}
