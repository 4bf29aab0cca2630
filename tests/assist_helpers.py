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
