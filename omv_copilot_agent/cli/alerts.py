"""``omv-copilot alerts|verify|health|history``: alerts, verifying a fix, the health score and report, issue and config history."""

from __future__ import annotations

import sys
import time

from omv_copilot_agent.cli import CliError
from omv_copilot_agent.cli.client import connect, quote
from omv_copilot_agent.cli.output import print_json, show, table


LIMIT_MAX = 1000  # the API's maximum page (services/alerts.py paging)
HISTORY_LIMIT_MAX = 10000  # api/history.py


def _ts(t) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(t)) if t else "-"


def register(sub) -> None:
    p = sub.add_parser("alerts", help="list, show, acknowledge and snooze alerts; delivery policy; maintenance windows",
                       description="list (default) | show ID | ack ID [--note TEXT] | forecasts | test-notify | policy | "
                                   "snooze ID|CLASS[:SUBJECT] --for 4h | unsnooze SNOOZE_ID | "
                                   "maintenance --for 2h [--start 'YYYY-MM-DD HH:MM'] [--reason TEXT] | maintenance --end WINDOW_ID")
    p.add_argument("action", nargs="?", default="list",
                   choices=("list", "show", "ack", "forecasts", "test-notify", "policy", "snooze", "unsnooze", "maintenance"))
    p.add_argument("id", nargs="?", help="alert id (show, ack, snooze), CLASS[:SUBJECT] (snooze), snooze id (unsnooze)")
    p.add_argument("--for", dest="duration", help="snooze / maintenance length: 90m, 4h, 2d (or seconds)")
    p.add_argument("--reason", help="why (snooze, maintenance); shown in the policy list and the held digest")
    p.add_argument("--start", metavar="'YYYY-MM-DD HH:MM'", help="maintenance: begin then (local time), not now")
    p.add_argument("--end", type=int, metavar="WINDOW_ID", help="maintenance: end this window now")
    p.add_argument("--state", choices=("firing", "acknowledged", "resolved", "open"), help="filter the list by state")
    p.add_argument("--severity", choices=("info", "warning", "critical"), help="filter the list by severity")
    p.add_argument("--limit", type=int, default=50, help=f"alerts to list (1-{LIMIT_MAX}, default 50)")
    p.add_argument("--note", help="note to store with an acknowledgement")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=run_alerts)

    v = sub.add_parser("verify", help="mark an alert's action done and check the fix (probes + a fresh collection)",
                       description="Re-run the alert's pattern probes and its rule on a fresh collection; prints "
                                   "fixed | still_present | could_not_verify with the probes' readings and the time to resolution.")
    v.add_argument("id", help="the issue id as 'omv-copilot history' lists it: an alert's number, or q<number> for an answer")
    v.add_argument("--pattern", help="verify with this pattern's probes instead of the one the alert's evidence names")
    v.add_argument("--no-collect", action="store_true", help="judge the last snapshot instead of collecting afresh")
    v.add_argument("--json", action="store_true", help="print JSON")
    v.set_defaults(handler=run_verify)

    h = sub.add_parser("health", help="health score 0-100 with its breakdown, or the daily report")
    h.add_argument("--report", action="store_true", help="print the daily health report")
    h.add_argument("--html", action="store_true", help="the daily report as HTML (implies --report)")
    h.add_argument("--json", action="store_true", help="print JSON (with --report: the report's text, html and data)")
    h.set_defaults(handler=run_health)

    y = sub.add_parser("history", help="past issues, configuration snapshots and drift, notes",
                       description="issues (default) | snapshots | diff [--from ID --to ID] | notes | note TEXT [--alert ID]")
    y.add_argument("action", nargs="?", default="issues", choices=("issues", "snapshots", "diff", "notes", "note"))
    y.add_argument("text", nargs="?", help="note text (note)")
    y.add_argument("--alert", type=int, help="attach the note to this alert id")
    y.add_argument("--from", dest="from_id", type=int)
    y.add_argument("--to", dest="to_id", type=int)
    y.add_argument("--limit", type=int, default=50, help=f"rows to list (1-{HISTORY_LIMIT_MAX}, default 50)")
    y.add_argument("--questions", action="store_true", help="issues: list assistant questions next to the alerts")
    y.add_argument("--json", action="store_true", help="print JSON")
    y.set_defaults(handler=run_history)


def _number(raw: str | None) -> bool:
    """An id as the API takes it: ASCII digits (str.isdigit() also holds for '²', which int() refuses)."""
    return bool(raw) and raw.isascii() and raw.isdigit()


def _id(args) -> int:
    if not _number(args.id):
        raise CliError(f"'alerts {args.action}' needs a numeric alert ID, e.g. omv-copilot alerts {args.action} 3", 2)
    return int(args.id)


def _limit(value: int, maximum: int) -> int:
    if not 1 <= value <= maximum:
        raise CliError(f"--limit must be between 1 and {maximum}, not {value}", 2)
    return value


UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str | None, what: str) -> int:
    """'90m', '4h', '2d' or plain seconds -> seconds (a CliError naming the option otherwise)."""
    raw = (text or "").strip().lower()
    number, unit = (raw[:-1], raw[-1]) if raw[-1:] in UNITS else (raw, "s")
    try:
        seconds = round(float(number) * UNITS[unit])
    except ValueError:
        seconds = 0
    if seconds < 60:
        raise CliError(f"{what} needs --for with a length of at least a minute, e.g. --for 4h (got {text!r})", 2)
    return seconds


def _snooze_target(raw: str | None) -> dict:
    if not raw:
        raise CliError("'alerts snooze' needs an alert ID or an alert class, e.g. omv-copilot alerts snooze smart_attributes:/dev/sdb --for 7d", 2)
    if _number(raw):
        return {"alert_id": int(raw)}
    rule, _, subject = raw.partition(":")
    return {"rule": rule, **({"subject": subject} if subject else {})}


def _local_time(text: str) -> float:
    try:
        return time.mktime(time.strptime(text.strip(), "%Y-%m-%d %H:%M"))
    except ValueError:
        raise CliError(f"--start must look like '2026-12-07 10:00' (local time), not {text!r}", 2) from None


def _until(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(t))


def run_policy_actions(args, client) -> int:
    """policy | snooze | unsnooze | maintenance."""
    from omv_copilot_agent.cli.client import unwrap

    if args.action == "policy":
        return show(args, client.get("/api/v1/alerts/policy"), _render_policy)
    client.require_durable(f"the {args.action}")
    if args.action == "snooze":
        body = {**_snooze_target(args.id), "for_s": duration(args.duration, "alerts snooze"),
                **({"reason": args.reason} if args.reason else {})}
        data = client.post("/api/v1/alerts/snooze", body)
        print_json(data) if args.json else print(
            f"snooze {data['id']}: {data['rule']}{':' + data['subject'] if data['subject'] else ''} silent until {_until(data['until'])}")
        return 0
    if args.action == "unsnooze":
        if not _number(args.id):
            raise CliError("'alerts unsnooze' needs the snooze's number (omv-copilot alerts policy lists them)", 2)
        data = unwrap(client.request("DELETE", f"/api/v1/alerts/snooze/{quote(int(args.id))}"))
        print_json(data) if args.json else print(f"snooze {args.id} ended")
        return 0
    if args.end is not None:
        data = unwrap(client.request("DELETE", f"/api/v1/alerts/maintenance/{quote(args.end)}"))
        print_json(data) if args.json else print(f"maintenance window {args.end} ended; held notifications go out now")
        return 0
    body = {"for_s": duration(args.duration, "alerts maintenance"), **({"reason": args.reason} if args.reason else {})}
    if args.start:
        body["start"] = _local_time(args.start)
    data = client.post("/api/v1/alerts/maintenance", body)
    print_json(data) if args.json else print(
        f"maintenance window {data['id']} from {_until(data['start'])} until {_until(data['end'])}: "
        "notifications are held, alerts still recorded")
    return 0


def _render_policy(data: dict) -> str:
    modes = lambda m: f"{m['mail']}/{m['webhook']}" + (f", remind {m['reminder_s'] // 3600:g} h" if m["reminder_s"] else "")  # noqa: E731
    lines = [table(["CLASS", "CRITICAL (mail/webhook)", "WARNING", "INFO"],
                   [[c["class"], modes(c["critical"]), modes(c["warning"]), modes(c["info"])] for c in data["classes"]])]
    lines += [f"snooze {s['id']}: {s['rule']}{':' + s['subject'] if s['subject'] else ''} until {_until(s['until'])}"
              + (f" ({s['reason']})" if s.get("reason") else "") for s in data["snoozes"]]
    lines += [f"maintenance {w['id']}: {_until(w['start'])} to {_until(w['end'])}" + (f" ({w['reason']})" if w.get("reason") else "")
              for w in data["maintenance"]]
    if data["unknown_classes"]:
        lines.append(f"alerts.policies names unknown classes: {', '.join(data['unknown_classes'])}")
    return "\n".join(lines)


def _render_list(data: dict) -> str:
    return (table(["ID", "SEVERITY", "STATE", "ALERT", "SUBJECT", "LAST SEEN", "COUNT"],
                  [[a["id"], a["severity"], a["state"], a["title"], a["subject"], _ts(a["last_seen"]), a["count"]]
                   for a in data["alerts"]])
            + f"\n{data['total']} alert(s)" + (f", showing {len(data['alerts'])}" if data["total"] > len(data["alerts"]) else ""))


def _render_forecasts(data: dict) -> str:
    return table(["MOUNTPOINT", "STATUS", "RATE/DAY", "FULL AT", "DAYS LEFT", "NOTE"],
                 [[f["mountpoint"], f["status"], f"{f['rate_bytes_per_day'] / 2**30:.2f} GiB" if f["rate_bytes_per_day"] is not None else "-",
                   _ts(f["full_at"]), f"{f['days_left']:.1f}" if f["days_left"] is not None else "-", f["reason"] or ""]
                  for f in data["forecasts"]])


def _render_alert(data: dict) -> str:
    lines = [f"#{data['id']} [{data['severity']}] {data['title']} — {data['state']}\n{data['message']}\n"
             f"rule {data['rule']}, subject {data['subject']}, first {_ts(data['first_seen'])}, last {_ts(data['last_seen'])}, "
             f"{data['count']} cycle(s)" + (f", resolved {_ts(data['resolved_at'])}" if data["resolved_at"] else "")]
    lines += [f"  {line}" for line in evidence_lines(data.get("evidence"))]
    if data.get("resolution"):
        lines.append("  " + _resolution(data["resolution"]))
    lines += [f"  note {_ts(n['created_at'])}: {n['text']}" for n in data.get("notes") or []]
    return "\n".join(lines)


def run_alerts(args) -> int:
    _limit(args.limit, LIMIT_MAX)
    if args.action in ("list", "forecasts", "test-notify", "policy", "maintenance") and args.id is not None:
        raise CliError(f"'alerts {args.action}' takes no argument, got {args.id!r}", 2)
    if args.action in ("snooze", "maintenance") and args.end is None:
        duration(args.duration, f"alerts {args.action}")  # a usage error before any connection
    client = connect(args)
    if args.action in ("policy", "snooze", "unsnooze", "maintenance"):
        return run_policy_actions(args, client)
    if args.action == "list":
        return show(args, client.get("/api/v1/alerts", state=args.state, severity=args.severity, limit=args.limit), _render_list)
    if args.action == "forecasts":
        return show(args, client.get("/api/v1/alerts/forecasts"), _render_forecasts)
    if args.action == "test-notify":
        data = client.post("/api/v1/alerts/test-notification")
        print_json(data) if args.json else print(f"test notification sent via {', '.join(data['channels'])}")
        return 0
    alert_id = _id(args)
    if args.action == "ack":
        client.require_durable("the acknowledgement")
        data = client.post(f"/api/v1/alerts/acknowledge/{quote(alert_id)}", {"note": args.note} if args.note else {})
        print_json(data) if args.json else print(f"alert {alert_id} is {data['state']}: {data['title']}")
        return 0
    return show(args, client.get(f"/api/v1/alerts/{quote(alert_id)}"), _render_alert)


def evidence_lines(evidence: dict | None) -> list[str]:
    """The API's evidence object as lines (same reading as the e-mail's; see docs/alerts.md)."""
    from omv_copilot_agent.alerts.evidence import summary

    return summary(evidence)


def _resolution(r: dict) -> str:
    ttr = f", time to resolution {r['ttr_s'] / 3600:.1f} h" if r.get("ttr_s") is not None else ""
    return f"verified {_ts(r['verified_at'])}: {r['outcome']}{ttr}"


def run_verify(args) -> int:
    if not (_number(args.id) or (args.id[:1] == "q" and _number(args.id[1:]))):
        raise CliError(f"verify needs an issue id as 'omv-copilot history' lists it (12, or q34 for an answer), not {args.id!r}", 2)
    client = connect(args)
    client.require_durable("the verification")
    body = {"collect": not args.no_collect, **({"pattern_id": args.pattern} if args.pattern else {})}
    data = client.post(f"/api/v1/history/issues/verify/{quote(args.id)}", body)
    return show(args, data, lambda d: _render_verification(args.id, d), 0 if data["outcome"] == "fixed" else 1)


def _render_verification(issue: str, data: dict) -> str:
    title = (data.get("alert") or {}).get("title") or data.get("question") or ""
    lines = [f"{issue} {title}: {data['outcome'].replace('_', ' ')} — {data['reason']}"]
    if not data.get("fresh_collection"):
        lines.append("  (judged on the last snapshot: no fresh collection)")
    for r in data.get("readings") or []:
        verdict = {True: "healthy", False: "NOT healthy", None: "ran" if r.get("ok") else "failed"}[r.get("matched_expected")]
        lines.append(f"  {r.get('name')}: {verdict}" + (f" ({r['error']})" if r.get("error") else "")
                     + (f"\n    {r['excerpt']}" if r.get("excerpt") else ""))
    if data.get("ttr_s") is not None:
        lines.append(f"  time to resolution: {data['ttr_s'] / 3600:.1f} h")
    return "\n".join(lines)


def run_health(args) -> int:
    client = connect(args)
    if args.report or args.html:
        data = client.get("/api/v1/health/report", format="json")
        if args.json:
            print_json(data)
        else:
            sys.stdout.write(data["html" if args.html else "text"])
        return 0
    return show(args, client.get("/api/v1/health"), _render_health)


def _render_health(data: dict) -> str:
    return "\n".join([f"Health score {data['score']}/100 (grade {data['grade']})"]
                     + [f"  -{d['points']:<3} {d['reason']}" for d in data["deductions"]])


def run_history(args) -> int:
    _limit(args.limit, HISTORY_LIMIT_MAX)
    if args.action != "note" and args.text is not None:
        raise CliError(f"'history {args.action}' takes no argument, got {args.text!r}", 2)
    if args.action == "note" and (not args.text or not args.text.strip()):
        raise CliError("history note needs the note text, e.g. omv-copilot history note 'replaced sdb'", 2)
    client = connect(args)
    if args.action == "note":
        client.require_durable("the note")
        data = client.post("/api/v1/history/notes", {"text": args.text, **({"alert_id": args.alert} if args.alert else {})})
        print_json(data) if args.json else print(f"note {data['id']} saved")
        return 0
    if args.action == "diff":
        return show(args, client.get("/api/v1/history/snapshots/diff", **{"from": args.from_id, "to": args.to_id}), _render_diff)
    path = {"issues": "/api/v1/history/issues", "snapshots": "/api/v1/history/snapshots", "notes": "/api/v1/history/notes"}[args.action]
    data = client.get(path, limit=args.limit, **({"kind": "all"} if args.action == "issues" and args.questions else {}))
    return show(args, data, {"issues": _render_issues, "snapshots": _render_snapshots, "notes": _render_notes}[args.action])


def _render_diff(data: dict) -> str:
    return "\n".join([f"configuration changes from snapshot {data['from']['id']} ({_ts(data['from']['taken_at'])}) "
                      f"to {data['to']['id']} ({_ts(data['to']['taken_at'])}): {data['total']}"]
                     + [f"  {c['change']:8} {c['path']}" for c in data["changes"]])


def _render_issues(data: dict) -> str:
    # Two kinds of rows: alerts (subject, resolved_at) and assistant questions (neither).
    return table(["ID", "KIND", "SEVERITY", "ISSUE", "SUBJECT", "FIRST SEEN", "OUTCOME", "RESOLVED"],
                 [[i.get("id"), i.get("kind") or "alert", i.get("severity") or "-", i.get("title"), i.get("subject") or "-",
                   _ts(i.get("first_seen")), i.get("outcome"), _ts(i.get("resolved_at"))]
                  for i in data["issues"]])


def _render_snapshots(data: dict) -> str:
    return table(["ID", "TAKEN", "REASON", "HASH"], [[s["id"], _ts(s["taken_at"]), s["reason"], s["hash"][:12]] for s in data["snapshots"]])


def _render_notes(data: dict) -> str:
    return table(["ID", "WHEN", "ALERT", "NOTE"], [[n["id"], _ts(n["created_at"]), n["alert_id"] or "-", n["text"]] for n in data["notes"]])
