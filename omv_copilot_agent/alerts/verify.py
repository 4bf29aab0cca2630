"""Verify a fix: after the admin marks an alert's action as done, check that the problem is gone.

Two readings decide (:func:`judge`): the alert's rule evaluated again on a fresh snapshot
(is its (rule, subject) condition still there?) — for an assistant answer, the pattern's
``findings:`` — and the matching pattern's diagnostics re-run through the probe runner (does
any step whose pattern states a healthy answer, ``expected_output``, still miss it?). The
outcome is ``fixed``, ``still_present`` or ``could_not_verify`` (no snapshot, a rule that could
not look, an alert no rule owns, an answer with nothing to judge by). Time to resolution is
opened (an alert's ``first_seen``, a question's time) -> verified fixed, kept per issue in the
store's ``resolutions`` and summarised by :func:`ttr_stats` for the health report.
"""

from __future__ import annotations

from omv_copilot_agent import probes
from omv_copilot_agent.alerts.evidence import clean_text
from omv_copilot_agent.knowledge import diagnostics
from omv_copilot_agent.knowledge.diagnostics import PLACEHOLDER

OUTCOMES = ("fixed", "still_present", "could_not_verify")


class UnknownPattern(KeyError):
    """The pattern a verification would run is not in the knowledge base (``args[0]``: its id)."""

#: how much of a probe's output a verification keeps (the reading, not the whole output)
EXCERPT_CHARS = 300
#: the window of the time-to-resolution figures (health report, GET /health)
TTR_WINDOW_DAYS = 30


def sleeping_disks(snapshot) -> set[str]:
    """The disks the snapshot found asleep (the collection reads SMART with ``-n standby``: they stay so)."""
    disks = (snapshot.data("smart") or {}).get("disks") or [] if snapshot is not None else []
    return {str(d["device"]) for d in disks if isinstance(d, dict) and d.get("asleep") and d.get("device")}


def wakes_sleeping(diag: dict, params: dict, asleep: set[str]) -> str | None:
    """Why ``diag`` must not run in a verification: it reads a disk itself (smartctl, hdparm ...) and that
    disk is asleep. The admin pressed "I did it", not "spin my disks up"; ``omv-copilot diagnose`` runs it."""
    if not asleep:
        return None
    try:
        probe = probes.get(diag.get("probe"))
    except probes.UnknownProbe:
        return None
    if not diagnostics.wakes_disks(probe.argv):
        return None
    for value in (diag.get("params") or {}).values():
        m = PLACEHOLDER.match(value) if isinstance(value, str) else None
        value = params.get(m.group(1)) if m else value
        if value in asleep:
            return (f"not run: {value} is asleep and this check would spin it up "
                    f"(omv-copilot diagnose runs it when you choose)")
    return None


def reading(step: dict) -> dict:
    """What one diagnostic said, short and cleaned: enough to show why an outcome was given.

    A probe that failed (an error, or an exit code its catalogue entry does not accept) is no
    healthy reading even when its output matches: ``cat`` of a missing file prints nothing, and
    nothing matches a negative look-ahead. Its miss still counts (the safe side).
    """
    excerpt = (step.get("stdout") or step.get("stderr") or "").strip()
    matched = step.get("matched_expected")
    return {"name": step.get("name"), "probe": step.get("probe"), "ok": step.get("ok"),
            "matched_expected": None if matched is True and not step.get("ok") else matched, "error": clean_text(step["error"]) if step.get("error") else None,
            "excerpt": clean_text(excerpt.replace("\n", " | "), EXCERPT_CHARS)}


def judge(present: bool | None, readings: list[dict], what: str = "the alert's condition") -> tuple[str, str]:
    """(outcome, reason) from ``what`` re-evaluated on a fresh snapshot (None: could not look) and the probes' readings.

    A check whose pattern states a healthy answer and misses it means not fixed, whatever else says so.
    """
    unhealthy = [str(r["name"]) for r in readings if r.get("matched_expected") is False]
    if unhealthy:
        return "still_present", "the pattern's check(s) still miss the healthy answer: " + ", ".join(unhealthy)
    if present is None:
        return "could_not_verify", f"{what} could not be evaluated on a fresh snapshot"
    if present:
        return "still_present", f"{what} still holds on a fresh snapshot"
    return "fixed", f"{what} no longer holds" + (" and the pattern's checks pass" if readings else "")


def ttr_stats(ttrs: list[float]) -> dict:
    """Count, mean and median time to resolution (opened -> verified fixed), seconds."""
    if not ttrs:
        return {"verified": 0, "mean_ttr_s": None, "median_ttr_s": None}
    from statistics import median  # with fractions: only the health report needs it, not the cycle

    return {"verified": len(ttrs), "mean_ttr_s": round(sum(ttrs) / len(ttrs), 1), "median_ttr_s": round(median(ttrs), 1)}
