"""``omv-copilot alerts|health|history``: alerts, the health score and report, issue and config history."""

from __future__ import annotations

import sys
import time

from omv_copilot_agent.cli import CliError
from omv_copilot_agent.cli.client import connect, quote
from omv_copilot_agent.cli.output import print_json, table


LIMIT_MAX = 1000  # the API's maximum page (services/alerts.py paging)
HISTORY_LIMIT_MAX = 10000  # api/history.py


def _ts(t) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(t)) if t else "-"


def register(sub) -> None:
    p = sub.add_parser("alerts", help="list, show and acknowledge alerts",
                       description="list (default) | show ID | ack ID [--note TEXT] | forecasts | test-notify")
    p.add_argument("action", nargs="?", default="list", choices=("list", "show", "ack", "forecasts", "test-notify"))
    p.add_argument("id", nargs="?", help="alert id (show, ack)")
    p.add_argument("--state", choices=("firing", "acknowledged", "resolved", "open"), help="filter the list by state")
    p.add_argument("--severity", choices=("info", "warning", "critical"), help="filter the list by severity")
    p.add_argument("--limit", type=int, default=50, help=f"alerts to list (1-{LIMIT_MAX}, default 50)")
    p.add_argument("--note", help="note to store with an acknowledgement")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=run_alerts)

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
    y.add_argument("--json", action="store_true", help="print JSON")
    y.set_defaults(handler=run_history)


def _id(args) -> int:
    if not args.id or not args.id.isdigit():
        raise CliError(f"'alerts {args.action}' needs a numeric alert ID, e.g. omv-copilot alerts {args.action} 3", 2)
    return int(args.id)


def _limit(value: int, maximum: int) -> int:
    if not 1 <= value <= maximum:
        raise CliError(f"--limit must be between 1 and {maximum}, not {value}", 2)
    return value


def run_alerts(args) -> int:
    _limit(args.limit, LIMIT_MAX)
    if args.action in ("list", "forecasts", "test-notify") and args.id is not None:
        raise CliError(f"'alerts {args.action}' takes no argument, got {args.id!r}", 2)
    client = connect(args)
    if args.action == "list":
        data = client.get("/api/v1/alerts", state=args.state, severity=args.severity, limit=args.limit)
        if args.json:
            print_json(data)
            return 0
        print(table(["ID", "SEVERITY", "STATE", "ALERT", "SUBJECT", "LAST SEEN", "COUNT"],
                    [[a["id"], a["severity"], a["state"], a["title"], a["subject"], _ts(a["last_seen"]), a["count"]]
                     for a in data["alerts"]]))
        print(f"{data['total']} alert(s)" + (f", showing {len(data['alerts'])}" if data["total"] > len(data["alerts"]) else ""))
        return 0
    if args.action == "forecasts":
        data = client.get("/api/v1/alerts/forecasts")
        if args.json:
            print_json(data)
            return 0
        print(table(["MOUNTPOINT", "STATUS", "RATE/DAY", "FULL AT", "DAYS LEFT", "NOTE"],
                    [[f["mountpoint"], f["status"], f"{f['rate_bytes_per_day'] / 2**30:.2f} GiB" if f["rate_bytes_per_day"] is not None else "-",
                      _ts(f["full_at"]), f"{f['days_left']:.1f}" if f["days_left"] is not None else "-", f["reason"] or ""]
                     for f in data["forecasts"]]))
        return 0
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
    data = client.get(f"/api/v1/alerts/{quote(alert_id)}")
    if args.json:
        print_json(data)
        return 0
    print(f"#{data['id']} [{data['severity']}] {data['title']} — {data['state']}\n{data['message']}\n"
          f"rule {data['rule']}, subject {data['subject']}, first {_ts(data['first_seen'])}, last {_ts(data['last_seen'])}, "
          f"{data['count']} cycle(s)" + (f", resolved {_ts(data['resolved_at'])}" if data["resolved_at"] else ""))
    for n in data.get("notes") or []:
        print(f"  note {_ts(n['created_at'])}: {n['text']}")
    return 0


def run_health(args) -> int:
    client = connect(args)
    if args.report or args.html:
        data = client.get("/api/v1/health/report", format="json")
        if args.json:
            print_json(data)
        else:
            sys.stdout.write(data["html" if args.html else "text"])
        return 0
    data = client.get("/api/v1/health")
    if args.json:
        print_json(data)
        return 0
    print(f"Health score {data['score']}/100 (grade {data['grade']})")
    for d in data["deductions"]:
        print(f"  -{d['points']:<3} {d['reason']}")
    return 0


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
        data = client.get("/api/v1/history/snapshots/diff", **{"from": args.from_id, "to": args.to_id})
        if args.json:
            print_json(data)
            return 0
        print(f"configuration changes from snapshot {data['from']['id']} ({_ts(data['from']['taken_at'])}) "
              f"to {data['to']['id']} ({_ts(data['to']['taken_at'])}): {data['total']}")
        for c in data["changes"]:
            print(f"  {c['change']:8} {c['path']}")
        return 0
    path = {"issues": "/api/v1/history/issues", "snapshots": "/api/v1/history/snapshots", "notes": "/api/v1/history/notes"}[args.action]
    data = client.get(path, limit=args.limit)
    if args.json:
        print_json(data)
        return 0
    if args.action == "issues":
        # Two kinds of rows: alerts (subject, resolved_at) and assistant questions (neither).
        print(table(["ID", "KIND", "SEVERITY", "ISSUE", "SUBJECT", "FIRST SEEN", "OUTCOME", "RESOLVED"],
                    [[i.get("id"), i.get("kind") or "alert", i.get("severity") or "-", i.get("title"), i.get("subject") or "-",
                      _ts(i.get("first_seen")), i.get("outcome"), _ts(i.get("resolved_at"))]
                     for i in data["issues"]]))
    elif args.action == "snapshots":
        print(table(["ID", "TAKEN", "REASON", "HASH"], [[s["id"], _ts(s["taken_at"]), s["reason"], s["hash"][:12]] for s in data["snapshots"]]))
    else:
        print(table(["ID", "WHEN", "ALERT", "NOTE"], [[n["id"], _ts(n["created_at"]), n["alert_id"] or "-", n["text"]] for n in data["notes"]]))
    return 0
