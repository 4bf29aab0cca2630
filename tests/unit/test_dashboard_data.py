"""The data the Dashboard's cards read: the last self-test from real smartctl captures, metric
buckets for the time-range picker, and which interfaces are virtual."""

from __future__ import annotations

import pytest

from omv_copilot_agent.collect.network import VIRTUAL
from omv_copilot_agent.store.metrics import bucketed
from tests.alerts_support import smart_disk


@pytest.mark.parametrize("fixture, expected", [
    ("smart-fail2.json", {"type": "Short offline", "status": "Completed without error", "passed": True, "lifetime_hours": 42}),
    ("smart-megaraid1.json", {"type": "Short offline", "status": "Aborted by host", "passed": None, "lifetime_hours": 35990}),
    ("smart-nvme.json", None),   # no self-test log in the capture
    ("smart-fail.json", None),   # an unreadable device
])
def test_last_self_test_from_real_captures(fixture, expected):
    assert smart_disk(fixture, "/dev/sdx")["last_self_test"] == expected


def test_last_self_test_survives_a_quick_read():
    from omv_copilot_agent.collect.smart import _merge_quick

    full = smart_disk("smart-fail2.json", "/dev/sdb")
    quick = {**full, "last_self_test": None, "temperature_c": 30}
    merged = _merge_quick(full, quick)
    assert merged["last_self_test"]["lifetime_hours"] == 42 and merged["temperature_c"] == 30


def test_bucketed_averages_per_step_at_the_bucket_middle():
    points = [(0, 1.0), (10, 3.0), (60, 5.0), (119, 7.0), (200, 9.0)]
    assert bucketed(points, 60) == [(30, 2.0), (90, 6.0), (210, 9.0)]
    assert bucketed(points, 0) == points and bucketed([], 60) == []


@pytest.mark.parametrize("name", ["lo", "ifb0", "ifb1", "veth3f2a1b0", "docker0", "br-5e1c2d3a4b5f", "virbr0", "wg0", "tun0"])
def test_container_and_shaper_interfaces_are_virtual(name):
    assert VIRTUAL.match(name)


@pytest.mark.parametrize("name", ["eth0", "enp3s0", "wlan0", "bond0", "eth0.10", "br0", "end0", "lowpan0"])
def test_nas_interfaces_are_real(name):
    assert not VIRTUAL.match(name)
