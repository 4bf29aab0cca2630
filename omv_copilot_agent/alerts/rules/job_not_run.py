"""An OMV scheduled, rsync or backup plugin job (SnapRAID, borgbackup, system backup) that is overdue for its schedule or whose last run failed.

One alert per job (its name is the subject), whichever of the two holds: the findings engine
reports a failed last run instead of, not besides, an overdue one.
"""

from omv_copilot_agent.alerts.rules import Condition, RuleContext

NAME = "job_not_run"
FINDINGS = ("job-overdue", "job-failed")
KEYS = ("job", "kind", "uuid", "schedule", "last_run", "last_run_text", "expected_at", "exit", "message", "evidence")


def evaluate(ctx: RuleContext):
    if not ctx.source_ok("omv_jobs"):
        return None
    out = []
    for f in ctx.found(*FINDINGS):
        what = "failed" if f.id == "job-failed" else "did not run"
        out.append(Condition(NAME, f.subject, "warning", f"Job {f.subject} {what}", f.text,
                             {k: f.evidence[k] for k in KEYS if f.evidence.get(k) is not None}))
    return out
