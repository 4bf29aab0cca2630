"""``omv-copilot ask "QUESTION"`` (alias ``query``): ask the assistant from the shell.

Goes through the daemon's API when it runs, else answers in-process (like
``status``). The question runs as a job that is polled, with a spinner on a
terminal, so a slow LLM never hits an HTTP timeout; Ctrl-C cancels the job.
"""

from __future__ import annotations

import itertools
import math
import sys
import time

from omv_copilot_agent.cli import CliError
from omv_copilot_agent.cli.client import connect, quote
from omv_copilot_agent.cli import output
from omv_copilot_agent.cli.output import print_json

CONTEXTS = ("storage", "network", "service", "performance", "security", "general")


def register(sub) -> None:
    parser = sub.add_parser("ask", aliases=["query"], help="ask the assistant a question",
                            description="Ask a question in plain words. Answers from the knowledge base and this box's "
                                        "state, and from the configured LLM providers (assist.providers) if any.")
    parser.add_argument("question", nargs="+", help="the question (quote it or not)")
    parser.add_argument("--context", choices=CONTEXTS, help="force a specialist context (default: chosen from the question)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--direct", action="store_true", help="direct chat with the LLM: no knowledge base, no system state "
                                                                "(exit 1 when no LLM provider is configured)")
    mode.add_argument("--kb-only", action="store_true", help="answer from the knowledge base only (no LLM)")
    parser.add_argument("--conversation", metavar="ID", help="continue a conversation (its id is printed with each answer)")
    parser.add_argument("--json", action="store_true", help="print the answer as JSON")
    parser.add_argument("--wait", type=float, default=900, metavar="S", help="give up after S seconds (default 900)")
    parser.set_defaults(handler=run)


def run(args) -> int:
    question = " ".join(args.question).strip()
    if not question:
        raise CliError("the question is empty", 2)
    if not (math.isfinite(args.wait) and args.wait > 0):
        raise CliError(f"--wait must be a positive number of seconds, not {args.wait:g}", 2)
    client = connect(args)
    body = {"query": question, "async": True, "mode": "direct" if args.direct else "kb_only" if args.kb_only else "auto"}
    if args.context:
        body["context"] = args.context
    if args.conversation:
        body["conversation_id"] = args.conversation
    reply = client.request("POST", "/api/v1/assist/query", body=body)
    if reply.status >= 400:
        raise CliError((reply.body.get("error") or {}).get("message") or f"HTTP {reply.status}")
    job_id = reply.body["job_id"]
    answer = wait(client, job_id, args.wait)
    if args.direct and not answer.get("provider"):
        if "no LLM provider" in " ".join(answer.get("notices") or []) or not _providers(args):
            raise CliError(f"no LLM provider is configured: add one under {_provider_place()}, "
                           "or ask without --direct for a knowledge-base answer")
        raise CliError("direct chat got no answer: every LLM provider failed"
                       + (f" ({'; '.join(answer['notices'])})" if answer.get("notices") else ""))
    if args.json:
        print_json(answer)
    else:
        print(render(answer))
    return 0


def _provider_place() -> str:
    """Where a shell user adds an LLM provider (kb_answer.PROVIDER_PLACE, said for the CLI)."""
    from omv_copilot_agent.assist.kb_answer import PROVIDER_PLACE

    return PROVIDER_PLACE["cli"]


def _providers(args) -> list:
    """The configured LLM providers (this shell's config; the daemon reads the same file)."""
    from omv_copilot_agent import config as config_mod

    try:
        return list(config_mod.load(args.config).get_path("assist.providers", []) or [])
    except Exception:  # an unreadable config already failed in connect(); be conservative
        return []


def wait(client, job_id: str, limit: float) -> dict:
    spinner = itertools.cycle("|/-\\")
    tty = sys.stderr.isatty()
    deadline = time.monotonic() + limit
    try:
        while True:
            job = client.get(f"/api/v1/assist/jobs/{quote(job_id)}")
            if job["status"] == "done":
                return job["answer"]
            if job["status"] == "failed":
                raise CliError("the question failed: " + str((job.get("error") or {}).get("message")))
            if job["status"] == "cancelled":
                raise CliError("the question was cancelled")
            if time.monotonic() > deadline:
                client.post(f"/api/v1/assist/jobs/{quote(job_id)}/cancel")
                raise CliError(f"no answer within {limit:.0f} s (cancelled)")
            if tty:
                sys.stderr.write(f"\r{next(spinner)} thinking ({job.get('stage') or job['status']})…   ")
                sys.stderr.flush()
            time.sleep(0.2)
    except KeyboardInterrupt:
        try:
            client.post(f"/api/v1/assist/jobs/{quote(job_id)}/cancel")
        except CliError:
            pass
        raise
    finally:
        if tty:
            sys.stderr.write("\r" + " " * 60 + "\r")
            sys.stderr.flush()


def _item(text: str, width: int) -> list[str]:
    """One entry of an answer's list: a bullet, its text wrapped under it."""
    return output.wrap(text, "    ", width, first="  - ")


def _first_role(score: float) -> str:
    """What the first matched pattern of a KB answer is: the answer, or (a weak match) only the closest."""
    from omv_copilot_agent.assist.kb_answer import weak

    return "the closest, weak match above (not an answer)" if weak(score) else "the answer above"


def render(a: dict, width: int | None = None) -> str:
    """The answer for a terminal: prose wrapped at ``width`` (default: the terminal's) under its
    indent, commands on lines of their own and never wrapped (so they copy as they are)."""
    width = width or output.width()
    from omv_copilot_agent.assist.kb_answer import for_surface  # for_surface: the answer says the web UI's place for a provider

    kb = a.get("mode") == "kb_only"  # one pattern's advice: its checks need not each name it
    source = {"llm": f"LLM {a.get('provider')} ({a.get('model')})", "kb_only": "knowledge base only",
              "direct": "direct chat" + (f" with {a.get('provider')}" if a.get("provider") else "")}.get(a.get("mode"), a.get("mode"))
    out = [f"[{a.get('context')}] {source} — confidence {a.get('confidence', 0):.0%} ({a.get('confidence_label')})"]
    if a.get("readings"):  # the values the question asked for, first (assist/readings.py)
        out += ["", "Readings (this box's latest snapshot)"] + [x for r in a["readings"] for x in _item(r["text"], width)]
    for notice in a.get("notices") or []:
        out += output.wrap(for_surface(notice, "cli"), "  ", width, first="! ")
    out += ["", "Analysis"] + output.wrap(for_surface(a.get("analysis") or "", "cli"), "  ", width)
    if a.get("explanation"):
        out += ["", "Explanation"] + output.wrap(a["explanation"], "  ", width)
    if a.get("possible_causes"):
        out += ["", "Possible causes"]
        for c in a["possible_causes"]:
            out += _item(f"{c['cause']} ({c.get('likelihood')})", width)
    if a.get("suggested_diagnostics"):
        out += ["", "Diagnostics"]
        for d in a["suggested_diagnostics"]:
            out += _item(("[" + str(d.get("risk")) + "] " if d.get("command") else "") + d["name"]
                         + (":" if d.get("command") else "")
                         + (f"   [pattern {d['pattern_id']}]" if d.get("pattern_id") and not kb else ""), width)
            if d.get("command"):
                out.append(f"      $ {d['command']}")
            if d.get("needs"):
                out.append("      needs: " + ", ".join(d["needs"]) + " (omv-copilot diagnose "
                           + d["pattern_id"] + " " + " ".join(f"--param {n}=..." for n in d["needs"]) + ")")
    if a.get("recommended_actions"):
        out += ["", "Recommended actions"]
        for r in a["recommended_actions"]:
            out += _item(f"[{r.get('risk')}] {r['action']}", width)
            if r.get("command"):
                out.append(f"      $ {r['command']}")
            if r.get("needs"):
                from omv_copilot_agent.knowledge.fill import DESCRIBED  # what an ask-only name (or {partition}) stands for
                out += output.wrap("needs: " + "; ".join("{" + n + "}" + (f" = {DESCRIBED[n]}" if n in DESCRIBED else "")
                                                     for n in r["needs"]) + " (fill in before you run it)", "      ", width)
            if r.get("explanation"):
                out += output.wrap(r["explanation"], "      ", width)
    if a.get("matched_patterns"):
        out += ["", "Matched patterns"]
        for i, m in enumerate(a["matched_patterns"]):  # in a KB answer the first is the answer, the rest related links
            out += _item(f"{m['pattern_id']}: {m['title']} (score {m['score']:.2f})"
                         + ((" - " + _first_role(m["score"]) if i == 0 else " - related") if kb else ""), width)
    if a.get("follow_up_questions"):
        out += ["", "Follow-up questions"]
        for q in a["follow_up_questions"]:
            out += _item(q, width)
    out += ["", f"conversation {a.get('conversation_id')} · trace {a.get('trace_id')}"]
    return "\n".join(out)
