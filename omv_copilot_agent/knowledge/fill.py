"""Filling a pattern's ``{placeholders}`` from the question and the box, so a check can run as shown.

A KB answer that says ``mdadm --detail {md_device}`` makes the admin look up what the box
already knows. Values come, in this order, from what the question names (``/dev/sdb``,
``enp3s0``, a unit or a user the box has) and then from the box's state when it points to one
thing only (the one degraded md array, the one disk failing SMART or failed out of it, the
one real interface that is up). Anything ambiguous stays a placeholder the answer asks for:
a guess that runs a check on the wrong disk is worse than a question.

Every value is checked against the probe parameter it feeds (``probes.Probe.check_param``),
so the question's words can never become an argument the probe would not take.
"""

from __future__ import annotations

import re

from omv_copilot_agent import probes
from omv_copilot_agent.collect.network import is_virtual
from omv_copilot_agent.knowledge.diagnostics import PLACEHOLDER, placeholders

#: The kernel names of a disk and of an md array, as the question, the box and a command show them.
DISK_NAME, MD_NAME = r"sd[a-z]{1,2}|nvme\d{1,2}n\d{1,2}|mmcblk\d{1,2}|vd[a-z]", r"md\d{1,3}"
#: A file system's block device: a disk's partition (sdb1, nvme0n1p1, mmcblk0p2, vda1) or an md array.
PARTITION_NAME = rf"sd[a-z]{{1,2}}\d{{1,3}}|(?:nvme\d{{1,2}}n\d{{1,2}}|mmcblk\d{{1,2}})p\d{{1,3}}|vd[a-z]\d{{1,3}}|{MD_NAME}"
_DEV = re.compile(rf"(?<![\w/])(?:/dev/)?((?:{DISK_NAME}|{MD_NAME}))\b")
_PART = re.compile(rf"(?<![\w/])(?:/dev/)?((?:{PARTITION_NAME}))\b")
_IP = re.compile(r"\b(\d{1,3}(?:\.\d{1,3}){3})\b")
_PATH = re.compile(r"(?<![\w.])(/(?:srv|mnt|media|export|etc|var/log)(?:/[\w.@+-]+)*)")
_WORD = re.compile(r"[\w.@:-]+")


def _data(snapshot, source: str) -> dict:
    return snapshot.data(source) if snapshot is not None else {}


def _one(values: list[str]) -> list[str]:
    """The state's candidate only when it is unambiguous."""
    values = list(dict.fromkeys(values))
    return values if len(values) == 1 else []


def _sources(query: str, snapshot) -> dict[str, tuple[list[str], list[str]]]:
    """Per placeholder name: (the values the question names, in its order; the box's only candidate, or none)."""
    words = list(dict.fromkeys(w.strip(".:,;!?").lower() for w in _WORD.findall(query or "")))  # in the question's order
    named_devs = [m.group(1) for m in _DEV.finditer(query or "")]
    raid = _arrays(snapshot)
    disks = _smart_disks(snapshot)
    ifaces = _interfaces(snapshot)
    real_up = [i["name"] for i in ifaces if i.get("up") and not is_virtual(i["name"])]
    units = [u for u in _data(snapshot, "services").get("units") or [] if isinstance(u, dict) and u.get("name")]
    unit_names = {str(u["name"]).lower(): str(u["name"]) for u in units}
    users = [str(u.get("name")) for u in _data(snapshot, "omv").get("users") or [] if isinstance(u, dict) and u.get("name")]
    pools = _pools(snapshot)
    return {
        "md_device": (["/dev/" + d for d in named_devs if d.startswith("md")],
                      _one(troubled_arrays(snapshot) or ["/dev/" + a["name"] for a in raid])),
        "device": (["/dev/" + d for d in _disks_in_order(query)],
                   _one([d["device"] for d in disks if d.get("passed") is False])
                   or _one(["/dev/" + m for a in raid if a.get("degraded") for m in a.get("failed") or []])
                   or _one([d["device"] for d in disks])),
        # the question's own interface names first, also one the box lacks ("eth1" on a box with eth0 is not eth0)
        "interface": (list(dict.fromkeys(interfaces_named(query) + [i["name"] for i in ifaces if str(i["name"]).lower() in words])),
                      _one(real_up)),
        # a unit the box lists, by any of its names; any unit by its systemd name ("Job for chrony.service failed"):
        # the service the question's salt output names is the one to read, listed by the box or not
        "unit": (list(dict.fromkeys([unit_names[w] for w in words if w in unit_names] + units_named(query))),
                 _one([str(u["name"]) for u in units if u.get("active_state") == "failed"])),
        "user": ([u for u in users if u.lower() in words], []),
        # a pool the box has, by its name anywhere in the question; any pool by a zpool command's or "pool named"
        # words ("until I run zpool import tank": the pool not imported is the one the box does not list)
        "pool": (list(dict.fromkeys([p["name"] for p in pools if str(p["name"]).lower() in words] + pools_named(query))),
                 _one(troubled_pools(snapshot) or [p["name"] for p in pools])),
        # only from the question: the box lists its file systems (a read-only or unmounted one among them), but not
        # which one a question about "my file system" means, and tune2fs or fsck on a guess is worse than asking
        "partition": (["/dev/" + m.group(1) for m in _PART.finditer(query or "")], []),
        "path": (_PATH.findall(query or ""), []),
        "host": (_IP.findall(query or ""), []),
        "client_ip": (clients_named(query, snapshot), []),
    }


#: A systemd unit by its full name, as salt's and systemd's messages write it ("Job for chrony.service failed",
#: "nut-driver@ups.service"); "chrony fails" names a program, not a unit.
_UNIT = re.compile(r"(?<![\w@.-])([A-Za-z0-9][\w@.:-]*\.(?:service|socket|timer|mount|path|target))(?![\w@-]|\.\w)")


def units_named(query: str) -> list[str]:
    """The systemd units the question names by their full name, in its order."""
    return list(dict.fromkeys(_UNIT.findall(str(query or ""))))


#: An address the question writes as a server's: the NFS export it mounts (``192.168.1.10:/export/media``) or the
#: SMB share it opens (``//192.168.1.10/media``, ``\\192.168.1.10\media``).
_SERVER_IP = re.compile(r"(?:(?<=//)|(?<=\\\\))(\d{1,3}(?:\.\d{1,3}){3})\b|\b(\d{1,3}(?:\.\d{1,3}){3}):/")


def clients_named(query: str, snapshot) -> list[str]:
    """The client addresses the question names, in its order: neither one it writes as a server's (the NAS it mounts
    from) nor one of the box's own. "nfs mount of 192.168.1.10:/export/media fails ... on 10.6.0.19" got
    ``ping 192.168.1.10`` as the client's reachability check: the NAS pinging itself."""
    servers = {a or b for a, b in _SERVER_IP.findall(query or "")}
    own = {str(a.get("address")) for i in _interfaces(snapshot) for a in i.get("addresses") or [] if isinstance(a, dict)}
    return [ip for ip in dict.fromkeys(_IP.findall(query or "")) if ip not in servers | own]


#: A network interface's name as users write it: eth0, eth0.10, enp3s0, eno1, ens18, enx<mac>, em1, wlan0, wlp2s0,
#: bond0, br0, vlan10.
IFACE_NAME = r"(?:eth|wlan|bond|br|vlan|em)\d{1,3}(?:\.\d{1,4})?|en[opsx][0-9a-f]*\d[0-9a-z]*|wl[opsx][0-9a-z]*\d[0-9a-z]*"
_IFACE = re.compile(rf"(?<![\w/.-])({IFACE_NAME})(?![\w-])")


def interfaces_named(query: str) -> list[str]:
    """The network interfaces the question names, in its order (lower-cased)."""
    return list(dict.fromkeys(m.group(1) for m in _IFACE.finditer(str(query or "").lower())))


#: A ZFS pool the question names by a zpool command that takes one ("zpool import tank", "zpool status -v
#: tank") or as a "pool named/called <name>"; "my pool is gone" names none.
_POOL = re.compile(r"\bzpool\s+(?:import|export|status|scrub|clear|upgrade|online|history)\s+(?:-[a-zA-Z]+\s+)*"
                   r"([A-Za-z][\w.:-]{0,63})(?![\w/])|\bpool\s+(?:named|called)\s+[\"'`]?([A-Za-z][\w.:-]{0,63})")


#: Words that follow "zpool status" in a sentence and are no pool ("zpool status says DEGRADED").
_NOT_POOL = frozenset("says said shows showed show reports reported gives gave lists listed returns returned prints "
                      "printed tells told output is was are were and but or hangs hung fails failed works worked "
                      "command then again now only still too the a my all".split())


def pools_named(query: str) -> list[str]:
    """The ZFS pools the question names, in its order."""
    found = ((m.group(1) or m.group(2)).rstrip(".:") for m in _POOL.finditer(str(query or "")))
    return list(dict.fromkeys(p for p in found if p.lower() not in _NOT_POOL))


def _disks_in_order(query: str, *, partitions: bool = True) -> list[str]:
    """The disks the question names, in its order: by name, or as the disk of a partition it names (sdb1 is on
    sdb, nvme0n1p1 on nvme0n1), so "/dev/sdb1 will not mount" checks sdb's SMART, not the box's only disk.
    A data-risk command takes only a disk named as such (``partitions=False``)."""
    found = [(m.start(), m.group(1)) for m in _DEV.finditer(query or "") if not m.group(1).startswith("md")]
    found += [(m.start(), disk.group(1)) for m in _PART.finditer(query or "") if partitions
              for disk in [_PART_DISK.fullmatch(m.group(1))] if disk]
    return list(dict.fromkeys(name for _, name in sorted(found)))


_PART_DISK = re.compile(rf"({DISK_NAME})p?\d{{1,3}}")


def _interfaces(snapshot) -> list[dict]:
    """The box's network interfaces (network reading), each a dict with a name."""
    return [i for i in _data(snapshot, "network").get("interfaces") or [] if isinstance(i, dict) and i.get("name")]


def _arrays(snapshot) -> list[dict]:
    """The box's md arrays (storage reading), each a dict with a name."""
    return [a for a in _data(snapshot, "storage").get("raid") or [] if isinstance(a, dict) and a.get("name")]


def _pools(snapshot) -> list[dict]:
    """The box's ZFS pools (storage reading), each a dict with a name."""
    return [p for p in _data(snapshot, "storage").get("zfs") or [] if isinstance(p, dict) and p.get("name")]


def _smart_disks(snapshot) -> list[dict]:
    """The box's disks (SMART reading), each a dict with a device."""
    return [d for d in _data(snapshot, "smart").get("disks") or [] if isinstance(d, dict) and d.get("device")]


def troubled_arrays(snapshot) -> list[str]:
    """The box's md arrays that are degraded or inactive, as /dev paths: what a repair is about."""
    return ["/dev/" + a["name"] for a in _arrays(snapshot) if a.get("degraded") or a.get("state") == "inactive"]


def troubled_pools(snapshot) -> list[str]:
    """The box's ZFS pools whose health is not ONLINE (DEGRADED, FAULTED, ...): what a zpool replace is about."""
    return [str(p["name"]) for p in _pools(snapshot) if str(p.get("health", "ONLINE")).upper() != "ONLINE"]


#: For a data-risk command, the box's candidates that count: only an array or pool in trouble (its one
#: healthy array or pool is as likely the one holding the data as the one the question is about).
_STRICT_BOX = {"md_device": troubled_arrays, "pool": troubled_pools}


def candidates(query: str, snapshot) -> dict[str, list[str]]:
    """Values per placeholder name, best first: named in the question, then the box's only candidate."""
    out = {name: list(dict.fromkeys(named + box)) for name, (named, box) in _sources(query, snapshot).items()}
    return {k: v for k, v in out.items() if v}


def _fits(diags: list[dict], name: str, value: str) -> bool:
    """Does ``value`` fit every probe parameter that placeholder ``name`` feeds?"""
    for d in diags:
        for param, v in (d.get("params") or {}).items():
            if v == "{" + name + "}":
                try:
                    if probes.get(d.get("probe")).check_param(param, value):
                        return False
                except probes.UnknownProbe:
                    return False
    return True


#: The probes that read a disk's everyday state (is it spun down), not its health: for them the box's disk in
#: trouble (failing SMART, failed out of its array) is no better a guess than any of its other disks. "My disks
#: wake up every 30 minutes" on a box whose md array lost sdb got ``hdparm -C /dev/sdb``: the failed member, the
#: one disk that is not spinning down and up as the others do. Only a disk the question names, or the box's only
#: disk, fills them.
ANY_DISK_PROBES = frozenset({"disk-power-state"})


def _any_disk(query: str, snapshot) -> list[str]:
    """The disks for a check about any disk: the question's, else the box's only one (never the one in trouble)."""
    disks = [d["device"] for d in _smart_disks(snapshot)]
    return list(dict.fromkeys(["/dev/" + d for d in _disks_in_order(query)] + _one(disks)))


def values(diags: list[dict], query: str, snapshot) -> dict[str, str]:
    """The placeholders of ``diags`` this question and box fill, each with a value its probes accept."""
    wanted = sorted({n for d in diags for n in placeholders(d)})
    found = candidates(query, snapshot)
    if any(d.get("probe") in ANY_DISK_PROBES and "device" in placeholders(d) for d in diags):
        found["device"] = _any_disk(query, snapshot)
    return {name: v for name in wanted
            for v in [next((c for c in found.get(name, []) if _fits(diags, name, c)), None)] if v}


#: A placeholder the box has none of, when the source that lists them was read: (source, key, what to say).
#: Why: "mdadm --detail {md_device}" on a box that shows no array at all is itself the finding. It is
#: said both ways: "is my raid ok" on a box that never had an array is answered by "there is none",
#: not by "an array that should be there is not assembled" above a degraded array's advice.
NO_MD = "This box shows no md RAID array right now (the last reading of /proc/mdstat lists none)"
NONE_ON_BOX = {
    "md_device": ("storage", "raid", NO_MD + ": if it should have one, the array is not assembled or its disks are "
                                     "missing; if it has none, the advice below is not about this box."),
    "pool": ("storage", "zfs", "This box shows no ZFS pool right now: if it should have one, the pool is not imported "
                               "(or the ZFS module is not loaded); if it has none, the advice below is not about this box."),
}


def none_on_box(names, snapshot) -> list[str]:
    """For the placeholders ``names`` still asked for, what the box having none of them says.

    Only from a source read in full (status ok): a degraded storage reading keeps ``zfs: []`` when
    ``zpool list`` failed or timed out, which says nothing about the pools the box has.
    """
    said = []
    for name in dict.fromkeys(names):
        source, key, sentence = NONE_ON_BOX.get(name, (None, None, None))
        data = _data(snapshot, source) if source and snapshot is not None and snapshot.status(source) == "ok" else {}
        if key in data and not data[key]:
            said.append(sentence)
    return said


def absent_named(query: str, snapshot, uses=()) -> tuple[list[str], list[str]]:
    """The md arrays, disks and network interfaces the question names that the box does not show, each from a
    reading of its source in full: (sentences to say, placeholders whose none_on_box sentence says it instead).

    Why: "is md127 still rebuilding" on a box with no md127 got a resync pattern's advice, and its commands,
    for an array that is not there; "eth1 only links at 100Mb/s" on a box whose one port is eth0 got
    ``ethtool eth0``. That the box shows none is the first thing to say. A box with no array at all says so
    by ``none_on_box("md_device")`` when the advice is about an array (``uses``: the placeholders it fills or
    asks for), else by a sentence about the array the question names: "the disks in my /dev/md0 never go to
    standby" is answered with SMART settings, which are about this box's disks whatever arrays it has, and
    "if it has none, the advice below is not about this box" above them told the user to ignore them.
    """
    said, names = _absent_storage(query, snapshot, uses)
    return said + _absent_interfaces(query, snapshot), names


def _absent_interfaces(query: str, snapshot) -> list[str]:
    if snapshot is None or snapshot.status("network") != "ok":
        return []
    ifaces = [str(i["name"]) for i in _interfaces(snapshot) if not is_virtual(i["name"])]
    known = {i.lower() for i in ifaces}
    missing = [n for n in interfaces_named(query) if n not in known]
    if not missing or not ifaces:
        return []
    return [_not_shown(missing, "its interfaces: " + ", ".join(ifaces), kind=("network interface", "network interfaces"),
                       tail=(" (an upgrade, a new board or a moved disk can rename them)",) * 2)]


#: A question about "the raid" (md's words: raid, raid1, mdadm, array) and not about another kind of one (ZFS, btrfs,
#: SnapRAID, mergerfs, LVM): on a box with no md array, that it has none bears on it ("which of my disks dropped out
#: of the raid" got raid advice with no word about it), even when the advice names no array ({md_device}).
_RAID = re.compile(r"\b(?:raid\s?(?:[0-9]{1,2})?|mdadm|(?:md|software|raid)\s+array|array)\b", re.I)
_OTHER_RAID = re.compile(r"\b(?:zfs|zpool|raidz\d?|btrfs|snapraid|mergerfs|lvm|pool)\b", re.I)


def _absent_storage(query: str, snapshot, uses=()) -> tuple[list[str], list[str]]:
    if snapshot is None or snapshot.status("storage") != "ok":
        return [], []
    storage = _data(snapshot, "storage")
    named = list(dict.fromkeys(m.group(1) for m in _DEV.finditer(query or "")))
    arrays = [str(a["name"]) for a in _arrays(snapshot)]
    disks = [str(d["name"]) for d in storage.get("block_devices") or []
             if isinstance(d, dict) and d.get("name") and d.get("type") == "disk"]
    said, names = [], []
    named_md = [d for d in named if d.startswith("md")]
    missing_md = [d for d in named_md if d not in arrays]
    if missing_md and "raid" in storage and not arrays and "md_device" in uses:
        names.append("md_device")
    elif missing_md and "raid" in storage and not arrays:
        said.append(_not_shown(["/dev/" + d for d in missing_md], "no md RAID array at all: the last reading of "
                               "/proc/mdstat lists none", ("array", "arrays"),
                               ("not assembled or its disks are missing", "not assembled or their disks are missing")))
    elif not named_md and "raid" in storage and not arrays and "md_device" not in uses and _RAID.search(query or "") \
            and not _OTHER_RAID.search(query or ""):
        said.append(NO_MD + ": if one should be there, it is not assembled or its disks are missing.")
    elif missing_md and arrays:
        said.append(_not_shown(["/dev/" + d for d in missing_md], "its md arrays: " + ", ".join("/dev/" + a for a in arrays),
                               ("array", "arrays"), ("not assembled",) * 2))
    pools = [str(p["name"]) for p in _pools(snapshot)]
    missing_pools = [p for p in pools_named(query) if p not in pools]
    if missing_pools and "zfs" in storage and not pools and "pool" in uses:
        names.append("pool")
    elif missing_pools and pools:
        said.append(_not_shown(missing_pools, "its pools: " + ", ".join(pools), ("pool", "pools"), ("not imported",) * 2,
                               kind=("ZFS pool", "ZFS pools")))
    missing = [d for d in named if not d.startswith("md") and d not in disks]
    if missing and disks:
        said.append(_not_shown(["/dev/" + d for d in missing], "its disks: " + ", ".join("/dev/" + d for d in disks),
                               kind=("disk", "disks"), tail=(" (it may have changed at boot), or the disk is not connected",
                                                             " (they may have changed at boot), or the disks are not connected")))
    return said, names


def _not_shown(missing: list[str], shown: str, noun: tuple[str, str] = ("", ""), state: tuple[str, str] = ("", ""),
               kind: tuple[str, str] = ("", ""), tail: tuple[str, str] | None = None) -> str:
    """One way to say that the box does not show the md arrays, ZFS pools, disks or network interfaces the question
    names: ``shown`` is what it shows instead; each pair is the words for one and for more. ``kind`` goes before the
    names ("ZFS pool"/"ZFS pools", "disk"/"disks"); ``tail`` follows "check the name(s)" (why it may be wrong), by
    default "; if it is right, that {noun} is {state}" ("array"/"arrays", "not assembled")."""
    i = 0 if len(missing) == 1 else 1
    if tail is None:
        tail = (f"; if it is right, that {noun[0]} is {state[0]}", f"; if they are right, those {noun[1]} are {state[1]}")
    return (f"This box shows no {kind[i] + ' ' if kind[i] else ''}{', '.join(missing)} right now ({shown}): check the "
            f"{'name' if i == 0 else 'names'}{tail[i]}.")


def apply(diag: dict, filled: dict[str, str]) -> tuple[dict, list[str]]:
    """``diag``'s parameters with the known placeholders filled, and the names still asked for."""
    params, needs = {}, []
    for param, value in (diag.get("params") or {}).items():
        m = PLACEHOLDER.match(value) if isinstance(value, str) else None
        if m and m.group(1) in filled:
            value = filled[m.group(1)]
        elif m:
            needs.append(m.group(1))
        params[param] = value
    return params, needs


# -- a solution's command ----------------------------------------------------------------------
#
# A solution's ``command:`` is text shown to the admin to copy, never run. It may name the
# placeholders below as ``{name}``; anything else in braces (docker's ``{{.Names}}``, find's ``{}``,
# JSON) is literal text, and a ``{word}`` that is not one of these names is refused by the loader.

#: Filled like a diagnostic's: from the question, else the box's only candidate.
FILLED = ("md_device", "device", "partition", "interface", "unit", "user", "pool", "path", "host", "client_ip")
#: Never filled from the box: what it would point to is the wrong thing (the failed member is not the
#: disk to add), so the answer always asks. Name -> what to put there.
ASK_ONLY = {
    "new_device": "the new disk to add (not the failed one; find it in lsblk or Storage > Disks; for ZFS its "
                  "/dev/disk/by-id name)",
    "old_device": "the disk taken out of the array (its md superblock is cleared)",
    "old_md_device": "the old array that holds the disk (cat /proc/mdstat; never an array in use)",
    "member_device": "a disk of the file system that is still there",
    "copy_partition": "the partition of the copy (not the one OMV mounts)",
    "missing_devid": "the devid btrfs filesystem show lists as missing",
    "task_uuid": "the rsync task's uuid (its file in /var/lib/openmediavault/cron.d is rsync-<uuid>)",
    "failed_member": "the pool's failed or missing disk, as zpool status -v names it (a by-id name or a number)",
    "target_disk": "the whole disk this writes to (everything on it is overwritten): check lsblk and "
                   "/dev/disk/by-id; never a data disk",
    "rescue_dir": "a folder on another, healthy disk for the rescued files (never on the damaged file system)",
    "target_partition": "the partition this writes to (everything on it is overwritten): check lsblk -f; never a "
                        "data disk's",
}
#: What a filled name stands for when the answer still asks for it (the CLI's ``needs:`` line says it).
DESCRIBED = {**ASK_ONLY, "partition": "the file system's partition, e.g. /dev/sdb1 (lsblk -f; Storage > File "
                                      "Systems shows its device)"}
SOLUTION_NAMES = frozenset(FILLED) | frozenset(ASK_ONLY)

#: ``{name}`` in a command: one brace each side (``{{.Names}}`` is a Go template, not a placeholder).
IN_COMMAND = re.compile(r"(?<!\{)\{([a-z_]{1,32})\}(?!\})")

#: What a value may look like to be put into a command the admin copies: the shapes fill's own patterns
#: read (device and interface names, units, IPv4 addresses, data paths). Nothing a shell would read as
#: more than one word, a redirection or another command; never a leading "-" (an option).
SAFE = {
    "md_device": re.compile(rf"/dev/(?:{MD_NAME})"),
    "device": re.compile(rf"/dev/(?:{DISK_NAME})"),
    "partition": re.compile(rf"/dev/(?:{PARTITION_NAME})"),
    "interface": re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,14}"),
    "unit": re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@:-]{0,99}"),
    "user": re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}"),
    "pool": re.compile(r"[A-Za-z][A-Za-z0-9_.:-]{0,63}"),
    "path": re.compile(r"/(?:srv|mnt|media|export|etc|var/log)(?:/(?!\.\.?(?:/|$))[\w.@+-]+)*"),
    "host": re.compile(r"\d{1,3}(?:\.\d{1,3}){3}"),
    "client_ip": re.compile(r"\d{1,3}(?:\.\d{1,3}){3}"),
}


def in_command(command) -> list[str]:
    """Every ``{name}`` a command shows, known or not, in order."""
    return list(dict.fromkeys(IN_COMMAND.findall(command))) if isinstance(command, str) else []


def unknown_in_command(command) -> list[str]:
    """The ``{names}`` of a command that are no placeholder (the loader refuses them)."""
    return [n for n in in_command(command) if n not in SOLUTION_NAMES]


def command_values(command: str, query: str, snapshot, *, strict: bool = False) -> dict[str, str]:
    """The placeholders of solution ``command`` this question and box fill, each with a safe value.

    ``strict`` (a data-risk command): only a value the question names alone, or (the question naming
    none) the box's only candidate; two arrays named in the question leave it asked for, not the first.
    The box's array (pool) fills a data-risk command only when it is degraded or inactive (not ONLINE):
    its one healthy array is as likely the one the data lives on as the one the question is about
    ("mdadm --stop" of a vanished array must not become a stop of the array in use). A partition
    comes only from the question: ``e2fsck -f {partition}`` asks unless the question names one.
    """
    names = [n for n in in_command(command) if n in FILLED]
    if not names:
        return {}
    found = _sources(query, snapshot)
    out = {}
    for name in names:
        named, box = (list(dict.fromkeys(v for v in vals if isinstance(v, str) and SAFE[name].fullmatch(v)))
                      for vals in found.get(name, ([], [])))
        if strict and name == "device" and named:
            # a disk by its own name only: "wipe sdb1" is no wipe of sdb, nor of the box's failing disk: it asks
            named = [v for v in named if v in ["/dev/" + d for d in _disks_in_order(query, partitions=False)]]
            if not named:
                continue
        if strict and name in _STRICT_BOX:
            box = [v for v in box if v in _STRICT_BOX[name](snapshot)]
        if strict:
            pick = named or box
            value = pick[0] if len(pick) == 1 else None
        else:
            value = next(iter(named + box), None)
        if value:
            out[name] = value
    return out


def apply_command(command: str, filled: dict[str, str]) -> tuple[str, list[str]]:
    """``command`` with the known placeholders filled (each only with a SAFE value), and the names still asked for."""
    needs: list[str] = []

    def put(m):
        name = m.group(1)
        value = filled.get(name)
        if name in FILLED and isinstance(value, str) and SAFE[name].fullmatch(value):
            return value
        if name in SOLUTION_NAMES and name not in needs:
            needs.append(name)
        return m.group(0)
    return IN_COMMAND.sub(put, command), needs
