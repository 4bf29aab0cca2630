"""Source 'services': systemd state of OMV-relevant units, and whether OMV enabled them.

A unit OMV has disabled (say NFS) is not "down"; ``enabled_in_omv`` tells the
difference. It comes from the ``omv`` source's ``services`` of the same cycle.
"""

from __future__ import annotations

from omv_copilot_agent import runner
from omv_copilot_agent.collect.base import Degraded, Unavailable

NAME = "services"

#: systemd unit -> OMV service name (Services.getStatus "name") or None
UNITS: dict[str, str | None] = {
    "smbd.service": "samba", "nmbd.service": "samba", "nfs-server.service": "nfs", "ssh.service": "ssh",
    "nginx.service": None, "php8.2-fpm.service": None, "openmediavault-engined.service": None,
    "cron.service": None, "postfix.service": None, "rsync.service": "rsyncd", "docker.service": None,
    "chrony.service": None, "smartmontools.service": None, "mdmonitor.service": None,
    "systemd-journald.service": None, "collectd.service": None, "monit.service": None,
}


def parse_show(text: str) -> list[dict]:
    """``systemctl show -p Id,ActiveState,SubState,LoadState u1 u2 …`` → one dict per unit."""
    units, current = [], {}
    for line in text.splitlines() + [""]:
        if not line.strip():
            if current:
                units.append(current)
                current = {}
            continue
        key, _, value = line.partition("=")
        current[key] = value
    return units


def collect(ctx) -> dict:
    if not runner.which("systemctl"):
        raise Unavailable("systemctl not found (not a systemd box)")
    res = runner.run(["systemctl", "show", "-p", "Id,ActiveState,SubState,LoadState", *UNITS], timeout=15)
    if not res.ok and not res.stdout and "not been booted with systemd" in res.stderr:
        raise Unavailable("systemd is not running (PID 1 is not systemd)")
    if not res.ok and not res.stdout:
        raise Degraded(f"systemctl show failed: {res.error or res.stderr.strip()[:200]}", {"units": []})
    omv_services = {s.get("name"): s for s in ctx.source("omv").get("services") or [] if isinstance(s, dict)}
    units = []
    for row, unit in zip(parse_show(res.stdout), UNITS):
        if row.get("LoadState") == "not-found":
            continue
        omv_name = UNITS[unit]
        enabled = omv_services[omv_name].get("enabled") if omv_name in omv_services else None
        units.append({"name": unit.removesuffix(".service"), "unit": unit, "active_state": row.get("ActiveState"),
                      "sub_state": row.get("SubState"), "enabled_in_omv": enabled, "omv_name": omv_name})
    return {"units": units}
