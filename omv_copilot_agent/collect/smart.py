"""Source 'smart': ``smartctl --json`` per disk (ATA attributes, NVMe health log, SCSI)."""

from __future__ import annotations

import json

from omv_copilot_agent import runner
from omv_copilot_agent.collect.base import Degraded, Unavailable

NAME = "smart"


def _protocol(doc: dict) -> str | None:
    proto = ((doc.get("device") or {}).get("protocol") or "").upper()
    return {"ATA": "ATA", "NVME": "NVMe", "SCSI": "SCSI"}.get(proto, proto or None)


def parse(doc: dict, device: str | None = None) -> dict:
    """One ``smartctl --json -a`` document → the snapshot's disk entry."""
    dev = doc.get("device") or {}
    status = doc.get("smart_status") or {}
    temp = (doc.get("temperature") or {}).get("current")
    poh = (doc.get("power_on_time") or {}).get("hours")
    nvme_log = doc.get("nvme_smart_health_information_log")
    if temp is None and nvme_log:
        temp = nvme_log.get("temperature")
    if poh is None and nvme_log:
        poh = nvme_log.get("power_on_hours")
    attrs = []
    for row in (doc.get("ata_smart_attributes") or {}).get("table") or []:
        attrs.append({"id": row.get("id"), "name": row.get("name"), "value": row.get("value"),
                      "worst": row.get("worst"), "thresh": row.get("thresh"),
                      "raw": (row.get("raw") or {}).get("value"), "when_failed": row.get("when_failed") or None})
    nvme = None
    if nvme_log:
        nvme = {k: nvme_log.get(k) for k in ("critical_warning", "media_errors", "percentage_used",
                                              "available_spare", "available_spare_threshold")}
    error = None
    messages = [m.get("string") for m in (doc.get("smartctl") or {}).get("messages") or [] if m.get("severity") == "error"]
    exit_status = (doc.get("smartctl") or {}).get("exit_status", 0)
    if "passed" not in status and (messages or exit_status & 0b11):
        error = "; ".join(m for m in messages if m) or f"smartctl exit status {exit_status}"
    return {"device": device or dev.get("name"), "model": doc.get("model_name") or doc.get("scsi_model_name") or doc.get("model_family"),
            "serial": doc.get("serial_number"), "protocol": _protocol(doc),
            "passed": status.get("passed"), "temperature_c": temp, "power_on_hours": poh,
            "attributes": attrs, "nvme": nvme, "error": error}


def scan(timeout: float) -> list[tuple[str, str | None]]:
    res = runner.run(["smartctl", "--scan-open", "--json"], timeout=timeout)
    if res.error and res.returncode is None:
        raise Unavailable("smartctl not found (install smartmontools)" if "not installed" in res.error else res.error)
    try:
        devices = json.loads(res.stdout).get("devices") or []
    except ValueError:
        raise Degraded(f"smartctl --scan-open returned invalid JSON: {res.stdout[:80]!r}") from None
    return [(d["name"], d.get("type")) for d in devices if d.get("name")]


def read_disk(name: str, dtype: str | None, timeout: float) -> dict:
    argv = ["smartctl", "--json", "-a", name] + (["-d", dtype] if dtype else [])
    res = runner.run(argv, timeout=timeout)
    if res.timed_out or (res.error and res.returncode is None):
        return {"device": name, "protocol": None, "passed": None, "attributes": [], "nvme": None, "error": res.error}
    try:
        doc = json.loads(res.stdout)
    except ValueError:
        return {"device": name, "protocol": None, "passed": None, "attributes": [], "nvme": None,
                "error": f"unreadable: {res.stderr.strip()[:200] or 'no JSON from smartctl'}"}
    return parse(doc, name)


def collect(ctx) -> dict:
    if not runner.which("smartctl"):
        raise Unavailable("smartctl not found (install smartmontools)")
    timeout = min(30.0, float(ctx.config.get_path("collect.source_timeout_s", 20)))
    disks = [read_disk(name, dtype, timeout) for name, dtype in scan(timeout)]
    data = {"disks": disks}
    bad = [d["device"] for d in disks if d.get("error")]
    if bad:
        raise Degraded(f"could not read SMART of {', '.join(bad)}", data)
    return data
