"""Backtest: synthetic months of NAS life through the real alerting pipeline (prints a table).

Each scenario is a month of snapshots (every ``--step`` seconds on a fake clock)
fed to a real Agent on a temp SQLite store: metrics → forecaster → rules →
lifecycle → delivery policy → notifier → a loopback webhook. The first week is
quiet history (what the RRD import gives on day one). Per scenario it prints
the alerts raised (warning and up; info is recorded, never sent by default) and
the notifications delivered, when, and whether each was right:

* benign scenarios must raise no warning/critical alert and send nothing;
* harmful ones must reach the admin (a delivered notification about the right
  alert class) at least the scenario's lead time before the harm (disk full,
  disk dead), and send nothing about anything else.

Run: /usr/bin/python3 bench/alerts_backtest.py [--days 30] [--step 900] [--json]
(tests/integration/test_alerts_backtest.py runs it and checks those properties).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

os.environ["TZ"] = "UTC"  # the daily digest hour is local time; make it the table's clock
time.tzset()
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from omv_copilot_agent import config as config_mod  # noqa: E402
from omv_copilot_agent.collect.base import SourceResult  # noqa: E402
from omv_copilot_agent.collect.snapshot import Snapshot  # noqa: E402
from omv_copilot_agent.daemon.agent import Agent  # noqa: E402
from omv_copilot_agent.collect.samples import metric_samples  # noqa: E402

GB = 10**9
H, DAY = 3600, 86400
START = 1_767_225_600.0  # 2026-01-01 00:00 UTC, a Thursday


# -- the box ------------------------------------------------------------------------------------
def fs(mountpoint: str, total: float, used: float, device: str = "/dev/sda1") -> dict:
    used = min(max(used, 0.0), total)
    return {"device": device, "mountpoint": mountpoint, "fstype": "ext4", "total": total, "used": used,
            "free": total - used, "percent": round(100 * used / total, 2), "readonly": False, "mounted": True}


def disk(device: str, realloc: int = 0, pending: int = 0, passed: bool = True) -> dict:
    return {"device": device, "model": "WDC WD40EFRX", "serial": f"WD-{device[-3:]}", "passed": passed, "temperature_c": 34,
            "attributes": [{"id": 5, "name": "Reallocated_Sector_Ct", "raw": realloc},
                           {"id": 197, "name": "Current_Pending_Sector", "raw": pending},
                           {"id": 198, "name": "Offline_Uncorrectable", "raw": 0}]}


def unit(name: str, active: bool = True) -> dict:
    return {"name": name, "omv_name": name, "unit": f"{name}.service", "enabled_in_omv": True,
            "active_state": "active" if active else "failed", "sub_state": "running" if active else "failed"}


def box(t: float, *, root: dict | None = None, data: dict | None = None, extra: list | None = None,
        disks: list | None = None, raid: dict | None = None, units: list | None = None) -> dict:
    """A quiet two-disk NAS at time t (seconds since START), with the given parts replaced."""
    wobble = 40e6 * ((int(t) // 900 * 7919) % 11 - 5) / 5  # journald/apt noise on /: ±40 MB
    filesystems = [root or fs("/", 32 * GB, 11 * GB + wobble, "/dev/sdc2"), data or fs("/srv/data", 4000 * GB, 2000 * GB, "/dev/md0"),
                   *(extra or [])]
    md0 = {"name": "md0", "level": "raid1", "state": "clean", "degraded": False, "devices_active": 2, "devices_total": 2,
           "failed": [], "action": "idle", **(raid or {})}
    return {"storage": {"filesystems": filesystems, "raid": [md0]},
            "smart": {"disks": disks or [disk("/dev/sda"), disk("/dev/sdb")]},
            "services": {"units": units or [unit("smbd"), unit("nfs-server")]}}


def ramp(t: float, start: float, rate_per_s: float, duration: float = float("inf")) -> float:
    """Bytes added by something writing ``rate_per_s`` from ``start`` for ``duration``."""
    return rate_per_s * min(max(t - start, 0.0), duration)


# -- scenarios ----------------------------------------------------------------------------------
@dataclass
class Scenario:
    name: str
    harmful: bool
    what: str
    state: Callable[[float], dict | None]  # None: the box is down (reboot)
    expect: frozenset = frozenset()  # alert classes that rightly fire
    harm_at: float | None = None  # seconds since START
    need_lead_s: float | None = None
    need: str = ""


def one_off_copy(t):
    used = 2000 * GB + ramp(t, 10 * DAY + 14 * H, 500 * GB / (2 * H), 2 * H)  # 500 GB copied in 2 h
    used += ramp(t, 17 * DAY + 20 * H, 40 * GB / 1200, 1200)  # the 40 GB download, 50 % full
    return box(t, data=fs("/srv/data", 4000 * GB, used, "/dev/md0"))


def nightly_backups(t):
    day, hour = divmod(t, DAY)
    used = 2480 * GB  # 62 %: seven dailies and four weeklies kept
    used += ramp(hour, 2 * H, 80 * GB / H, H) - (80 * GB if hour >= 4 * H else 0)  # daily +80 GB, oldest pruned
    if int(day) % 7 == 3:  # Sunday's full backup, pruned on Monday
        used += ramp(hour, 5 * H, 400 * GB / (3 * H), 3 * H)
    return box(t, extra=[fs("/srv/backup", 4000 * GB, used, "/dev/sdd1")])


def _downloads(seed: int = 42, days: int = 60) -> list[tuple[float, float]]:
    """(time, size) of 1-8 GB downloads every ~5 h and a 30 GB cleanup every 10 days."""
    rng, events, at = random.Random(seed), [], 0.0
    while at < days * DAY:
        at += rng.expovariate(1 / (5 * H))
        events.append((at, rng.uniform(1, 8) * GB))
    return sorted(events + [(d * DAY + 11 * H, -30 * GB) for d in range(10, days, 10)])


DOWNLOADS = _downloads()


def media_growth(t):
    used = 2200 * GB + sum(size for at, size in DOWNLOADS if at <= t)
    return box(t, data=fs("/srv/data", 4000 * GB, used, "/dev/md0"))


RUNAWAY_FULL = 8 * DAY + (32 * GB - 12.8 * GB) / (150e6 / H)


FIXED_AFTER = 6 * H  # the admin cleans up (or swaps the disk) this long after the harm


def runaway_log(t):
    used = 12.8 * GB + ramp(t, 8 * DAY, 150e6 / H)  # a debug log writing 150 MB/h into /var/log on a 32 GB root
    if t >= RUNAWAY_FULL + FIXED_AFTER:
        used = 12.8 * GB  # log deleted, debug switched off
    return box(t, root=fs("/", 32 * GB, used, "/dev/sdc2"))


CONTAINER_FULL = 12 * DAY + 9 * H + (64 * GB - 28.8 * GB) / (1 * GB / H)


def container_fills_root(t):
    used = 28.8 * GB + ramp(t, 12 * DAY + 9 * H, 1 * GB / H)  # a container's downloads land in /var/lib/docker
    if t >= CONTAINER_FULL + FIXED_AFTER:
        used = 28.8 * GB  # container fixed, its files removed
    return box(t, root=fs("/", 64 * GB, used, "/dev/sdc2"))


DISK_DIES = 27 * DAY + 6 * H


def reallocated_sectors(t):
    days = (t - 9 * DAY) / DAY
    realloc = 0 if days < 0 else 8 + int(days * 3)  # 8 sectors on day 9, then about 3 a day
    pending = 0 if t < 20 * DAY else int((t - 20 * DAY) / DAY) + 1
    if t >= DISK_DIES + FIXED_AFTER:
        return box(t)  # replaced by a new disk
    return box(t, disks=[disk("/dev/sda"), disk("/dev/sdb", realloc, pending, passed=t < DISK_DIES)])


def flapping_service(t):
    crashing = 10 * DAY <= t < 20 * DAY and (t % (3 * H)) < 900  # nfs-server dies every 3 h, systemd restarts it
    return box(t, units=[unit("smbd"), unit("nfs-server", not crashing)])


def resync_after_reboot(t):
    reboot = 15 * DAY + 3 * H
    if reboot <= t < reboot + 1200:
        return None  # the box is rebooting: no snapshot
    done = (t - reboot - 1200) / (6 * H) * 100
    raid = {"action": "resync", "state": "clean, resyncing", "progress_percent": round(done, 1)} if 0 <= done < 100 else None
    return box(t, raid=raid)


SCENARIOS = [
    Scenario("one-off large copy", False, "500 GB copied in 2 h to a 4 TB disk at 50 %; a 40 GB download a week later", one_off_copy),
    Scenario("nightly backups with pruning", False, "+80 GB each night, oldest pruned; a weekly 400 GB full (sawtooth, 62 %)",
             nightly_backups),
    Scenario("steady media library growth", False, "1-8 GB downloads every ~5 h, 30 GB cleanups (55 % → 66 %)", media_growth),
    Scenario("runaway log", True, "150 MB/h into /var/log on a 32 GB root at 40 %, from day 8", runaway_log,
             frozenset({"fs_forecast", "fs_full"}), RUNAWAY_FULL, 24 * H, "24 h (a working day to find the log)"),
    Scenario("container filling /", True, "a container writes 1 GB/h to a 64 GB root at 45 %, from day 12 09:00",
             container_fills_root, frozenset({"fs_forecast", "fs_full"}), CONTAINER_FULL, 12 * H, "12 h (overnight)"),
    Scenario("reallocated sectors rising", True, "sdb: reallocated sectors from day 9, pending from day 20, fails day 27",
             reallocated_sectors, frozenset({"smart_attributes", "smart_health"}), DISK_DIES, 7 * DAY,
             "7 d (order and swap a disk)"),
    Scenario("flapping service", True, "nfs-server crashes every 3 h for 10 days (restarted each time)", flapping_service,
             frozenset({"service_down"}), 10 * DAY, 0, "at the first crash"),
    Scenario("resync after a reboot", False, "a reboot on day 15, then a 6 h md0 resync", resync_after_reboot),
]


# -- replay ---------------------------------------------------------------------------------------
class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        self.received: list[dict] = []
        super().__init__(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        self.server.received.append(json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0))))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def clock(t: float) -> str:
    day, rest = divmod(int(t), DAY)
    return f"d{day} {rest // H:02d}:{rest % H // 60:02d}"


def _snapshot(ts: float, sources: dict) -> Snapshot:
    return Snapshot(ts, {name: SourceResult(name, "ok", data, collected_at=ts) for name, data in sources.items()})


def replay(sc: Scenario, days: int, step: int, receiver: Receiver) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = config_mod.from_dict({"data_dir": tmp, "alerts": {
            "udev_monitor": False, "rrd_import": False, "notify_backoff_s": 0, "forecast_interval_s": 0,
            "webhooks": [{"url": f"http://127.0.0.1:{receiver.server_address[1]}/{len(receiver.received)}"}]}})
        agent = Agent(cfg)
        seen = len(receiver.received)
        notes = []
        try:
            for k in range(int(days * DAY // step) + 1):
                t = k * step
                sources = sc.state(t)
                if sources is None:
                    continue
                snap = _snapshot(START + t, sources)
                agent.snapshot = snap
                agent.store.add_metrics(snap.taken_at, metric_samples(snap))
                agent.alerts.evaluate(snap)
                agent.alerts.notifier.flush(60)
                for body in receiver.received[seen:]:
                    notes.append((t, body))
                seen = len(receiver.received)
            alerts = agent.store.list_alerts(limit=10000)[1]
        finally:
            agent.close()
    return judge(sc, alerts, notes)


def judge(sc: Scenario, alerts: list[dict], notes: list[tuple[float, dict]]) -> dict:
    raised = []
    for a in sorted(alerts, key=lambda a: a["first_seen"]):
        if a["severity"] == "info":
            continue
        raised.append({"rule": a["rule"], "subject": a["subject"], "severity": a["severity"], "at": a["first_seen"] - START,
                       "right": sc.harmful and a["rule"] in sc.expect})
    sent = []
    for t, body in notes:
        items = [body["alert"]] if body["event"] != "digest" else [i["alert"] for i in body["items"]]
        rules = sorted({i["rule"] for i in items})
        sent.append({"at": t, "event": body["event"], "rules": rules, "subject": body["subject"],
                     "right": sc.harmful and all(r in sc.expect for r in rules)})
    first = next((n["at"] for n in sent if n["right"]), None)
    lead = (sc.harm_at - first) if first is not None and sc.harm_at is not None else None
    false_alerts = sum(not a["right"] for a in raised)
    false_notes = sum(not n["right"] for n in sent)
    caught = sc.harmful and lead is not None and lead >= sc.need_lead_s
    ok = (false_alerts == 0 and false_notes == 0) and (caught or not sc.harmful)
    return {"scenario": sc.name, "harmful": sc.harmful, "what": sc.what, "alerts": raised, "notifications": sent,
            "false_alerts": false_alerts, "false_notifications": false_notes, "first_notice": first, "lead_s": lead,
            "need_lead_s": sc.need_lead_s, "need": sc.need, "caught": caught, "ok": ok}


def _lead(s: float | None) -> str:
    if s is None:
        return "-"
    return f"{s / DAY:.1f} d" if s >= 2 * DAY else f"{s / H:.1f} h"


def _alert_summary(alerts: list[dict]) -> str:
    """'rule subject severity first-seen', repeated episodes of one condition folded into '×N first–last'."""
    groups: dict = {}
    for a in alerts:
        groups.setdefault((a["rule"], a["subject"]), []).append(a)
    parts = []
    for (rule, subject), eps in groups.items():
        sev = "/".join(sorted({e["severity"] for e in eps}))
        when = clock(eps[0]["at"]) if len(eps) == 1 else f"×{len(eps)} {clock(eps[0]['at'])}–{clock(eps[-1]['at'])}"
        parts.append(f"{rule} {subject} {sev} {when}")
    return ", ".join(parts) or "none"


def table(results: list[dict]) -> str:
    rows = [["scenario", "kind", "alerts ≥ warning (severity reached, first raised)", "notifications", "false",
             "first notice → lead (needed)", "verdict"]]
    for r in results:
        kinds = {}
        for n in r["notifications"]:
            kinds[n["event"]] = kinds.get(n["event"], 0) + 1
        rows.append([r["scenario"], "harmful" if r["harmful"] else "benign",
                     _alert_summary(r["alerts"]),
                     f"{len(r['notifications'])}" + (f" ({', '.join(f'{v} {k}' for k, v in kinds.items())})" if kinds else ""),
                     f"{r['false_alerts']}/{r['false_notifications']}",
                     (f"{clock(r['first_notice'])} → {_lead(r['lead_s'])} ({r['need']})" if r["harmful"] else "-"),
                     "OK" if r["ok"] else "FAIL"])
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def details(r: dict) -> str:
    out = [f"{r['scenario']}: {r['what']}"]
    if r["alerts"]:
        out.append(f"  alerts: {_alert_summary(r['alerts'])} ({sum(a['right'] for a in r['alerts'])} right, {r['false_alerts']} false)")
    for n in r["notifications"]:
        out.append(f"  notice {clock(n['at'])}  {n['event']:11} {n['subject']}  {'right' if n['right'] else 'FALSE'}")
    return "\n".join(out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--step", type=int, default=900, help="seconds between snapshots (default 900)")
    p.add_argument("--only", help="run only scenarios whose name contains this")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    receiver = Receiver()
    started = time.perf_counter()
    results = [replay(sc, args.days, args.step, receiver) for sc in SCENARIOS if not args.only or args.only in sc.name]
    receiver.shutdown()
    if args.json:
        print(json.dumps({"results": results, "days": args.days, "step": args.step, "seconds": time.perf_counter() - started}))
    else:
        print(f"{args.days} days per scenario, a snapshot every {args.step // 60} min; false = wrong alerts/notifications\n")
        print(table(results))
        print()
        for r in results:
            print(details(r))
        print(f"\n{time.perf_counter() - started:.0f} s")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
