"""A backup job outside OMV that has not succeeded within its allowed age.

Success is read from a file the job touches or writes (its log, a stamp, the destination
directory): configured in ``alerts.backup_jobs`` as ``{name, path, max_age_s}``. OMV's own
scheduled and rsync jobs are the ``job_not_run`` rule's, judged by their schedule and their
runs' outcome rather than a file's age.
"""

import os

from omv_copilot_agent.alerts.rules import Condition, RuleContext

NAME = "backup_overdue"


def evaluate(ctx: RuleContext):
    out = []
    for job in ctx.config.get("backup_jobs") or []:
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
