"""Readings: the values a question asks for, read from the snapshot the answer is handed.

"How full is my root file system right now", "how hot are my disks", "is my raid ok", "how long has it been up":
the box's latest snapshot holds the answer as plain values, and an answer of patterns alone speaks of the box only
through findings. ``of(query, snapshot)`` recognises the reading a question asks for from a small declared table
(``KINDS``: a kind's words that ask for it and the words that say what it is about) and the subjects it names
(``/``, the root file system, a mount path, a device, a label, a disk, an array), not from the patterns, and
returns one row per value, each with when it was read.

Data flows one way: this module reads the snapshot it is handed (``.data(source)``, ``.status(source)``,
``.sources[name].collected_at``, ``.taken_at``) and never runs a command or reaches ``collect``. A value the
snapshot does not hold is said as such: a disk asleep in standby keeps its last SMART reading (``smart`` never
wakes it), so its temperature now is "not read".

Names from the box (mount points, labels, models, array names) are data: they are compared with the question's
words and returned as text for every client to show as text, never as markup or a pattern.
"""

from __future__ import annotations

import functools
import logging
import re
import time

from omv_copilot_agent.knowledge.fill import DISK_NAME, MD_NAME, PARTITION_NAME

log = logging.getLogger(__name__)

#: The readings a question can ask for: each kind's words that ask for a value (``ask``) and the words that say
#: what the value is about (``about``). A kind is read when the question has one of each (or, for ``uptime``, its
#: own phrase); the subjects a question names (``/``, a mount path, a device, a label, a disk, an array) count as
#: ``about`` words of the kinds they belong to. "How full is my fridge" asks ("full") about nothing of the box.
KINDS: dict[str, dict[str, tuple[str, ...]]] = {
    "filesystem": {
        "ask": ("full", "fill", "fills", "filled", "filling", "usage", "used", "free", "space", "capacity", "left",
                "df"),
        "about": ("disk", "disks", "drive", "drives", "file system", "file systems", "filesystem", "filesystems", "fs",
                  "volume", "volumes", "partition", "partitions", "storage", "disk space", "free space", "space left",
                  "space used", "storage space", "how much space"),
    },
    "disk_temperature": {
        "ask": ("hot", "temperature", "temperatures", "temp", "temps", "warm", "heat", "overheating", "celsius",
                "degrees", "°c"),
        "about": ("disk", "disks", "drive", "drives", "hdd", "hdds", "ssd", "ssds", "nvme", "hard drive",
                  "hard drives", "hard disk", "hard disks"),
    },
    "disk_power": {
        "ask": ("asleep", "sleep", "sleeping", "standby", "spun down", "spin down", "spins down", "spindown",
                "spin-down", "spinning", "spun up", "spin up", "awake", "idle", "power state"),
        "about": ("disk", "disks", "drive", "drives", "hdd", "hdds", "hard drive", "hard drives", "hard disk",
                  "hard disks"),
    },
    "disk_health": {
        "ask": ("healthy", "health", "smart", "ok", "okay", "fine", "failing", "dying", "good", "status",
                "reallocated", "bad sectors"),
        "about": ("disk", "disks", "drive", "drives", "hdd", "hdds", "ssd", "ssds", "hard drive", "hard drives",
                  "hard disk", "hard disks"),
    },
    "array": {
        "ask": ("ok", "okay", "fine", "healthy", "health", "status", "state", "degraded", "rebuilding", "rebuild",
                "resync", "resyncing", "syncing", "recovery", "recovering", "progress", "good", "clean", "broken",
                "failed", "working", "how far"),
        "about": ("raid", "raids", "array", "arrays", "mdadm", "mirror", "pool", "pools", "zpool", "zfs"),
    },
    "memory": {
        "ask": ("used", "usage", "use", "free", "full", "how much", "available", "left", "consumption", "consuming",
                "percent"),
        "about": ("ram", "memory", "mem", "swap"),
    },
    "cpu": {
        "ask": ("busy", "usage", "used", "load", "how much", "percent", "utilization", "utilisation", "how high"),
        "about": ("cpu", "cpus", "processor", "load average"),
    },
}

#: Uptime is asked in phrases ("how long has it been up", "when did it last boot") about the box itself; a
#: question about another thing's time ("how long has the rebuild been running") is not.
_UPTIME = re.compile(r"\bup\s?time\b|\bhow long\b[^?.!]{0,40}\b(?:been\s+)?(?:up|running|on|online)\b"
                     r"|\blast\s+(?:re)?boot(?:ed)?\b|\bwhen\b[^?.!]{0,40}\b(?:re)?boot(?:ed)?\b|\bsince when\b[^?.!]{0,30}\b(?:up|running)\b")
_NOT_THE_BOX = re.compile(r"\b(?:containers?|docker|disks?|drives?|hdds?|services?|jobs?|backups?|scrubs?|rebuild|resync|"
                          r"tests?|vms?|process(?:es)?|shares?|arrays?|raids?|pools?|ups|scripts?|transfers?|copy|upload)\b")

#: A question about another device ("android phone says storage full") or about what to buy or need ("how much ram
#: do i need for video editing") asks for no reading of this box.
_ELSEWHERE = re.compile(r"\b(?:phones?|android|iphone|ipad|tablets?|laptops?|macbook|pc|computer|desktop|tv"
                        r"|camera|console|xbox|playstation)\b|\b(?:do i need|would i need|should i (?:buy|get|use)|to buy"
                        r"|recommend(?:ed)?|minimum|requirements?)\b")

#: The root file system by name ("root file system", "rootfs", "the os drive", "/" alone, "root" ending the question).
_ROOT = re.compile(r"\broot\s*(?:file\s*system|filesystem|fs|partition|drive|disk|volume)s?\b|\brootfs\b"
                   r"|\b(?:os|system|boot)\s+(?:disk|drive|partition|ssd|volume)\b|(?<![\w/])/(?=[\s?.,!:;)]|$)"
                   r"|\broot\b(?=\s*(?:[?.!]|$|is\b|at\b|filled\b|has\b))")
_PATH = re.compile(r"(?<![\w/])(/[^\s\"'`?!,;]+)")
_DISK = re.compile(rf"(?<![\w/])(?:/dev/)?({DISK_NAME})(?![\w])")
_PART = re.compile(rf"(?<![\w/])(?:/dev/)?({PARTITION_NAME})(?![\w])")
_MD = re.compile(rf"(?<![\w/])(?:/dev/)?({MD_NAME})(?![\w])")
_WORDS = re.compile(r"[a-z0-9°][a-z0-9°._-]*")

#: How many rows one kind shows at most (a box with 24 disks answers "how hot are my disks" with the hottest first).
LIMIT = 12


def _phrase(text: str, words: tuple[str, ...]) -> bool:
    return any(re.search(r"(?<![\w-])" + re.escape(w) + r"(?![\w-])", text) for w in words)


def asked(query: str, snapshot=None) -> list[str]:
    """The reading kinds ``query`` asks for (``KINDS`` order, then ``uptime``), from its words and the names of
    ``snapshot``'s file systems and disks it uses (a label, a model)."""
    text = " ".join(str(query or "").lower().split())
    if _ELSEWHERE.search(text):
        return []
    kinds = [kind for kind, words in KINDS.items()
             if _phrase(text, words["ask"]) and (_phrase(text, words["about"]) or _named_about(kind, text)
                                                 or _box_named(kind, text, snapshot))]
    if _UPTIME.search(text) and not _NOT_THE_BOX.search(text):
        kinds.append("uptime")
    return kinds


def _named_about(kind: str, text: str) -> bool:
    """Does the question name a subject of ``kind`` by itself (``/``, a mount path, a device, an array)?"""
    if kind == "filesystem":
        return bool(_ROOT.search(text) or _PART.search(text) or _DISK.search(text)
                    or any(p.startswith(("/srv/", "/mnt/", "/media/", "/export/", "/home", "/var")) for p in _PATH.findall(text)))
    if kind in ("disk_temperature", "disk_power", "disk_health"):
        return bool(_DISK.search(text))
    if kind == "array":
        return bool(_MD.search(text))
    return False


def _box_named(kind: str, text: str, snapshot) -> bool:
    """Does the question name one of the box's file systems by its label ("how full is media") or one of its disks
    by its model ("how hot is the WD40EFRX")? The names are compared as words, never used as patterns."""
    if snapshot is None:
        return False
    words = set(_WORDS.findall(text))
    if kind == "filesystem":
        return any(_label(f) in words for f in snapshot.data("storage").get("filesystems") or [] if isinstance(f, dict))
    if kind in ("disk_temperature", "disk_power", "disk_health"):
        return any(_model_named(d, words) for d in snapshot.data("smart").get("disks") or [] if isinstance(d, dict))
    return False


def _label(f: dict) -> str | None:
    """A file system's label as a question would say it, or None for one too short or too common to name it."""
    label = str(f.get("label") or "").lower()
    return label if len(label) >= 3 and label not in _COMMON else None


def _model_named(d: dict, words: set[str]) -> bool:
    model, serial = str(d.get("model") or "").lower(), str(d.get("serial") or "").lower()
    return any(len(w) >= 5 and any(c.isdigit() for c in w) and (w in model or w == serial) for w in words)


def of(query: str, snapshot, now: float | None = None) -> list[dict]:
    """The readings ``query`` asks for, from ``snapshot`` (None: none). Each row: ``kind``, ``subject`` (what it
    is about, the box's own name), ``label`` (the subject in words), ``value`` (the reading in words, or why there
    is none), ``held`` (false: the snapshot does not hold this value now), ``read_at`` (unix s; null if never),
    ``age_s`` and ``text`` ("<label>: <value>, read <age> ago")."""
    if snapshot is None:
        return []
    now = time.time() if now is None else now
    rows: list[dict] = []
    for kind in asked(query, snapshot):
        try:
            rows += READERS[kind](str(query or ""), snapshot)
        except Exception:  # a snapshot of an unexpected shape must not lose the question's answer
            log.exception("could not read the %s reading from the snapshot", kind)
    out = []
    for row in rows:
        at = row.get("read_at")
        age = None if at is None else max(0.0, now - float(at))
        label, value = _plain(row["label"]), _plain(row["value"])
        text = f"{label}: {value}" + (f", read {_ago(age)}" if age is not None else "")
        out.append({"kind": row["kind"], "subject": None if row["subject"] is None else _plain(row["subject"]),
                    "label": label, "value": value, "held": row.get("held", True), "read_at": at,
                    "age_s": None if age is None else round(age), "text": text})
    return out


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _plain(text) -> str:
    """A box's name as one line of text: a control character (a newline in a label, an ESC in a model) is
    written as its escape (``\\n``, ``\\x1b``), so no client shows a faked line or a terminal acts on it."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], str(text))


# -- the time and sizes in words ---------------------------------------------------------------------------------

def _ago(seconds: float) -> str:
    s = int(round(seconds))
    if s < 60:
        return "just now" if s < 5 else f"{s} s ago"
    if s < 3600:
        return f"{s // 60} min ago"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min ago" if s % 3600 >= 60 else f"{s // 3600} h ago"
    return f"{s // 86400} d {s % 86400 // 3600} h ago"


def _size(n) -> str:
    n = float(n or 0)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"  # not reached


def _pair(used, total) -> str:
    """ "4.1 of 5.8 GiB": both in the larger one's unit."""
    total_s = _size(total)
    unit = total_s.split()[-1]
    scale = {"B": 1, "KiB": 1024, "MiB": 1024 ** 2, "GiB": 1024 ** 3, "TiB": 1024 ** 4}[unit]
    used_n = float(used or 0) / scale
    return f"{used_n:.0f} of {total_s}" if unit == "B" else f"{used_n:.1f} of {total_s}"


def _duration(seconds: float) -> str:
    s = int(seconds)
    days, hours, minutes = s // 86400, s % 86400 // 3600, s % 3600 // 60
    if days:
        return f"{days} day{'s' if days != 1 else ''} {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def _collected(snapshot, source: str):
    """When ``source`` was read in this snapshot (its start, else the snapshot's time)."""
    result = (getattr(snapshot, "sources", None) or {}).get(source)
    at = getattr(result, "collected_at", 0) or getattr(snapshot, "taken_at", None)
    return float(at) if at else None


def _unread(kind: str, source: str, snapshot, what: str) -> list[dict]:
    """The row of a reading whose source this snapshot could not read (or has not got)."""
    status = snapshot.status(source)
    result = (getattr(snapshot, "sources", None) or {}).get(source)
    reason = getattr(result, "reason", None)
    why = "not read in the latest snapshot" if status is None else f"its source '{source}' is {status}" + (f" ({reason})" if reason else "")
    return [{"kind": kind, "subject": None, "label": what, "value": f"no reading: {why}", "held": False, "read_at": None}]


# -- filesystems ---------------------------------------------------------------------------------------------------

def _filesystems(query: str, snapshot) -> list[dict]:
    data = snapshot.data("storage")
    filesystems = [f for f in data.get("filesystems") or [] if isinstance(f, dict) and (f.get("mountpoint") or f.get("device"))]
    at = _collected(snapshot, "storage")
    if not filesystems:
        if snapshot.status("storage") != "ok":
            return _unread("filesystem", "storage", snapshot, "File systems")
        return [{"kind": "filesystem", "subject": None, "label": "File systems", "value": "none in the latest snapshot",
                 "held": True, "read_at": at}]
    chosen = _chosen_filesystems(query, filesystems)
    if chosen is None:  # names none: every mounted one, the fullest first
        chosen = sorted(filesystems, key=lambda f: (f.get("mounted") is False, -float(f.get("percent") or 0)))
    elif not chosen:
        return [{"kind": "filesystem", "subject": None, "label": "File system",
                 "value": "the latest snapshot holds none of the file systems the question names (its mount points: "
                          + ", ".join(str(f.get("mountpoint") or f.get("device")) for f in filesystems[:LIMIT]) + ")",
                 "held": False, "read_at": at}]
    return [_filesystem_row(f, at) for f in chosen[:LIMIT]]


def _chosen_filesystems(query: str, filesystems: list[dict]) -> list[dict] | None:
    """The file systems the question names (root, a mount path or a path below one, a device, a label), or None
    when it names none."""
    low = " ".join(query.lower().split())
    named: list[dict] = []
    named_any = False

    def add(f):
        if f not in named:
            named.append(f)

    if _ROOT.search(low):
        named_any = True
        for f in filesystems:
            if f.get("mountpoint") == "/":
                add(f)
    for path in _PATH.findall(query):
        path = path.rstrip(".:)")
        if path == "/" or path.startswith("/dev/"):
            continue
        holders = [f for f in filesystems if _under(path, str(f.get("mountpoint")))]
        if holders:
            named_any = True
            add(max(holders, key=lambda f: len(str(f.get("mountpoint")))))
        elif path.startswith(("/srv/", "/mnt/", "/media/", "/export/")):
            named_any = True
    for m in _PART.finditer(low):
        named_any = True
        for f in filesystems:
            if str(f.get("device") or "").lower().removeprefix("/dev/") == m.group(1):
                add(f)
    for m in _DISK.finditer(low):
        named_any = True
        for f in filesystems:
            device = str(f.get("device") or "").lower().removeprefix("/dev/")
            if re.fullmatch(re.escape(m.group(1)) + r"p?\d{1,3}", device) or device == m.group(1):
                add(f)
    words = set(_WORDS.findall(low))
    for f in filesystems:
        if _label(f) in words:
            named_any = True
            add(f)
    return named if named_any else None


#: Words a label may be that a question uses for something else ("how full is my data disk" names the label
#: "data" only if the box has one; "disk" or "root" as a label would name every question).
_COMMON = {"disk", "disks", "drive", "drives", "root", "the", "my", "and", "full", "free", "used", "space", "how", "file",
           "system", "storage", "volume", "partition"}


def _under(path: str, mountpoint: str) -> bool:
    if mountpoint == "/":
        return path.startswith("/")
    return path == mountpoint or path.rstrip("/") == mountpoint or path.startswith(mountpoint.rstrip("/") + "/")


def _filesystem_row(f: dict, at) -> dict:
    mountpoint, device = str(f.get("mountpoint") or ""), str(f.get("device") or "")
    if not mountpoint:  # an OMV file system that is not mounted has no mount point
        label = device + (f" (label {f['label']})" if f.get("label") else "")
        mountpoint = device
    elif mountpoint == "/":
        label = "/ (the OS drive" + (f", {device})" if device else ")")
    else:
        extra = [f"label {f['label']}"] if f.get("label") else []
        extra += [device] if device else []
        label = mountpoint + (f" ({', '.join(extra)})" if extra else "")
    if f.get("mounted") is False:
        return {"kind": "filesystem", "subject": mountpoint, "label": label, "value": "not mounted: no usage to read",
                "held": False, "read_at": at}
    if f.get("percent") is None or not f.get("total"):
        return {"kind": "filesystem", "subject": mountpoint, "label": label, "value": "its usage was not read",
                "held": False, "read_at": at}
    value = f"{float(f['percent']):.0f} % used, {_pair(f.get('used'), f.get('total'))}, {_size(f.get('free'))} free"
    if f.get("readonly"):
        value += ", mounted read-only"
    return {"kind": "filesystem", "subject": mountpoint, "label": label, "value": value, "read_at": at}


# -- disks (SMART) ---------------------------------------------------------------------------------------------------

def _disks(query: str, snapshot, kind: str) -> tuple[list[dict], list[dict] | None]:
    """(the disks the question is about, the row saying why there are none), from the ``smart`` source."""
    disks = [d for d in snapshot.data("smart").get("disks") or [] if isinstance(d, dict)]
    if not disks:
        if snapshot.status("smart") != "ok":
            return [], _unread(kind, "smart", snapshot, "Disks")
        return [], [{"kind": kind, "subject": None, "label": "Disks", "value": "no disks in the latest SMART reading",
                     "held": True, "read_at": _collected(snapshot, "smart")}]
    low = query.lower()
    names = {m.group(1) for m in _DISK.finditer(low)}
    words = set(_WORDS.findall(low))
    chosen = [d for d in disks if _disk_name(d) in names or _model_named(d, words)]
    if names and not chosen:
        return [], [{"kind": kind, "subject": None, "label": "Disk " + ", ".join(sorted(names)),
                     "value": "not in the latest SMART reading (its disks: " + ", ".join(_disk_name(d) for d in disks[:LIMIT]) + ")",
                     "held": False, "read_at": _collected(snapshot, "smart")}]
    return chosen or disks, None


def _disk_name(d: dict) -> str:
    return str(d.get("device") or "").removeprefix("/dev/")


def _disk_label(d: dict) -> str:
    return _disk_name(d) + (f" ({d['model']})" if d.get("model") else "")


def _disk_at(d: dict, snapshot):
    at = d.get("read_at")
    if at is None and "read_at" not in d:  # an older snapshot without per-disk times: the source's
        return _collected(snapshot, "smart")
    return float(at) if at is not None else None


def _temperatures(query: str, snapshot) -> list[dict]:
    disks, none = _disks(query, snapshot, "disk_temperature")
    if none is not None:
        return none
    rows = []
    # the awake ones first, the hottest first: a sleeping disk's last reading is no value of now
    for d in sorted(disks, key=lambda d: (bool(d.get("asleep")), -float(d.get("temperature_c") or -1000))):
        at, temp = _disk_at(d, snapshot), d.get("temperature_c")
        row = {"kind": "disk_temperature", "subject": _disk_name(d), "label": _disk_label(d), "read_at": at}
        if d.get("asleep"):
            last = f"; its last reading: {temp} °C" if temp is not None and at is not None else "; never read"
            row.update(value=f"asleep ({d.get('power_state') or 'standby'}): its temperature now is not read, so as not "
                             f"to wake it{last}", held=False)
        elif temp is None:
            row.update(value="no temperature in its SMART reading" + (f" ({d['error']})" if d.get("error") else ""), held=False)
        else:
            row.update(value=f"{temp} °C")
        rows.append(row)
    return rows[:LIMIT]


def _power(query: str, snapshot) -> list[dict]:
    disks, none = _disks(query, snapshot, "disk_power")
    if none is not None:
        return none
    rows = []
    for d in sorted(disks, key=lambda d: not d.get("asleep")):  # the sleeping ones first: what was asked
        state = d.get("power_state")
        at = d.get("checked_at") or _disk_at(d, snapshot)
        if d.get("asleep"):
            value = f"asleep ({state or 'standby'})"
        elif state in (None, "unknown"):
            value = "power state not known (smartctl could not tell)" if state == "unknown" else "power state not read"
        else:
            value = f"awake ({state})"
        rows.append({"kind": "disk_power", "subject": _disk_name(d), "label": _disk_label(d), "value": value,
                     "held": state not in (None, "unknown") or bool(d.get("asleep")), "read_at": at})
    return rows[:LIMIT]


def _health(query: str, snapshot) -> list[dict]:
    disks, none = _disks(query, snapshot, "disk_health")
    if none is not None:
        return none
    rows = []
    for d in sorted(disks, key=lambda d: d.get("passed") is not False):  # a failed one first
        parts = []
        passed = d.get("passed")
        parts.append("SMART overall health: passed" if passed else "SMART overall health: FAILED" if passed is False
                     else "SMART overall health not read" + (f" ({d['error']})" if d.get("error") else ""))
        raw = next((a.get("raw") for a in d.get("attributes") or [] if isinstance(a, dict) and a.get("id") == 5), None)
        if raw is not None:
            parts.append(f"{raw} reallocated sectors")
        nvme = d.get("nvme") or {}
        if isinstance(nvme, dict) and nvme.get("media_errors") is not None:
            parts.append(f"{nvme['media_errors']} media errors")
        if d.get("power_on_hours") is not None:
            parts.append(f"{d['power_on_hours']} power-on hours")
        if d.get("asleep"):
            parts.append("asleep now: these are its last values")
        rows.append({"kind": "disk_health", "subject": _disk_name(d), "label": _disk_label(d), "value": ", ".join(parts),
                     "held": passed is not None, "read_at": _disk_at(d, snapshot)})
    return rows[:LIMIT]


# -- arrays and pools -------------------------------------------------------------------------------------------------

def _arrays(query: str, snapshot) -> list[dict]:
    data = snapshot.data("storage")
    at = _collected(snapshot, "storage")
    raid = [r for r in data.get("raid") or [] if isinstance(r, dict)]
    pools = [p for p in data.get("zfs") or [] if isinstance(p, dict)]
    if not raid and not pools and snapshot.status("storage") != "ok":
        return _unread("array", "storage", snapshot, "Arrays")
    low = query.lower()
    names = {m.group(1) for m in _MD.finditer(low)}
    words = set(_WORDS.findall(low))
    chosen_md = [r for r in raid if str(r.get("name")) in names] if names else raid
    chosen_zfs = [p for p in pools if str(p.get("name") or "").lower() in words] or ([] if names else pools)
    if names and not chosen_md:
        return [{"kind": "array", "subject": None, "label": "Array " + ", ".join(sorted(names)),
                 "value": "not in the latest reading of /proc/mdstat" + (
                     " (its arrays: " + ", ".join(str(r.get("name")) for r in raid) + ")" if raid else " (it lists none)"),
                 "held": False, "read_at": at}]
    if not chosen_md and not chosen_zfs:
        return [{"kind": "array", "subject": None, "label": "Arrays",
                 "value": "none on this box: the latest reading lists no md RAID array (/proc/mdstat) and no ZFS pool",
                 "held": True, "read_at": at}]
    rows = []
    for r in chosen_md[:LIMIT]:
        name = str(r.get("name"))
        label = f"/dev/{name}" + (f" ({r['level']}" + (f", OMV name {r['omv_name']})" if r.get("omv_name") else ")")
                                   if r.get("level") else "")
        if r.get("state") == "inactive" or str(r.get("state")) == "inactive":
            value = "inactive (not assembled)"
        else:
            state = r.get("omv_state") or ("degraded" if r.get("degraded") else r.get("state") or "active")
            value = f"{state}, {r.get('devices_active')} of {r.get('devices_total')} devices active"
        if r.get("failed"):
            value += ", failed: " + ", ".join(str(x) for x in r["failed"])
        if r.get("action"):
            value += f", {r['action']}" + (f" {float(r['progress_percent']):.1f} % done" if r.get("progress_percent") is not None else "")
            if r.get("pending"):
                value += f" ({r['pending']})"
        if r.get("read_only"):
            value += ", read-only"
        rows.append({"kind": "array", "subject": name, "label": label, "value": value, "read_at": at})
    for p in chosen_zfs[:LIMIT]:
        value = str(p.get("health") or "health not read")
        if p.get("capacity_percent") is not None:
            value += f", {float(p['capacity_percent']):.0f} % used"
            if p.get("size"):
                value += f" ({_pair(p.get('alloc'), p.get('size'))})"
        rows.append({"kind": "array", "subject": str(p.get("name")), "label": f"ZFS pool {p.get('name')}", "value": value,
                     "read_at": at})
    return rows


# -- the system: memory, CPU, uptime ---------------------------------------------------------------------------------

def _memory(query: str, snapshot) -> list[dict]:
    data = snapshot.data("system")
    mem, swap = data.get("memory") or {}, data.get("swap") or {}
    if not mem:
        return _unread("memory", "system", snapshot, "Memory")
    at = _collected(snapshot, "system")
    rows = [{"kind": "memory", "subject": "ram", "label": "RAM",
             "value": f"{float(mem.get('percent') or 0):.0f} % used, {_pair(mem.get('used'), mem.get('total'))}"
                      + (f", {_size(mem['available'])} available" if mem.get("available") is not None else ""),
             "read_at": at}]
    if swap.get("total"):
        rows.append({"kind": "memory", "subject": "swap", "label": "Swap",
                     "value": f"{float(swap.get('percent') or 0):.0f} % used, {_pair(swap.get('used'), swap.get('total'))}",
                     "read_at": at})
    elif swap:
        rows.append({"kind": "memory", "subject": "swap", "label": "Swap", "value": "none configured", "read_at": at})
    return rows


def _cpu(query: str, snapshot) -> list[dict]:
    cpu = snapshot.data("system").get("cpu") or {}
    if not cpu:
        return _unread("cpu", "system", snapshot, "CPU")
    parts = []
    if cpu.get("percent") is not None:
        parts.append(f"{float(cpu['percent']):.0f} % busy")
    if cpu.get("count"):
        parts.append(f"{cpu['count']} cores")
    load = cpu.get("load") or []
    if len(load) == 3:
        parts.append("load " + " / ".join(f"{float(x):.2f}" for x in load) + " (1 / 5 / 15 min)")
    return [{"kind": "cpu", "subject": "cpu", "label": "CPU", "value": ", ".join(parts) or "not read",
             "held": bool(parts), "read_at": _collected(snapshot, "system")}]


def _uptime(query: str, snapshot) -> list[dict]:
    data = snapshot.data("system")
    if data.get("uptime_s") is None:
        return _unread("uptime", "system", snapshot, "Uptime")
    value = f"up {_duration(float(data['uptime_s']))}"
    if data.get("boot_time"):
        value += ", booted " + time.strftime("%Y-%m-%d %H:%M", time.localtime(float(data["boot_time"]))) + " (the box's time)"
    return [{"kind": "uptime", "subject": str(data.get("hostname") or "the box"), "label": "Uptime", "value": value,
             "read_at": _collected(snapshot, "system")}]


READERS = {"filesystem": _filesystems, "disk_temperature": _temperatures, "disk_power": _power,
           "disk_health": _health, "array": _arrays, "memory": _memory, "cpu": _cpu, "uptime": _uptime}


#: What a no-pattern answer says when readings answer the question: its own sentence about having no pattern
#: (kb_answer._no_pattern) is replaced when it is there, else this is said after the answer's first sentence.
NO_PATTERN = "I have no pattern for this question: none of the knowledge base's patterns matches its words closely enough."
ANSWERED = ("The readings above are this box's latest values for what the question asks; no pattern of the knowledge "
            "base matches it as a problem.")
#: What an answer with patterns says when the question only asks for a reading ("how long has it been up") and
#: reports no problem (``kb_answer.asks``): the patterns its words reached are advice for a problem nobody reported,
#: so the analysis says the readings are the answer before it names the best match.
READING_ASKED = ("The readings above answer what the question asks; the patterns below are advice only if something "
                 "is wrong.")


def first(asks_only):
    """``kb_answer.compose`` with the readings the question asks for (``readings``, shown before the analysis by
    every client). When no pattern matched, the analysis says that the readings above answer what the question asks
    instead of only "I have no pattern for this question"; what it says of the box's state and what to try stays.
    When patterns matched a question that only asks (``asks_only``, kb_answer.asks), the analysis says the readings
    are the answer and the patterns advice in case something is wrong, before it names the best match."""
    def decorate(compose):
        @functools.wraps(compose)
        def composed(query, context, matches, signals, reason, snapshot=None):
            return _with_readings(compose(query, context, matches, signals, reason, snapshot), query, matches, snapshot,
                                  asks_only)
        return composed
    return decorate


def _with_readings(fields: dict, query: str, matches: list, snapshot, asks_only) -> dict:
    """The composed answer's fields with its readings, and the analysis's sentence about them (see ``first``)."""
    rows = of(query, snapshot)
    fields["readings"] = rows
    text = str(fields.get("analysis") or "")
    if rows and matches and asks_only(query):
        fields["analysis"] = text.replace("Best match: ", f"{READING_ASKED} Best match: ", 1)
    elif rows and not matches:
        if NO_PATTERN in text:
            fields["analysis"] = text.replace(NO_PATTERN, ANSWERED, 1)
        else:
            head, sep, rest = text.partition(". ")
            fields["analysis"] = f"{head}{sep}{ANSWERED} {rest}".strip() if sep else f"{text} {ANSWERED}".strip()
    return fields
