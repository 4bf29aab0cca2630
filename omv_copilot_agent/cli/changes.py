"""``omv-copilot pending`` and ``omv-copilot preflight``: before you press Apply, before you upgrade."""

from __future__ import annotations

from omv_copilot_agent.cli.client import connect
from omv_copilot_agent.cli.output import show, table


def register(sub) -> None:
    parser = sub.add_parser("pending", help="explain OMV's pending configuration changes before you apply them",
                            description="Which modules Apply will deploy, the settings that changed (in OMV's words), "
                                        "the salt states, services and files it touches, and hand edits it would overwrite.")
    parser.add_argument("--json", action="store_true", help="print the explanation as JSON")
    parser.set_defaults(handler=run_pending)
    parser = sub.add_parser("preflight", help="check a pending upgrade against this box (go / wait / no-go)",
                            description="Simulates the upgrade with apt (nothing is installed) and checks it against the "
                                        "box: kernel and DKMS modules, plugins, free space, unapplied changes, RAID, backups.")
    parser.add_argument("--release", action="store_true", help="judge a release upgrade (omv-release-upgrade)")
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")
    parser.set_defaults(handler=run_preflight)


def _get(args, path: str, params: dict | None = None) -> dict:
    client = connect(args)
    try:
        return client.get(path, params=params) if params else client.get(path)
    finally:
        client.close()


def run_pending(args) -> int:
    return show(args, _get(args, "/api/v1/changes/pending"), render_pending)


def render_pending(out: dict) -> str:
    lines = [out["summary"]]
    if out.get("changes"):
        lines += ["", "Settings changed since the last Apply"] + [f"  - {c['text']}" for c in out["changes"]]
    if out.get("modules"):
        lines.append(table(["MODULE", "SALT STATE", "SERVICES", "FILES"],
                           [[m["module"], (m["state"] or {}).get("name") or m["note"],
                             ", ".join((m["state"] or {}).get("services") or []), ", ".join((m["state"] or {}).get("files") or [])]
                            for m in out["modules"]], title="\nWhat Apply will deploy"))
    for edit in out.get("hand_edits") or []:
        lines += ["", f"! {edit['text']}"]
    if out.get("revert"):
        lines += ["", f"To undo instead: {out['revert']['ui']}, or  {out['revert']['command']}"]
    return "\n".join(lines)


def run_preflight(args) -> int:
    out = _get(args, "/api/v1/changes/preflight", {"release": "true"} if args.release else None)
    return show(args, out, render_preflight, 0 if out["verdict"] == "go" else 1)


def render_preflight(out: dict) -> str:
    lines = [out["summary"]]
    marks = {"no-go": "✗", "wait": "!", "info": "·"}
    for r in sorted(out["reasons"], key=lambda r: ("no-go", "wait", "info").index(r["level"])):
        lines.append(f"  {marks[r['level']]} [{r['level']}] {r['text']}" + (f"  (pattern {r['pattern_id']})" if r.get("pattern_id") else ""))
    touched = {k: v for k, v in out["touches"].items() if v}
    if touched:
        lines += ["", "The upgrade touches: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in touched.items())]
    lines += ["", "Rollback plan"] + [f"  - {step}" for step in out["rollback"]]
    return "\n".join(lines)
