"""Pick one of the seed's six specialist contexts for a question (seed 2.2).

Whole-word matching (so "loader" is not "load"), a score per context, and the
snapshot may tip a tie or a vague query: a "slow" box with a degraded array is
a storage question. Ties are broken by a fixed priority, never by dict order.
"""

from __future__ import annotations

import re

CONTEXTS = ("storage", "network", "service", "performance", "security", "general")

#: The seed's trigger words are the floor; a few obvious synonyms are added.
TRIGGERS: dict[str, tuple[str, ...]] = {
    "storage": ("disk", "disks", "storage", "zfs", "raid", "filesystem", "filesystems", "mdadm", "smart", "array",
                "degraded", "mount", "drive", "drives", "ssd", "hdd", "btrfs", "ext4", "full", "space"),
    "network": ("network", "connection", "firewall", "vpn", "interface", "ip", "dns", "ethernet", "wifi", "ping",
                "gateway", "route", "unreachable"),
    "service": ("smb", "nfs", "ftp", "ssh", "plex", "service", "services", "samba", "cifs", "rsync", "docker",
                "daemon", "share", "shares"),
    "performance": ("slow", "performance", "cpu", "memory", "load", "ram", "swap", "latency", "sluggish", "hang", "lag"),
    "security": ("permission", "permissions", "access", "security", "auth", "vulnerability", "password", "login",
                 "denied", "acl", "certificate", "ssl", "tls"),
}
_PRIORITY = {name: i for i, name in enumerate(CONTEXTS)}
_WORD = re.compile(r"[a-z0-9][a-z0-9_-]*")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def score(query: str) -> dict[str, float]:
    """Trigger hits per context (whole words; each distinct word counts once)."""
    words = set(_words(query))
    return {ctx: float(sum(1 for t in trig if t in words)) for ctx, trig in TRIGGERS.items()}


def snapshot_hints(snapshot) -> dict[str, float]:
    """Half-point nudges from what is visibly wrong on the box."""
    hints = {ctx: 0.0 for ctx in TRIGGERS}
    if snapshot is None:
        return hints
    try:
        storage = snapshot.data("storage")
        if any(str(r.get("state", "")).lower() not in ("clean", "active", "") for r in storage.get("raid", [])):
            hints["storage"] += 0.5
        if any((fs.get("percent") or 0) >= 90 for fs in storage.get("filesystems", [])):
            hints["storage"] += 0.5
        if any(d.get("passed") is False for d in snapshot.data("smart").get("disks", [])):
            hints["storage"] += 0.5
        units = snapshot.data("services").get("units", [])
        if any(u.get("enabled_in_omv") and u.get("active_state") not in ("active", None) for u in units):
            hints["service"] += 0.5
        cpu = snapshot.data("system").get("cpu") or {}
        if isinstance(cpu, dict) and (cpu.get("percent") or 0) >= 90:
            hints["performance"] += 0.5
    except Exception:  # a malformed snapshot must never break routing
        pass
    return hints


def route(query: str, snapshot=None, requested: str | None = None) -> tuple[str, dict]:
    """(context, details): an explicit valid request wins; no hit at all → general."""
    scores = score(query)
    if requested in CONTEXTS:
        return requested, {"scores": scores, "reason": "requested"}
    if not any(scores.values()):
        return "general", {"scores": scores, "reason": "no trigger word"}
    hints = snapshot_hints(snapshot)
    total = {c: scores[c] + (hints[c] if scores[c] or scores.get("performance") else 0.0) for c in scores}
    best = max(total, key=lambda c: (total[c], -_PRIORITY[c]))
    return best, {"scores": scores, "hints": hints, "total": total, "reason": "score"}
