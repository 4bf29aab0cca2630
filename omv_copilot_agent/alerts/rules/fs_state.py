"""A filesystem OMV manages that is not mounted, or any important one mounted read-only."""

from omv_copilot_agent.alerts.rules import Condition, RuleContext

NAME = "fs_state"
FINDINGS = ("filesystem-missing", "filesystem-read-only")


def evaluate(ctx: RuleContext):
    if not ctx.source_ok("storage"):
        return None
    out = {}
    for f in ctx.found(*FINDINGS):
        e, mp = f.evidence, f.subject
        if mp in out:
            continue
        if f.id == "filesystem-missing":
            out[mp] = Condition(NAME, mp, "critical", f"Filesystem {mp} is missing",
                                f"OMV expects {e.get('device') or mp} ({e.get('label') or e.get('uuid') or 'no label'}) "
                                f"to be mounted, but it is not — shares on it are unavailable.",
                                {"device": e.get("device"), "uuid": e.get("uuid"), "omv_status": e.get("omv_status")})
        else:
            out[mp] = Condition(NAME, mp, "critical", f"Filesystem {mp} is mounted read-only",
                                f"{mp} ({e.get('device')}, {e.get('fstype')}) is read-only — often the kernel "
                                f"remounted it after I/O errors; check dmesg and SMART.",
                                {"device": e.get("device"), "fstype": e.get("fstype")})
    return list(out.values())
