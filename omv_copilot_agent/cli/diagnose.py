"""``omv-copilot diagnose ID [--param NAME=VALUE]…``: run a pattern's read-only diagnostics step by step.

Each step is one API call (``step``), so progress shows while slow tools run, and
the daemon (root) runs them when it is up. Exit 0 when every step ran and none
failed its expected output, 1 otherwise, 2 for bad input.
"""

from __future__ import annotations

import shlex
import sys

from omv_copilot_agent.cli import CliError
from omv_copilot_agent.cli.client import connect
from omv_copilot_agent.cli.output import print_json
from omv_copilot_agent import probes
from omv_copilot_agent.knowledge.diagnostics import wakes_disks
from omv_copilot_agent.cli.patterns import call, check_id


def register(sub) -> None:
    parser = sub.add_parser("diagnose", help="run a pattern's read-only diagnostics and show pass/fail per step",
                            description="Run the diagnostics of one knowledge-base pattern (allowlisted read-only "
                                        "commands only) and print pass/fail per step. Solutions are never run.")
    parser.add_argument("pattern_id", metavar="ID", help="pattern id (see: omv-copilot patterns)")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="fill a placeholder, e.g. --param device=/dev/sda (repeatable)")
    parser.add_argument("--json", action="store_true", help="print all results as JSON")
    parser.set_defaults(handler=run)


def parse_params(pairs: list[str]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise CliError(f"--param must be NAME=VALUE, not {pair!r}", 2)
        params[name.strip()] = value
    return params


def shell_text(argv: list[str]) -> str:
    """argv as a line to paste into a shell: each word quoted, a bare '|' between pipeline stages."""
    from omv_copilot_agent.runner import split_pipeline

    return " | ".join(shlex.join(stage) for stage in split_pipeline(argv))


def verdict(result: dict) -> str:
    """PASS (the healthy answer shown), DONE (ran fine), PROBLEM, or COULD NOT RUN (why): the daemon's
    ``state``/``reason`` (probes/verdict.py); exit-code words for a daemon without them."""
    state, reason = result.get("state"), result.get("reason")
    if state == "could_not_run":
        return "COULD NOT RUN" + (f" ({reason.replace('_', ' ')})" if reason else "")
    if state == "problem":
        return "FAIL" if result.get("matched_expected") is False else "PROBLEM"
    if state == "ok":
        return "PASS" if result.get("matched_expected") is True else "DONE"
    if result.get("error"):
        return "TIMEOUT" if result.get("timed_out") else "ERROR"
    if result.get("matched_expected") is True:
        return "PASS"
    if result.get("matched_expected") is False:
        return "FAIL"
    return "DONE" if result.get("returncode") == 0 else f"EXIT {result.get('returncode')}"


def _wakes(diag: dict) -> bool:
    try:
        return wakes_disks(probes.get(diag.get("probe")).argv)
    except probes.UnknownProbe:
        return False


def run(args) -> int:
    params = parse_params(args.param)
    client = connect(args, announce=False)  # the header line says who answered
    pattern = call(client, "GET", f"/api/v1/knowledge/patterns/{check_id(args.pattern_id)}")
    missing = [n for n in pattern.get("parameters") or [] if n not in params]
    steps = len(pattern["diagnostics"])
    results = []
    progress = sys.stderr if args.json else sys.stdout
    if not args.json:
        print(f"{pattern['pattern_id']} — {pattern['title']} ({steps} diagnostics, answered by {client.mode})")
        if missing:
            print("  note: steps needing " + ", ".join(f"--param {n}=…" for n in missing) + " will be refused")
        waking = [str(i + 1) for i, d in enumerate(pattern["diagnostics"]) if _wakes(d)]
        if waking:
            print(f"  note: step(s) {', '.join(waking)} read the disk itself and spin it up if it sleeps")
    for i in range(steps):
        print(f"[{i + 1}/{steps}] {pattern['diagnostics'][i]['name']} …", file=progress, flush=True, end="" if not args.json else "\n")
        try:
            body = call(client, "POST", "/api/v1/assist/diagnostics",
                        body={"pattern_id": pattern["pattern_id"], "params": params, "step": i})
        except CliError:
            if not args.json:
                print(" not run", flush=True)  # end the progress line; the error gets its own line on stderr
            raise
        result = body["results"][0]
        results.append(result)
        if not args.json:
            print(f" {verdict(result)} ({result.get('duration_s', 0):.2f} s)")
            if result.get("reading"):
                print(f"      → {result['reading']}")
            print(f"      $ {shell_text(result['argv']) if result.get('argv') else result['command']}")
            detail = result.get("error") or (result.get("stdout") or result.get("stderr") or "").strip()
            for line in detail.splitlines()[:8]:
                print(f"      {line[:160]}")
    failed = sum(1 for r in results if verdict(r) not in ("PASS", "DONE"))
    if args.json:
        print_json({"pattern_id": pattern["pattern_id"], "results": results,
                    "passed": sum(1 for r in results if verdict(r) == "PASS"), "failed": failed, "answered_by": client.mode})
    else:
        could_not = sum(1 for r in results if verdict(r).startswith("COULD NOT RUN"))
        print(f"\n{steps - failed}/{steps} steps ok" + (f", {failed - could_not} found a problem" if failed - could_not else "")
              + (f", {could_not} could not run" if could_not else ""))
        print(f"Solutions: omv-copilot patterns show {pattern['pattern_id']}")
    return 1 if failed else 0
