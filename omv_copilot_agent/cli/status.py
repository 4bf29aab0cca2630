"""``omv-copilot status``: findings, services, disks, filesystems, RAID and SMART at a glance."""

from __future__ import annotations

from omv_copilot_agent.cli.client import connect
from omv_copilot_agent.cli.output import human_bytes, show, table


def register(sub) -> None:
    parser = sub.add_parser("status", help="show the health of this box",
                            description="Show services, disks, filesystems, RAID and SMART. Uses the daemon "
                                        "when it runs, otherwise collects in this process.")
    parser.add_argument("--json", action="store_true", help="print the full status as JSON")
    parser.set_defaults(handler=run)


def run(args) -> int:
    client = connect(args, announce=False)  # render() says who answered
    try:
        status = client.get("/api/v1/system/status")
    finally:
        client.close()
    status["answered_by"] = client.mode
    if client.mode != "daemon":
        status["answered_by_reason"] = getattr(client, "why", None)
    return show(args, status, render)


def render(status: dict) -> str:
    sources = status.get("sources", {})

    def data(name):
        return (sources.get(name) or {}).get("data") or {}

    system = data("system")
    out = []
    origin = ("daemon" if status.get("answered_by") == "daemon"
              else f"collected now, not by the daemon ({status.get('answered_by_reason') or 'it is not running'})")
    out.append(f"{system.get('hostname', '?')} — {system.get('os', '?')}, OMV {system.get('omv_version') or 'not installed'}"
               f" — overall {status.get('overall')} — {origin}, snapshot {status.get('snapshot', {}).get('age_s')} s old")
    found = (status.get("summary") or {}).get("findings") or []
    order = {"critical": 0, "warning": 1, "info": 2}
    out.append(table(["SEVERITY", "FINDING", "SUBJECT", "WHAT"],
                     [[f.get("severity"), f.get("id"), f.get("subject"), f.get("text")]
                      for f in sorted(found, key=lambda f: order.get(f.get("severity"), 3))],
                     title="\nFindings"))
    out.append(table(["SOURCE", "STATUS", "TIME", "REASON"],
                     [[n, s.get("status"), f"{s.get('duration_s', 0):.2f}s", s.get("reason") or ""] for n, s in sources.items()],
                     title="\nSources"))
    units = data("services").get("units", [])
    out.append(table(["SERVICE", "STATE", "OMV"],
                     [[u.get("name"), f"{u.get('active_state')}/{u.get('sub_state')}",
                       {True: "enabled", False: "disabled", None: "-"}[u.get("enabled_in_omv")]] for u in units],
                     title="\nServices"))
    filesystems = data("storage").get("filesystems", [])
    out.append(table(["MOUNTPOINT", "DEVICE", "TYPE", "SIZE", "USED", "USE%", "STATE"],
                     [[f.get("mountpoint") or "-", f.get("device"), f.get("fstype"), human_bytes(f.get("total")),
                       human_bytes(f.get("used")), f"{f['percent']:.0f}%" if f.get("percent") is not None else "-",
                       "ro" if f.get("readonly") else ("not mounted" if f.get("mounted") is False else "rw")] for f in filesystems],
                     title="\nFilesystems"))
    devices = data("storage").get("block_devices", [])
    smart = {d.get("device"): d for d in data("smart").get("disks", [])}
    rows = []
    for dev in devices:
        s = smart.get(dev.get("devnode"), {})
        health = {True: "PASSED", False: "FAILED", None: "-"}[s.get("passed")] if s else "-"
        rows.append([dev.get("devnode"), dev.get("model"), dev.get("bus"), human_bytes(dev.get("size")),
                     "HDD" if dev.get("rotational") else "SSD", health,
                     f"{s['temperature_c']} °C" if s.get("temperature_c") is not None else "-"])
    out.append(table(["DISK", "MODEL", "BUS", "SIZE", "KIND", "SMART", "TEMP"], rows, title="\nDisks"))
    raid = data("storage").get("raid", [])
    if raid:
        out.append(table(["ARRAY", "LEVEL", "STATE", "DEVICES", "ACTION"],
                         [[r.get("name"), r.get("level"), r.get("state"), f"{r.get('devices_active')}/{r.get('devices_total')}",
                           (f"{r.get('action')} {r.get('progress_percent')}%" if r.get("action") else "")] for r in raid],
                         title="\nRAID"))
    return "\n".join(out)
