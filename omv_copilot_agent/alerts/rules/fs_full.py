"""Filesystem usage at or over the disk usage warning/critical percentage (node_exporter/Netdata style)."""

from omv_copilot_agent.alerts.rules import Condition, RuleContext, human_bytes

NAME = "fs_full"
FINDINGS = ("filesystem-full",)


def evaluate(ctx: RuleContext):
    if not ctx.source_ok("storage"):
        return None
    out = []
    for f in ctx.found(*FINDINGS):
        e, mp = f.evidence, f.subject
        out.append(Condition(NAME, mp, f.severity, f"Filesystem {mp} is {e['percent']:.0f}% full",
                             f"{mp} ({e.get('device')}) uses {e['percent']:.1f}% — {human_bytes(e.get('free'))} free of "
                             f"{human_bytes(e.get('total'))} (threshold {f.threshold:g}%).",
                             {"percent": e["percent"], "free": e.get("free"), "total": e.get("total"), "device": e.get("device")}))
    return out
