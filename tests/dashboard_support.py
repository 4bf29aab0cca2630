"""A NAS in trouble for the Dashboard tests: a disk whose SMART says FAILED (the real smartctl capture
smart-fail2.json), a healthy one, a sleeping one, a clean raid1 (from the real /proc/mdstat capture),
a filesystem that fills at a steady rate, 30 days of history in the store's tiers, and virtual
interfaces beside the real one."""

from __future__ import annotations

import math

from omv_copilot_agent.collect import mdstat
from tests.alerts_support import FIXTURES, fs, smart_disk, snapshot

DAY = 86400.0
FILLING = "/srv/data"
#: /srv/data grows 2.8 % a day and is 86 % full now: full in 5 days
FILL_NOW, FILL_PER_DAY = 86.0, 2.8
SIZE = 4000 * 2**30


def fill_percent(age_s: float) -> float:
    return FILL_NOW - FILL_PER_DAY * age_s / DAY


def history(now: float) -> list[tuple[float, str, str, float, int]]:
    """(ts, name, labels, value, tier) rows like the store's tiers hold them after 30 days:
    raw samples every 5 min for 48 h (tier 0), 5-minute averages every 30 min before (tier 1)."""
    rows = []
    ts = now - 30 * DAY
    while ts < now - 60:
        age = now - ts
        tier = 0 if age < 2 * DAY else 1
        wave = math.sin(ts / DAY * 2 * math.pi)  # one gentle day/night cycle
        rows += [(ts, "cpu.percent", "", 20 + 15 * wave, tier),
                 (ts, "mem.percent", "", 55 + 10 * (age < DAY) + 3 * wave, tier),
                 (ts, "load.1", "", 0.6 + 0.4 * wave, tier),
                 (ts, "load.15", "", 0.5 + 0.25 * wave, tier),
                 (ts, "temp.celsius", "sensor=coretemp/Package id 0", 45 + 5 * wave, tier),
                 (ts, "disk.temperature", "device=/dev/sda", 32 + 2 * wave, tier),
                 (ts, "disk.temperature", "device=/dev/sdb", 26 + 2 * wave, tier)]
        if age < 10 * DAY:
            pct = fill_percent(age)
            rows += [(ts, "fs.used_percent", f"mountpoint={FILLING}", pct, tier),
                     (ts, "fs.used_bytes", f"mountpoint={FILLING}", SIZE * pct / 100, tier),
                     (ts, "fs.free_bytes", f"mountpoint={FILLING}", SIZE * (100 - pct) / 100, tier),
                     (ts, "fs.used_percent", "mountpoint=/", 41.0, tier)]
        ts += 300 if tier == 0 else 1800
    return rows


def failing_snapshot(now: float):
    healthy, failing, sleeping = (smart_disk("smart-ata.json", "/dev/sda"), smart_disk("smart-fail2.json", "/dev/sdb"),
                                  smart_disk("smart-ata2.json", "/dev/sdc"))
    for disk in (healthy, failing):
        disk.update(power_state="active", asleep=False, read_at=now, checked_at=now)
    sleeping.update(power_state="standby", asleep=True, read_at=now - 5 * 3600, checked_at=now)
    arrays = [a for a in mdstat.parse((FIXTURES / "proc" / "mdstat").read_text()) if a["name"] == "md127"]  # clean raid1
    net = [{"name": "eth0", "virtual": False, "up": True, "speed_mbps": 1000, "addresses": [{"address": "192.168.1.10"}]}]
    net += [{"name": n, "virtual": True, "up": False, "speed_mbps": None, "addresses": []}
            for n in ("ifb0", "ifb1", "veth3f2a1b0", "docker0", "br-5e1c2d3a4b5f")]
    return snapshot(now, system={"hostname": "nas", "cpu": {"count": 4, "percent": 22.0, "load": [0.5, 0.4, 0.3]},
                                 "memory": {"total": 4 * 2**30, "used": 2 * 2**30, "percent": 60.0},
                                 "temperatures": [{"sensor": "coretemp", "label": "Package id 0", "current_c": 47.0}]},
                    storage={"filesystems": [fs(FILLING, FILL_NOW, total=SIZE), fs("/", 41, total=30 * 2**30, device="/dev/sdc1")],
                             "raid": arrays},
                    smart={"disks": [healthy, failing, sleeping], "cycle_at": now},
                    network={"interfaces": net},
                    services={"units": [{"name": n, "unit": f"{n}.service", "active_state": "active", "sub_state": "running",
                                         "enabled_in_omv": True} for n in ("smbd", "nfs-server", "ssh")]})


def seed(agent, now: float) -> None:
    """The failing NAS in ``agent``: history in the store, the snapshot, the alert engine run on it."""
    with agent.store.write() as conn:
        conn.executemany("INSERT INTO metrics (ts, name, labels, value, tier) VALUES (?, ?, ?, ?, ?)", history(now))
    snap = failing_snapshot(now)
    agent.snapshot = snap
    agent.store.save_snapshot(snap)
    agent.alerts.evaluate(snap, now)
