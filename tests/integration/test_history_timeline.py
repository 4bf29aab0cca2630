"""The timeline: alerts, notes, configuration changes, package updates and reboots merged newest
first — readers of apt's history and wtmp on real files, and getTimeline through the real API."""

from __future__ import annotations

import gzip
import json
import os
import struct
import time

import pytest

from omv_copilot_agent.collect import apt_history, boots
from omv_copilot_agent.history import timeline as tl

HISTORY = """
Start-Date: {d1}
Commandline: apt-get dist-upgrade -y
Requested-By: admin (1000)
Install: linux-image-6.1.0-28-amd64:amd64 (6.1.119-1, automatic)
Upgrade: openmediavault:all (7.4.16-1, 7.4.17-1), zfs-dkms:all (2.1.11-1, 2.1.15-2~bpo12+1)
End-Date: {d1e}

Start-Date: {d2}
Commandline: apt-get remove docker-ce
Remove: docker-ce:amd64 (5:27.3.1-1~debian.12~bookworm)
Error: Sub-process /usr/bin/dpkg returned an error code (1)
End-Date: {d2}

Start-Date: not a date
Commandline: garbage
"""


def _apt_date(ts: float) -> str:
    return time.strftime("%Y-%m-%d  %H:%M:%S", time.localtime(ts))


def _wtmp_record(ut_type: int, user: str, host: str, at: float, layout: str = "compat32") -> bytes:
    """One glibc utmp record: 32-bit times (x86-64, armhf: 384 bytes) or 64-bit ones (AArch64: 400 bytes)."""
    fmt = {"compat32": "<hhi32s4s32s256shhiii16s20s", "time64": "<hhi32s4s32s256shhqqq16s20s4x"}[layout]
    return struct.pack(fmt, ut_type, 0, 1, b"~", b"~~", user.encode(), host.encode(), 0, 0, 0, int(at), 0, b"", b"")


@pytest.fixture
def now():
    return float(int(time.time()))


@pytest.fixture
def box_logs(tmp_path, now, monkeypatch):
    """apt's history (current file and a gzipped rotation) and a wtmp with two boots and a login."""
    log = tmp_path / "history.log"
    log.write_text(HISTORY.format(d1=_apt_date(now - 5000), d1e=_apt_date(now - 4900), d2=_apt_date(now - 3000)))
    with gzip.open(tmp_path / "history.log.1.gz", "wt") as fh:
        fh.write(f"Start-Date: {_apt_date(now - 40 * 86400)}\nInstall: old:amd64 (1.0)\nEnd-Date: {_apt_date(now - 40 * 86400)}\n")
    os.utime(tmp_path / "history.log.1.gz", (now - 40 * 86400, now - 40 * 86400))
    wtmp = tmp_path / "wtmp"
    wtmp.write_bytes(_wtmp_record(2, "reboot", "6.1.0-27-amd64", now - 90000) + _wtmp_record(7, "admin", "10.0.0.2", now - 1500)
                     + _wtmp_record(2, "reboot", "6.1.0-28-amd64", now - 2000))
    monkeypatch.setattr(apt_history, "LOG", str(log))
    monkeypatch.setattr(boots, "WTMP", str(wtmp))
    # the running boot is the wtmp's last one: a machine booted within the test's window (a fresh CI
    # runner) would otherwise add its own real boot to the expected order
    import psutil

    monkeypatch.setattr(psutil, "boot_time", lambda: now - 2000)
    return tmp_path


def test_apt_history_transactions_with_versions_errors_and_rotations(box_logs, now):
    all_of_it = apt_history.read(str(box_logs / "history.log"))
    assert [len(t["packages"]) for t in all_of_it] == [1, 3, 1]  # oldest first; the garbage stanza is skipped
    upgrade = all_of_it[1]
    assert upgrade["command"] == "apt-get dist-upgrade -y" and upgrade["end"] - upgrade["start"] == 100
    assert {"name": "openmediavault", "action": "upgrade", "old": "7.4.16-1", "new": "7.4.17-1"} in upgrade["packages"]
    assert {"name": "linux-image-6.1.0-28-amd64", "action": "install", "old": None, "new": "6.1.119-1"} in upgrade["packages"]
    assert all_of_it[2]["packages"] == [{"name": "docker-ce", "action": "remove", "old": "5:27.3.1-1~debian.12~bookworm", "new": None}]
    assert "error code (1)" in all_of_it[2]["error"]
    # A rotation older than the range is not even opened.
    assert [t["start"] for t in apt_history.read(str(box_logs / "history.log"), since=now - 86400)] == [now - 5000, now - 3000]
    assert apt_history.read(str(box_logs / "absent.log")) == []


def test_wtmp_boot_records_only(box_logs, now):
    found = boots.parse((box_logs / "wtmp").read_bytes())
    assert found == [{"at": now - 90000, "kernel": "6.1.0-27-amd64"}, {"at": now - 2000, "kernel": "6.1.0-28-amd64"}]
    assert boots.parse(b"\0" * 100) == []  # no whole record: nothing
    # An arm64 box (Raspberry Pi OS 64-bit) writes 400-byte records with 64-bit times: read as well.
    arm64 = _wtmp_record(2, "reboot", "6.6.51+rpt-rpi-v8", now - 600, "time64") + _wtmp_record(8, "", "", now - 500, "time64")
    assert len(arm64) == 800 and boots.parse(arm64) == [{"at": now - 600, "kernel": "6.6.51+rpt-rpi-v8"}]
    assert boots.parse(b"\xff" * 384) == []  # a record type no glibc writes: not a wtmp
    # read() adds the running boot (psutil, with the running kernel) unless wtmp already has it
    import psutil

    running = [b for b in boots.read(str(box_logs / "wtmp")) if abs(b["at"] - psutil.boot_time()) < 120]
    assert len(running) == 1 and running[0]["kernel"] in (os.uname().release, "6.1.0-27-amd64", "6.1.0-28-amd64")


def test_config_events_diff_each_revision_against_the_one_before():
    revs = [{"id": 1, "taken_at": 100.0, "data": {"ssh": {"port": 22}}},
            {"id": 2, "taken_at": 200.0, "data": {"ssh": {"port": 22}}},  # a daily copy: nothing new, no event
            {"id": 3, "taken_at": 300.0, "data": {"ssh": {"port": 2222}, "smb": {"enable": True}}}]
    events = tl.config_events(revs, since=150.0)
    assert len(events) == 1 and events[0]["ref"] == "snapshot:3"
    assert events[0]["title"] == "OMV configuration changed: 2 setting(s) in smb, ssh"
    assert {"path": "ssh.port", "change": "changed", "old": "22", "new": "2222"} in events[0]["detail"]["changes"]
    assert tl.config_events(revs[:1], since=0)[0]["title"].startswith("First OMV configuration snapshot")
    secret = tl.config_events([{"id": 1, "taken_at": 1.0, "data": {"notifications": {"password": "old-pw"}}},
                               {"id": 2, "taken_at": 2.0, "data": {"notifications": {"password": "new-pw"}}}], since=0)
    assert secret[-1]["detail"]["changes"] == [{"path": "notifications.password", "change": "changed", "old": "(secret)", "new": "(secret)"}]


def test_merge_orders_newest_first_filters_the_range_and_says_when_it_cut():
    groups = [tl.reboot_events([{"at": 10.0, "kernel": "k"}]), tl.note_events([{"id": 1, "created_at": 30.0, "text": "swapped disk"}]),
              tl.alert_events([{"id": 4, "title": "Disk hot", "severity": "critical", "first_seen": 20.0, "resolved_at": 40.0}])]
    out = tl.merge(groups, since=15.0, until=100.0, limit=2)
    assert [(e["kind"], e["at"]) for e in out["events"]] == [("alert", 40.0), ("note", 30.0)]
    assert out["total"] == 3 and out["truncated"] and out["counts"]["alert"] == 2 and out["counts"]["reboot"] == 0
    assert out["events"][0]["title"] == "Resolved: Disk hot" and out["events"][0]["severity"] == "info"


def test_get_timeline_merges_every_kind_through_the_api(live_server, box_logs, now):
    srv = live_server(cycle=False)
    store = srv.agent.store
    store.add_config_revision(now - 7200, "a" * 40, "initial", {"ssh": {"port": 22}})
    store.add_config_revision(now - 4000, "b" * 40, "changed", {"ssh": {"port": 2222}})
    alert_id = store.insert_alert({"rule": "fs_usage", "subject": "/", "severity": "critical", "title": "Root is full",
                                   "message": "99 %", "details": {}}, now - 1000)
    store.add_note("moved docker to /srv", alert_id, now=now - 500)
    r = srv.get("/api/v1/history/timeline", params={"since": 86400})
    assert r.status_code == 200, r.text
    body = r.json()
    kinds = [e["kind"] for e in body["events"]]
    assert {"alert", "note", "config", "package", "reboot"} <= set(kinds)
    ats = [e["at"] for e in body["events"]]
    assert ats == sorted(ats, reverse=True)
    # What happened before the alert: the note after it, then the boot, the failed remove, the config change, the upgrade.
    order = [(e["kind"], e["at"]) for e in body["events"] if e["at"] >= now - 7200]
    assert order[:6] == [("note", now - 500), ("alert", now - 1000), ("reboot", now - 2000), ("package", now - 3000),
                         ("config", now - 4000), ("package", now - 5000)]
    config = next(e for e in body["events"] if e["kind"] == "config" and e["at"] == now - 4000)
    assert config["detail"]["changes"] == [{"path": "ssh.port", "change": "changed", "old": "22", "new": "2222"}]
    failed = next(e for e in body["events"] if e["kind"] == "package" and e["at"] == now - 3000)
    assert failed["severity"] == "warning" and "docker-ce" in failed["title"]
    # kinds filter and range
    only = srv.get("/api/v1/history/timeline", params={"since": 86400, "kinds": "package,reboot"}).json()
    assert {e["kind"] for e in only["events"]} == {"package", "reboot"} and only["kinds"] == ["package", "reboot"]
    # A range that starts after the first revision still diffs the next one against it.
    mid = srv.get("/api/v1/history/timeline", params={"since": 5000, "until": int(now), "kinds": "config"}).json()
    assert [(e["at"], e["detail"]["total"]) for e in mid["events"]] == [(now - 4000, 1)]
    short = srv.get("/api/v1/history/timeline", params={"since": 1800, "until": int(now)}).json()
    assert [e["kind"] for e in short["events"]] == ["note", "alert"]
    # the RPC bridge answers the same
    rpc = srv.post("/api/v1/rpc", json={"method": "getTimeline", "params": {"since": 86400, "kinds": "note"}}).json()
    assert [e["title"] for e in rpc["events"]] == ["Note: moved docker to /srv"]


@pytest.mark.parametrize("params, words", [({"kinds": "alert,bogus"}, "unknown kind(s) bogus"),
                                           ({"since": "10"}, "since"), ({"limit": "0"}, "limit")])
def test_bad_timeline_arguments_are_named(live_server, params, words):
    srv = live_server(cycle=False)
    r = srv.get("/api/v1/history/timeline", params=params)
    assert r.status_code == 400 and words in r.json()["error"]["message"], r.text


def test_revert_needs_confirmation_and_calls_omvs_own_revert(live_server, tmp_path):
    """revertPendingChanges refuses without confirm; with it, asks OMV for Config revertChanges (a fake omv-rpc logs it)."""
    log = tmp_path / "calls.log"
    fake = tmp_path / "bin" / "omv-rpc"
    fake.parent.mkdir()
    fake.write_text(f"#!/usr/bin/python3\nimport sys\nopen({str(log)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\nprint('null')\n")
    fake.chmod(0o755)
    srv = live_server({"omv_rpc": {"command": str(fake), "timeout_s": 5}}, cycle=False)
    refused = srv.post("/api/v1/changes/pending/revert", json={"confirm": False})
    assert refused.status_code == 400 and "must be true" in refused.json()["error"]["message"]
    assert srv.post("/api/v1/changes/pending/revert", json={}).status_code == 400
    assert not log.exists()
    r = srv.post("/api/v1/changes/pending/revert", json={"confirm": True})
    assert log.read_text().split("\n")[0] == '-u admin Config revertChanges {"filename": ""}'
    assert r.status_code == 200 and r.json()["reverted"] is True, r.text
    missing = live_server({"omv_rpc": {"command": str(tmp_path / "none" / "omv-rpc"), "timeout_s": 5}}, cycle=False)
    gone = missing.post("/api/v1/changes/pending/revert", json={"confirm": True})
    assert gone.status_code in (502, 503) and "OMV did not revert" in gone.json()["error"]["message"]


def test_only_omvs_revert_is_let_through_among_omv_writes():
    from omv_copilot_agent import runner

    runner.check(["omv-rpc", "-u", "admin", "Config", "revertChanges", json.dumps({"filename": ""})])
    for service, method in (("Config", "applyChanges"), ("Config", "revertChangesBg"), ("System", "revertChanges")):
        with pytest.raises(runner.CommandRefused, match="not a read method"):
            runner.check(["omv-rpc", "-u", "admin", service, method, "{}"])
