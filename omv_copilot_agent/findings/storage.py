"""Filesystems, md RAID and ZFS pools (source ``storage``)."""

from __future__ import annotations

from omv_copilot_agent.findings.base import Finding, SnapshotView, level, number
from omv_copilot_agent.findings.thresholds import Thresholds

FINDINGS = {
    "filesystem-full": "a mounted filesystem is fuller than the disk usage warning/critical percentage",
    "filesystem-missing": "a filesystem OMV manages is not mounted",
    "filesystem-read-only": "an important filesystem (OMV's, / or under /srv) is mounted read-only",
    "raid-degraded": "an md array runs with members missing",
    "raid-inactive": "an md array is inactive",
    "raid-member-failed": "an md array still complete but with a member marked failed",
    "raid-resync": "an md array is resyncing, recovering, reshaping or being checked",
    "zfs-pool-unhealthy": "a ZFS pool is not ONLINE",
}
READONLY_BY_DESIGN = ("iso9660", "squashfs", "udf", "erofs")
SYNC_ACTIONS = ("resync", "recovery", "reshape", "check")


def check(view: SnapshotView, t: Thresholds) -> list[Finding]:
    return [*_filesystems(view, t), *_raid(view), *_zfs(view)]


def _filesystems(view: SnapshotView, t: Thresholds) -> list[Finding]:
    out = []
    for fs in view.items("storage", "filesystems"):
        mp = fs.get("mountpoint") or fs.get("device") or "?"
        facts = {k: fs.get(k) for k in ("device", "fstype", "omv_managed")}
        pct = number(fs.get("percent"))
        if pct is not None and fs.get("mountpoint") and fs.get("mounted") is not False:
            hit = level(pct, t.disk_usage_warning_percent, t.disk_usage_critical_percent)
            if hit:
                out.append(Finding("filesystem-full", hit[0], mp, f"{mp} is {pct:.1f}% full (threshold {hit[1]:g}%)",
                                   {**facts, "percent": pct, "free": fs.get("free"), "total": fs.get("total")}, hit[1]))
        if fs.get("mounted") is False and fs.get("omv_managed"):
            out.append(Finding("filesystem-missing", "critical", mp,
                               f"{fs.get('device') or mp} is not mounted although OMV manages it",
                               {**facts, "uuid": fs.get("uuid"), "label": fs.get("label"), "omv_status": fs.get("omv_status")}))
        important = fs.get("omv_managed") or mp == "/" or str(mp).startswith("/srv/")
        if fs.get("readonly") is True and important and fs.get("fstype") not in READONLY_BY_DESIGN:
            out.append(Finding("filesystem-read-only", "critical", mp, f"{mp} ({fs.get('device')}) is mounted read-only", facts))
    return out


def _raid(view: SnapshotView) -> list[Finding]:
    out = []
    for r in view.items("storage", "raid"):
        name = str(r.get("name") or "?")
        facts = {k: r.get(k) for k in ("level", "state", "failed", "devices_active", "devices_total")}
        if r.get("state") == "inactive":
            out.append(Finding("raid-inactive", "critical", name, f"{name} is inactive", facts))
        elif r.get("degraded") is True:
            out.append(Finding("raid-degraded", "critical", name,
                               f"{name} is degraded ({r.get('devices_active')}/{r.get('devices_total')} devices active)", facts))
        elif r.get("failed"):
            out.append(Finding("raid-member-failed", "warning", name, f"{name} has failed member(s) {', '.join(map(str, r['failed']))}", facts))
        if r.get("action") in SYNC_ACTIONS:
            pct = r.get("progress_percent")
            out.append(Finding("raid-resync", "warning" if r["action"] == "recovery" else "info", name,
                               f"{name} is in {r['action']}" + (f", {pct}% done" if pct is not None else " (pending)"),
                               {"action": r["action"], "progress_percent": pct}))
    return out


def _zfs(view: SnapshotView) -> list[Finding]:
    out = []
    for pool in view.items("storage", "zfs"):
        health = pool.get("health")
        if health is not None and health != "ONLINE":
            name = str(pool.get("name") or "?")
            sev = "warning" if health == "DEGRADED" else "critical"
            out.append(Finding("zfs-pool-unhealthy", sev, name, f"ZFS pool {name} is {health}", {"health": health}))
    return out
