"""Disks that spin down stay down: the periodic path reads SMART only through `smartctl -n standby`.

A fake smartctl (tests/fakes/smartctl) keeps per-disk power states, records every argv and
fails — and logs a wake-up — for any call that would spin up a sleeping disk. A fake /sys/block
gives the disk list. An audit hook records every program started and every file opened by this
process, so a collector, alert rule or forecast that touched a data disk any other way fails too.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

FAKES = ROOT / "tests" / "fakes"
ATA, NVME = "smart-ata.json", "smart-nvme.json"

_AUDIT: dict = {"on": False, "spawned": [], "opened": []}


def _audit(event, args):
    if not _AUDIT["on"]:
        return
    if event == "subprocess.Popen":
        _AUDIT["spawned"].append([str(a) for a in (args[1] or [])])
    elif event == "open" and isinstance(args[0], (str, bytes)):
        path = os.fsdecode(args[0])
        if path.startswith("/dev/") and path not in ("/dev/null", "/dev/urandom", "/dev/shm"):
            _AUDIT["opened"].append(path)


sys.addaudithook(_audit)


class FakeDisks:
    """A fake smartctl on OMV_COPILOT_EXTRA_PATH and a fake /sys/block with these disks."""

    def __init__(self, root: Path, disks: dict[str, dict]):
        self.bin = root / "bin"
        self.bin.mkdir()
        (self.bin / "smartctl").symlink_to(FAKES / "smartctl")
        self.sys_block = root / "sys-block"
        for name in [*disks, "/dev/md0", "/dev/loop0", "/dev/dm-0", "/dev/sr0"]:
            node = self.sys_block / os.path.basename(name)
            node.mkdir(parents=True)
            (node / "size").write_text("7814037168\n")
            if name in disks or name == "/dev/sr0":  # physical devices have a 'device' link; sr0 is optical
                (node / "device").mkdir()
                (node / "device" / "model").write_text("WDC WD40EFRX-68N\n")
        self.set(disks)

    def set(self, disks: dict[str, dict]) -> None:
        (self.bin / "disks.json").write_text(json.dumps(disks))

    def state(self, device: str) -> str:
        return json.loads((self.bin / "disks.json").read_text())[device]["state"]

    def calls(self) -> list[list[str]]:
        log = self.bin / "calls.log"
        return [json.loads(l) for l in log.read_text().splitlines()] if log.exists() else []

    def wakeups(self) -> list[dict]:
        log = self.bin / "wakeups.log"
        return [json.loads(l) for l in log.read_text().splitlines()] if log.exists() else []


@pytest.fixture
def fake_disks(tmp_path, monkeypatch):
    from omv_copilot_agent.collect import smart

    def _make(disks: dict[str, dict]) -> FakeDisks:
        fake = FakeDisks(tmp_path, disks)
        monkeypatch.setenv("OMV_COPILOT_EXTRA_PATH", str(fake.bin))
        monkeypatch.setattr(smart, "SYS_BLOCK", str(fake.sys_block))
        return fake

    return _make


class FakeClock:
    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now


def _ctx(config=None, previous=None, cache=None):
    from types import SimpleNamespace

    from omv_copilot_agent import config as config_mod

    return SimpleNamespace(config=config or config_mod.from_dict({}), cache={} if cache is None else cache, previous=previous)


def test_disk_list_comes_from_sysfs_without_opening_devices(fake_disks):
    from omv_copilot_agent.collect import smart

    fake = fake_disks({"/dev/sda": {"state": "standby", "doc": ATA}, "/dev/nvme0n1": {"state": "active", "doc": NVME}})
    empty = fake.sys_block / "sdz"
    (empty / "device").mkdir(parents=True)
    (empty / "size").write_text("0\n")  # an empty card-reader slot
    assert smart.devices() == ["/dev/nvme0n1", "/dev/sda"]  # not md0, loop0, dm-0 (virtual), sr0 (optical), sdz
    assert fake.calls() == []


def test_sleeping_disk_keeps_its_last_reading_marked_asleep(fake_disks, monkeypatch):
    from omv_copilot_agent.collect import smart

    fake = fake_disks({"/dev/sda": {"state": "active", "doc": ATA}})
    clock = FakeClock()
    monkeypatch.setattr(smart, "clock", clock)
    ctx = _ctx()
    first = smart.collect(ctx)["disks"][0]
    assert first["passed"] is True and first["asleep"] is False and first["power_state"] == "active"
    assert first["read_at"] == clock.now and first["attributes"]

    fake.set({"/dev/sda": {"state": "standby", "doc": ATA}})
    clock.now += 3600
    later = smart.collect(ctx)["disks"][0]
    assert later["asleep"] is True and later["power_state"] == "standby"
    assert later["read_at"] == first["read_at"] and later["checked_at"] == clock.now  # its age is visible
    assert later["temperature_c"] == first["temperature_c"] and later["attributes"] == first["attributes"]
    assert not later["error"] and fake.wakeups() == []

    # a restart keeps the reading too: the collector starts from the last stored snapshot
    from omv_copilot_agent.collect import SourceResult, Snapshot

    previous = Snapshot(taken_at=clock.now, sources={"smart": SourceResult("smart", "ok", {"disks": [later]})})
    clock.now += 600
    restarted = smart.collect(_ctx(previous=previous))["disks"][0]
    assert restarted["passed"] is True and restarted["read_at"] == first["read_at"] and restarted["asleep"]


def test_a_disk_never_read_that_sleeps_is_reported_asleep_not_broken(fake_disks, monkeypatch):
    from omv_copilot_agent.collect import smart

    fake_disks({"/dev/sda": {"state": "standby", "doc": ATA}})
    disk = smart.collect(_ctx())["disks"][0]  # no Degraded raised
    assert disk["asleep"] is True and disk["passed"] is None and disk["read_at"] is None
    assert disk["model"] == "WDC WD40EFRX-68N"  # from sysfs, no device opened


def test_awake_disk_full_read_every_30_min_health_every_5(fake_disks, monkeypatch):
    from omv_copilot_agent.collect import smart

    fake = fake_disks({"/dev/sda": {"state": "active", "doc": ATA}})
    clock = FakeClock()
    monkeypatch.setattr(smart, "clock", clock)
    ctx = _ctx()
    for _ in range(60):  # one hour of 60 s cycles
        smart.collect(ctx)
        clock.now += 60
    reads = [c for c in fake.calls() if "/dev/sda" in c]
    assert all(c[:4] == ["--json", "-n", "standby", c[3]] for c in reads)
    assert sum("-a" in c for c in reads) == 2  # t = 0 and 30 min
    assert sum("-H" in c for c in reads) == 10  # every 5 min in between
    assert not any("--scan-open" in c for c in fake.calls())


def test_a_disk_without_smart_is_retried_every_5_min_not_every_cycle(fake_disks, monkeypatch, tmp_path):
    from omv_copilot_agent.collect import smart

    unreadable = tmp_path / "no-smart.json"  # a virtual disk, or a USB bridge smartctl cannot pass through
    unreadable.write_text(json.dumps({"json_format_version": [1, 0], "device": {"name": "/dev/vda"},
                                      "smartctl": {"messages": [{"string": "/dev/vda: Unable to detect device type",
                                                                 "severity": "error"}]}}))
    fake = fake_disks({"/dev/vda": {"state": "active", "doc": str(unreadable)}})
    clock = FakeClock()
    monkeypatch.setattr(smart, "clock", clock)
    ctx = _ctx()
    for _ in range(60):  # one hour of 60 s cycles
        try:
            smart.collect(ctx)
        except smart.Degraded as exc:
            assert "Unable to detect device type" in exc.data["disks"][0]["error"]
        clock.now += 60
    reads = [c for c in fake.calls() if "/dev/vda" in c]
    assert len(reads) == 12, f"{len(reads)} reads of an unreadable disk in an hour (one per cycle before)"
    assert all("-a" in c for c in reads)  # still a full read: there is no earlier reading to refresh


def test_no_wakeups_in_an_hour_of_full_agent_cycles(fake_disks, make_config, monkeypatch, tmp_path):
    """Acceptance: 12 disks, 10 asleep, 1 hour of cycles with every source, alert rule and forecast."""
    from omv_copilot_agent.collect import smart
    from omv_copilot_agent.daemon.agent import Agent

    disks = {f"/dev/sd{chr(97 + i)}": {"state": "standby" if i < 10 else "active", "doc": ATA} for i in range(12)}
    fake = fake_disks(disks)
    omv_bin = tmp_path / "omv"
    omv_bin.mkdir()
    (omv_bin / "omv-rpc").symlink_to(FAKES / "omv-rpc")
    (omv_bin / "calls.log").write_text("")
    clock = FakeClock()
    monkeypatch.setattr(smart, "clock", clock)
    config, _ = make_config({"omv_rpc": {"command": str(omv_bin / "omv-rpc"), "config_xml": str(tmp_path / "config.xml")},
                             "collect": {"interval_s": 60, "source_timeout_s": 30, "disabled_sources": ["logs"]},
                             "alerts": {"forecast_interval_s": 0}})
    agent = Agent(config)
    try:
        _AUDIT.update(on=True, spawned=[], opened=[])
        for _ in range(60):
            agent.run_cycle()
            clock.now += 60
    finally:
        _AUDIT["on"] = False
        agent.close()
    assert fake.wakeups() == [], "a sleeping disk was woken"
    assert all(fake.state(d) == "standby" for d in list(disks)[:10])
    smart_calls = [argv for argv in _AUDIT["spawned"] if os.path.basename(argv[0]) == "smartctl"]
    assert smart_calls and all(argv[2:4] == ["-n", "standby"] for argv in smart_calls)
    others = [argv for argv in _AUDIT["spawned"] if os.path.basename(argv[0]) != "smartctl"]
    assert not [argv for argv in others if any(a.startswith("/dev/") for a in argv)], "a program was given a device"
    assert not _AUDIT["opened"], f"the periodic path opened {sorted(set(_AUDIT['opened']))}"
    # OMV's Smart.getList runs smartctl without -n on every disk: the collector must not call it.
    # Smart.getScheduleList only reads config.xml plus udev/sysfs (smart.inc, StorageDevice::getModel):
    # the scheduled self-tests, read by the jobs source.
    rpc_calls = (omv_bin / "calls.log").read_text().split()
    assert rpc_calls and not [c for c in rpc_calls if c.startswith(("Smart.", "DiskMgmt.")) and c != "Smart.getScheduleList"]
    asleep = [d for d in agent.snapshot.data("smart")["disks"] if d["asleep"]]
    assert len(asleep) == 10 and all(d["power_state"] == "standby" for d in asleep)
    # each sleeping disk is asked for its power mode on the health cadence (every 5 min), not every cycle
    per_disk = [argv for argv in smart_calls if "/dev/sda" in argv]
    assert len(per_disk) == 12


def test_stale_temperature_of_a_sleeping_disk_is_not_a_new_metric_sample(fake_disks, monkeypatch):
    from omv_copilot_agent.collect import Collector
    from omv_copilot_agent import config as config_mod
    from omv_copilot_agent.collect import smart
    from omv_copilot_agent.collect.samples import metric_samples

    fake = fake_disks({"/dev/sda": {"state": "active", "doc": ATA}})
    clock = FakeClock()
    monkeypatch.setattr(smart, "clock", clock)
    collector = Collector(config_mod.from_dict({}), sources=("smart",))
    assert [s for s in metric_samples(collector.collect()) if s[0] == "disk.temperature"]
    fake.set({"/dev/sda": {"state": "standby", "doc": ATA}})
    clock.now += 3600
    assert not [s for s in metric_samples(collector.collect()) if s[0] == "disk.temperature"]


def test_diagnostics_that_would_wake_a_disk_are_recognised():
    """`omv-copilot diagnose` says which steps spin a sleeping disk up before running them."""
    from omv_copilot_agent import probes
    from omv_copilot_agent.knowledge.diagnostics import wakes_disks
    from omv_copilot_agent.knowledge.loader import load_dir

    assert wakes_disks(["smartctl", "-a", "{device}"]) and wakes_disks(["hdparm", "-I", "/dev/sda"])
    assert not wakes_disks(["smartctl", "-n", "standby", "-H", "{device}"]) and not wakes_disks(["hdparm", "-C", "{device}"])
    assert not wakes_disks(["cat", "/proc/mdstat"]) and not wakes_disks(["smartctl", "--scan"])
    patterns, _ = load_dir(ROOT / "patterns")
    steps = patterns["smart-overall-failed"]["diagnostics"]
    assert steps and all(wakes_disks(probes.get(d["probe"]).argv) for d in steps)


def test_the_runner_refuses_a_periodic_smart_read_without_n_standby():
    from omv_copilot_agent import runner

    for argv in (["smartctl", "--json", "-a", "/dev/sda"], ["smartctl", "--scan-open", "--json"],
                 ["smartctl", "--json", "-n", "never", "-a", "/dev/sda"]):
        with pytest.raises(runner.CommandRefused, match="argument shapes"):
            runner.check(argv)
    runner.check(["smartctl", "--json", "-n", "standby", "-a", "/dev/sda"])
    runner.check(["smartctl", "--json", "-n", "standby", "-H", "-A", "/dev/nvme0n1"])
