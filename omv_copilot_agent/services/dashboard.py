"""What needs attention on the box now, worst first: the Dashboard's headline.

One list merges the open alerts (firing or acknowledged: still true) and the
findings of the latest snapshot that no open alert already stands for (a finding
without an alert rule, or one still inside its rule's hold-down). Each item names
where the fix is: its alert, the knowledge pattern the finding points to (the same
``findings:`` signals the assistant ranks by) and a question for the assistant that
carries the evidence, so one click from the headline reaches the fix.
"""

from __future__ import annotations

from omv_copilot_agent.alerts.evidence import alert_findings, best_match
from omv_copilot_agent.alerts.rules import foretold
from omv_copilot_agent.findings import CATALOGUE, SEVERITY_ORDER, Finding, Thresholds, evaluate
from omv_copilot_agent.services.call import Call
from omv_copilot_agent.services.system import meta, snapshot

#: severities that need the admin (an info alert or finding, a resync running, is shown on its card, not in the headline)
ATTENTION = ("warning", "critical")
QUESTION_MAX = 1500


def _evidence_text(evidence: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(evidence.items()) if not isinstance(v, (dict, list)))


def question(title: str, subject: str, text: str, evidence: dict) -> str:
    """The Assistant's pre-filled question: what holds, on what, with the values it was judged on."""
    ev = _evidence_text(evidence)
    q = f"{title} ({subject}): {text}" + (f" Evidence: {ev}." if ev else "") + " What is wrong and how do I fix it?"
    return q[:QUESTION_MAX]


def best_pattern(kb, found: list[Finding], title: str) -> dict | None:
    """The pattern an item titled ``title`` points to (alerts.evidence.best_match: its alert's
    evidence names the same one)."""
    match = best_match(kb.index, found, title) if kb is not None else None
    return {"pattern_id": match.pattern_id, "title": match.title} if match else None


def _sort_key(item: dict) -> tuple:
    """Worst severity first; among equals the oldest first (what broke first is most often the cause of
    what followed), alerts before the findings they were raised from."""
    return (-SEVERITY_ORDER.get(item["severity"], 0), item.get("since") or 0, item["kind"] != "alert", item.get("alert_id") or 0)


def attention(call: Call) -> dict:
    """Open alerts and unalerted warning/critical findings, sorted by severity then time (oldest first)."""
    snap = snapshot(call)
    agent = call.agent
    svc = getattr(agent, "alerts", None)
    kb = getattr(agent, "knowledge", None)
    found = svc.findings(snap) if svc is not None else evaluate(snap, Thresholds.from_config(agent.config))
    rule_of = svc.rule_of_finding if svc is not None else {}
    alerts = svc.open_alerts() if svc is not None else []
    items: list[dict] = []
    covered: set[tuple[str, str]] = set()
    for a in alerts:
        mine = alert_findings(a, found, {fid for fid, rule in rule_of.items() if rule == a["rule"]})
        covered.update((f.id, f.subject) for f in mine)
        if a["severity"] not in ATTENTION:
            continue
        evidence = {**(a.get("details") or {}), **{k: v for f in mine for k, v in f.evidence.items()}}
        items.append({"kind": "alert", "severity": a["severity"], "title": a["title"], "subject": a["subject"],
                      "text": a["message"], "since": a["first_seen"], "state": a["state"], "alert_id": a["id"],
                      "rule": a["rule"], "finding_id": mine[0].id if mine else None, "evidence": evidence,
                      "pattern": best_pattern(kb, mine or foretold(a["rule"], a["subject"], snap), a["title"]),
                      "question": question(a["title"], a["subject"], a["message"], evidence)})
    for f in found:
        if f.severity not in ATTENTION or (f.id, f.subject) in covered:
            continue
        title = f.text  # the finding's own sentence, with its numbers; the catalogue says what kind it is
        items.append({"kind": "finding", "severity": f.severity, "title": title, "subject": f.subject,
                      "text": CATALOGUE.get(f.id, f.id),
                      "since": snap.taken_at, "state": "finding", "alert_id": None, "rule": rule_of.get(f.id),
                      "finding_id": f.id, "evidence": dict(f.evidence), "pattern": best_pattern(kb, [f], title),
                      "question": question(title, f.subject, CATALOGUE.get(f.id, ""), f.evidence)})
    items.sort(key=_sort_key)
    # "nothing needs attention" only speaks for what could be read: say what could not
    unread = [{"source": name, "status": r.status, "reason": r.reason} for name, r in sorted(snap.sources.items())
              if r.status != "ok"]
    return {"snapshot": meta(snap), "ok": not items, "count": len(items), "items": items, "unread": unread}
