"""The omv source and omv-rpc wrapper: a fake omv-rpc replaying OMV 7 JSON, and the real engine."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

FAKE = ROOT / "tests" / "fakes" / "omv-rpc"


@pytest.fixture
def fake_omv(tmp_path):
    """fake_omv(*modes) -> absolute path of an `omv-rpc` (symlink to the fake) with its modes set."""

    def _make(*modes: str) -> str:
        folder = tmp_path / f"fake{len(list(tmp_path.glob('fake*')))}"
        folder.mkdir()
        (folder / "omv-rpc").symlink_to(FAKE)
        if modes:
            (folder / "fake-mode").write_text("\n".join(modes))
        return str(folder / "omv-rpc")

    return _make


def _collect(make_config, command, sources=("omv",), tmp_xml=None, timeout=10, collector=None):
    from omv_copilot_agent.collect import Collector

    over = {"omv_rpc": {"command": command, "timeout_s": 5}, "collect": {"interval_s": 10, "source_timeout_s": timeout}}
    if tmp_xml:
        over["omv_rpc"]["config_xml"] = str(tmp_xml)
    config, _ = make_config(over)
    collector = collector or Collector(config, sources=sources)
    return collector, collector.collect()


def test_client_parses_and_reports_omv_errors(fake_omv):
    from omv_copilot_agent.collect.omv_rpc import OmvRpcClient, OmvRpcError

    client = OmvRpcClient(fake_omv(), timeout_s=10)
    assert client.call("System", "getInformation")["version"].startswith("7.")
    with pytest.raises(OmvRpcError, match="does not exist for the RPC service 'SMB'"):
        client.call("SMB", "getNothing")
    with pytest.raises(OmvRpcError, match="invalid JSON"):
        OmvRpcClient(fake_omv("garbage"), 10).call("System", "getInformation")
    with pytest.raises(OmvRpcError, match="Failed to connect to socket"):
        OmvRpcClient(fake_omv("engine-down"), 10).call("System", "getInformation")
    with pytest.raises(OmvRpcError, match="did not answer within 1 s"):
        OmvRpcClient(fake_omv("slow"), 1).call("System", "getInformation")
    with pytest.raises(OmvRpcError, match="not found") as missing:
        OmvRpcClient("/nonexistent/omv-rpc", 5).call("System", "getInformation")
    assert missing.value.missing


def test_omv_source_from_fixtures(make_config, fake_omv, tmp_path):
    _, snap = _collect(make_config, fake_omv(), tmp_xml=tmp_path / "config.xml")
    omv = snap.sources["omv"]
    assert omv.status == "ok", omv.reason
    d = omv.data
    assert d["version"] == "7.4.17-1 (Sandworm)" and d["config_dirty"] is True and d["dirty_modules"] == ["samba"]
    assert d["available_updates"] == 3 and d["errors"] == {}
    assert {s["name"]: s["enabled"] for s in d["services"]} == {"nfs": False, "rsyncd": False, "samba": True, "ssh": True}
    assert d["shared_folders"][0]["name"] == "media" and d["smb_shares"][0]["sharedfoldername"] == "media"
    assert d["users"] == [{"name": "alice", "uid": 1000, "groups": ["users", "_ssh"], "email": "alice@example.org"}]
    assert d["cron_jobs"][0]["command"] == "/usr/local/bin/backup.sh"
    email = d["notifications"]["email"]
    assert email["server"] == "smtp.example.org" and "authentication" not in email
    assert "hunter2" not in repr(d)
    assert {t["id"] for t in d["notifications"]["topics"]} == {"monitmemoryusage", "smartmontools"}
    assert d["raid"][0]["state"] == "clean, degraded" and "smart" not in d


def test_omv_feeds_storage_and_services(make_config, fake_omv, tmp_path):
    _, snap = _collect(make_config, fake_omv(), sources=("omv",), tmp_xml=tmp_path / "x.xml")
    from omv_copilot_agent.collect import Collector

    config, _ = make_config({"omv_rpc": {"command": fake_omv(), "config_xml": str(tmp_path / "x.xml")}})
    collector = Collector(config, sources=("storage", "omv"))
    try:
        snap = collector.collect()  # the first cycle already has OMV's view: storage waits for omv
    finally:
        collector.close()
    fs = [f for f in snap.sources["storage"].data["filesystems"] if f["omv_managed"] and not f["mounted"]]
    assert fs and fs[0]["device"] == "/dev/md0" and fs[0]["label"] == "data"


def test_one_failing_method_degrades_with_its_reason(make_config, fake_omv, tmp_path):
    _, snap = _collect(make_config, fake_omv("fail:MdMgmt.getList"), tmp_xml=tmp_path / "c.xml")
    omv = snap.sources["omv"]
    assert omv.status == "degraded" and "MdMgmt.getList" in omv.reason and "smartctl" in omv.reason
    assert list(omv.data["errors"]) == ["MdMgmt.getList"]
    assert omv.data["users"][0]["name"] == "alice"  # the rest still came through


def test_engine_down_and_missing_binary(make_config, fake_omv, tmp_path):
    _, snap = _collect(make_config, fake_omv("engine-down"), tmp_xml=tmp_path / "c.xml")
    assert snap.sources["omv"].status == "degraded" and "Failed to connect" in snap.sources["omv"].reason
    _, snap = _collect(make_config, "/nonexistent/dir/omv-rpc")
    assert snap.sources["omv"].status == "unavailable"
    assert snap.sources["omv"].reason == "omv-rpc not found (not an OpenMediaVault box)"


def test_config_read_once_and_refreshed_on_mtime_change(make_config, fake_omv, tmp_path):
    xml = tmp_path / "config.xml"
    xml.write_text("<config/>")
    command = fake_omv()
    collector, snap = _collect(make_config, command, tmp_xml=xml)
    try:
        assert snap.sources["omv"].status == "ok"
        (Path(command).parent / "fake-mode").write_text("fail:UserMgmt.getUserList")
        snap = collector.collect()
        assert snap.sources["omv"].status == "ok", "config.xml unchanged: cached, no new RPC"
        stamp = time.time() + 5
        os.utime(xml, (stamp, stamp))
        snap = collector.collect()
        assert snap.sources["omv"].status == "degraded" and "UserMgmt.getUserList" in snap.sources["omv"].reason
    finally:
        collector.close()


def test_failed_call_is_retried_alone_after_a_while(make_config, fake_omv, tmp_path, monkeypatch):
    """A transient failure (engine restarting) is not cached until config.xml changes; only it is re-called."""
    from omv_copilot_agent.collect import omv as omv_source

    xml = tmp_path / "config.xml"
    xml.write_text("<config/>")
    command = fake_omv("fail:UserMgmt.getUserList")
    calls = Path(command).parent / "calls.log"
    collector, snap = _collect(make_config, command, tmp_xml=xml)
    try:
        assert snap.sources["omv"].status == "degraded" and snap.sources["omv"].data["users"] == []
        (Path(command).parent / "fake-mode").write_text("")
        calls.write_text("")
        assert collector.collect().sources["omv"].status == "degraded", "not retried before RETRY_FAILED_S"
        assert calls.read_text() == ""
        now = omv_source.clock()
        monkeypatch.setattr(omv_source, "clock", lambda: now + omv_source.RETRY_FAILED_S)
        monkeypatch.setattr(omv_source, "LIVE_REFRESH_S", 10**9)
        snap = collector.collect()
        assert snap.sources["omv"].status == "ok" and snap.sources["omv"].data["users"][0]["name"] == "alice"
        assert calls.read_text().split() == ["UserMgmt.getUserList"]
        assert snap.sources["omv"].data["notifications"]["email"]["server"] == "smtp.example.org"
    finally:
        collector.close()


def test_hung_source_is_cut_and_cycle_completes(make_config, fake_omv, tmp_path):
    collector, snap = _collect(make_config, fake_omv("slow"), sources=("omv", "system", "network"),
                               tmp_xml=tmp_path / "c.xml", timeout=2)
    try:
        assert snap.sources["omv"].status == "degraded" and "timed out after 2 s" in snap.sources["omv"].reason
        assert snap.sources["system"].status == "ok" and snap.sources["network"].status == "ok"
        assert snap.duration_s < 25  # far below the fake's 30 s sleep per call
        # the hung omv-rpc was killed at the cut: its thread ends instead of waiting 13 x 5 s of RPC timeouts
        _wait_until(lambda: collector.running_processes() == 0 and not _source_threads("omv"))
    finally:
        collector.close()


def _source_threads(name: str) -> list:
    import threading

    return [t for t in threading.enumerate() if t.name == f"collect-{name}" and t.is_alive()]


def _wait_until(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached within the (generous) deadline"
        time.sleep(0.05)


def test_close_during_a_cycle_kills_the_hung_rpc_and_stores_nothing(make_config, fake_omv, tmp_path):
    """What the daemon's SIGTERM does: close() wakes collect(), which raises instead of returning a snapshot."""
    import threading

    from omv_copilot_agent.collect import Collector, CollectorClosed

    config, _ = make_config({"omv_rpc": {"command": fake_omv("slow"), "timeout_s": 120, "config_xml": str(tmp_path / "c.xml")},
                             "collect": {"source_timeout_s": 300}})
    collector = Collector(config, sources=("omv", "system"))
    outcome = {}

    def cycle():
        try:
            outcome["snapshot"] = collector.collect()
        except CollectorClosed as exc:
            outcome["closed"] = str(exc)

    worker = threading.Thread(target=cycle, daemon=True)
    worker.start()
    _wait_until(lambda: collector.running_processes() == 1)  # the fake omv-rpc is sleeping
    collector.close()
    worker.join(timeout=60)
    assert not worker.is_alive() and "closed" in outcome and "snapshot" not in outcome
    _wait_until(lambda: collector.running_processes() == 0 and not _source_threads("omv"))
    with pytest.raises(CollectorClosed):
        collector.collect()


def test_a_call_that_keeps_failing_backs_off_to_once_a_day(make_config, fake_omv, tmp_path, monkeypatch):
    """Retried after 2, 4, 8 ... minutes, then daily: 2 days of one-minute cycles are ~12 calls, not 1440."""
    from omv_copilot_agent.collect import omv as omv_source

    xml = tmp_path / "config.xml"
    xml.write_text("<config/>")
    command = fake_omv("fail:UserMgmt.getUserList")
    calls = Path(command).parent / "calls.log"
    calls.write_text("")
    clock = [1000.0]
    monkeypatch.setattr(omv_source, "clock", lambda: clock[0])
    monkeypatch.setattr(omv_source, "LIVE_REFRESH_S", 10**9)  # count configuration calls only
    collector, _ = _collect(make_config, command, tmp_xml=xml)
    try:
        for _ in range(2 * 1440):
            clock[0] += 60
            assert collector.collect().sources["omv"].status == "degraded"
    finally:
        collector.close()
    tries = calls.read_text().split().count("UserMgmt.getUserList")
    assert 10 <= tries <= 14, f"{tries} calls of a method that always fails"
    assert calls.read_text().split().count("ShareMgmt.getList") == 1  # the others are read once


def test_python_engine_client_needs_no_process_per_call(omv_engine, monkeypatch):
    """With OMV's Python library (the test bed), calls go over the engine's socket: no omv-rpc process."""
    from omv_copilot_agent import runner
    from omv_copilot_agent.collect.omv_rpc import OmvRpcClient, OmvRpcError

    client = OmvRpcClient("omv-rpc", timeout_s=60)
    if client.mode != "python":  # the test bed installs it; a box without it is the omv-rpc path
        pytest.fail("OMV's Python library (openmediavault.rpc) is not importable beside the test bed's engine")

    def no_process(*args, **kwargs):
        raise AssertionError("a process was started")

    monkeypatch.setattr(runner, "run", no_process)
    assert client.call("System", "getInformation", {})["version"].startswith("7.")
    with pytest.raises(OmvRpcError, match="does not exist for the RPC service 'System'"):
        client.call("System", "getNothing", {})
    with pytest.raises(OmvRpcError, match="not a read method"):
        client.call("UserMgmt", "setUser", {"name": "x"})  # the runner's omv-rpc rule applies here too


# --- the real OMV engine (tests/testbed.py) ---------------------------------------------------------

def test_real_engine_status_and_configuration(omv_engine, live_server):
    from tests.testbed import omv_rpc

    info = __import__("json").loads(omv_rpc("System", "getInformation", {}).stdout)
    srv = live_server({"omv_rpc": {"command": omv_engine, "timeout_s": 60}, "collect": {"source_timeout_s": 300}},
                      sources=("system", "omv", "services"))
    status = srv.get("/api/v1/system/status").json()
    omv = status["sources"]["omv"]
    assert omv["data"]["version"] == info["version"]
    assert status["sources"]["system"]["data"]["omv_version"] in info["version"]
    # Smart.getList (OMV runs smartctl without -n standby on every disk for it) is never called
    assert "Smart.getList" not in omv["data"]["errors"] and "Smart.getList" not in (omv["reason"] or "")
    services = {s["name"]: s["enabled"] for s in omv["data"]["services"]}
    assert "ssh" in services and "samba" in services
    conf = srv.get("/api/v1/system/configuration").json()["omv"]
    assert conf["data"]["users"] is not None and "notifications" in conf["data"]
    assert "password" not in repr(conf["data"]["notifications"]).lower()
    assert set(conf["data"]["notifications"]["email"]) >= {"enable", "server", "port", "sender", "primaryemail"}


NEW_UUID = "fa4b1c66-ef79-11e5-87a0-0002b3a176b4"  # OMV's "create a new object" uuid


def test_real_engine_shared_folder_and_smb_share(omv_engine, make_config, tmp_path):
    """Build a mount entry + shared folder + SMB share with OMV's own set-RPCs, read them back, clean up.

    The test bed has no real filesystem OMV could enumerate, so the mount entry (FsTab.set) points at a
    tmp directory: OMV creates the shared folder's directory there, as it would on a data disk.
    """
    import json

    from omv_copilot_agent.collect import Collector
    from tests.testbed import omv_rpc

    def call(service, method, params):
        res = omv_rpc(service, method, params)
        assert res.returncode == 0, f"{service}.{method}: {res.stderr[:300]}"
        return json.loads(res.stdout)

    import uuid

    mnt = tmp_path / "mnt"
    mnt.mkdir()
    name = f"copilottest{os.getpid()}"  # unique: other suites may share the engine at the same time
    created = []
    try:
        mntent = call("FsTab", "set", {"uuid": NEW_UUID, "fsname": f"/dev/disk/by-uuid/{uuid.uuid4()}",
                                      "dir": str(mnt), "type": "ext4", "opts": "defaults", "freq": 0, "passno": 2,
                                      "hidden": False, "usagewarnthreshold": 0, "comment": ""})
        created.append(("FsTab", "delete", {"uuid": mntent["uuid"]}))
        folder = call("ShareMgmt", "set", {"uuid": NEW_UUID, "name": name, "mntentref": mntent["uuid"],
                                           "reldirpath": f"{name}/", "comment": "made by a test", "mode": "775"})
        created.insert(0, ("ShareMgmt", "delete", {"uuid": folder["uuid"], "recursive": False}))
        share = call("SMB", "setShare", {"uuid": NEW_UUID, "enable": True, "sharedfolderref": folder["uuid"], "comment": "",
                                         "guest": "no", "readonly": False, "browseable": True, "recyclebin": False,
                                         "recyclemaxsize": 0, "recyclemaxage": 0, "hidedotfiles": True, "inheritacls": True,
                                         "inheritpermissions": False, "easupport": False, "storedosattributes": False,
                                         "hostsallow": "", "hostsdeny": "", "audit": False, "timemachine": False,
                                         "transportencryption": False, "extraoptions": ""})
        created.insert(0, ("SMB", "deleteShare", {"uuid": share["uuid"]}))
        assert (mnt / name).is_dir()  # OMV made the folder
        config, _ = make_config({"omv_rpc": {"command": omv_engine, "timeout_s": 60}, "collect": {"source_timeout_s": 300}})
        collector = Collector(config, sources=("omv",))
        try:
            data = collector.collect().sources["omv"].data
        finally:
            collector.close()
        folders = [f for f in data["shared_folders"] if f["name"] == name]
        assert folders and folders[0]["comment"] == "made by a test" and folders[0]["mntent"]["dir"] == str(mnt)
        shares = [s for s in data["smb_shares"] if s.get("sharedfoldername") == name]
        assert shares and shares[0]["enable"] is True
    finally:
        for service, method, params in created:
            omv_rpc(service, method, params)
