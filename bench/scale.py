#!/usr/bin/python3
"""Scale: the daemon's cycle on a simulated big box — per-source cost, peak RSS, writes.

The box: 12 disks behind a fake ``smartctl`` (``tests/fakes/smartctl``; 8 asleep, 4 awake, a
full read of an awake disk takes 120 ms, a power check 15 ms, like SATA disks), a fake
``/sys/block`` listing them, 40 shared folders + 40 SMB shares and 30 users behind a fake
``omv-rpc`` (OMV 7 field names), 3 md arrays in a fake ``/proc/mdstat``, and this machine's apt
lists uncompressed into the stock layout (~50 MB). No source reads containers, so the 25
containers of the issue's box cost nothing here.

Runs one :class:`Agent` in this process (collect, alert rules, forecasts, write-behind store)
and prints:

* per source: the first cycle (cold caches), a steady cycle, and the worst cycle (apt lists,
  ``config.xml`` and SMART attributes all due at once) — wall ms and CPU ms of its thread;
* idle RSS between cycles and peak RSS during the worst cycle (sampled every 5 ms);
* bytes written and commits over an hour of simulated one-minute cycles, per day;
* the apt source's two candidates on the stock lists: streamed parse vs python3-apt's cache.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from _common import PYTHON, ROOT, machine, stock_apt_lists, table

FAKES = ROOT / "tests" / "fakes"
DISKS, ASLEEP = 12, 8
CYCLES_STEADY = 5


def _write_json(path: Path, rows: list[dict]) -> None:
    path.write_text(json.dumps({"total": len(rows), "data": rows}))


def build_box(tmp: Path) -> dict:
    """The fake programs and files of the big box; returns what to point the agent at."""
    binp = tmp / "bin"
    binp.mkdir()
    (binp / "smartctl").symlink_to(FAKES / "smartctl")
    disks = {f"/dev/sd{chr(97 + i)}": {"state": "standby" if i < ASLEEP else "active", "doc": "smart-ata.json",
                                      "latency_s": 0.015 if i < ASLEEP else 0.12} for i in range(DISKS)}
    (binp / "disks.json").write_text(json.dumps(disks))
    sys_block = tmp / "sys-block"
    for name in [d[5:] for d in disks] + ["md0", "md1", "md2", "loop0"]:
        (sys_block / name).mkdir(parents=True)
        (sys_block / name / "size").write_text("7814037168\n")
        if name.startswith("sd"):
            (sys_block / name / "device").mkdir()
            (sys_block / name / "device" / "model").write_text("WDC WD40EFRX-68N\n")
    omv = tmp / "omv"
    shutil.copytree(FAKES / "omv", omv / "omv")
    shutil.copy(FAKES / "omv-rpc", omv / "omv-rpc")  # a copy: it replays the JSON next to itself
    folders = [{"uuid": f"5f1a2c3e-1111-4aaa-8bbb-{i:012d}", "name": f"share{i:02d}", "comment": "",
                "mntentref": f"7c0e1d2f-2222-4aaa-8bbb-{i % 3:012d}", "reldirpath": f"share{i:02d}/",
                "privileges": {"privilege": [{"type": "user", "name": f"user{j:02d}", "perms": 7} for j in range(i % 5)]},
                "device": f"/dev/md{i % 3}", "description": f"data{i % 3} [/dev/md{i % 3}, EXT4]",
                "mntent": {"dir": f"/srv/dev-disk-by-uuid-{i % 3}"}, "_used": True, "snapshots": False} for i in range(40)]
    _write_json(omv / "omv" / "ShareMgmt.getList.json", folders)
    _write_json(omv / "omv" / "SMB.getShareList.json", [
        {"uuid": f"9a9a9a9a-3333-4aaa-8bbb-{i:012d}", "enable": True, "sharedfolderref": f["uuid"], "comment": "",
         "guest": "no", "readonly": False, "browseable": True, "recyclebin": i % 2 == 0, "extraoptions": "",
         "sharedfoldername": f["name"]} for i, f in enumerate(folders)])
    _write_json(omv / "omv" / "UserMgmt.getUserList.json", [
        {"name": f"user{i:02d}", "uid": 1000 + i, "gid": 100, "comment": "", "dir": f"/home/user{i:02d}", "shell": "/bin/bash",
         "groups": ["users"] + (["_ssh"] if i % 4 == 0 else []), "system": False, "email": f"user{i:02d}@example.org",
         "disallowusermod": False, "sshpubkeys": []} for i in range(30)])
    _write_json(omv / "omv" / "MdMgmt.getList.json", [
        {"name": f"nas:{i}", "devicefile": f"/dev/md{i}", "uuid": f"aa:b{i}", "level": "raid5", "numdevices": 4,
         "devices": [f"/dev/sd{chr(97 + 4 * i + k)}" for k in range(4)], "size": "12000000000000", "state": "clean",
         "description": f"nas:{i}", "_used": True} for i in range(3)])
    mdstat = tmp / "mdstat"
    mdstat.write_text("Personalities : [raid6] [raid5] [raid4]\n" + "".join(
        f"md{i} : active raid5 " + " ".join(f"sd{chr(97 + 4 * i + k)}1[{k}]" for k in range(4)) +
        "\n      11720655360 blocks super 1.2 level 5, 512k chunk, algorithm 2 [4/4] [UUUU]\n\n" for i in range(3))
        + "unused devices: <none>\n")
    (tmp / "config.xml").write_text("<config/>")
    lists = stock_apt_lists(tmp / "apt" / "lists")
    return {"bin": binp, "sys_block": sys_block, "omv_rpc": omv / "omv-rpc", "mdstat": mdstat,
            "config_xml": tmp / "config.xml", "lists": lists}


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


class RssSampler:
    """RSS of this process every 5 ms in a thread; peak() since the last reset()."""

    def __init__(self):
        self.page = os.sysconf("SC_PAGE_SIZE")
        self._peak = 0
        self.stop = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def rss(self) -> int:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * self.page

    def _run(self):
        while not self.stop.wait(0.005):
            self._peak = max(self._peak, self.rss())

    def reset(self) -> None:
        self._peak = self.rss()

    def peak(self) -> int:
        return max(self._peak, self.rss())


def write_bytes() -> int:
    with open("/proc/self/io") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith("write_bytes"))


def instrument(costs: dict) -> None:
    """Wrap each source's collect() to record (wall ms, thread CPU ms) per call."""
    from omv_copilot_agent.collect import SOURCES
    import importlib

    for name in SOURCES:
        module = importlib.import_module(f"omv_copilot_agent.collect.{name}")
        original = module.collect

        def timed(ctx, _original=original, _name=name):
            wall, cpu = time.monotonic(), time.thread_time()
            try:
                return _original(ctx)
            finally:
                costs.setdefault(_name, []).append(((time.monotonic() - wall) * 1000, (time.thread_time() - cpu) * 1000))

        module.collect = timed


def apt_candidates(lists: Path) -> list[list]:
    """The apt source's two candidates on the stock lists, each in a fresh interpreter."""
    script = r'''
import os, sys, time
sys.path.insert(0, sys.argv[3])
mode, lists = sys.argv[1], sys.argv[2]
def hwm():  # VmHWM is per address space (ru_maxrss would carry the forking parent's peak across exec)
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
before = hwm()
cpu = time.process_time()
if mode == "stream":
    from omv_copilot_agent.collect import apt
    n = len(apt.pending(lists)[0])
else:
    import apt_pkg
    apt_pkg.init_config()
    apt_pkg.config.set("Dir::State::Lists", lists)
    apt_pkg.config.set("Dir::Cache", os.path.join(os.path.dirname(lists), "cache"))
    apt_pkg.init_system()
    cache = apt_pkg.Cache(None)
    dep = apt_pkg.DepCache(cache)
    n = sum(1 for p in cache.packages if p.current_ver and dep.get_candidate_ver(p)
            and apt_pkg.version_compare(dep.get_candidate_ver(p).ver_str, p.current_ver.ver_str) > 0)
peak = hwm()
print(n, round((time.process_time() - cpu) * 1000), round(before / 1024, 1), round(peak / 1024, 1))
'''
    (lists.parent / "cache" / "archives" / "partial").mkdir(parents=True, exist_ok=True)
    rows = []
    for mode, label in (("stream", "streamed parse (collect/apt.py)"), ("apt_pkg", "python3-apt apt_pkg.Cache")):
        runs = []
        for _ in range(3):
            out = subprocess.run([PYTHON, "-c", script, mode, str(lists), str(ROOT)], capture_output=True, text=True, timeout=300)
            if out.returncode != 0:
                runs = None
                rows.append([label, "failed: " + (out.stderr.strip().splitlines() or ["?"])[-1][:80], "", "", ""])
                break
            runs.append([float(x) for x in out.stdout.split()])
        if runs:
            rows.append([label, int(runs[0][0]), statistics.median(r[1] for r in runs), statistics.median(r[2] for r in runs),
                         statistics.median(r[3] for r in runs)])
    return rows


def main() -> int:
    print(f"machine: {machine()}\n", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="copilot-scale-", dir="/var/tmp"))
    try:
        return run(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(tmp: Path) -> int:
    import yaml

    box = build_box(tmp)
    os.environ["OMV_COPILOT_EXTRA_PATH"] = str(box["bin"])
    from omv_copilot_agent import config as config_mod
    from omv_copilot_agent.collect import apt, omv, smart, storage
    from omv_copilot_agent.daemon.agent import Agent

    smart.SYS_BLOCK, storage.MDSTAT, apt.LISTS = str(box["sys_block"]), str(box["mdstat"]), str(box["lists"])
    clock = Clock(time.time())
    smart.clock = clock
    omv.clock = clock
    cfg = {"data_dir": str(tmp / "data"), "api": {"token_file": str(tmp / "token")},
           "omv_rpc": {"command": str(box["omv_rpc"]), "config_xml": str(box["config_xml"])},
           "collect": {"source_timeout_s": 60}, "alerts": {"udev_monitor": False, "rrd_import": False}}
    (tmp / "config.yaml").write_text(yaml.safe_dump(cfg))
    config = config_mod.load(str(tmp / "config.yaml"))
    costs: dict[str, list] = {}
    instrument(costs)
    sampler = RssSampler()
    agent = Agent(config)
    agent.persist.clock = clock
    try:
        sampler.reset()
        agent.run_cycle()
        first = {k: v[-1] for k, v in costs.items()}
        first_peak = sampler.peak()
        for _ in range(CYCLES_STEADY):
            clock.now += 60
            agent.run_cycle()
        steady = {k: (statistics.median(c[0] for c in v[-CYCLES_STEADY:]), statistics.median(c[1] for c in v[-CYCLES_STEADY:]))
                  for k, v in costs.items()}
        gc.collect()
        idle = statistics.median(sampler.rss() for _ in range(50) if time.sleep(0.02) is None)
        # the worst cycle: apt update ran, the admin applied a setting, SMART attributes are due
        for path in box["lists"].glob("*_Packages"):
            os.utime(path)
        os.utime(box["config_xml"], (time.time() + 5, time.time() + 5))
        clock.now += 1800
        sampler.reset()
        agent.run_cycle()
        worst = {k: v[-1] for k, v in costs.items()}
        worst_peak = sampler.peak()
        # writes: an hour of one-minute cycles
        before_bytes, before_commits = write_bytes(), agent.persist.commits
        for _ in range(60):
            clock.now += 60
            agent.run_cycle()
        hour_bytes, hour_commits = write_bytes() - before_bytes, agent.persist.commits - before_commits
        smart_calls = len((box["bin"] / "calls.log").read_text().splitlines())
        wakeups = (box["bin"] / "wakeups.log").exists()
        snapshots = agent.store.snapshot_count()
    finally:
        agent.close()
        sampler.stop.set()

    rows = []
    for name in first:
        rows.append([name, f"{first[name][0]:.1f}", f"{first[name][1]:.1f}", f"{steady[name][0]:.1f}", f"{steady[name][1]:.1f}",
                     f"{worst[name][0]:.1f}", f"{worst[name][1]:.1f}"])
    print("per source (wall ms / CPU ms of its thread; smartctl and omv-rpc run as child processes):")
    print(table(["source", "first wall", "first CPU", "steady wall", "steady CPU", "worst wall", "worst CPU"], rows))
    mib = 2**20
    print(f"\nRSS: idle {idle / mib:.1f} MiB; peak during the first cycle {first_peak / mib:.1f} MiB (imports included); "
          f"peak during the worst cycle {worst_peak / mib:.1f} MiB = idle + {(worst_peak - idle) / mib:.1f} MiB "
          f"(target <= idle + 10 MiB: {'met' if worst_peak - idle <= 10 * mib else 'NOT met'})")
    print(f"writes over 60 simulated one-minute cycles: {hour_bytes / 1024:.0f} KiB in {hour_commits} commits "
          f"-> {hour_bytes * 24 / 1e6:.2f} MB/day (target <= 10 MB/day: {'met' if hour_bytes * 24 <= 10e6 else 'NOT met'}); "
          f"{snapshots} snapshot rows in total")
    print(f"smartctl calls over all {agent.cycles} cycles: {smart_calls}; disks woken: {'YES' if wakeups else 0}")
    print("\napt on the stock (uncompressed) lists, one recomputation in a fresh interpreter (median of 3):")
    print(table(["method", "pending", "CPU ms", "RSS before MiB", "peak RSS MiB"], apt_candidates(box["lists"])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
