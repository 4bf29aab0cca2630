"""Source 'omv_jobs': OMV's scheduled jobs and what their recent runs left behind.

The jobs are OMV's configuration as the ``omv`` source read it this cycle (user-defined
scheduled jobs, ``conf.system.cron.job``; rsync jobs, ``conf.service.rsync.job``): no extra
engine call. Per job this source reports the cron line OMV's salt states write for it
(``/etc/cron.d/openmediavault-userdefined`` and ``-rsync``), when that schedule was deployed
(the mtime of the job's script in ``/var/lib/openmediavault/cron.d``: every Apply of the
module deletes and rewrites the scripts; no script means the job was never applied), and its
runs as the box recorded them:

- cron's journal lines: ``(root) CMD (<script> …)`` when a job starts and, when cron's log
  level includes 4 (``EXTRA_OPTS="-L 5"`` in ``/etc/default/cron``),
  ``(CRON) error (grandchild #PID failed with exit status N)`` when it fails;
- the rsync script's own lines, tagged ``rsync-<uuid>`` by OMV's ``omv_log``/``omv_error``:
  "The synchronisation has completed successfully.", "The synchronisation failed.",
  "… storage device not mounted at <…>!";
- rsync's own log (``--log-file=/var/log/rsync.log``): a run's ``rsync error: … (code N)`` or
  its closing ``total size is`` line. Its lines name no job, so a run is matched to the job
  whose start (journal) or schedule (cron line) it follows.

The installed backup plugins' jobs are read the same way, detected by their configuration being
there (never by running their tools):

- openmediavault-snapraid and openmediavault-backup add a user-defined scheduled job with a fixed
  uuid (their ``create.d`` scripts): it is judged as such, named after the plugin, and its runs'
  outcome is also read from the plugin's own log (``/var/log/snapraid.log``: ``omv-snapraid-diff``'s
  lines; ``/var/log/omv-backup.log``);
- openmediavault-borgbackup's archives (``BorgBackup getArchiveList``, read by the ``omv`` source;
  none when the RPC service is absent) run from ``run-parts`` of the period their retention
  starts with (``/etc/cron.d/openmediavault-borgbackup`` says when), each from its script
  ``/var/lib/openmediavault/borgbackup/<period>.d/borgbackup-<uuid>``; their runs are read from
  ``/var/log/borgbackup.log`` (borg's ``--show-rc`` status and the script's own lines).

Every log is read as its last ``PLUGIN_LOG_TAIL`` bytes; its lines are untrusted text (cleaned and
capped before they reach a finding).

The journal is read newest first and at most ``JOURNAL_MAX_ENTRIES`` entries, at most every
``EVIDENCE_REFRESH_S``; ``evidence_since`` says how far back the evidence reaches, so the
findings engine never calls a job overdue for a run it could not have seen. Whether a job is
overdue or failed is the findings engine's judgement (findings/jobs.py), not this module's.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from omv_copilot_agent import runner
from omv_copilot_agent.collect import logs
from omv_copilot_agent.collect.base import Degraded, Unavailable, mtime

NAME = "omv_jobs"
#: how far back the journal is asked (a monthly job is seen once)
LOOKBACK_S = 35 * 86400
#: newest journal entries read at most (a job every minute still leaves days of evidence)
JOURNAL_MAX_ENTRIES = 5000
#: the tail of rsync's log that is read (it lists every file each run transferred)
RSYNC_LOG_TAIL = 1024 * 1024
#: jobs run on the minute and overdue means hours late: the evidence is re-read this seldom
EVIDENCE_REFRESH_S = 300.0
#: a run in rsync's log belongs to a start at most this long before it
RUN_MATCH_S = 600.0
#: Vixie cron's names for the @ schedules (OMV's "Execution" of a user-defined job)
AT_SCHEDULES = {"hourly": "0 * * * *", "daily": "0 0 * * *", "weekly": "0 0 * * 0",
                "monthly": "0 0 1 * *", "yearly": "0 0 1 1 *"}
#: OMV's SMART test types (conf.service.smartmontools.job) and how smartd names them when it starts one
SMART_TESTS = {"S": "short self-test", "L": "long self-test", "C": "conveyance self-test", "O": "offline data collection"}
SMARTD_TEST_NAMES = {"Short Self-": "S", "Long Self-": "L", "Conveyance Self-": "C", "Offline Immediate ": "O"}
#: the wall clock; tests replace it
clock = time.time

_CMD = re.compile(r"^\((?P<user>[^)]*)\) CMD \((?P<cmd>.*)\)\s*$")
_JOB_LINE = re.compile(r"/(userdefined|rsync)-[0-9a-f-]+\b|grandchild #")
_GRANDCHILD = re.compile(r"grandchild #(?P<pid>\d+) failed with exit status (?P<status>\d+)")
_SMARTD = re.compile(r"^Device: (?P<dev>[^ ,]+)[^,]*, (?P<text>.*)$")
_SMARTD_START = re.compile(r"starting scheduled (?P<name>.+?)Test")
_SMARTD_FAILED = re.compile(r"Self-Test Log error count increased|new Self-Test Log error|execute .*Test failed|"
                            r"previous self-test (completed with error|could not complete)")
_RSYNC_LINE = re.compile(r"^(?P<ts>\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) \[(?P<pid>\d+)\] (?P<text>.*)$")
_RSYNC_ERROR = re.compile(r"rsync error: (?P<what>.*?) \(code (?P<code>\d+)\)")
#: the tail of each backup plugin's log that is read
PLUGIN_LOG_TAIL = 1024 * 1024
#: plugins' jobs that are user-defined scheduled jobs with a fixed uuid: uuid -> (kind, name)
PLUGIN_CRON_JOBS = {
    "57e13a3c-5a94-11ec-8153-3f587eab8e1f": ("snapraid", "SnapRAID diff/sync/scrub"),
    "32664b22-5a9d-11ec-8834-6f00f75b23ee": ("backup", "System backup"),
}
#: a snapraid job runs omv-snapraid-diff once per array, one after the other (a sync takes hours): a run in its
#: log belongs to the job's start at most this long before it (other logs: ``RUN_MATCH_S``)
SNAPRAID_RUN_MATCH_S = 12 * 3600.0
#: borgbackup's run-parts periods in the order its salt state picks an archive's (the first retention > 0)
BORG_PERIODS = ("hourly", "daily", "weekly", "monthly", "yearly")
_SNAPRAID_LINE = re.compile(r"^\[(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\] omv-snapraid-diff: (?P<level>[A-Za-z]*): '?(?P<text>.*?)'?$")
#: omv-snapraid-diff's lines before it exits 1, and the threshold check that skips the sync
_SNAPRAID_FAILED = re.compile(r"^(No Content files found! Exiting|Parity file \(.*\) not found!|script exits here|"
                              r"\S+ not found! Exiting|Number of (updated|deleted) files \(\d+\) exceeded threshold)")
_BACKUP_LINE = re.compile(r"^\[(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?P<tz>[+-]\d{4})?\] \[backup\] (?P<text>.*)$")
#: the borg script's ``info``/``trap`` lines start with ``date``'s default output (C locale)
_BORG_LINE = re.compile(r"^(?P<ts>[A-Z][a-z]{2} [A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d) (?:\S+ )?(?P<year>\d{4}) (?P<text>.*)$")
_BORG_RC = re.compile(r"terminating with (?P<what>success|warning|error) status, rc (?P<rc>\d+)")
_BORG_ARCHIVE = re.compile(r"^Archive name: (?P<name>.*)-\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d$")
_CRON_D_LINE = re.compile(r"^(?P<expr>(?:\S+\s+){4}\S+)\s+\S+\s+run-parts\s+(?P<dir>\S+?)/?\s*$")


@dataclass
class Paths:
    """Where OMV keeps what is read here (OMV 7's defaults; tests point them at a folder).

    ``journal_dir`` None reads the system journal; a folder reads the journal files in it.
    """

    scripts_dir: Path = Path("/var/lib/openmediavault/cron.d")
    rsync_log: Path = Path("/var/log/rsync.log")
    #: rewritten by OMV's smartmontools state when a SMART test is added or changed
    smartd_conf: Path = Path("/etc/smartd.conf")
    journal_dir: Path | None = None
    snapraid_log: Path = Path("/var/log/snapraid.log")
    backup_log: Path = Path("/var/log/omv-backup.log")
    borg_log: Path = Path("/var/log/borgbackup.log")
    borg_cron: Path = Path("/etc/cron.d/openmediavault-borgbackup")
    borg_scripts_dir: Path = Path("/var/lib/openmediavault/borgbackup")


PATHS = Paths()
PREFIX = {"userdefined": "userdefined-", "rsync": "rsync-"}
#: the kinds of job and the ``omv`` source's key that lists them
KINDS = (("userdefined", "cron_jobs"), ("rsync", "rsync_jobs"), ("smart", "smart_tests"), ("borgbackup", "borg_archives"))
#: kind -> (its log's name in a run's evidence, the Paths field of the log); rsync's log is read by parse_rsync_log
PLUGIN_LOGS = {"snapraid": ("snapraid.log", "snapraid_log"), "backup": ("omv-backup.log", "backup_log"),
               "borgbackup": ("borgbackup.log", "borg_log")}


def cron() -> type:
    """The ``croniter`` class, imported on first use: only a box with scheduled jobs pays for its
    imports; the idle daemon of a box without any must not (tests/integration/test_footprint_imports.py)."""
    from croniter import croniter

    return croniter


def _field(job: dict, name: str, every: str | None) -> str:
    raw = job.get(name)
    value = ",".join(map(str, raw)) if isinstance(raw, list) else str(raw if raw not in (None, "") else "*")
    return f"*/{value}" if every and job.get(every) in (True, 1, "1", "true") else value


def schedule(job: dict, kind: str) -> str | None:
    """The cron line OMV's salt template writes for ``job`` (None: @reboot or not a valid line)."""
    if kind == "userdefined" and job.get("execution") not in (None, "exactly"):
        return AT_SCHEDULES.get(str(job.get("execution")))
    if kind == "smart":  # smartd's -s T/MM/DD/d/HH: a test starts at its first check (every 30 min) in that hour
        expr = " ".join(["0", *(_field(job, k, None) for k in ("hour", "dayofmonth", "month", "dayofweek"))])
        return expr if cron().is_valid(expr) else None
    expr = " ".join([_field(job, "minute", "everynminute"), _field(job, "hour", "everynhour"),
                     _field(job, "dayofmonth", "everyndayofmonth"), _field(job, "month", None),
                     _field(job, "dayofweek", None)])
    return expr if cron().is_valid(expr) else None


def job_name(job: dict, kind: str) -> str:
    comment = clean(job.get("name") if kind == "borgbackup" else job.get("comment"), 80)
    if not comment and kind == "smart":
        return f"SMART {SMART_TESTS.get(str(job.get('type')), 'self-test')} of {job.get('devicefile')}"
    if not comment and str(job.get("uuid")) in PLUGIN_CRON_JOBS:
        return PLUGIN_CRON_JOBS[str(job.get("uuid"))][1]
    return comment or f"{kind} job {str(job.get('uuid') or '?')[:8]}"


def clean(text: object, limit: int) -> str:
    """Untrusted text (a log line, a name from OMV's configuration) as one line of at most ``limit`` characters."""
    return " ".join(str(text or "").split())[:limit]


def borg_schedules(cron_d: str) -> dict[str, str]:
    """openmediavault-borgbackup's cron file → {period: cron expression} of its ``run-parts <dir>/<period>.d/`` lines."""
    out = {}
    for line in cron_d.splitlines():
        m = _CRON_D_LINE.match(line.strip())
        period = os.path.basename(m["dir"]).removesuffix(".d") if m else None
        if period in BORG_PERIODS and cron().is_valid(" ".join(m["expr"].split())):
            out[period] = " ".join(m["expr"].split())
    return out


def borg_period(archive: dict) -> str | None:
    """The run-parts folder the borgbackup state puts an archive's script in: its first retention count above 0."""
    for period in BORG_PERIODS:
        try:
            if int(archive.get(period) or 0) > 0:
                return period
        except (TypeError, ValueError):
            continue
    return None


def _log_run(ts: float) -> dict:
    return {"start": ts, "end": ts, "ok": None, "exit": None, "message": None, "job": None}


def parse_snapraid_log(text: str) -> list[dict]:
    """``omv-snapraid-diff``'s lines in /var/log/snapraid.log as runs {start, end, ok, exit, message, job}, oldest first.

    A run ends with "SnapRAID Job ended." (ok unless a threshold skipped its sync) or with a line the script
    writes before ``exit 1``; the GUI's manual runs (``omv-snapraid-gui``) are not the scheduled job's."""
    runs: list[dict] = []
    run = None
    for line in text.splitlines():
        m = _SNAPRAID_LINE.match(line.strip())
        if not m:
            continue
        try:
            ts = datetime.datetime.strptime(m["ts"], "%Y-%m-%d %H:%M:%S").timestamp()
        except ValueError:
            continue
        msg = m["text"]
        if run is None or run.get("closed") or (msg.startswith("SnapRAID Job started") and run.get("began")):
            run = _log_run(ts)
            runs.append(run)
        run["end"] = ts
        run["began"] = run.get("began") or msg.startswith("SnapRAID Job started")
        if _SNAPRAID_FAILED.match(msg):
            run.update(ok=False, message=clean(msg, 300))
            if "xit" in msg:  # "Exiting", "exits here": the script's exit 1
                run.update(exit=1, closed=True)
        elif msg.startswith("SnapRAID Job ended"):
            run.update(closed=True, ok=True if run["ok"] is None else run["ok"])
    return [{k: v for k, v in r.items() if k not in ("closed", "began")} for r in runs]


def parse_backup_log(text: str) -> list[dict]:
    """omv-backup's lines in /var/log/omv-backup.log as runs: "Starting backup ..." begins one, "Backup complete."
    ends it ok, an ``ERROR:`` line (written before each of its ``exit 1x``/``exit 20``) fails it."""
    runs: list[dict] = []
    for line in text.splitlines():
        m = _BACKUP_LINE.match(line.strip())
        if not m:
            continue
        try:
            when = datetime.datetime.strptime(m["ts"] + (m["tz"] or ""), "%Y-%m-%d %H:%M:%S" + ("%z" if m["tz"] else ""))
        except ValueError:
            continue
        ts, msg = when.timestamp(), m["text"]
        if msg.startswith("Starting backup") or not runs:
            runs.append(_log_run(ts))
        run = runs[-1]
        run["end"] = ts
        if msg.startswith("ERROR:") and run["ok"] is not False:
            run.update(ok=False, message=clean(msg, 300))
        elif msg.startswith("Backup complete") and run["ok"] is None:
            run["ok"] = True
    return runs


def parse_borg_log(text: str) -> list[dict]:
    """/var/log/borgbackup.log as runs of the borgbackup plugin's archive scripts, oldest first.

    A run begins at the script's "<date> Executing pre-script" or "<date> Starting backup"; borg's
    ``--show-rc`` lines give the exit status (the script exits with the highest of create and prune:
    2 and above failed, 1 is a warning); "Archive name: <archive>-<date>" names the archive (``job``)."""
    runs: list[dict] = []
    run = None
    for line in text.splitlines():
        line = line.strip()
        m = _BORG_LINE.match(line)
        if m:
            try:
                ts = datetime.datetime.strptime(f"{' '.join(m['ts'].split())} {m['year']}", "%a %b %d %H:%M:%S %Y").timestamp()
            except ValueError:
                continue
            msg = m["text"]
            if msg.startswith("Executing pre-script") or (msg.startswith("Starting backup") and not (run and run.get("pre"))):
                run = _log_run(ts)
                runs.append(run)
                run["pre"] = msg.startswith("Executing pre-script")
                continue
            if run is None:
                continue
            run["end"], run["pre"] = ts, False
            if msg.startswith("Directory not found") or msg.startswith("Backup interrupted"):
                run.update(exit=127 if msg.startswith("Directory") else 2, message=clean(msg, 300))
            continue
        if run is None:
            continue
        rc, archive = _BORG_RC.search(line), _BORG_ARCHIVE.match(line)
        if archive and run["job"] is None:
            run["job"] = archive["name"]
        elif rc and int(rc["rc"]) >= (run["exit"] or 0):
            run["exit"] = int(rc["rc"])
            if run["exit"] >= 2:  # borg's reason is the line it printed before its rc line
                run["message"] = run["message"] or clean(run.get("said") or line, 300)
        if line and not rc:
            run["said"] = line
    for run in runs:
        run.pop("pre", None)
        run.pop("said", None)
        if run["exit"] is not None:
            run["ok"] = run["exit"] < 2
            if run["ok"]:
                run["message"] = None
    return runs


def parse_journal(text: str) -> list[dict]:
    """``journalctl -o json`` lines → {ts, ident, pid, priority, message}, oldest first."""
    out = []
    for line in text.splitlines():
        try:
            e = json.loads(line)
            ts = int(e["__REALTIME_TIMESTAMP"]) / 1e6
        except (ValueError, KeyError, TypeError):
            continue
        msg = e.get("MESSAGE")
        if isinstance(msg, list):  # journald gives non-UTF-8 messages as a list of byte values
            msg = bytes(x for x in msg if isinstance(x, int) and 0 <= x < 256).decode("utf-8", "replace")
        pid = str(e.get("SYSLOG_PID") or e.get("_PID") or "")
        out.append({"ts": ts, "ident": str(e.get("SYSLOG_IDENTIFIER") or ""), "pid": pid,
                    "priority": int(e["PRIORITY"]) if str(e.get("PRIORITY", "")).isdigit() else 6,
                    "message": str(msg or "")[:500]})
    return sorted(out, key=lambda e: e["ts"])


def parse_rsync_log(text: str) -> list[dict]:
    """rsync's --log-file lines grouped per run (its pid): {start, end, pid, ok, exit, message}, oldest first."""
    runs: list[dict] = []
    current: dict[str, dict] = {}  # pid -> its run
    for line in text.splitlines():
        m = _RSYNC_LINE.match(line)
        if not m:
            continue
        try:
            ts = datetime.datetime.strptime(m["ts"], "%Y/%m/%d %H:%M:%S").timestamp()  # rsync logs local time
        except ValueError:
            continue
        run = current.get(m["pid"])
        if run is None or ts - run["end"] > RUN_MATCH_S:  # pids are reused: a long gap is another run
            run = current[m["pid"]] = {"start": ts, "end": ts, "pid": m["pid"], "ok": None, "exit": None, "message": None}
            runs.append(run)
        run["end"] = ts
        error = _RSYNC_ERROR.search(m["text"])
        if error:
            run["ok"], run["exit"], run["message"] = False, int(error["code"]), m["text"][:300]
        elif m["text"].startswith("total size is") and run["ok"] is None:
            run["ok"] = True
    return sorted(runs, key=lambda r: r["start"])


def _tail(path: Path, size: int) -> str:
    """The last ``size`` bytes of ``path`` in whole lines ('' when it cannot be read)."""
    try:
        with open(path, "rb") as f:
            length = f.seek(0, os.SEEK_END)
            f.seek(max(0, length - size))
            data = f.read(size)
    except OSError:
        return ""
    if length > size:
        data = data.split(b"\n", 1)[-1]  # the first line was cut
    return data.decode("utf-8", "replace")


def read_journal(idents: list[str], paths: Paths) -> tuple[list[dict], str | None]:
    """The newest journal entries of cron and the jobs' scripts: (entries, why none could be read)."""
    if not runner.which("journalctl"):
        return [], "journalctl not found"
    argv = ["journalctl", "-o", "json", "--no-pager", "--reverse", "-n", str(JOURNAL_MAX_ENTRIES),
            f"--since=-{LOOKBACK_S}s"]
    if paths.journal_dir is not None:
        argv += ["-D", str(paths.journal_dir)]
    elif not logs.has_journal():
        return [], f"no journal files in {' or '.join(logs.JOURNAL_DIRS)}"
    for ident in ["CRON", *idents]:
        argv += ["-t", ident]
    res = runner.run(argv, timeout=20, max_output=8 * 1024 * 1024)
    entries = parse_journal(res.stdout)
    if not res.ok and not entries:
        return [], f"journalctl failed: {res.error or res.stderr.strip()[:200]}"
    return entries, None


def _new_run(at: float, evidence: str) -> dict:
    return {"at": at, "ok": None, "exit": None, "message": None, "evidence": evidence}


def _journal_runs(job: dict, entries: list[dict]) -> list[dict]:
    """A job's runs from cron's start/failure lines and its script's own lines."""
    ident = os.path.basename(job["script"])
    runs: list[dict] = []
    by_pid: dict[str, dict] = {}
    for e in entries:
        msg = e["message"]
        if e["ident"] == "CRON":
            cmd = _CMD.match(msg)
            if cmd and os.path.basename((cmd["cmd"].split() or [""])[0]) == ident:
                run = _new_run(e["ts"], "journal")
                runs.append(run)
                by_pid[e["pid"]] = run
                continue
            failed = _GRANDCHILD.search(msg)
            run = by_pid.get(failed["pid"]) if failed else None
            run = run or (by_pid.get(e["pid"]) if failed else None)
            if run is not None:
                run.update(ok=False, exit=int(failed["status"]), message=msg[:300])
        elif e["ident"] == ident:
            # the script's first line ("Please wait…", or a mount check failing before it) long after
            # cron's last start is a run started from OMV's "Run" button
            first = msg.startswith("Please wait") or "not mounted" in msg
            if not runs or (first and e["ts"] - runs[-1]["at"] > 60):
                runs.append(_new_run(e["ts"], "journal"))
            run = runs[-1]
            if "completed successfully" in msg and run["ok"] is None:
                run.update(ok=True, message=msg[:300])
            elif e["priority"] <= 3:  # omv_error: "The synchronisation failed.", "… not mounted …"
                run.update(ok=False, message=msg[:300])
    return runs


def _smartd_runs(jobs: list[dict], entries: list[dict]) -> None:
    """SMART tests' runs from smartd's lines: a start names the device and the test; an outcome line
    (a new self-test log error, "previous self-test completed …") is that of the test started last on its device."""
    smart = [j for j in jobs if j["kind"] == "smart"]
    latest: dict[str, dict] = {}  # device name as smartd.conf has it -> the run started last on it
    for e in entries:
        m = _SMARTD.match(e["message"]) if e["ident"] == "smartd" else None
        if not m:
            continue
        start = _SMARTD_START.search(m["text"])
        if start:
            mine = [j for j in smart if m["dev"] in j["devices"] and j["test"] == SMARTD_TEST_NAMES.get(start["name"])]
            hour = datetime.datetime.fromtimestamp(e["ts"]).replace(minute=0, second=0, microsecond=0)
            mine.sort(key=lambda j: not (j["schedule"] and cron().match(j["schedule"], hour)))  # the one due this hour first
            if mine:
                latest[m["dev"]] = _new_run(e["ts"], "journal")
                mine[0]["runs"].append(latest[m["dev"]])
            continue
        run = latest.get(m["dev"])
        if run is not None and _SMARTD_FAILED.search(m["text"]):
            run.update(ok=False, message=e["message"][:300])
        elif run is not None and "completed without error" in m["text"] and run["ok"] is None:
            run.update(ok=True)


def _worth_keeping(e: dict) -> bool:
    """A journal line that says something about a job (cron's hourly run-parts and smartd's temperatures do not)."""
    if e["ident"] == "CRON":
        return bool(_JOB_LINE.search(e["message"]))
    if e["ident"] == "smartd":
        return bool(_SMARTD_START.search(e["message"]) or _SMARTD_FAILED.search(e["message"])
                    or "completed without error" in e["message"])
    return True


def _attach_log(jobs: list[dict], log_runs: list[dict], kind: str, log_name: str, window: float = RUN_MATCH_S) -> None:
    """Give each of a log's runs to its job: the one it names (``job``: a borg archive), else the job of
    ``kind`` that started at most ``window`` before it, else the one job of ``kind`` scheduled at its minute."""
    mine = [j for j in jobs if j["kind"] == kind]
    for lr in log_runs:
        owner, start = None, None
        named = [j for j in mine if lr.get("job") is not None and j.get("archive") == lr["job"]]
        for job in named or mine:
            started = [r for r in job["runs"] if 0 <= lr["start"] - r["at"] <= window]
            if started and (start is None or started[-1]["at"] > start["at"]):
                owner, start = job, started[-1]
        if owner is None:
            minute = datetime.datetime.fromtimestamp(lr["start"]).replace(second=0, microsecond=0)
            due = [j for j in named or mine if j["enabled"] and j["schedule"] and cron().match(j["schedule"], minute)]
            if len(named) == 1:
                due = named
            if len(due) != 1:
                continue  # a manual run, or two jobs at the same minute: no honest owner
            owner, start = due[0], _new_run(lr["start"] if named else minute.timestamp(), log_name)
            owner["runs"].append(start)
            owner["runs"].sort(key=lambda r: r["at"])
        if lr["ok"] is False:
            evidence = start["evidence"] if log_name in start["evidence"] else f"{start['evidence']}+{log_name}"
            start.update(ok=False, exit=lr["exit"], message=lr["message"], evidence=evidence)
        elif lr["ok"] and start["ok"] is None:
            start.update(ok=True)


def _read(path: Path) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read(64 * 1024)
    except OSError:
        return ""


def build(omv: dict, entries: list[dict], log_runs: list[dict], paths: Paths, journal_since: float | None = None,
          plugin_logs: dict[str, list[dict]] | None = None) -> list[dict]:
    """The jobs with their schedules and runs from journal ``entries`` (oldest first; they reach back to
    ``journal_since``, default their first), rsync's ``log_runs`` (:func:`parse_rsync_log`) and the backup
    plugins' logs (``plugin_logs``: kind -> runs, :func:`parse_snapraid_log` and its siblings)."""
    plugin_logs = plugin_logs or {}
    borg_at = borg_schedules(_read(paths.borg_cron)) if omv.get("borg_archives") else {}
    jobs = []
    for kind, key in KINDS:
        for raw in omv.get(key) or []:
            if not isinstance(raw, dict) or not raw.get("uuid"):
                continue
            own = PLUGIN_CRON_JOBS.get(str(raw["uuid"]), (kind,))[0] if kind == "userdefined" else kind
            job = {"kind": own, "uuid": str(raw["uuid"]), "name": job_name(raw, kind),
                   "enabled": raw.get("enable") in (True, 1, "1", "true"), "schedule": schedule(raw, kind), "runs": []}
            if kind == "smart":  # smartd runs it; getScheduleList gives the disk's canonical file and its links
                job.update(test=raw.get("type"), devices=sorted({str(raw.get("devicefile")), *map(str, raw.get("devicelinks") or [])}),
                           script=None, deployed_at=mtime(paths.smartd_conf))
            elif kind == "borgbackup":  # run-parts runs it: no journal line of its own
                period = borg_period(raw)
                script = paths.borg_scripts_dir / f"{period}.d" / f"borgbackup-{raw['uuid']}" if period else None
                job.update(archive=str(raw.get("name") or ""), schedule=borg_at.get(str(period)), script=None,
                           deployed_at=mtime(script) if script else None)
            else:
                script = paths.scripts_dir / f"{PREFIX[kind]}{raw['uuid']}"
                job.update(execution=raw.get("execution", "exactly"), script=str(script), deployed_at=mtime(script))
            jobs.append(job)
    names = [j["name"] for j in jobs]
    for job in jobs:  # two jobs with one comment: the uuid tells their alerts apart
        if names.count(job["name"]) > 1:
            job["name"] = f"{job['name']} ({job['uuid'][:8]})"
        if job["script"]:
            job["runs"] = _journal_runs(job, entries)
    _smartd_runs(jobs, entries)
    _attach_log(jobs, log_runs, "rsync", "rsync.log")
    for kind, (log_name, _field_name) in PLUGIN_LOGS.items():
        _attach_log(jobs, plugin_logs.get(kind) or [], kind, log_name, SNAPRAID_RUN_MATCH_S if kind == "snapraid" else RUN_MATCH_S)
    journal_since = journal_since if journal_since is not None else min((e["ts"] for e in entries), default=None)
    log_since = {"rsync": log_runs[0]["start"] if log_runs else None}
    log_since.update({k: runs[0]["start"] for k, runs in plugin_logs.items() if runs})
    for job in jobs:
        sources = ([] if job["kind"] == "borgbackup" else [journal_since]) + [log_since.get(job["kind"])]
        known = [s for s in sources if s is not None]
        job["evidence_since"] = min(known) if known else None
        job["runs"] = job["runs"][-5:]
        job["last_run"] = job["runs"][-1] if job["runs"] else None
    return jobs


def read_plugin_logs(kinds: set[str], paths: Paths) -> dict[str, list[dict]]:
    """The runs in the logs of the installed plugins' jobs (``kinds``), each log's last ``PLUGIN_LOG_TAIL`` bytes."""
    parsers = {"snapraid": parse_snapraid_log, "backup": parse_backup_log, "borgbackup": parse_borg_log}
    return {kind: parsers[kind](_tail(getattr(paths, PLUGIN_LOGS[kind][1]), PLUGIN_LOG_TAIL)) for kind in sorted(kinds & set(parsers))}


def _plugin_kinds(omv: dict) -> set[str]:
    """The backup plugins whose jobs are in OMV's configuration (the plugin is installed)."""
    kinds = {PLUGIN_CRON_JOBS[str(j.get("uuid"))][0] for j in omv.get("cron_jobs") or []
             if isinstance(j, dict) and str(j.get("uuid")) in PLUGIN_CRON_JOBS}
    return kinds | ({"borgbackup"} if omv.get("borg_archives") else set())


def collect(ctx) -> dict:
    omv = ctx.source("omv")
    if not omv:
        raise Unavailable("OMV's configuration could not be read this cycle (source omv)")
    cache = ctx.cache.setdefault(NAME, {})
    now = clock()
    idents = sorted(f"{PREFIX[k]}{j['uuid']}" for k, key in KINDS if k in PREFIX
                    for j in omv.get(key) or [] if isinstance(j, dict) and j.get("uuid"))
    if omv.get("smart_tests"):
        idents.append("smartd")
    if cache.get("idents") != idents or now - cache.get("at", 0) >= EVIDENCE_REFRESH_S:
        entries, journal_error = read_journal(idents, PATHS)
        # kept across cycles: only the lines that say something about a job
        cache.update(idents=idents, at=now, journal_error=journal_error,
                     journal_since=min((e["ts"] for e in entries), default=None),
                     entries=[e for e in entries if _worth_keeping(e)],
                     log_runs=parse_rsync_log(_tail(PATHS.rsync_log, RSYNC_LOG_TAIL)),
                     plugin_logs=read_plugin_logs(_plugin_kinds(omv), PATHS))
    journal_error = cache["journal_error"]
    data = {"checked_at": now, "journal": journal_error or "ok",
            "jobs": build(omv, cache["entries"], cache["log_runs"], PATHS, cache["journal_since"], cache["plugin_logs"])}
    if journal_error and data["jobs"]:
        raise Degraded(f"job runs are read from the journal: {journal_error}", data)
    return data
