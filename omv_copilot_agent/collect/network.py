"""Source 'network': interfaces, addresses, link, speed, duplex, MTU, counters (psutil)."""

from __future__ import annotations

import re
import socket

import psutil

NAME = "network"
#: interfaces that containers, VMs, VPNs and traffic shaping create and remove on their own: a "down"
#: one is no problem of the NAS (the Dashboard hides them unless asked) and never "the" interface
#: to check (knowledge/fill.py); bonds, VLANs and OMV's own bridges (br0) are real
VIRTUAL = re.compile(r"^(lo$|ifb|veth|docker|br-|virbr|vnet|tun|tap|wg|cali|flannel|cni|kube-|podman)")
_DUPLEX = {psutil.NIC_DUPLEX_FULL: "full", psutil.NIC_DUPLEX_HALF: "half", psutil.NIC_DUPLEX_UNKNOWN: None}


def is_virtual(name) -> bool:
    """Whether an interface name is one of :data:`VIRTUAL`'s (any value: names in a snapshot are untrusted)."""
    return bool(VIRTUAL.match(str(name)))


def collect(ctx) -> dict:
    stats = psutil.net_if_stats()
    addrs = psutil.net_if_addrs()
    counters = psutil.net_io_counters(pernic=True)
    out = []
    for name in sorted(set(stats) | set(addrs)):
        st = stats.get(name)
        mac, addresses = None, []
        for a in addrs.get(name, []):
            if a.family == psutil.AF_LINK:
                mac = a.address
            elif a.family in (socket.AF_INET, socket.AF_INET6):
                addresses.append({"family": "ipv4" if a.family == socket.AF_INET else "ipv6",
                                  "address": a.address.split("%")[0], "netmask": a.netmask})
        c = counters.get(name)
        out.append({"name": name, "virtual": is_virtual(name), "up": bool(st and st.isup), "speed_mbps": (st.speed or None) if st else None,
                    "duplex": _DUPLEX.get(st.duplex) if st else None, "mtu": st.mtu if st else None, "mac": mac,
                    "addresses": addresses,
                    "counters": {k: getattr(c, k) for k in ("bytes_sent", "bytes_recv", "packets_sent", "packets_recv",
                                                            "errin", "errout", "dropin", "dropout")} if c else {}})
    return {"interfaces": out}
