"""A network interface the question names: the one its commands take, and said when the box lacks it.

Found by the fourteenth review (docs/review-2026-12-07-fourteenth.md): "eth1 link speed is only 100Mb/s" on a
box whose one port is eth0 was answered with ``ethtool eth0`` and not a word that the box has no eth1.
"""

from __future__ import annotations

from omv_copilot_agent.assist import kb_answer
from omv_copilot_agent.knowledge import fill


class _Box:
    """A box whose network reading (read in full, or not) lists these interfaces, all up."""

    def __init__(self, names, status="ok"):
        self._network = {"interfaces": [{"name": n, "up": True} for n in names]}
        self._status = status

    def status(self, name):
        return self._status if name == "network" else None

    def data(self, name):
        return self._network if name == "network" else {}


def _match(pid: str, score: float) -> dict:
    return {"pattern_id": pid, "title": pid, "category": "performance", "score": score, "reasons": ["words: stub"],
            "pattern": {"causes": ["a cause"], "symptoms": ["a symptom"],
                        "solutions": [{"action": "Check the link", "command": "ethtool {interface}", "risk": "read-only"}]}}


def test_the_interface_the_question_names_fills_the_command_even_when_the_box_lacks_it():
    assert fill.command_values("ethtool {interface}", "eth1 link speed is only 100Mb/s", _Box(["eth0"])) == \
        {"interface": "eth1"}
    # the box's only port still fills a question naming none
    assert fill.command_values("ethtool {interface}", "my link speed is only 100Mb/s", _Box(["eth0"])) == \
        {"interface": "eth0"}


def test_an_interface_the_box_lacks_is_said():
    q = "eth1 link speed is only 100Mb/s"
    text = kb_answer.compose(q, "performance", [_match("slow-transfer-link-speed", 0.8)], [], "stub",
                             _Box(["eth0", "docker0"]))["analysis"]
    assert "This box shows no network interface eth1 right now (its interfaces: eth0): check the name" in text, text
    # the box has it, or its network was not read in full: nothing said
    for box in (_Box(["eth0", "eth1"]), _Box(["eth0"], status="degraded")):
        text = kb_answer.compose(q, "performance", [_match("slow-transfer-link-speed", 0.8)], [], "stub", box)["analysis"]
        assert "This box shows no" not in text, text


def test_interface_names_as_users_write_them():
    assert fill.interfaces_named("enp3s0 and eno1 drop, ens18 too; wlan0, wlp2s0, bond0, br0, eth0.10, EM1") == \
        ["enp3s0", "eno1", "ens18", "wlan0", "wlp2s0", "bond0", "br0", "eth0.10", "em1"]
    # words, addresses and paths that only look alike
    assert fill.interfaces_named("my enclosure1 method2 10.0.0.1 /dev/sdb1 eth-cable ethernet en1 raid10") == []
