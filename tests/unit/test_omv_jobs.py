"""Jobs that did not run: OMV's scheduled and rsync jobs from its configuration, their runs from the
journal (cron's and the job scripts' lines) and rsync's log, judged by the findings engine and raised
as one alert per job through a real AlertService on a real SQLite store."""

from __future__ import annotations

import datetime
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from omv_copilot_agent import findings, runner
from omv_copilot_agent.collect import omv_jobs
from omv_copilot_agent.collect.base import Degraded
from omv_copilot_agent.findings import Thresholds
from tests.alerts_support import cycle, make_agent, snapshot

#: Sunday 2026-12-06 12:00 local time: the tests' "now"
NOW = datetime.datetime(2026, 12, 6, 12, 0).timestamp()
DAY = 86400.0
CRON_UUID = "7f1b9a52-3c55-4d8e-9a41-1c0e7d2b6a01"
RSYNC_UUID = "2c4d6e8f-1a3b-4c5d-8e9f-0a1b2c3d4e5f"
JOURNAL_REMOTE = Path("/lib/systemd/systemd-journal-remote")


def at(days_ago: float, hour: int, minute: int = 0, second: int = 0) -> float:
    """A local time ``days_ago`` days before NOW's date."""
    day = datetime.date(2026, 12, 6) - datetime.timedelta(days=days_ago)
    return datetime.datetime(day.year, day.month, day.day, hour, minute, second).timestamp()


def cron_job(**kw) -> dict:
    """A user-defined scheduled job as ``Cron getList`` returns it: daily at 02:00."""
    return {"uuid": CRON_UUID, "enable": True, "execution": "exactly", "sendemail": False, "comment": "nightly photos backup",
            "type": "userdefined", "minute": "0", "everynminute": False, "hour": "2", "everynhour": False,
            "dayofmonth": "*", "everyndayofmonth": False, "month": "*", "dayofweek": "*", "username": "root",
            "command": "/usr/local/bin/backup-photos", **kw}


def rsync_job(**kw) -> dict:
    """An rsync job as ``Rsync getList`` returns it: daily at 03:30."""
    return {"uuid": RSYNC_UUID, "enable": True, "sendemail": False, "comment": "media to usb", "type": "local",
            "mode": "push", "minute": "30", "everynminute": False, "hour": "3", "everynhour": False, "dayofmonth": "*",
            "everyndayofmonth": False, "month": "*", "dayofweek": "*", "optionquiet": False,
            "src": {"sharedfolderref": "a", "uri": ""}, "dest": {"sharedfolderref": "b", "uri": ""},
            "srcname": "media", "destname": "usb", **kw}


SMART_UUID = "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d"
BY_ID = "/dev/disk/by-id/ata-WDC_WD40EFRX-68N32N0_WD-WCC7K1234567"


def smart_test(**kw) -> dict:
    """A scheduled SMART test as ``Smart getScheduleList`` returns it (devicefile made canonical): short, daily at 02."""
    return {"uuid": SMART_UUID, "enable": True, "devicefile": "/dev/sda", "devicelinks": [BY_ID, "/dev/disk/by-path/pci-0000:00:1f.2-ata-1"],
            "type": "S", "hour": "02", "dayofmonth": "*", "month": "*", "dayofweek": "*", "comment": "", "model": "WDC WD40EFRX",
            "serialnumber": "WD-WCC7K1234567", "size": "4000787030016", **kw}


def smartd(ts: float, text: str, device: str = BY_ID, priority: int = 6) -> dict:
    return entry(ts, "smartd", f"Device: {device} [SAT], {text}", 700, priority)


def entry(ts: float, ident: str, message: str, pid: int = 100, priority: int = 6) -> dict:
    """One line as ``journalctl -o json`` prints it."""
    return {"__REALTIME_TIMESTAMP": str(int(ts * 1e6)), "SYSLOG_IDENTIFIER": ident, "SYSLOG_PID": str(pid),
            "PRIORITY": str(priority), "MESSAGE": message, "_HOSTNAME": "nas"}


def cron_cmd(ts: float, script: str, pid: int) -> dict:
    return entry(ts, "CRON", f"(root) CMD ({script} >/dev/null 2>&1)", pid)


def hourly(days: int) -> list[dict]:
    """Debian's /etc/crontab run-parts line every hour at :17, for ``days`` days before NOW: the journal reaches back that far."""
    start = NOW - days * DAY
    return [entry(start + h * 3600 + 17 * 60, "CRON", "(root) CMD (cd / && run-parts --report /etc/cron.hourly)", 9000 + h)
            for h in range(days * 24) if start + h * 3600 + 17 * 60 < NOW]


@pytest.fixture
def box(tmp_path, monkeypatch):
    """OMV's job folders in tmp_path: scripts deployed 10 days ago, an empty rsync log."""
    paths = omv_jobs.Paths(scripts_dir=tmp_path / "cron.d", rsync_log=tmp_path / "rsync.log")
    paths.scripts_dir.mkdir()
    for name in (f"userdefined-{CRON_UUID}", f"rsync-{RSYNC_UUID}"):
        script = paths.scripts_dir / name
        script.write_text("#!/bin/sh\n")
        _set_mtime(script, NOW - 10 * DAY)
    paths.rsync_log.write_text("")
    paths.smartd_conf = tmp_path / "smartd.conf"
    paths.smartd_conf.write_text("DEFAULT -a\n")
    _set_mtime(paths.smartd_conf, NOW - 10 * DAY)
    monkeypatch.setattr(omv_jobs, "PATHS", paths)
    return paths


def _set_mtime(path: Path, ts: float) -> None:
    import os

    os.utime(path, (ts, ts))


def jobs_data(paths, journal: list[dict], *, cron=None, rsync=None, smart=(), rsync_log: str = "") -> dict:
    """The omv_jobs source's data for this configuration and evidence, as collect() builds it."""
    text = "\n".join(json.dumps(e) for e in reversed(journal))  # journalctl --reverse: newest first
    omv = {"cron_jobs": [cron_job()] if cron is None else cron, "rsync_jobs": [rsync_job()] if rsync is None else rsync,
           "smart_tests": list(smart)}
    return {"checked_at": NOW, "journal": "ok",
            "jobs": omv_jobs.build(omv, omv_jobs.parse_journal(text), omv_jobs.parse_rsync_log(rsync_log), paths)}


def judged(data: dict) -> dict[tuple[str, str], findings.Finding]:
    return {(f.id, f.subject): f for f in findings.evaluate(snapshot(NOW, omv_jobs=data), Thresholds.from_section())
            if f.id.startswith("job-")}


def rsync_run(ts: float, pid: int, error: str | None = None) -> str:
    """rsync's --log-file lines of one run starting at ``ts`` (local time, as rsync writes them)."""
    stamp = lambda s: datetime.datetime.fromtimestamp(ts + s).strftime("%Y/%m/%d %H:%M:%S")  # noqa: E731
    lines = [f"{stamp(0)} [{pid}] building file list", f"{stamp(1)} [{pid}] >f+++++++++ holiday/img_0001.jpg"]
    if error:
        lines += [f"{stamp(2)} [{pid}] rsync: [receiver] mkstemp \"/srv/usb/holiday/.img_0001.jpg.x\" failed: {error}",
                  f"{stamp(3)} [{pid}] rsync error: some files/attrs were not transferred (see previous errors) (code 23) "
                  f"at main.c(1338) [sender=3.2.7]"]
    else:
        lines += [f"{stamp(3)} [{pid}] sent 1,234 bytes  received 56 bytes  2,580.00 bytes/sec",
                  f"{stamp(3)} [{pid}] total size is 9,876  speedup is 7.65"]
    return "\n".join(lines) + "\n"


def healthy_journal() -> list[dict]:
    """Two weeks of cron, both jobs started every day on time, the rsync job's lines saying it succeeded."""
    out = hourly(14)
    for d in range(13, -1, -1):
        out.append(cron_cmd(at(d, 2), f"/var/lib/openmediavault/cron.d/userdefined-{CRON_UUID}", 2000 + d))
        out.append(cron_cmd(at(d, 3, 30), f"/var/lib/openmediavault/cron.d/rsync-{RSYNC_UUID}", 3000 + d))
        out.append(entry(at(d, 3, 30, 1), f"rsync-{RSYNC_UUID}", "Please wait, syncing </srv/a/media/> to </srv/b/usb/> ...", 3100 + d))
        out.append(entry(at(d, 3, 31), f"rsync-{RSYNC_UUID}", "The synchronisation has completed successfully.", 3100 + d))
    return sorted(out, key=lambda e: int(e["__REALTIME_TIMESTAMP"]))


# --- the cron line OMV writes -----------------------------------------------------------------------

@pytest.mark.parametrize("job, expr", [
    (cron_job(), "0 2 * * *"),
    (cron_job(minute="15", everynminute=True, hour="*"), "*/15 * * * *"),
    (cron_job(minute="0,30", hour="1", dayofweek="1,3"), "0,30 1 * * 1,3"),
    (cron_job(execution="weekly"), "0 0 * * 0"),
    (cron_job(execution="reboot"), None),
    (cron_job(minute="99"), None),
])
def test_the_schedule_is_the_cron_line_omvs_salt_template_writes(job, expr):
    assert omv_jobs.schedule(job, "userdefined") == expr


# --- the acceptance cases ---------------------------------------------------------------------------

def test_an_overdue_scheduled_job_raises_one_alert_with_its_name_and_last_run(box, tmp_path):
    journal = [e for e in healthy_journal() if not (e["MESSAGE"].find(CRON_UUID) >= 0 and int(e["__REALTIME_TIMESTAMP"]) / 1e6 > at(2, 0))]
    data = jobs_data(box, journal)
    found = judged(data)
    assert set(found) == {("job-overdue", "nightly photos backup")}  # the rsync job ran every night and succeeded
    overdue = found[("job-overdue", "nightly photos backup")]
    assert overdue.evidence["last_run"] == at(3, 2) and overdue.evidence["expected_at"] == at(0, 2)
    assert "2026-12-03 02:00" in overdue.text and "due 2026-12-06 02:00" in overdue.text

    agent = make_agent(tmp_path)
    for _ in range(3):  # three cycles, one alert
        cycle(agent, snapshot(NOW, omv_jobs=data))
    alerts = [a for a in agent.alerts.open_alerts() if a["rule"] == "job_not_run"]
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert["subject"] == "nightly photos backup" and "nightly photos backup" in alert["title"]
    assert "last run 2026-12-03 02:00" in alert["message"]
    assert alert["details"]["last_run"] == at(3, 2) and alert["details"]["uuid"] == CRON_UUID


def test_a_failed_rsync_job_raises_one_alert_with_its_name_last_run_and_exit_status(box, tmp_path):
    """OMV's rsync script exits 0 even when rsync failed: the failure is in rsync's own log (code 23)."""
    journal = [e for e in healthy_journal() if not e["SYSLOG_IDENTIFIER"].startswith("rsync-")]  # optionquiet: no script lines
    log = rsync_run(at(1, 3, 30, 2), 4101) + rsync_run(at(0, 3, 30, 2), 4202, error="Read-only file system (30)")
    data = jobs_data(box, journal, rsync=[rsync_job(optionquiet=True)], rsync_log=log)
    found = judged(data)
    assert set(found) == {("job-failed", "media to usb")}
    failed = found[("job-failed", "media to usb")]
    assert failed.evidence["last_run"] == at(0, 3, 30) and failed.evidence["exit"] == 23
    assert "2026-12-06 03:30" in failed.text and "code 23" in failed.text

    agent = make_agent(tmp_path)
    for _ in range(3):
        cycle(agent, snapshot(NOW, omv_jobs=data))
    alerts = [a for a in agent.alerts.open_alerts() if a["rule"] == "job_not_run"]
    assert [(a["subject"], a["details"]["exit"]) for a in alerts] == [("media to usb", 23)]
    assert "media to usb" in alerts[0]["title"] and "last run 2026-12-06 03:30" in alerts[0]["message"]


def test_a_healthy_job_raises_nothing(box, tmp_path):
    data = jobs_data(box, healthy_journal(), rsync_log=rsync_run(at(0, 3, 30, 2), 4202))
    assert judged(data) == {}
    rsync = next(j for j in data["jobs"] if j["kind"] == "rsync")
    assert rsync["last_run"]["ok"] is True and rsync["last_run"]["at"] == at(0, 3, 30)
    agent = make_agent(tmp_path)
    cycle(agent, snapshot(NOW, omv_jobs=data))
    assert not [a for a in agent.alerts.open_alerts() if a["rule"] == "job_not_run"]


def test_a_disabled_job_raises_nothing_though_it_never_ran(box):
    journal = hourly(14)  # cron runs, neither job ever started
    data = jobs_data(box, journal, cron=[cron_job(enable=False)], rsync=[rsync_job(enable=False)],
                     rsync_log=rsync_run(at(0, 3, 30, 2), 4202, error="No space left on device (28)"))
    assert judged(data) == {}
    assert judged(jobs_data(box, journal)).keys() == {("job-overdue", "nightly photos backup"), ("job-overdue", "media to usb")}


# --- what overdue and failed mean -------------------------------------------------------------------

def test_late_means_later_than_the_larger_of_an_hour_and_a_tenth_of_the_period(box):
    """A daily job may be 2.4 h late: due 02:00, not yet overdue at 04:00, overdue at 04:30."""
    journal = [e for e in healthy_journal() if not (CRON_UUID in e["MESSAGE"] and int(e["__REALTIME_TIMESTAMP"]) / 1e6 > at(0, 0))]
    data = jobs_data(box, journal)
    for now, overdue in ((at(0, 4), False), (at(0, 4, 30), True)):
        data["checked_at"] = now
        assert (("job-overdue", "nightly photos backup") in judged(data)) is overdue, now
    hourly_job = cron_job(minute="5", hour="*")  # period 1 h: late after 1 h
    data = jobs_data(box, hourly(3), cron=[hourly_job], rsync=[])
    found = judged(data)[("job-overdue", "nightly photos backup")]
    assert found.threshold == 3600 and found.evidence["expected_at"] == at(0, 10, 5)


def test_no_judgement_without_evidence_reaching_back_or_before_the_job_was_applied(box):
    """A journal that begins after the missed run, or a job applied after it, says nothing about that run."""
    assert judged(jobs_data(box, [e for e in hourly(14) if int(e["__REALTIME_TIMESTAMP"]) / 1e6 > at(0, 4)])) == {}
    assert judged(jobs_data(box, [])) == {}  # nothing in the journal at all
    for name in (f"userdefined-{CRON_UUID}", f"rsync-{RSYNC_UUID}"):
        _set_mtime(box.scripts_dir / name, at(0, 5))  # Applied this morning
    assert judged(jobs_data(box, hourly(14))) == {}
    (box.scripts_dir / f"userdefined-{CRON_UUID}").unlink()  # saved but never applied
    assert judged(jobs_data(box, hourly(14))) == {}


def test_a_failed_user_job_from_crons_exit_status_and_a_failed_rsync_from_its_script(box):
    """cron -L 5 logs "grandchild #PID failed with exit status N"; OMV's rsync script logs its failure with omv_error."""
    journal = healthy_journal()
    journal.append(entry(at(0, 2, 0, 40), "CRON", "(CRON) error (grandchild #2000 failed with exit status 2)", 1999, 3))
    journal.append(entry(at(0, 3, 30, 1), f"rsync-{RSYNC_UUID}", "Destination storage device not mounted at </srv/b>!", 3100, 3))
    journal = [e for e in journal if not (e["MESSAGE"].startswith("The synchronisation has") and int(e["__REALTIME_TIMESTAMP"]) / 1e6 > at(0, 0))]
    found = judged(jobs_data(box, sorted(journal, key=lambda e: int(e["__REALTIME_TIMESTAMP"]))))
    assert set(found) == {("job-failed", "nightly photos backup"), ("job-failed", "media to usb")}
    assert found[("job-failed", "nightly photos backup")].evidence["exit"] == 2
    assert "not mounted" in found[("job-failed", "media to usb")].text


def test_a_job_both_failed_and_overdue_is_one_alert_and_an_unowned_rsync_run_is_nobodys(box, tmp_path):
    """The last run (3 days ago) failed and none ran since: one alert, the failure. An rsync-log run that starts
    at no job's minute (a manual run of another tool) is given to no job."""
    journal = [e for e in hourly(14) + [cron_cmd(at(3, 3, 30), f"/var/lib/openmediavault/cron.d/rsync-{RSYNC_UUID}", 77)]]
    log = rsync_run(at(3, 3, 30, 3), 4101, error="No space left on device (28)") + rsync_run(at(0, 11, 7), 4301, error="x (2)")
    data = jobs_data(box, sorted(journal, key=lambda e: int(e["__REALTIME_TIMESTAMP"])), cron=[], rsync_log=log)
    found = judged(data)
    assert set(found) == {("job-failed", "media to usb")}
    assert found[("job-failed", "media to usb")].evidence["last_run"] == at(3, 3, 30)
    agent = make_agent(tmp_path)
    cycle(agent, snapshot(NOW, omv_jobs=data))
    assert [a["subject"] for a in agent.alerts.open_alerts() if a["rule"] == "job_not_run"] == ["media to usb"]


def test_two_jobs_with_one_comment_are_two_alerts(box):
    other = "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a"
    (box.scripts_dir / f"userdefined-{other}").write_text("#!/bin/sh\n")
    _set_mtime(box.scripts_dir / f"userdefined-{other}", NOW - 10 * DAY)
    data = jobs_data(box, hourly(14), cron=[cron_job(comment="backup"), cron_job(uuid=other, comment="backup")], rsync=[])
    assert set(judged(data)) == {("job-overdue", f"backup ({CRON_UUID[:8]})"), ("job-overdue", f"backup ({other[:8]})")}


# --- the source on a real journal -------------------------------------------------------------------

def test_the_journal_query_passes_the_runner_and_a_broken_journal_degrades_the_source(box, monkeypatch):
    runner.check(["journalctl", "-o", "json", "--no-pager", "--reverse", "-n", "5000", "--since=-3024000s",
                  "-D", "/var/log/journal", "-t", "CRON", "-t", f"rsync-{RSYNC_UUID}"])
    with pytest.raises(runner.CommandRefused):
        runner.check(["journalctl", "-o", "json", "--no-pager", "--reverse", "-n", "5", "--since=-1s", "-t", "CRON", "--flush"])
    monkeypatch.setattr(omv_jobs.logs, "has_journal", lambda dirs=None: False)
    ctx = _ctx({"cron_jobs": [cron_job()], "rsync_jobs": []})
    with pytest.raises(Degraded) as exc:
        omv_jobs.collect(ctx)
    assert "journal" in exc.value.reason and exc.value.data["jobs"][0]["name"] == "nightly photos backup"


def _ctx(omv: dict):
    from omv_copilot_agent.collect import CollectContext
    from omv_copilot_agent.collect.base import SourceResult

    return CollectContext(config=None, wait_for=lambda name: SourceResult(name, "ok", omv) if name == "omv" else None)


@pytest.mark.skipif(not JOURNAL_REMOTE.exists() or not shutil.which("journalctl"),
                    reason="needs systemd-journal-remote (tests/apt-packages.txt) to write a journal file, and journalctl")
def test_collect_reads_a_real_journal_file(box, monkeypatch, tmp_path):
    """Planted entries in a real journal file, read by journalctl through the runner, as on a box."""
    now = datetime.datetime.now().replace(second=0, microsecond=0).timestamp()
    journal = tmp_path / "journal"
    journal.mkdir()
    lines = [entry(now - 3 * DAY + h * 3600, "CRON", "(root) CMD (cd / && run-parts --report /etc/cron.hourly)", 50 + h) for h in range(72)]
    last = croniter_prev("0 2 * * *", now - 2 * DAY)
    lines.append(cron_cmd(last, f"/var/lib/openmediavault/cron.d/userdefined-{CRON_UUID}", 4242))
    export = "".join(f"__REALTIME_TIMESTAMP={e['__REALTIME_TIMESTAMP']}\n__MONOTONIC_TIMESTAMP={i + 1}\n"
                     f"_BOOT_ID=0123456789abcdef0123456789abcdef\nSYSLOG_IDENTIFIER={e['SYSLOG_IDENTIFIER']}\n"
                     f"SYSLOG_PID={e['SYSLOG_PID']}\nPRIORITY={e['PRIORITY']}\nMESSAGE={e['MESSAGE']}\n\n"
                     for i, e in enumerate(sorted(lines, key=lambda e: int(e["__REALTIME_TIMESTAMP"]))))
    subprocess.run([str(JOURNAL_REMOTE), "-o", str(journal / "planted.journal"), "-"], input=export, text=True, check=True,
                   capture_output=True)
    monkeypatch.setattr(omv_jobs, "PATHS", omv_jobs.Paths(scripts_dir=box.scripts_dir, rsync_log=box.rsync_log, journal_dir=journal))
    monkeypatch.setattr(omv_jobs, "clock", lambda: now)
    data = omv_jobs.collect(_ctx({"cron_jobs": [cron_job()], "rsync_jobs": []}))
    job = data["jobs"][0]
    assert data["journal"] == "ok" and job["last_run"]["at"] == last and job["last_run"]["evidence"] == "journal"
    assert abs(job["evidence_since"] - (now - 3 * DAY)) < 1
    found = judged({**data, "checked_at": now})
    assert list(found) == [("job-overdue", "nightly photos backup")]


def croniter_prev(expr: str, ts: float) -> float:
    from croniter import croniter

    return croniter(expr, datetime.datetime.fromtimestamp(ts)).get_prev(datetime.datetime).timestamp()


def test_only_the_tail_of_a_big_rsync_log_is_read_in_whole_lines(tmp_path):
    """rsync's log lists every file each run transferred: a year of it is read as its last MiB, first line dropped."""
    log = tmp_path / "rsync.log"
    old = "".join(rsync_run(at(30, 3, 30) + i * 400, 1000 + i % 50) for i in range(6000))  # pids come round again
    log.write_text(old + rsync_run(at(0, 3, 30, 2), 4202, error="Read-only file system (30)"))
    assert log.stat().st_size > omv_jobs.RSYNC_LOG_TAIL
    text = omv_jobs._tail(log, omv_jobs.RSYNC_LOG_TAIL)
    assert len(text) <= omv_jobs.RSYNC_LOG_TAIL and omv_jobs._RSYNC_LINE.match(text.splitlines()[0])
    runs = omv_jobs.parse_rsync_log(text)
    assert runs[-1]["exit"] == 23 and runs[-1]["start"] == at(0, 3, 30, 2) and all(r["ok"] for r in runs[:-1])
    assert len(runs) > 50  # runs of one pid, far apart, are separate runs
    assert omv_jobs._tail(tmp_path / "absent.log", 100) == ""


def test_a_manual_run_is_its_own_run_even_when_it_fails_before_saying_please_wait(box):
    """OMV's rsync script checks the mounts before its first log line: a failed check from the "Run" button at 10:00
    is a new run, not a failure of the night's successful cron run."""
    journal = healthy_journal() + [entry(at(0, 10), f"rsync-{RSYNC_UUID}", "Source storage device not mounted at </srv/a>!", 777, 3)]
    data = jobs_data(box, sorted(journal, key=lambda e: int(e["__REALTIME_TIMESTAMP"])), cron=[])
    runs = data["jobs"][0]["runs"]
    assert [(r["at"], r["ok"]) for r in runs[-2:]] == [(at(0, 3, 30), True), (at(0, 10), False)]
    assert set(judged(data)) == {("job-failed", "media to usb")}


# --- SMART self-tests (smartd runs them; its journal lines say when and how) ----------------------------

def test_a_smart_test_that_stopped_running_and_one_that_failed(box, tmp_path):
    assert omv_jobs.schedule(smart_test(), "smart") == "0 02 * * *"
    assert omv_jobs.schedule(smart_test(type="L", hour="01", dayofweek="7"), "smart") == "0 01 * * 7"
    other = "/dev/disk/by-id/ata-ST4000VN008_ZDH1ABCD"
    journal = hourly(14) + [smartd(at(2, 2, 0, 12), "starting scheduled Short Self-Test."),
                            smartd(at(0, 2, 0, 12), "starting scheduled Short Self-Test.", other),
                            smartd(at(0, 2, 5), "Self-Test Log error count increased from 0 to 1", other, 2)]
    journal = sorted(journal, key=lambda e: int(e["__REALTIME_TIMESTAMP"]))
    second = smart_test(uuid="6b7c8d9e-0f1a-4b2c-9d3e-4f5a6b7c8d9e", devicefile="/dev/sdb", devicelinks=[other], comment="sdb short")
    data = jobs_data(box, journal, cron=[], rsync=[], smart=[smart_test(), second])
    found = judged(data)
    assert set(found) == {("job-overdue", "SMART short self-test of /dev/sda"), ("job-failed", "sdb short")}
    assert found[("job-overdue", "SMART short self-test of /dev/sda")].evidence["last_run"] == at(2, 2, 0, 12)
    assert "error count increased" in found[("job-failed", "sdb short")].text
    assert "last run 2026-12-06 02:00" in found[("job-failed", "sdb short")].text

    journal.append(smartd(at(0, 2, 0, 12), "starting scheduled Short Self-Test."))
    journal.append(smartd(at(0, 2, 3), "previous self-test completed without error"))
    data = jobs_data(box, sorted(journal, key=lambda e: int(e["__REALTIME_TIMESTAMP"])), cron=[], rsync=[], smart=[smart_test()])
    assert judged(data) == {}  # ran today and passed; sdb's failure is not sda's
    assert data["jobs"][0]["last_run"]["ok"] is True
    agent = make_agent(tmp_path)
    cycle(agent, snapshot(NOW, omv_jobs=jobs_data(box, journal[:-2], cron=[], rsync=[], smart=[smart_test()])))
    assert [a["title"] for a in agent.alerts.open_alerts() if a["rule"] == "job_not_run"] == [
        "Job SMART short self-test of /dev/sda did not run"]
