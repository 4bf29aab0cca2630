"""A backup/rsync job that has not succeeded within its allowed age.

Success is read from a file the job touches or writes (its log, a stamp, the
destination directory): configured in ``alerts.backup_jobs`` as
``{name, path, max_age_s}``. OMV rsync jobs that are enabled and push to a local
destination are checked too, against the destination's mtime and
``alerts.backup_max_age_s``.
"""

import os

from omv_copilot_agent.alerts.rules import Condition, RuleContext

NAME = "backup_overdue"


def _jobs(ctx: RuleContext) -> list[dict]:
    jobs = [dict(j) for j in ctx.config.get("backup_jobs") or []]
    if ctx.source_ok("omv"):
        for j in ctx.snapshot.data("omv").get("rsync_jobs") or []:
            dest = j.get("dest") or j.get("destination") or ""
            if j.get("enable") and j.get("type") in (None, "local") and str(dest).startswith("/"):
                jobs.append({"name": j.get("comment") or f"rsync {j.get('uuid', '')[:8]}", "path": dest,
                             "max_age_s": ctx.config["backup_max_age_s"]})
    return jobs


def evaluate(ctx: RuleContext):
    out = []
    for job in _jobs(ctx):
        name, path, max_age = job.get("name") or job.get("path"), job.get("path"), job.get("max_age_s") or ctx.config["backup_max_age_s"]
        try:
            mtime = os.stat(path).st_mtime
        except OSError as exc:
            out.append(Condition(NAME, name, "warning", f"Backup {name} has no success record",
                               f"{path} cannot be read ({exc.strerror}); the job has never succeeded or writes elsewhere.",
                               {"path": path}))
            continue
        age = ctx.now - mtime
        if age > max_age:
            out.append(Condition(NAME, name, "warning", f"Backup {name} is overdue",
                               f"The last success of {name} ({path}) was {age / 3600:.1f} h ago; allowed {max_age / 3600:.1f} h.",
                               {"path": path, "age_s": age, "max_age_s": max_age}))
    return out
