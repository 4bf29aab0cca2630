"""Disk hot-plug: a real kernel uevent through pyudev into the disk_change alert (root only)."""

import os
import time
from pathlib import Path

import pytest

from omv_copilot_agent.collect.udev import DeviceWatcher, interesting
from tests.alerts_support import make_agent


def test_ignored_device_names():
    assert interesting("sda") and interesting("nvme0n1")
    assert not interesting("loop0") and not interesting("dm-1") and not interesting("md127") and not interesting("zram0")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to trigger a uevent")
def test_live_uevent_raises_disk_change_alert(tmp_path):
    loops = sorted(p for p in Path("/sys/block").glob("loop*"))
    if not loops:
        pytest.skip("no loop block device to send a synthetic uevent for")
    agent = make_agent(tmp_path)
    watcher = DeviceWatcher(agent.alerts.record_device_event, source="kernel", ignore=())
    if not watcher.start():
        pytest.skip(f"netlink uevents unavailable here: {watcher.error}")
    try:
        time.sleep(0.5)  # let the observer thread start polling
        dev = loops[0].name
        try:
            (loops[0] / "uevent").write_text("add")  # a synthetic 'add' uevent, nothing changes on the device
        except OSError as exc:
            pytest.skip(f"cannot write {loops[0]}/uevent: {exc}")
        deadline = time.time() + 30
        while time.time() < deadline and not agent.alerts.open_alerts():
            time.sleep(0.1)
        alerts = {a["subject"]: a for a in agent.alerts.open_alerts() if a["rule"] == "disk_change"}
        if not alerts:
            pytest.skip("the kernel did not deliver the uevent to this network namespace")
        assert f"/dev/{dev}" in alerts and "added" in alerts[f"/dev/{dev}"]["title"]
    finally:
        watcher.stop()
