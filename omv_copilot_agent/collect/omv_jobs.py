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

from croniter import croniter

from omv_copilot_agent import runner
from omv_copilot_agent.collect import logs
from omv_copilot_agent.collect.base import Degraded, Unavailable

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


PATHS = Paths()
PREFIX = {"userdefined": "userdefined-", "rsync": "rsync-"}
#: the kinds of job and the ``omv`` source's key that lists them
KINDS = (("userdefined", "cron_jobs"), ("rsync", "rsync_jobs"), ("smart", "smart_tests"))


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
        return expr if croniter.is_valid(expr) else None
    expr = " ".join([_field(job, "minute", "everynminute"), _field(job, "hour", "everynhour"),
                     _field(job, "dayofmonth", "everyndayofmonth"), _field(job, "month", None),
                     _field(job, "dayofweek", None)])
    return expr if croniter.is_valid(expr) else None


def job_name(job: dict, kind: str) -> str:
    comment = " ".join(str(job.get("comment") or "").split())
    if not comment and kind == "smart":
        return f"SMART {SMART_TESTS.get(str(job.get('type')), 'self-test')} of {job.get('devicefile')}"
    return comment[:80] or f"{kind} job {str(job.get('uuid') or '?')[:8]}"


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
            mine.sort(key=lambda j: not (j["schedule"] and croniter.match(j["schedule"], hour)))  # the one due this hour first
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


def _attach_rsync_log(jobs: list[dict], log_runs: list[dict]) -> None:
    """Give each rsync-log run to the job that started just before it, else to the one job scheduled at its minute."""
    rsync_jobs = [j for j in jobs if j["kind"] == "rsync"]
    for lr in log_runs:
        owner, start = None, None
        for job in rsync_jobs:
            started = [r for r in job["runs"] if 0 <= lr["start"] - r["at"] <= RUN_MATCH_S]
            if started and (start is None or started[-1]["at"] > start["at"]):
                owner, start = job, started[-1]
        if owner is None:
            minute = datetime.datetime.fromtimestamp(lr["start"]).replace(second=0, microsecond=0)
            due = [j for j in rsync_jobs if j["enabled"] and j["schedule"] and croniter.match(j["schedule"], minute)]
            if len(due) != 1:
                continue  # a manual run, or two jobs at the same minute: no honest owner
            owner, start = due[0], _new_run(minute.timestamp(), "rsync.log")
            owner["runs"].append(start)
            owner["runs"].sort(key=lambda r: r["at"])
        if lr["ok"] is False:
            start.update(ok=False, exit=lr["exit"], message=lr["message"], evidence=f"{start['evidence']}+rsync.log")
        elif lr["ok"] and start["ok"] is None:
            start.update(ok=True)


def _deployed_at(path: Path) -> float | None:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


def build(omv: dict, entries: list[dict], log_runs: list[dict], paths: Paths, journal_since: float | None = None) -> list[dict]:
    """The jobs with their schedules and runs from journal ``entries`` (oldest first; they reach back to
    ``journal_since``, default their first) and rsync's ``log_runs`` (:func:`parse_rsync_log`)."""
    jobs = []
    for kind, key in KINDS:
        for raw in omv.get(key) or []:
            if not isinstance(raw, dict) or not raw.get("uuid"):
                continue
            job = {"kind": kind, "uuid": str(raw["uuid"]), "name": job_name(raw, kind),
                   "enabled": raw.get("enable") in (True, 1, "1", "true"), "schedule": schedule(raw, kind), "runs": []}
            if kind == "smart":  # smartd runs it; getScheduleList gives the disk's canonical file and its links
                job.update(test=raw.get("type"), devices=sorted({str(raw.get("devicefile")), *map(str, raw.get("devicelinks") or [])}),
                           script=None, deployed_at=_deployed_at(paths.smartd_conf))
            else:
                script = paths.scripts_dir / f"{PREFIX[kind]}{raw['uuid']}"
                job.update(execution=raw.get("execution", "exactly"), script=str(script), deployed_at=_deployed_at(script))
            jobs.append(job)
    names = [j["name"] for j in jobs]
    for job in jobs:  # two jobs with one comment: the uuid tells their alerts apart
        if names.count(job["name"]) > 1:
            job["name"] = f"{job['name']} ({job['uuid'][:8]})"
        if job["script"]:
            job["runs"] = _journal_runs(job, entries)
    _smartd_runs(jobs, entries)
    _attach_rsync_log(jobs, log_runs)
    journal_since = journal_since if journal_since is not None else min((e["ts"] for e in entries), default=None)
    log_since = log_runs[0]["start"] if log_runs else None
    for job in jobs:
        sources = [journal_since] + ([log_since] if job["kind"] == "rsync" else [])
        known = [s for s in sources if s is not None]
        job["evidence_since"] = min(known) if known else None
        job["runs"] = job["runs"][-5:]
        job["last_run"] = job["runs"][-1] if job["runs"] else None
    return jobs


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
                     log_runs=parse_rsync_log(_tail(PATHS.rsync_log, RSYNC_LOG_TAIL)))
    journal_error = cache["journal_error"]
    data = {"checked_at": now, "journal": journal_error or "ok",
            "jobs": build(omv, cache["entries"], cache["log_runs"], PATHS, cache["journal_since"])}
    if journal_error and data["jobs"]:
        raise Degraded(f"job runs are read from the journal: {journal_error}", data)
    return data
