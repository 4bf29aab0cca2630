"""A filesystem OMV manages that is not mounted, or any important one mounted read-only."""

from omv_copilot_agent.alerts.rules import Finding, RuleContext

NAME = "fs_state"
READONLY_BY_DESIGN = ("iso9660", "squashfs", "udf", "erofs")


def evaluate(ctx: RuleContext):
    if not ctx.source_ok("storage"):
        return None
    out = []
    for fs in ctx.snapshot.data("storage").get("filesystems") or []:
        mp = fs.get("mountpoint") or fs.get("device") or "?"
        important = fs.get("omv_managed") or mp == "/" or str(mp).startswith("/srv/")
        if fs.get("mounted") is False and fs.get("omv_managed"):
            out.append(Finding(NAME, mp, "critical", f"Filesystem {mp} is missing",
                               f"OMV expects {fs.get('device') or mp} ({fs.get('label') or fs.get('uuid') or 'no label'}) "
                               f"to be mounted, but it is not — shares on it are unavailable.",
                               {"device": fs.get("device"), "uuid": fs.get("uuid"), "omv_status": fs.get("omv_status")}))
        elif fs.get("readonly") and important and fs.get("fstype") not in READONLY_BY_DESIGN:
            out.append(Finding(NAME, mp, "critical", f"Filesystem {mp} is mounted read-only",
                               f"{mp} ({fs.get('device')}, {fs.get('fstype')}) is read-only — often the kernel "
                               f"remounted it after I/O errors; check dmesg and SMART.",
                               {"device": fs.get("device"), "fstype": fs.get("fstype")}))
    return out
