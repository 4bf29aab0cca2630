"""OMV's scheduled jobs, rsync jobs, SMART self-tests and backup plugins' jobs that did not run on time or whose last run failed (source ``omv_jobs``).

A job is judged only when it is enabled and deployed (its script exists), and overdue only
when the evidence reaches back to the run it missed: a journal that begins after that run, or
a job applied after it, says nothing about it. Late means later than the larger of
``job_overdue_grace_s`` and ``job_overdue_grace_fraction`` of the job's period.
"""

from __future__ import annotations

import datetime
import time

from omv_copilot_agent.collect.omv_jobs import cron
from omv_copilot_agent.findings.base import Finding, SnapshotView, number
from omv_copilot_agent.findings.thresholds import Thresholds

FINDINGS = {
    "job-overdue": "an enabled OMV scheduled job, rsync job, SMART self-test or backup plugin job (SnapRAID, borgbackup, "
                   "system backup) has not run since its schedule said it should",
    "job-failed": "the last run of an enabled OMV scheduled job, rsync job, SMART self-test or backup plugin job failed "
                  "(exit status or the job's own log)",
}
KIND = {"userdefined": "Scheduled job", "rsync": "Rsync job", "smart": "SMART test", "snapraid": "SnapRAID job",
        "backup": "System backup job", "borgbackup": "Borg archive"}
#: cron starts a job within seconds of its minute; a run this much before the expected time is another run
START_SLACK_S = 120.0


def when(ts: float | None) -> str:
    """A local time as people read it in OMV (cron's schedule is in local time too)."""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) if ts is not None else "never"


def check(view: SnapshotView, t: Thresholds) -> list[Finding]:
    now = number(view.data("omv_jobs").get("checked_at"))
    if now is None:
        return []
    out = []
    for job in view.items("omv_jobs", "jobs"):
        if job.get("enabled") is not True or number(job.get("deployed_at")) is None:
            continue
        last = job.get("last_run") if isinstance(job.get("last_run"), dict) else None
        label, name = KIND.get(str(job.get("kind")), "Job"), str(job.get("name"))
        facts = {"job": name, "kind": job.get("kind"), "uuid": job.get("uuid"), "schedule": job.get("schedule"),
                 "last_run": last.get("at") if last else None, "last_run_text": when(last.get("at")) if last else "never"}
        if last and last.get("ok") is False:
            exit_text = f", exit status {last['exit']}" if last.get("exit") is not None else ""
            out.append(Finding("job-failed", "warning", name,
                               f"{label} '{name}' failed: last run {when(last.get('at'))} ({last.get('message') or 'failed'}{exit_text})",
                               {**facts, "exit": last.get("exit"), "message": last.get("message"), "evidence": last.get("evidence")}))
            continue
        missed = _missed(job, now, last, t)
        if missed:
            expected, grace, since = missed
            seen = f"last run {when(last['at'])}" if last else f"no run seen since {when(since)}"
            out.append(Finding("job-overdue", "warning", name,
                               f"{label} '{name}' did not run: it was due {when(expected)} ({job.get('schedule')}), {seen}",
                               {**facts, "expected_at": expected, "grace_s": grace, "evidence_since": since}, grace))
    return out


def _missed(job: dict, now: float, last: dict | None, t: Thresholds) -> tuple[float, float, float] | None:
    """(the expected run that did not happen, the grace allowed, since when runs are known), or None."""
    croniter = cron()
    expr, deployed, seen_since = job.get("schedule"), number(job.get("deployed_at")), number(job.get("evidence_since"))
    if not isinstance(expr, str) or not croniter.is_valid(expr) or deployed is None or seen_since is None:
        return None
    back = croniter(expr, datetime.datetime.fromtimestamp(now))
    latest, before = back.get_prev(datetime.datetime), back.get_prev(datetime.datetime)
    grace = max(float(t.job_overdue_grace_s), t.job_overdue_grace_fraction * (latest - before).total_seconds())
    expected = croniter(expr, datetime.datetime.fromtimestamp(now - grace)).get_prev(datetime.datetime).timestamp()
    since = max(deployed, seen_since)
    if expected < since:
        return None  # applied after it, or the evidence begins after it: nothing to say
    if last is not None and number(last.get("at")) is not None and last["at"] >= expected - START_SLACK_S:
        return None
    return expected, grace, since
