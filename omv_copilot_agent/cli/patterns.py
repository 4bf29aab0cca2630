"""``omv-copilot patterns [list|show ID|search TEXT|validate FILE...]``: browse, search, check patterns.

Goes through the API (daemon, else in-process like ``status``) so the answer, including
feedback nudges and the findings of the live snapshot, is the same the web UI shows.
``validate`` runs offline with the same checks as the editor's Validate button
(knowledge.editing), so a file that passes here also saves through the API.
"""

from __future__ import annotations

import argparse
import textwrap

from omv_copilot_agent.cli import CliError
from omv_copilot_agent.cli.client import ApiReply, connect, quote
from omv_copilot_agent.cli.output import print_json, show, table

CATEGORIES = ("storage", "network", "services", "performance", "security", "hardware", "backup")


def register(sub) -> None:
    parser = sub.add_parser("patterns", help="list, show or search troubleshooting patterns",
                            description="Browse the knowledge base: 'list' (default), 'show ID', 'search TEXT'.")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run_list, category=None, limit=500)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    lst = actions.add_parser("list", help="list patterns (optionally one category)")
    lst.add_argument("--category", choices=CATEGORIES, help="only this category")
    lst.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    lst.set_defaults(handler=run_list)
    show = actions.add_parser("show", help="show one pattern: symptoms, diagnostics, solutions with risk")
    show.add_argument("pattern_id", metavar="ID")
    show.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    show.set_defaults(handler=run_show)
    search = actions.add_parser("search", help="rank patterns for a question (and this box's state)")
    search.add_argument("text", nargs="+", metavar="TEXT")
    search.add_argument("--limit", type=int, default=5, help="results to show (1-50, default 5)")
    search.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    search.set_defaults(handler=run_search)
    check = actions.add_parser("validate", help="check pattern YAML files (schema, related ids); exit 1 if any is invalid")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    check.set_defaults(handler=run_validate)


def call(client, method: str, path: str, *, params: dict | None = None, body: dict | None = None) -> dict:
    """Like client.get/post, but a 4xx (bad input) exits 2 and a 404 says what was not found."""
    reply: ApiReply = client.request(method, path, params=params, body=body)
    if reply.status >= 400:
        error = reply.body.get("error", {}) if isinstance(reply.body, dict) else {}
        raise CliError(error.get("message") or f"HTTP {reply.status}", 2 if 400 <= reply.status < 500 else 1)
    return reply.body


def check_id(pattern_id: str) -> str:
    """A pattern id as the API accepts it, quoted for the URL path; else exit 2 with the API's reason.

    Checked here too because a '/' in it would reach another endpoint even when quoted
    (the WSGI server decodes %2F before routing).
    """
    from omv_copilot_agent.knowledge.loader import PATTERN_ID, PATTERN_ID_RULE

    if not PATTERN_ID.fullmatch(pattern_id):
        raise CliError(f"invalid pattern id {pattern_id!r} (pattern_id: {PATTERN_ID_RULE})", 2)
    return quote(pattern_id)


def run_list(args) -> int:
    client = connect(args)
    body = call(client, "GET", "/api/v1/knowledge/patterns",
                params={k: v for k, v in {"category": args.category, "limit": 500}.items() if v is not None})
    return show(args, body, lambda body: _render_list(body, args.category))


def _render_list(body: dict, category: str | None) -> str:
    return "\n".join([table(["ID", "CATEGORY", "SIGNALS", "TITLE"],
                            [[p["pattern_id"], p["category"], "yes" if p["has_signals"] else "", p["title"]] for p in body["data"]]),
                      f"\n{body['total']} patterns" + (f" in {category}" if category else "")]
                     + [f"invalid pattern file {err['file']} ({err['pattern_id']}) {err['field']}: {err['reason']}"
                        for err in body.get("errors") or []])


def run_show(args) -> int:
    path = f"/api/v1/knowledge/patterns/{check_id(args.pattern_id)}"
    client = connect(args)
    return show(args, call(client, "GET", path), render)


def render(p: dict) -> str:
    out = [f"{p['pattern_id']} — {p['title']}", f"category {p['category']}, confidence {p.get('confidence')}", "", "Symptoms:"]
    out += [f"  - {s}" for s in p["symptoms"]]
    out += ["", "Diagnostics (read-only; run them with: omv-copilot diagnose " + p["pattern_id"]
            + "".join(f" --param {n}=…" for n in p.get("parameters") or []) + "):"]
    for i, d in enumerate(p["diagnostics"], 1):
        out.append(f"  {i}. {d['name']}: {d['command']}" + (f"   (expect /{d['expected_output']}/)" if d.get("expected_output") else ""))
    out += ["", "Solutions (shown, never run by the agent):"]
    for s in sorted(p["solutions"], key=lambda s: s["priority"]):
        out.append(f"  {s['priority']}. [{s['risk']}] {s['action']}")
        if s.get("command"):
            out.append(f"       $ {s['command']}")
        out += ["       " + line for line in textwrap.wrap(s["explanation"], 90)]
    if p.get("related_patterns"):
        out += ["", "Related: " + ", ".join(p["related_patterns"])]
    out += ["", "References:"] + [f"  {r}" for r in p["references"]]
    return "\n".join(out)


def run_search(args) -> int:
    query = " ".join(args.text).strip()
    if not query:
        raise CliError("search needs some text", 2)
    if not 1 <= args.limit <= 50:
        raise CliError("--limit must be between 1 and 50", 2)
    client = connect(args)
    body = call(client, "GET", "/api/v1/knowledge/search", params={"q": query, "limit": args.limit})
    return show(args, body, lambda body: _render_search(body, query))


def _render_search(body: dict, query: str) -> str:
    if not body["results"]:
        return f"no pattern matches {query!r}"
    return "\n".join([table(["SCORE", "ID", "CATEGORY", "TITLE"],
                            [[f"{m['score']:.2f}", m["pattern_id"], m["category"], m["title"]] for m in body["results"]]), ""]
                     + [f"{m['pattern_id']}: " + "; ".join(m["reasons"]) for m in body["results"]])


def known_ids(args) -> set[str]:
    """Pattern ids a related_patterns entry may name: the configured shipped + local ones."""
    from omv_copilot_agent import config as config_mod
    from omv_copilot_agent.knowledge import KnowledgeBase

    try:
        config = config_mod.load(args.config)
        shipped = config.get_path("knowledge.patterns_dir", None)
        local = config.get_path("knowledge.local_patterns_dir", None) or str(config.data_dir / "patterns")
    except Exception:  # no readable config: the shipped patterns alone still give a useful check
        shipped, local = None, None
    return set(KnowledgeBase(shipped, local_dir=local).patterns)


def run_validate(args) -> int:
    from pathlib import Path

    from omv_copilot_agent.knowledge import editing

    texts = {}
    for name in args.files:
        try:
            texts[name] = Path(name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"cannot read {name}: {getattr(exc, 'strerror', None) or exc}", 2) from None
    parsed = {name: editing.parse_text(text) for name, text in texts.items()}
    known = known_ids(args) | {d["pattern_id"] for d, _ in parsed.values() if d and isinstance(d.get("pattern_id"), str)}
    report = []
    for name, (data, problems) in parsed.items():
        problems = problems if data is None else editing.check(data, known)
        report.append({"file": name, "pattern_id": (data or {}).get("pattern_id"), "valid": not problems, "problems": problems})
    if args.json:
        print_json(report)
    else:
        for item in report:
            if item["valid"]:
                print(f"{item['file']}: valid ({item['pattern_id']})")
            for p in item["problems"]:
                print(f"{item['file']}: {p['field']}: {p['reason']}")
    return 0 if all(item["valid"] for item in report) else 1
