"""Each source's status contract (ok / degraded + reason / unavailable + reason) on boxes unlike this one.

systemctl, smartctl and journalctl are replaced by recorded outputs of the real tools (runner.run is
patched), so a box without systemd, without smartmontools or without a journal is tested anywhere.
"""

from __future__ import annotations

import json

import pytest

from omv_copilot_agent import runner
from omv_copilot_agent.collect.base import Degraded, Unavailable
from tests.conftest import FIXTURES

NO_SYSTEMD = ("System has not been booted with systemd as init system (PID 1). Can't operate.\n"
              "Failed to connect to bus: Host is down\n")


def _ctx(config=None, cache=None, sources=None):
    """A CollectContext whose other sources of this cycle answered ``sources`` ({name: data})."""
    from omv_copilot_agent import config as config_mod
    from omv_copilot_agent.collect import CollectContext, SourceResult

    sources = sources or {}
    return CollectContext(config or config_mod.from_dict({}), None, cache if cache is not None else {},
                          lambda name: SourceResult(name, "ok", sources[name]) if name in sources else None)


@pytest.fixture
def fake_tools(monkeypatch):
    """fake_tools({binary: CommandResult-kwargs or callable(argv)}, missing=()) patches runner.which/run."""

    def _install(outputs: dict, missing: tuple = ()):
        def which(binary):
            return None if binary in missing else f"/usr/bin/{binary}"

        def run(argv, **kwargs):
            spec = outputs[argv[0]]
            spec = spec(argv) if callable(spec) else spec
            return runner.CommandResult(argv=argv, **spec)

        monkeypatch.setattr(runner, "which", which)
        monkeypatch.setattr(runner, "run", run)

    return _install


# --- services ------------------------------------------------------------------------------------

def test_services_without_systemd_as_pid1_is_unavailable(fake_tools):
    from omv_copilot_agent.collect import services

    fake_tools({"systemctl": {"returncode": 1, "stderr": NO_SYSTEMD}})
    with pytest.raises(Unavailable, match=r"PID 1 is not systemd"):
        services.collect(_ctx())


def test_services_without_systemctl_is_unavailable(fake_tools):
    from omv_copilot_agent.collect import services

    fake_tools({}, missing=("systemctl",))
    with pytest.raises(Unavailable, match="systemctl not found"):
        services.collect(_ctx())


def test_services_other_failure_is_degraded(fake_tools):
    from omv_copilot_agent.collect import services

    fake_tools({"systemctl": {"returncode": 1, "stderr": "Failed to get properties: Access denied\n"}})
    with pytest.raises(Degraded, match="Access denied") as exc:
        services.collect(_ctx())
    assert exc.value.data == {"units": []}


def test_services_states_and_what_omv_enabled(fake_tools):
    from omv_copilot_agent.collect import services

    rows = []
    for unit in services.UNITS:
        state = {"smbd.service": ("active", "running", "loaded"), "nfs-server.service": ("inactive", "dead", "loaded"),
                 "ssh.service": ("failed", "failed", "loaded")}.get(unit, ("inactive", "dead", "not-found"))
        rows.append(f"Id={unit}\nActiveState={state[0]}\nSubState={state[1]}\nLoadState={state[2]}\n")
    fake_tools({"systemctl": {"returncode": 0, "stdout": "\n".join(rows)}})
    omv = {"omv": {"services": [{"name": "samba", "enabled": True}, {"name": "nfs", "enabled": False},
                                {"name": "ssh", "enabled": True}]}}
    units = {u["name"]: u for u in services.collect(_ctx(sources=omv))["units"]}
    assert set(units) == {"smbd", "nfs-server", "ssh"}  # not-found units are left out
    assert units["smbd"] == {"name": "smbd", "unit": "smbd.service", "active_state": "active", "sub_state": "running",
                             "enabled_in_omv": True, "omv_name": "samba"}
    assert units["nfs-server"]["enabled_in_omv"] is False  # disabled in OMV: inactive is not "down"
    assert units["ssh"]["active_state"] == "failed" and units["ssh"]["enabled_in_omv"] is True
    # without OMV's view, enabled_in_omv is unknown rather than guessed
    assert all(u["enabled_in_omv"] is None for u in services.collect(_ctx())["units"])


# --- smart ---------------------------------------------------------------------------------------

def test_smart_without_smartmontools_is_unavailable(fake_tools):
    from omv_copilot_agent.collect import smart

    fake_tools({}, missing=("smartctl",))
    with pytest.raises(Unavailable, match="smartctl not found"):
        smart.collect(_ctx())


def test_smart_one_unreadable_disk_degrades_and_keeps_the_others(fake_tools, tmp_path, monkeypatch):
    from omv_copilot_agent.collect import smart

    for name in ("sda", "nvme0n1", "sdz"):
        (tmp_path / name / "device").mkdir(parents=True)
    monkeypatch.setattr(smart, "SYS_BLOCK", str(tmp_path))
    docs = {"/dev/sda": "smart-ata.json", "/dev/nvme0n1": "smart-nvme.json", "/dev/sdz": "smart-fail.json"}

    def smartctl(argv):
        assert argv[1:4] == ["--json", "-n", "standby"]
        return {"returncode": 2, "stdout": (FIXTURES / "smartctl" / docs[argv[-1]]).read_text()}

    fake_tools({"smartctl": smartctl})
    with pytest.raises(Degraded, match="could not read SMART of /dev/sdz") as exc:
        smart.collect(_ctx())
    disks = {d["device"]: d for d in exc.value.data["disks"]}
    assert disks["/dev/sda"]["passed"] is True and disks["/dev/nvme0n1"]["protocol"] == "NVMe"
    assert disks["/dev/sdz"]["passed"] is None and disks["/dev/sdz"]["error"]


def test_smart_no_disks_is_ok_and_empty(fake_tools, tmp_path, monkeypatch):
    from omv_copilot_agent.collect import smart

    monkeypatch.setattr(smart, "SYS_BLOCK", str(tmp_path))
    fake_tools({"smartctl": {"returncode": 0, "stdout": json.dumps({"smartctl": {"exit_status": 0}})}})
    assert smart.collect(_ctx())["disks"] == []


# --- logs ----------------------------------------------------------------------------------------

def _journal_line(ts_us: int, prio: int, msg: str) -> str:
    return json.dumps({"__REALTIME_TIMESTAMP": str(ts_us), "PRIORITY": str(prio), "_SYSTEMD_UNIT": "smbd.service", "MESSAGE": msg})


def test_logs_counts_and_bounds(fake_tools, make_config):
    from omv_copilot_agent.collect import logs

    config, _ = make_config({"collect": {"logs_since_s": 600, "logs_max_entries": 3}})
    seen = {}

    def journalctl(argv):
        seen["argv"] = argv
        return {"returncode": 0, "stdout": "\n".join(_journal_line(1_700_000_000_000_000 + i, 3 if i % 2 else 4, f"m{i}") for i in range(5))}

    fake_tools({"journalctl": journalctl})
    data = logs.collect(_ctx(config))
    assert "--since=-600s" in seen["argv"] and seen["argv"][seen["argv"].index("-n") + 1] == "3"
    assert [e["message"] for e in data["entries"]] == ["m2", "m3", "m4"]
    assert data["counts"] == {"err": 1, "warning": 2} and data["since"] == 600


def test_logs_without_any_journal_is_unavailable(fake_tools, monkeypatch, tmp_path):
    from omv_copilot_agent.collect import logs

    monkeypatch.setattr(logs, "JOURNAL_DIRS", (str(tmp_path / "var"), str(tmp_path / "run")))
    fake_tools({"journalctl": {"returncode": 0, "stdout": ""}})
    with pytest.raises(Unavailable, match="no journal files"):
        logs.collect(_ctx())
    (tmp_path / "run" / "abc").mkdir(parents=True)
    (tmp_path / "run" / "abc" / "system.journal").write_bytes(b"")
    assert logs.collect(_ctx())["entries"] == []  # a journal with nothing to report: ok


def test_logs_journalctl_failure_is_degraded(fake_tools):
    from omv_copilot_agent.collect import logs

    fake_tools({"journalctl": {"returncode": 1, "stderr": "Failed to open journal: Permission denied\n"}})
    with pytest.raises(Degraded, match="Permission denied"):
        logs.collect(_ctx())


# --- system --------------------------------------------------------------------------------------

def test_system_omv_version_from_dpkg_status(tmp_path):
    from omv_copilot_agent.collect import system

    status = tmp_path / "status"
    status.write_text("Package: bash\nStatus: install ok installed\nVersion: 5.2\n\n"
                      "Package: openmediavault\nStatus: install ok installed\nVersion: 7.4.17-1\n")
    assert system.omv_version(str(status)) == "7.4.17-1"
    status.write_text("Package: openmediavault\nStatus: deinstall ok config-files\nVersion: 7.4.17-1\n")
    assert system.omv_version(str(status)) is None  # plain Debian (or OMV removed)
    assert system.omv_version(str(tmp_path / "absent")) is None


# --- the whole cycle on this box -----------------------------------------------------------------

def test_every_source_reports_a_status_reason_and_duration(make_config):
    """All sources on whatever box runs the tests, OMV absent: each says ok, or why not."""
    from omv_copilot_agent.collect import SOURCES, Collector

    config, _ = make_config({"omv_rpc": {"command": "/nonexistent/omv-rpc"}, "collect": {"source_timeout_s": 120}})
    collector = Collector(config)
    try:
        snap = collector.collect()
    finally:
        collector.close()
    assert list(snap.sources) == list(SOURCES)
    for name, result in snap.sources.items():
        assert result.status in ("ok", "degraded", "unavailable"), name
        assert (result.reason is None) == (result.status == "ok"), (name, result.reason)
        assert result.duration_s >= 0 and result.collected_at >= snap.taken_at - 1
    assert snap.sources["omv"].status == "unavailable"
    assert snap.sources["omv"].reason == "omv-rpc not found (not an OpenMediaVault box)"
    assert snap.sources["system"].status == "ok" and snap.sources["network"].status == "ok"
    d = snap.to_dict()
    assert set(d) == {"taken_at", "duration_s", "sources"}
    assert set(d["sources"]["system"]) == {"status", "reason", "duration_s", "collected_at", "data"}


# --- storage: ZFS, system: temperatures, agent: retention from config --------------------------

def test_zfs_pools_when_zpool_exists(fake_tools):
    from omv_copilot_agent.collect import storage

    out = "tank\tONLINE\t3985729650688\t1234567890\t3984495082798\t0\nbackup\tDEGRADED\t1000\t900\t100\t90\n"
    fake_tools({"zpool": {"returncode": 0, "stdout": out}})
    pools, error = storage.zfs()
    assert error is None
    assert pools[1] == {"name": "backup", "health": "DEGRADED", "size": 1000, "alloc": 900, "free": 100, "capacity_percent": 90}
    fake_tools({}, missing=("zpool",))
    assert storage.zfs() == ([], None)  # no ZFS here: nothing to report, not an error
    fake_tools({"zpool": {"returncode": 1, "stderr": "The ZFS modules are not loaded.\n"}})
    pools, error = storage.zfs()
    assert pools == [] and "ZFS modules are not loaded" in error


def test_block_devices_are_re_read_only_when_disks_or_udev_change(tmp_path, monkeypatch):
    """pyudev's enumeration was the costliest source every minute, for a list that rarely changes."""
    import os

    from omv_copilot_agent.collect import storage

    sys_block, udev_data = tmp_path / "block", tmp_path / "udev-data"
    for d in (sys_block / "sda", udev_data):
        d.mkdir(parents=True)
    monkeypatch.setattr(storage, "SYS_BLOCK", str(sys_block))
    monkeypatch.setattr(storage, "UDEV_DATA", str(udev_data))
    reads = []
    monkeypatch.setattr(storage, "block_devices", lambda: reads.append(1) or [{"name": n} for n in sorted(os.listdir(sys_block))])
    cache: dict = {}
    for _ in range(10):  # ten idle cycles
        devices = storage.cached_block_devices(cache)
    assert len(reads) == 1 and devices == [{"name": "sda"}]
    (sys_block / "sdb").mkdir()  # a disk plugged in
    assert storage.cached_block_devices(cache) == [{"name": "sda"}, {"name": "sdb"}] and len(reads) == 2
    (udev_data / "b8:16").write_text("E:ID_SERIAL=new\n")  # udev learnt about it (a new file in its database)
    os.utime(udev_data, ns=(0, os.stat(udev_data).st_mtime_ns + 1_000_000))
    storage.cached_block_devices(cache)
    assert len(reads) == 3


def test_temperatures_where_sensors_exist(monkeypatch):
    import psutil

    from omv_copilot_agent.collect import system

    shwtemp = psutil._common.shwtemp if hasattr(psutil, "_common") else None
    if shwtemp is None:
        pytest.skip("psutil without _common.shwtemp")
    monkeypatch.setattr(psutil, "sensors_temperatures", lambda: {"coretemp": [shwtemp("Package id 0", 48.0, 80.0, 100.0),
                                                                              shwtemp("", 45.0, None, None)]})
    assert system.temperatures() == [
        {"sensor": "coretemp", "label": "Package id 0", "current_c": 48.0, "high_c": 80.0, "critical_c": 100.0},
        {"sensor": "coretemp", "label": "coretemp", "current_c": 45.0, "high_c": None, "critical_c": None}]
    monkeypatch.setattr(psutil, "sensors_temperatures", lambda: {})
    assert system.temperatures() == []  # a VM without sensors


def test_agent_prune_uses_configured_snapshot_retention(make_config):
    from omv_copilot_agent.collect import Collector
    from omv_copilot_agent.collect.base import SourceResult
    from omv_copilot_agent.collect.snapshot import Snapshot
    from omv_copilot_agent.daemon.agent import Agent

    config, _ = make_config({"collect": {"snapshot_retention_days": 2}, "alerts": {"history_retention_days": 4}})
    agent = Agent(config, collector=Collector(config, sources=("system",)))
    try:
        now = __import__("time").time()
        for days in (5, 3, 1):
            agent.store.save_snapshot(Snapshot(now - days * 86400, {"system": SourceResult("system", "ok")}))
            agent.store.add_config_revision(now - days * 86400, f"h{days}", "daily", {})
        agent.run_cycle()
        agent.prune()
        assert agent.store.snapshot_count() == 2  # 1 day old + the one just collected
        assert agent.store.list_config_revisions()[0] == 2  # 3 and 1 days old
    finally:
        agent.close()


# --- the collector with sources that hang in Python or crash -------------------------------------

def test_python_hang_and_crash_are_reported_and_never_block(make_config):
    """A source stuck in Python code cannot be killed: it is cut, not restarted while stuck, and never holds exit."""
    import threading
    import types

    from omv_copilot_agent.collect import Collector

    release = threading.Event()
    hang = types.ModuleType("omv_copilot_agent.collect.testhang")
    hang.NAME = "testhang"
    hang.collect = lambda ctx: release.wait(120) and {"released": True}
    crash = types.ModuleType("omv_copilot_agent.collect.testcrash")
    crash.NAME = "testcrash"
    crash.collect = lambda ctx: {}["missing"]
    config, _ = make_config({"collect": {"source_timeout_s": 1}})
    collector = Collector(config, sources=(hang, crash, "system"))
    try:
        first = collector.collect()
        assert first.sources["testhang"].status == "degraded" and first.sources["testhang"].reason == "timed out after 1 s"
        assert first.sources["testcrash"].status == "degraded"
        assert first.sources["testcrash"].reason == "internal error: KeyError: 'missing'"
        assert first.sources["system"].status == "ok"
        second = collector.collect()
        assert second.sources["testhang"].reason == "still running from the previous cycle (hung?)"
        assert second.sources["system"].status == "ok"
        stuck = [t for t in threading.enumerate() if t.name == "collect-testhang"]
        assert stuck and all(t.daemon for t in stuck)  # a daemon thread: interpreter exit does not wait for it
        release.set()
        for t in stuck:
            t.join(timeout=30)
        third = collector.collect()
        assert third.sources["testhang"].status == "ok" and third.sources["testhang"].data == {"released": True}
    finally:
        release.set()
        collector.close()


def test_a_hung_omv_source_does_not_take_storage_and_services_down_with_it(make_config):
    """storage waits for OMV's view of this cycle, but gives up before the cut-off and reports what it has."""
    import threading
    import types

    from omv_copilot_agent.collect import Collector, storage

    release = threading.Event()
    slow_omv = types.SimpleNamespace(NAME="omv", collect=lambda ctx: release.wait(60) and {})
    config, _ = make_config({"collect": {"source_timeout_s": 2}})
    collector = Collector(config, sources=(storage, slow_omv))
    try:
        snap = collector.collect()
    finally:
        release.set()
        collector.close()
    assert snap.sources["omv"].reason == "timed out after 2 s"
    assert snap.sources["storage"].status in ("ok", "degraded") and "timed out" not in (snap.sources["storage"].reason or "")
    assert snap.sources["storage"].duration_s >= 1.0  # it waited for omv, then went on without it
    assert snap.sources["storage"].data["filesystems"] and not any(f["omv_managed"] for f in snap.sources["storage"].data["filesystems"])


def _cpu_times(busy: float, idle: float, _kind=type(__import__("psutil").cpu_times())):
    """A psutil.cpu_times() reading with ``busy`` seconds of user time and ``idle`` idle."""
    fields = dict.fromkeys(_kind._fields, 0.0)
    fields.update(user=busy, idle=idle)
    return _kind(**fields)


def test_cpu_percent_of_a_one_shot_run_measures_a_fresh_window_not_the_import(monkeypatch):
    """In-process (the CLI without the daemon) there is no earlier sample; psutil's own
    cpu_percent(None) then measured the time since psutil was imported and read ~100 %."""
    import psutil

    from omv_copilot_agent.collect import system

    readings = iter([_cpu_times(10.0, 0.0), _cpu_times(10.0, 1.0)])  # the window: 1 s idle, no work
    monkeypatch.setattr(psutil, "cpu_times", lambda *a, **k: next(readings))
    slept = []
    monkeypatch.setattr(system.time, "sleep", slept.append)
    assert system.cpu_percent({}) == 0.0
    assert slept == [system.CPU_MIN_WINDOW_S]


def test_cpu_percent_in_the_daemon_covers_the_time_since_the_last_cycle(monkeypatch):
    import psutil

    from omv_copilot_agent.collect import system

    cache = {"cpu_times": (0.0, _cpu_times(100.0, 100.0))}  # the previous cycle, long ago
    monkeypatch.setattr(psutil, "cpu_times", lambda *a, **k: _cpu_times(130.0, 190.0))
    monkeypatch.setattr(system.time, "sleep", lambda s: pytest.fail("must not sleep with a usable earlier sample"))
    assert system.cpu_percent(cache) == 25.0  # 30 s busy of 120 s
    assert cache["cpu_times"][1].user == 130.0
