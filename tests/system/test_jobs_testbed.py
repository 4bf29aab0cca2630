"""Jobs that did not run, on OMV's real engine (the test bed, ../shared/omv-testbed).

A scheduled job and an rsync job are made through OMV's own RPCs (``Cron set``, ``Rsync set``
on a shared folder made with ``FsTab set`` + ``ShareMgmt set``). The test bed has no salt,
cron or journald, so what a box's cron would have left is planted where the source reads it:
the jobs' scripts as OMV's states deploy them (applied five days ago), a journal file with
cron's lines (the scheduled job last started three days ago) and rsync's log (the rsync job's
run this morning ended with code 23). One real collection cycle of the agent (sources ``omv``
+ ``omv_jobs`` against the engine) must raise exactly one alert per job, naming the job and its
last run. Everything made through the RPCs is deleted again.

Run it under the test-bed session lock:
``flock /run/omv-testbed.session.lock /usr/bin/python3 -m pytest -q tests/system/test_jobs_testbed.py``
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
from pathlib import Path

import pytest
from croniter import croniter

from omv_copilot_agent.collect import omv_jobs
from omv_copilot_agent.findings.jobs import when
from tests.testbed import omv_rpc

NEW = "fa4b1c66-ef79-11e5-87a0-0002b3a176b4"  # OMV_CONFIGOBJECT_NEW_UUID: "create"
DAY = 86400.0
JOURNAL_REMOTE = Path("/lib/systemd/systemd-journal-remote")
SCHEDULE = {"everynminute": False, "everynhour": False, "dayofmonth": ["*"], "everyndayofmonth": False,
            "month": ["*"], "dayofweek": ["*"]}


def _call(service: str, method: str, params: dict) -> dict:
    done = omv_rpc(service, method, params)
    assert done.returncode == 0, f"{service}.{method}: {done.stderr[-500:]}"
    return json.loads(done.stdout) if done.stdout.strip() else {}


def _prev(expr: str, ts: float) -> float:
    return croniter(expr, datetime.datetime.fromtimestamp(ts)).get_prev(datetime.datetime).timestamp()


def _plant_journal(folder: Path, entries: list[tuple[float, str, int, str]]) -> None:
    """A real journal file holding ``(time, identifier, pid, message)`` lines, as journald would have written them."""
    export = "".join(f"__REALTIME_TIMESTAMP={int(ts * 1e6)}\n__MONOTONIC_TIMESTAMP={i + 1}\n"
                     f"_BOOT_ID=0123456789abcdef0123456789abcdef\nSYSLOG_IDENTIFIER={ident}\nSYSLOG_PID={pid}\n"
                     f"PRIORITY=6\nMESSAGE={message}\n\n" for i, (ts, ident, pid, message) in enumerate(sorted(entries)))
    folder.mkdir()
    subprocess.run([str(JOURNAL_REMOTE), "-o", str(folder / "system.journal"), "-"], input=export, text=True,
                   capture_output=True, check=True)


@pytest.fixture
def omv_jobs_made(omv_engine, tmp_path):
    """A scheduled job and an rsync job in OMV's configuration, both due daily three hours ago; deleted afterwards."""
    due = datetime.datetime.fromtimestamp(datetime.datetime.now().timestamp() - 3 * 3600)
    at = {"minute": [str(due.minute)], "hour": [str(due.hour)]}
    made: list[tuple[str, dict]] = []
    try:
        mount = tmp_path / "mnt"
        mount.mkdir()
        mntent = _call("FsTab", "set", {"uuid": NEW, "fsname": "/dev/disk/by-uuid/0b5e7c2a-8d41-4f6e-9a3b-5a0b00000001",
                                        "dir": str(mount), "type": "ext4", "opts": "defaults", "freq": 0, "passno": 2})
        made.append(("FsTab", {"uuid": mntent["uuid"]}))
        share = _call("ShareMgmt", "set", {"uuid": NEW, "name": "copilot-jobs-src", "reldirpath": "src/", "comment": "",
                                           "mntentref": mntent["uuid"]})
        made.append(("ShareMgmt", {"uuid": share["uuid"], "recursive": False}))
        cron = _call("Cron", "set", {"uuid": NEW, "enable": True, "execution": "exactly", "sendemail": False,
                                     "comment": "copilot test photos backup", "type": "userdefined", "username": "root",
                                     "command": "/usr/local/bin/backup-photos", **SCHEDULE, **at})
        made.append(("Cron", {"uuid": cron["uuid"]}))
        rsync = _call("Rsync", "set", {
            "uuid": NEW, "enable": True, "sendemail": False, "comment": "copilot test media to nas2", "type": "remote",
            "mode": "push", "srcsharedfolderref": share["uuid"], "srcuri": "", "destsharedfolderref": "",
            "desturi": "rsync://nas2.invalid/media", **SCHEDULE, **at, "optionrecursive": True, "optiontimes": True,
            "optiongroup": True, "optionowner": True, "optioncompress": False, "optionarchive": True,
            "optiondelete": False, "optionquiet": True, "optionperms": True, "optionacls": False, "optionxattrs": False,
            "optiondryrun": False, "optionpartial": False, "extraoptions": "", "authentication": "password",
            "password": "", "sshcertificateref": "", "sshport": 22})
        made.append(("Rsync", {"uuid": rsync["uuid"]}))
        yield {"cron": cron, "rsync": rsync}
    finally:
        for service, params in reversed(made):
            omv_rpc(service, "delete", params)


@pytest.mark.skipif(not JOURNAL_REMOTE.exists(), reason="needs systemd-journal-remote (tests/apt-packages.txt) to plant the journal")
def test_an_overdue_job_and_a_failed_rsync_job_raise_one_alert_each_on_the_real_engine(omv_jobs_made, make_config, tmp_path,
                                                                                       monkeypatch):
    from omv_copilot_agent.collect import Collector
    from omv_copilot_agent.daemon.agent import Agent

    cron, rsync = omv_jobs_made["cron"], omv_jobs_made["rsync"]
    expr = f"{cron['minute']} {cron['hour']} * * *"
    now = datetime.datetime.now().timestamp()
    paths = omv_jobs.Paths(scripts_dir=tmp_path / "cron.d", rsync_log=tmp_path / "rsync.log", journal_dir=tmp_path / "journal")
    paths.scripts_dir.mkdir()
    for name in (f"userdefined-{cron['uuid']}", f"rsync-{rsync['uuid']}"):  # as salt deploys them, on an Apply 5 days ago
        (paths.scripts_dir / name).write_text("#!/bin/sh -l\n")
        os.utime(paths.scripts_dir / name, (now - 5 * DAY, now - 5 * DAY))
    cron_ran = _prev(expr, now - 2 * DAY)  # two days and three hours ago; nothing since
    hourly = [(now - 4 * DAY + h * 3600, "CRON", 100 + h, "(root) CMD (cd / && run-parts --report /etc/cron.hourly)")
              for h in range(96)]
    _plant_journal(paths.journal_dir, hourly + [
        (cron_ran + 1, "CRON", 4242, f"(root) CMD (/var/lib/openmediavault/cron.d/userdefined-{cron['uuid']} >/dev/null 2>&1)")])
    rsync_ran = _prev(expr, now)  # today, three hours ago: rsync could not reach nas2
    stamp = lambda s: datetime.datetime.fromtimestamp(rsync_ran + s).strftime("%Y/%m/%d %H:%M:%S")  # noqa: E731
    paths.rsync_log.write_text(
        f"{stamp(1)} [5150] rsync: getaddrinfo: nas2.invalid 873: Name or service not known\n"
        f"{stamp(1)} [5150] rsync error: error in socket IO (code 10) at clientserver.c(139) [sender=3.2.7]\n")
    monkeypatch.setattr(omv_jobs, "PATHS", paths)

    config, _ = make_config({"alerts": {"udev_monitor": False, "rrd_import": False}, "collect": {"source_timeout_s": 60}})
    agent = Agent(config, collector=Collector(config, sources=("omv", "omv_jobs")))
    try:
        snap = agent.run_cycle()
        assert snap.sources["omv"].status in ("ok", "degraded"), snap.sources["omv"].reason
        assert snap.sources["omv_jobs"].status == "ok", snap.sources["omv_jobs"].reason
        agent.run_cycle()  # a second cycle: still one alert per job
        alerts = {a["subject"]: a for a in agent.alerts.list(state="firing")[1] if a["rule"] == "job_not_run"}
    finally:
        agent.close()
    assert set(alerts) == {"copilot test photos backup", "copilot test media to nas2"}
    overdue, failed = alerts["copilot test photos backup"], alerts["copilot test media to nas2"]
    assert "did not run" in overdue["title"] and f"last run {when(cron_ran + 1)}" in overdue["message"]
    assert overdue["details"]["uuid"] == cron["uuid"]
    assert "failed" in failed["title"] and f"last run {when(rsync_ran)}" in failed["message"]
    assert failed["details"]["exit"] == 10 and "code 10" in failed["message"]
