"""Source 'smart': SMART of every disk, read without ever spinning up a sleeping one.

Why it works this way:

* Every read is ``smartctl --json -n standby ...``: smartctl first asks the disk
  for its power mode (ATA CHECK POWER MODE, which does not spin it up) and, when
  it sleeps, exits with bit 1 of its status set and "Device is in STANDBY mode"
  instead of reading SMART. A sleeping disk keeps its last reading, marked
  ``asleep`` with the time it was taken (``read_at``), so a spun-down NAS stays
  spun down — like smartd's ``-n standby`` (OMV's own smartd setting).
* The disk list comes from ``/sys/block`` (no device is opened to list it),
  not from ``smartctl --scan-open``, which opens every device on every cycle.
* Two cadences, like smartd's: the full read (``-a``: identity, attributes,
  error and self-test logs) every ``collect.smart_attributes_interval_s``
  (30 min); health and temperature (``-H -A``) of awake disks every
  ``collect.smart_health_interval_s``. Between reads a disk's entry is reused
  unchanged, so the snapshot (and the store) only changes when a reading does.
"""

from __future__ import annotations

import json
import os
import re
import time

from omv_copilot_agent import runner
from omv_copilot_agent.collect.base import Degraded, Unavailable

NAME = "smart"
SYS_BLOCK = "/sys/block"
#: block devices without SMART or that are not disks (optical, SD cards, virtual and stacked devices)
NOT_DISKS = ("loop", "ram", "zram", "md", "dm-", "sr", "fd", "nbd", "zd", "mmcblk", "rbd", "drbd")
#: the wall clock; tests replace it to simulate hours of cycles
clock = time.time

FULL_READ = ["-a"]
QUICK_READ = ["-H", "-A"]
_ASLEEP = re.compile(r"Device is in (.+?) mode", re.I)


def _protocol(doc: dict) -> str | None:
    proto = ((doc.get("device") or {}).get("protocol") or "").upper()
    return {"ATA": "ATA", "NVME": "NVMe", "SCSI": "SCSI"}.get(proto, proto or None)


def parse(doc: dict, device: str | None = None) -> dict:
    """One ``smartctl --json -a`` document → the snapshot's disk entry."""
    dev = doc.get("device") or {}
    status = doc.get("smart_status") or {}
    temp = (doc.get("temperature") or {}).get("current")
    poh = (doc.get("power_on_time") or {}).get("hours")
    nvme_log = doc.get("nvme_smart_health_information_log")
    if temp is None and nvme_log:
        temp = nvme_log.get("temperature")
    if poh is None and nvme_log:
        poh = nvme_log.get("power_on_hours")
    attrs = []
    for row in (doc.get("ata_smart_attributes") or {}).get("table") or []:
        attrs.append({"id": row.get("id"), "name": row.get("name"), "value": row.get("value"),
                      "worst": row.get("worst"), "thresh": row.get("thresh"),
                      "raw": (row.get("raw") or {}).get("value"), "when_failed": row.get("when_failed") or None})
    nvme = None
    if nvme_log:
        nvme = {k: nvme_log.get(k) for k in ("critical_warning", "media_errors", "percentage_used",
                                              "available_spare", "available_spare_threshold")}
    error = None
    messages = [m.get("string") for m in (doc.get("smartctl") or {}).get("messages") or [] if m.get("severity") == "error"]
    exit_status = (doc.get("smartctl") or {}).get("exit_status", 0)
    if "passed" not in status and (messages or exit_status & 0b11):
        error = "; ".join(m for m in messages if m) or f"smartctl exit status {exit_status}"
    return {"device": device or dev.get("name"), "model": doc.get("model_name") or doc.get("scsi_model_name") or doc.get("model_family"),
            "serial": doc.get("serial_number"), "protocol": _protocol(doc),
            "passed": status.get("passed"), "temperature_c": temp, "power_on_hours": poh,
            "attributes": attrs, "nvme": nvme, "last_self_test": last_self_test(doc), "error": error}


def last_self_test(doc: dict) -> dict | None:
    """The newest entry of the self-test log (ATA's standard or extended log, NVMe's log), or None.

    A disk that passes its overall check but fails its self-tests is failing: the
    Dashboard shows this line beside the verdict, as Scrutiny does.
    """
    ata = doc.get("ata_smart_self_test_log") or {}
    rows = ((ata.get("standard") or {}).get("table") or (ata.get("extended") or {}).get("table")
            or (doc.get("nvme_self_test_log") or {}).get("table") or [])
    row = rows[0] if rows and isinstance(rows[0], dict) else None
    if row is None:
        return None
    kind = row.get("type") or row.get("self_test_code") or {}
    status = row.get("status") or row.get("self_test_result") or {}
    hours = row.get("lifetime_hours", row.get("power_on_hours"))
    passed = status.get("passed")
    if passed is None and "value" in status and "self_test_result" in row:
        passed = status["value"] == 0  # NVMe: result 0 is "completed without error"
    return {"type": kind.get("string"), "status": status.get("string"), "passed": passed, "lifetime_hours": hours}


def asleep_mode(doc: dict, returncode: int | None, text: str = "") -> str | None:
    """The power mode smartctl reported when ``-n standby`` skipped a sleeping disk, else None.

    smartctl then exits with bit 1 set (status 2 by default) and prints
    "Device is in STANDBY mode, exit(2)" (SLEEP, IDLE, or "STANDBY (OS)" when the
    kernel says the disk is powered down); 7.3+ also puts ``power_mode`` in the JSON.
    """
    if returncode is None or not returncode & 0b10:
        return None
    strings = [m.get("string") or "" for m in (doc.get("smartctl") or {}).get("messages") or []] + [text]
    for s in strings:
        found = _ASLEEP.search(s)
        if found:
            return found.group(1).split()[0].lower()
    mode = doc.get("power_mode")
    if isinstance(mode, dict) and "passed" not in (doc.get("smart_status") or {}):
        return str(mode.get("name") or "standby").split()[0].lower()
    return None


def devices(sys_block: str | None = None) -> list[str]:
    """Disks that may speak SMART, from sysfs: ``/dev/<name>`` for every physical block device.

    Only directory entries and links are read; no device is opened.
    """
    root = sys_block or SYS_BLOCK
    try:
        names = sorted(os.listdir(root))
    except OSError:
        return []
    out = []
    for name in names:
        if name.startswith(NOT_DISKS) or not os.path.exists(os.path.join(root, name, "device")):
            continue
        try:
            with open(os.path.join(root, name, "size")) as fh:
                if int(fh.read().strip() or 0) == 0:  # an empty card reader slot
                    continue
        except (OSError, ValueError):
            pass
        out.append(f"/dev/{name}")
    return out


def _sysfs_model(device: str) -> str | None:
    try:
        with open(os.path.join(SYS_BLOCK, os.path.basename(device), "device", "model")) as fh:
            return fh.read().strip() or None
    except OSError:
        return None


def _blank(device: str, error: str | None = None) -> dict:
    return {"device": device, "model": _sysfs_model(device), "serial": None, "protocol": None, "passed": None,
            "temperature_c": None, "power_on_hours": None, "attributes": [], "nvme": None, "last_self_test": None, "error": error}


def read_disk(device: str, what: list[str], timeout: float) -> tuple[dict | None, str | None]:
    """One ``smartctl --json -n standby <what> <device>``: (parsed entry or None, power mode if asleep)."""
    res = runner.run(["smartctl", "--json", "-n", "standby", *what, device], timeout=timeout)
    if res.timed_out or (res.error and res.returncode is None):
        return _blank(device, res.error), None
    try:
        doc = json.loads(res.stdout)
    except ValueError:
        mode = asleep_mode({}, res.returncode, res.stdout)
        if mode:
            return None, mode
        return _blank(device, f"unreadable: {res.stderr.strip()[:200] or 'no JSON from smartctl'}"), None
    mode = asleep_mode(doc, res.returncode)
    if mode:
        return None, mode
    return parse(doc, device), None


def _merge_quick(previous: dict, quick: dict) -> dict:
    """A quick read refreshes health and temperature; attributes stay from the last full read."""
    merged = dict(previous)
    for key in ("passed", "temperature_c", "error"):
        merged[key] = quick.get(key)
    if quick.get("nvme") is not None:
        merged["nvme"] = quick["nvme"]
    return merged


def read_due(device: str, state: dict, now: float, cfg: tuple[float, float, float]) -> dict:
    """Refresh one disk's entry if one of its cadences is due; ``state`` is its memory across cycles."""
    full_every, quick_every, timeout = cfg
    entry = state.get("entry")
    full_due = entry is None or now - state.get("full_at", 0) >= full_every
    quick_due = now - state.get("checked_at", 0) >= quick_every
    if entry is not None and not quick_due and (entry.get("asleep") or not full_due):
        return entry  # a sleeping disk's power mode is checked on the quick cadence, not every cycle
    what = FULL_READ if full_due or entry.get("error") else QUICK_READ
    fresh, mode = read_disk(device, what, timeout)
    state["checked_at"] = now
    if mode:  # asleep: keep the last reading, say so
        entry = dict(entry or _blank(device))
        entry.update(power_state=mode, asleep=True, checked_at=now)
        entry.setdefault("read_at", None)
    else:
        if what is FULL_READ:
            entry = fresh
            # an unreadable disk (no SMART behind a USB bridge, a virtual disk) is retried on the
            # quick cadence, not every cycle: one smartctl per cycle per such disk cost more CPU than
            # every other source together
            state["full_at"] = now
        else:
            entry = _merge_quick(entry, fresh)
        entry.update(power_state="active" if not fresh.get("error") else "unknown", asleep=False,
                     checked_at=now, read_at=now if not fresh.get("error") else (state.get("entry") or {}).get("read_at"))
    state["entry"] = entry
    return entry


def _seed(cache: dict, previous) -> None:
    """After a restart, start from the last stored readings instead of reading every disk at once."""
    if cache or previous is None:
        return
    for disk in (previous.data(NAME) or {}).get("disks") or []:
        if disk.get("device") and disk.get("read_at"):
            cache[disk["device"]] = {"entry": dict(disk), "checked_at": disk.get("checked_at") or 0,
                                     "full_at": 0 if disk.get("error") else disk["read_at"]}


def collect(ctx) -> dict:
    if not runner.which("smartctl"):
        raise Unavailable("smartctl not found (install smartmontools)")
    config = ctx.config
    cfg = (float(config.get_path("collect.smart_attributes_interval_s", 1800)),
           float(config.get_path("collect.smart_health_interval_s", 300)),
           min(30.0, float(config.get_path("collect.source_timeout_s", 20))))
    cache = ctx.cache.setdefault(NAME, {})
    _seed(cache, getattr(ctx, "previous", None))
    now = clock()
    names = devices()
    for gone in set(cache) - set(names):
        del cache[gone]
    disks = [read_due(name, cache.setdefault(name, {}), now, cfg) for name in names]
    data = {"disks": disks, "cycle_at": now}  # a disk whose read_at equals cycle_at was read in this cycle
    bad = [d["device"] for d in disks if d.get("error")]
    if bad:
        raise Degraded(f"could not read SMART of {', '.join(bad)}", data)
    return data
