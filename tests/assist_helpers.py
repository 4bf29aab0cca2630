"""Shared bits for the assist tests: the fixture snapshot, an Agent wired to a fake LLM, a strict Mermaid check."""

from __future__ import annotations

import json
import re
from pathlib import Path

FIXTURE = Path(__file__).parent / "fixtures" / "assist" / "snapshot.json"

#: Private values in the fixture snapshot that must never reach an LLM.
PRIVATE = ["192.168.178.23", "192.168.178.40", "192.168.178.41", "fd00::3e7c:3fff:fe1a:2b4c", "3c:7c:3f:1a:2b:4c",
           "WD-WCC7K4XJ1234", "ZDH8QW3R", "0x50014ee2b5c1d2e3", "0x5000c500a1b2c3d4", "keller-nas", "fritz.box",
           "anna", "bernd", "anna.keller@example.org", "Geheim123"]


def fixture_snapshot():
    from omv_copilot_agent.collect import Snapshot

    return Snapshot.from_dict(json.loads(FIXTURE.read_text()))


def make_agent(make_config, providers=(), snapshot=True, **assist):
    """An Agent with the fixture snapshot and ``assist.providers`` (no collection)."""
    from omv_copilot_agent.collect import Collector
    from omv_copilot_agent.daemon.agent import Agent

    config, _ = make_config({"assist": {"providers": list(providers), **assist}})
    agent = Agent(config, collector=Collector(config, sources=("system",)))
    if snapshot:
        agent.snapshot = fixture_snapshot()
    return agent


def realistic_sections(scale: int = 1) -> dict:
    """A busy home NAS: many shares, users, jobs, disks, units and journal lines (each context's
    most relevant section alone is larger than the default 5,000-character budget)."""
    n = 14 * scale
    disks = [{"device": f"/dev/sd{chr(97 + i % 26)}{i // 26 or ''}", "model": "WDC WD40EFRX-68N32N0", "size": 4000787030016,
              "serial": f"WD-WCC7K{i:07d}", "rotational": True, "temperature": 31 + i % 9, "passed": i != 3,
              "attributes": [{"id": 5, "name": "Reallocated_Sector_Ct", "raw": 0 if i != 3 else 112},
                             {"id": 9, "name": "Power_On_Hours", "raw": 21000 + i}]} for i in range(n)]
    return {
        "system": {"hostname": "nas", "kernel": "6.1.0-26-amd64", "cpu": {"percent": 97.5, "load": [3.1, 2.8, 2.5],
                   "per_core": [90.0 + i % 10 for i in range(8)]}, "memory": {"percent": 91.0, "total": 4 << 30},
                   "processes": [{"pid": 1000 + i, "name": f"worker-{i}", "cpu": 12.5, "rss": 123456789} for i in range(6 * n)]},
        "storage": {"raid": [{"device": "/dev/md0", "level": "raid5", "state": "clean, degraded", "members": [d["device"] for d in disks[:4]]}],
                    "filesystems": [{"devicefile": f"/dev/md{i}", "mountpoint": f"/srv/dev-disk-by-uuid-{i:08x}-aaaa-bbbb-cccc-{i:012x}",
                                     "type": "ext4", "percent": 97 if i == 0 else 40 + i, "size": 8 << 40} for i in range(2 * n)],
                    "block_devices": disks},
        "smart": {"disks": disks},
        "services": {"units": [{"unit": f"svc-{i}.service", "name": f"svc-{i}", "active_state": "failed" if i == 0 else "active",
                                "sub_state": "running", "enabled_in_omv": True, "description": "A service the admin installed"}
                               for i in range(4 * n)]},
        "network": {"interfaces": [{"name": f"eth{i}", "addresses": [f"192.168.1.{10 + i}/24", f"fd00::{i:x}/64"], "mtu": 1500,
                                    "speed": 1000, "up": i != 1, "rx_errors": i * 3, "mac": f"3c:7c:3f:1a:2b:{i:02x}",
                                    "gateway": "192.168.1.1", "dns": ["192.168.1.1", "9.9.9.9"]} for i in range(4 * n)]},
        "logs": {"counts": {"err": 4 * n, "warning": 2 * n},
                 "entries": [{"ts": 1764799940.0 + i, "unit": "kernel", "priority": 3,
                              "message": f"ata{i % 4 + 1}.00: failed command: READ FPDMA QUEUED (entry {i})"} for i in range(6 * n)]},
        "omv": {"version": "7.7.21-1", "reboot_required": False,
                "shared_folders": [{"name": f"share-{i}", "reldirpath": f"share-{i}/"} for i in range(4 * n)],
                "smb_shares": [{"sharedfolder": f"share-{i}", "comment": "family photos and documents", "guest": "no"} for i in range(4 * n)],
                "users": [{"name": f"user{i}", "uid": 1000 + i, "groups": ["users"], "email": f"user{i}@example.org"} for i in range(3 * n)],
                "cron_jobs": [{"command": f"/usr/local/bin/backup-{i}.sh", "hour": i % 24, "enable": True} for i in range(2 * n)],
                "rsync_jobs": [{"src": f"share-{i}", "dest": f"backup-{i}", "mode": "push"} for i in range(2 * n)]},
        "apt": {"upgradable": [{"package": f"libfoo{i}", "version": f"1.{i}-1+deb12u1"} for i in range(4 * n)]},
    }


def with_state(agent, sections: dict) -> None:
    """Give ``agent`` a snapshot holding these source sections (all collected fine)."""
    from omv_copilot_agent.collect.base import SourceResult

    agent.snapshot.sources = {name: SourceResult(name=name, status="ok", data=data) for name, data in sections.items()}


_NODE = re.compile(r'^    ([A-Z]\d+)(\["[^"\n]*"\]|\{"[^"\n]*"\})$')
_EDGE = re.compile(r"^    ([A-Z]\d+) --> ([A-Z]\d+)$")


def check_mermaid(text: str) -> list[str]:
    """Strict check of the flowchart subset we emit; returns node ids in order (raises AssertionError)."""
    lines = text.rstrip("\n").split("\n")
    assert lines[0] == "flowchart TD", lines[0]
    nodes, edges = [], []
    for line in lines[1:]:
        node, edge = _NODE.match(line), _EDGE.match(line)
        assert node or edge, f"not a Mermaid node or edge: {line!r}"
        if node:
            assert node.group(1) not in nodes, f"node defined twice: {line!r}"
            nodes.append(node.group(1))
        else:
            assert edge.group(1) in nodes and edge.group(2) in nodes, f"edge to an undefined node: {line!r}"
            edges.append((edge.group(1), edge.group(2)))
    # one path: every node but the first has exactly one incoming edge
    assert sorted(b for _, b in edges) == sorted(nodes[1:]), edges
    return nodes
