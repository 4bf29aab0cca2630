"""Services, OMV's own state, pending updates and log lines (sources ``services``, ``omv``, ``apt``, ``logs``)."""

from __future__ import annotations

import re

from omv_copilot_agent.findings.base import Finding, SnapshotView, number
from omv_copilot_agent.findings.thresholds import Thresholds

FINDINGS = {
    "service-down": "a service enabled in OMV is not running",
    "core-unit-down": "a unit OMV's web UI needs (engined, nginx, php-fpm) is not active",
    "unit-failed": "a watched systemd unit is in the failed state",
    "config-dirty": "settings saved in OMV's web UI are not applied",
    "omv-file-edited": "a file OMV generates was changed outside an Apply (the next Apply overwrites it)",
    "reboot-required": "OMV says the box needs a reboot (new kernel or libraries)",
    "security-updates": "security updates are pending (at least the configured count)",
    "ssh-password-failures": "the logs show failed SSH password logins",
    "mail-delivery-errors": "the logs show postfix failing to deliver mail",
}
CORE_UNITS = ("openmediavault-engined.service", "nginx.service", "php8.2-fpm.service")
LOG_PATTERNS = {
    "ssh-password-failures": ("ssh", "info", re.compile(r"Failed password for", re.I)),
    "mail-delivery-errors": ("postfix", "warning", re.compile(r"SASL authentication failed|Relay access denied|status=deferred", re.I)),
}


def check(view: SnapshotView, t: Thresholds) -> list[Finding]:
    return [*_units(view), *_omv(view), *_omv_files(view), *_apt(view, t), *_logs(view)]


def _omv_files(view: SnapshotView) -> list[Finding]:
    return [Finding("omv-file-edited", "warning", str(e.get("file")), str(e.get("text")),
                    {"file": e.get("file"), "module": e.get("module"), "durable_way": e.get("durable_way"), "source": "omv_files"})
            for e in view.items("omv_files", "edited") if isinstance(e, dict)]


def _units(view: SnapshotView) -> list[Finding]:
    out, down = [], set()
    for u in view.items("services", "units"):
        unit, state = u.get("unit") or u.get("name"), u.get("active_state")
        facts = {"unit": unit, "active_state": state, "sub_state": u.get("sub_state")}
        if u.get("enabled_in_omv") is True and state not in ("active", None):
            name = str(u.get("omv_name") or u.get("name"))
            down.add(name)
            out.append(Finding("service-down", "critical", name, f"{name} is enabled in OMV but {unit} is {state}/{u.get('sub_state')}",
                               {**facts, "source": "services"}))
        if unit in CORE_UNITS and state not in ("active", None):
            out.append(Finding("core-unit-down", "critical", str(unit), f"{unit} is {state}", facts))
        if state == "failed":
            out.append(Finding("unit-failed", "warning", str(unit), f"{unit} failed", facts))
    for s in view.items("omv", "services"):
        if s.get("enabled") and s.get("running") is False and s.get("name") not in down:
            name = str(s.get("name"))
            out.append(Finding("service-down", "critical", name, f"{s.get('title') or name} is enabled in OMV but not running",
                               {"source": "omv", "title": s.get("title")}))
    return out


def _omv(view: SnapshotView) -> list[Finding]:
    omv = view.data("omv")
    out = []
    if omv.get("config_dirty") is True:
        mods = omv.get("dirty_modules") or []
        out.append(Finding("config-dirty", "warning", "omv", "OMV configuration changes are not applied" +
                           (f" (modules: {', '.join(map(str, mods))})" if mods else ""), {"dirty_modules": mods}))
    if omv.get("reboot_required") is True:
        out.append(Finding("reboot-required", "info", "omv", "OMV reports a reboot is required", {}))
    return out


def _apt(view: SnapshotView, t: Thresholds) -> list[Finding]:
    apt = view.data("apt")
    n = number(apt.get("security_count"))
    if n is None or n < t.security_updates_min:
        return []
    names = [p.get("name") for p in view.items("apt", "pending") if p.get("security")][:10]
    return [Finding("security-updates", "warning", "apt", f"{n:g} security update(s) pending",
                    {"security_count": int(n), "packages": names}, t.security_updates_min)]


def _logs(view: SnapshotView) -> list[Finding]:
    entries = view.items("logs", "entries")
    out = []
    for fid, (subject, severity, pattern) in LOG_PATTERNS.items():
        lines = [str(e.get("message")) for e in entries if isinstance(e.get("message"), str) and pattern.search(e["message"])]
        if lines:
            out.append(Finding(fid, severity, subject, f"{len(lines)} log line(s) like: {lines[-1][:120]}",
                               {"count": len(lines), "last": lines[-1][:200]}))
    return out
