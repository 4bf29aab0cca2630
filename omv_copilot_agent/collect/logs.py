"""Source 'logs': recent warnings and errors from journald, bounded in count."""

from __future__ import annotations

import json

from omv_copilot_agent import runner
from omv_copilot_agent.collect.base import Degraded, Unavailable

NAME = "logs"
JOURNAL_DIRS = ("/var/log/journal", "/run/log/journal")


def has_journal(dirs: tuple[str, ...] | None = None) -> bool:
    """Does journald keep any journal file here? (journalctl prints nothing, exit 0, when not)."""
    import glob
    import os

    return any(glob.glob(os.path.join(d, "**", "*.journal*"), recursive=True) for d in dirs or JOURNAL_DIRS)


def parse(text: str, limit: int) -> list[dict]:
    entries = []
    for line in text.splitlines():
        try:
            e = json.loads(line)
        except ValueError:
            continue
        msg = e.get("MESSAGE")
        if isinstance(msg, list):  # journald gives bytes as a list of ints
            msg = bytes(x for x in msg if isinstance(x, int)).decode("utf-8", "replace")
        try:
            ts = int(e.get("__REALTIME_TIMESTAMP", 0)) / 1e6
            prio = int(e.get("PRIORITY", 6))
        except (TypeError, ValueError):
            continue
        entries.append({"ts": ts, "unit": e.get("_SYSTEMD_UNIT") or e.get("SYSLOG_IDENTIFIER"), "priority": prio,
                        "message": (msg or "")[:2000]})
    return entries[-limit:]


def collect(ctx) -> dict:
    if not runner.which("journalctl"):
        raise Unavailable("journalctl not found (no journald)")
    since = int(ctx.config.get_path("collect.logs_since_s", 3600))
    limit = int(ctx.config.get_path("collect.logs_max_entries", 200))
    res = runner.run(["journalctl", "-o", "json", "--no-pager", "-p", "warning", "-n", str(limit),
                      f"--since=-{since}s"], timeout=20, max_output=8 * 1024 * 1024)
    entries = parse(res.stdout, limit)
    data = {"since": since, "entries": entries,
            "counts": {"err": sum(1 for e in entries if e["priority"] <= 3),
                       "warning": sum(1 for e in entries if e["priority"] == 4)}}
    if not res.ok and not entries:
        raise Degraded(f"journalctl failed: {res.error or res.stderr.strip()[:200]}", data)
    if not entries and not has_journal():
        # "no warnings" would be a lie: there is nothing to read (containers, journald not running)
        raise Unavailable(f"no journal files in {' or '.join(JOURNAL_DIRS)} (journald not running?)", data)
    return data
