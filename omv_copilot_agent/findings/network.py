"""Network interfaces (source ``network``); the loopback and down ports are never findings."""

from __future__ import annotations

from omv_copilot_agent.findings.base import Finding, SnapshotView, number
from omv_copilot_agent.findings.thresholds import Thresholds

FINDINGS = {
    "nic-errors": "an interface counts more receive errors than the limit",
    "nic-drops": "an interface dropped more received packets than the limit",
    "link-slow": "an up interface negotiated the slow-link speed or less",
    "link-half-duplex": "an up interface runs at half duplex",
    "jumbo-frames": "an up interface uses an MTU above 1500 (every device on the path must agree)",
}


def check(view: SnapshotView, t: Thresholds) -> list[Finding]:
    out = []
    for nic in view.items("network", "interfaces"):
        name = str(nic.get("name") or "?")
        if name == "lo":
            continue
        counters = nic.get("counters") if isinstance(nic.get("counters"), dict) else {}
        errors, drops = number(counters.get("errin")), number(counters.get("dropin"))
        if errors is not None and errors > t.nic_errors_max:
            out.append(Finding("nic-errors", "warning", name, f"{name}: {errors:g} receive errors", {"errin": errors}, t.nic_errors_max))
        if drops is not None and drops > t.nic_drops_max:
            out.append(Finding("nic-drops", "info", name, f"{name}: {drops:g} received packets dropped", {"dropin": drops}, t.nic_drops_max))
        if nic.get("up") is not True:
            continue
        speed, mtu = number(nic.get("speed_mbps")), number(nic.get("mtu"))
        if speed is not None and 0 < speed <= t.slow_link_mbps:
            out.append(Finding("link-slow", "info", name, f"{name} linked at {speed:g} Mb/s", {"speed_mbps": speed}, t.slow_link_mbps))
        if nic.get("duplex") == "half":
            out.append(Finding("link-half-duplex", "warning", name, f"{name} runs at half duplex", {"duplex": "half"}))
        if mtu is not None and mtu > 1500:
            out.append(Finding("jumbo-frames", "info", name, f"{name} uses MTU {mtu:g}", {"mtu": mtu}, 1500))
    return out
