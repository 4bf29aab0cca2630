"""Source 'storage': block devices (pyudev), filesystems (psutil + OMV), mdadm RAID, ZFS.

OMV's own view (FileSystemMgmt / MdMgmt) comes from the ``omv`` source of the
same cycle, so this source never pays for a second slow RPC.
"""

from __future__ import annotations

from pathlib import Path

import psutil

from omv_copilot_agent import runner
from omv_copilot_agent.collect import mdstat
from omv_copilot_agent.collect.base import Degraded

NAME = "storage"
MDSTAT = "/proc/mdstat"
SKIP_FSTYPES = {"proc", "sysfs", "devtmpfs", "devpts", "tmpfs", "cgroup", "cgroup2", "overlay", "squashfs",
                "securityfs", "pstore", "bpf", "tracefs", "debugfs", "mqueue", "hugetlbfs", "fusectl",
                "configfs", "autofs", "binfmt_misc", "efivarfs", "ramfs", "nsfs", "rpc_pipefs", "nfsd"}


def block_devices() -> list[dict]:
    import pyudev

    out = []
    for dev in pyudev.Context().list_devices(subsystem="block", DEVTYPE="disk"):
        name = dev.sys_name
        if name.startswith(("loop", "ram", "zram")):
            continue
        attrs = dev.attributes

        def attr(key):
            try:
                value = attrs.asstring(key)
                return value.strip()
            except (KeyError, UnicodeDecodeError, OSError):
                return None

        size = attr("size")
        rot = attr("queue/rotational")
        out.append({
            "name": name, "devnode": dev.device_node,
            "model": dev.properties.get("ID_MODEL") or attr("device/model"),
            "serial": dev.properties.get("ID_SERIAL_SHORT") or dev.properties.get("ID_SERIAL") or attr("device/serial"),
            "wwn": dev.properties.get("ID_WWN") or attr("wwid"),
            "bus": dev.properties.get("ID_BUS") or ("nvme" if name.startswith("nvme") else "virtio" if name.startswith("vd") else None),
            "rotational": None if rot is None else rot == "1",
            "size": int(size) * 512 if size and size.isdigit() else None,
            "removable": attr("removable") == "1",
            "type": "raid" if name.startswith("md") else "disk",
        })
    return out


#: what the block device list is read from: the kernel's disks, and udev's database (udev
#: replaces a device's file there on every add/change event, which touches the directory)
SYS_BLOCK, UDEV_DATA = "/sys/block", "/run/udev/data"


def devices_key() -> tuple | None:
    """What changes when a disk comes, goes, or udev learns something new about one; None if unreadable."""
    import os

    try:
        return tuple(sorted(os.listdir(SYS_BLOCK))), os.stat(UDEV_DATA).st_mtime_ns
    except OSError:
        return None


def cached_block_devices(cache: dict) -> list[dict]:
    """:func:`block_devices`, re-read only when :func:`devices_key` changed.

    Why: enumerating through pyudev (udev's database and sysfs attributes of every disk) was
    the costliest source on an idle box, every minute, for a list that changes when a disk
    is plugged in or replaced.
    """
    key = devices_key()
    if key is None or key != cache.get("devices_key"):
        cache["devices"], cache["devices_key"] = block_devices(), key
    return cache["devices"]


def filesystems(omv_filesystems: list[dict] | None) -> list[dict]:
    out, seen = [], set()
    omv_by_dev = {}
    for fs in omv_filesystems or []:
        for key in ("devicefile", "canonicaldevicefile", "parentdevicefile"):
            if fs.get(key):
                omv_by_dev[fs[key]] = fs
    for part in psutil.disk_partitions(all=False):
        if part.fstype in SKIP_FSTYPES or part.mountpoint in seen:
            continue
        seen.add(part.mountpoint)
        try:
            usage = psutil.disk_usage(part.mountpoint)
        except OSError:
            continue
        omv = omv_by_dev.get(part.device) or next((f for f in omv_filesystems or [] if f.get("mountpoint") == part.mountpoint), None)
        out.append({"device": part.device, "mountpoint": part.mountpoint, "fstype": part.fstype,
                    "uuid": (omv or {}).get("uuid"), "label": (omv or {}).get("label"),
                    "total": usage.total, "used": usage.used, "free": usage.free, "percent": usage.percent,
                    "readonly": "ro" in part.opts.split(","), "mounted": True, "omv_managed": omv is not None,
                    "omv_status": (omv or {}).get("status")})
    for fs in omv_filesystems or []:
        if fs.get("mounted") is False or (fs.get("mountpoint") and fs["mountpoint"] not in seen and fs.get("mounted") is not True):
            out.append({"device": fs.get("devicefile"), "mountpoint": fs.get("mountpoint") or None, "fstype": fs.get("type"),
                        "uuid": fs.get("uuid"), "label": fs.get("label"), "total": _int(fs.get("size")),
                        "used": None, "free": _int(fs.get("available")), "percent": fs.get("percentage"),
                        "readonly": None, "mounted": False, "omv_managed": True, "omv_status": fs.get("status")})
    return out


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def raid(path: str = MDSTAT, omv_raid: list[dict] | None = None) -> list[dict]:
    try:
        arrays = mdstat.parse(Path(path).read_text())
    except OSError:
        return []
    by_dev = {(r.get("devicefile") or "").rsplit("/", 1)[-1]: r for r in omv_raid or []}
    for array in arrays:
        omv = by_dev.get(array["name"])
        if omv:
            array["omv_name"] = omv.get("name")
            array["omv_state"] = omv.get("state")
    return arrays


def zfs() -> tuple[list[dict], str | None]:
    if not runner.which("zpool"):
        return [], None
    res = runner.run(["zpool", "list", "-H", "-p", "-o", "name,health,size,alloc,free,capacity"], timeout=15)
    if not res.ok:
        return [], f"zpool list: {res.error or res.stderr.strip()[:200]}"
    pools = []
    for line in res.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) >= 6:
            pools.append({"name": parts[0], "health": parts[1], "size": _int(parts[2]), "alloc": _int(parts[3]),
                          "free": _int(parts[4]), "capacity_percent": _int(parts[5].rstrip("%"))})
    return pools, None


def collect(ctx) -> dict:
    omv = ctx.source("omv")
    problems = []
    try:
        devices = cached_block_devices(ctx.cache.setdefault(NAME, {}))
    except Exception as exc:  # pyudev missing or /sys unreadable
        devices = []
        problems.append(f"block devices: {exc}")
    data = {"block_devices": devices, "filesystems": filesystems(omv.get("filesystems")),
            "raid": raid(MDSTAT, omv.get("raid"))}
    data["zfs"], zerr = zfs()
    if zerr:
        problems.append(zerr)
    if problems:
        raise Degraded("; ".join(problems), data)
    return data
