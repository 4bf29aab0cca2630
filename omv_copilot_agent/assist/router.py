"""Pick one of six assistant contexts for a question.

Whole-word matching (so "loader" is not "load"), a score per context, and the
box's findings may tip a tie or a vague query: a "slow" box with a degraded array
is a storage question. Ties are broken by a fixed priority, never by dict order.

Trigger words alone misroute the questions whose words belong to another field
("502 Bad Gateway" names a gateway but is a service problem; "slow SMB over wifi"
is performance), so once a pattern matches confidently its context wins
(``by_pattern``): the pattern knows what the problem is, the words only hint.
"""

from __future__ import annotations

import re

from omv_copilot_agent.knowledge import matcher

CONTEXTS = ("storage", "network", "service", "performance", "security", "general")

#: Trigger words per context, with a few obvious synonyms.
TRIGGERS: dict[str, tuple[str, ...]] = {
    "storage": ("disk", "disks", "storage", "zfs", "raid", "filesystem", "filesystems", "mdadm", "smart", "array",
                "degraded", "mount", "drive", "drives", "ssd", "hdd", "btrfs", "ext4", "full", "space", "luks",
                "encrypted", "mergerfs", "snapraid", "unmount", "partition"),
    "network": ("network", "connection", "firewall", "vpn", "interface", "ip", "dns", "ethernet", "wifi", "ping",
                "gateway", "route", "unreachable", "wireguard", "netplan", "dhcp", "nic", "wol", "lan"),
    "service": ("smb", "nfs", "ftp", "ssh", "plex", "service", "services", "samba", "cifs", "rsync", "docker",
                "daemon", "share", "shares", "vm", "kvm", "container", "containers", "compose", "mail",
                "email", "notification", "notifications", "postfix", "nginx"),
    "performance": ("slow", "performance", "cpu", "memory", "load", "ram", "swap", "latency", "sluggish", "hang", "lag"),
    "security": ("permission", "permissions", "access", "security", "auth", "vulnerability", "password", "login",
                 "denied", "acl", "certificate", "ssl", "tls", "locked", "lockout"),
}
_PRIORITY = {name: i for i, name in enumerate(CONTEXTS)}
_WORD = re.compile(r"[a-z0-9][a-z0-9_-]*")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def score(query: str) -> dict[str, float]:
    """Trigger hits per context (whole words; each distinct word counts once)."""
    words = set(_words(query))
    return {ctx: float(sum(1 for t in trig if t in words)) for ctx, trig in TRIGGERS.items()}


#: Findings that make a context likelier: each group with a finding (any severity) adds half a point.
HINTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("storage", ("raid-degraded", "raid-inactive", "raid-member-failed", "zfs-pool-unhealthy")),
    ("storage", ("filesystem-full", "filesystem-missing", "filesystem-read-only")),
    ("storage", ("smart-failed", "smart-attribute", "nvme-critical-warning", "nvme-media-errors", "nvme-spare-low", "disk-hot")),
    ("service", ("service-down", "core-unit-down", "unit-failed")),
    ("performance", ("cpu-busy", "load-high", "memory-high", "swap-high")),
    ("network", ("nic-errors", "link-slow", "link-half-duplex")),
)


def finding_hints(found) -> dict[str, float]:
    """Half-point nudges from what is visibly wrong on the box (the findings of its snapshot)."""
    hints = {ctx: 0.0 for ctx in TRIGGERS}
    ids = {f.id for f in found or []}
    for ctx, group in HINTS:
        if ids.intersection(group):
            hints[ctx] += 0.5
    return hints


def route(query: str, found=None, requested: str | None = None) -> tuple[str, dict]:
    """(context, details): an explicit valid request wins; no hit at all → general.

    ``found`` is the findings of the box's snapshot (``findings.evaluate``); they only tip
    a question that already has trigger words.
    """
    scores = score(query)
    if requested in CONTEXTS:
        return requested, {"scores": scores, "reason": "requested"}
    if not any(scores.values()):
        return "general", {"scores": scores, "reason": "no trigger word"}
    hints = finding_hints(found)
    total = {c: scores[c] + (hints[c] if scores[c] or scores.get("performance") else 0.0) for c in scores}
    best = max(total, key=lambda c: (total[c], -_PRIORITY[c]))
    return best, {"scores": scores, "hints": hints, "total": total, "reason": "score"}


#: A pattern's category → the context of its questions; a pattern may name its own ``context:``
#: (a web UI browser-cache pattern is a services pattern asked as a general question).
CATEGORY_CONTEXT: dict[str, str] = {"storage": "storage", "hardware": "storage", "network": "network",
                                    "services": "service", "performance": "performance",
                                    "security": "security", "backup": "service"}
#: The top pattern's score (its calibrated chance of holding the fix) from which it decides the context:
#: 0.2 on the uncalibrated model, carried through knowledge/relevance.json's calibration map.
PATTERN_ROUTE_MIN = matcher.calibrated(0.2)


def by_pattern(chosen: str, details: dict, matches: list[dict]) -> tuple[str, dict]:
    """(context, details) after pattern matching: the confident top pattern's context, else ``chosen``.

    ``matches`` are the answer's text matches, best first, each with its ``pattern``. An
    explicitly requested context is never passed here.
    """
    if not matches or matches[0]["score"] < PATTERN_ROUTE_MIN:
        return chosen, details
    top = matches[0]
    pattern = top.get("pattern") or {}
    context = pattern.get("context") or CATEGORY_CONTEXT.get(top.get("category"), chosen)
    if context not in CONTEXTS:
        return chosen, details
    return context, {**details, "reason": "top pattern", "pattern": top["pattern_id"], "by_words": chosen}
