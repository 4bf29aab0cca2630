"""The disk, partition, pool and target placeholders of the storage and install patterns (fourteenth session):
filled from what the question names (or, for a check, the box's only candidate), asked for otherwise; a disk
that a command writes over (grub-install, dd) is never filled, whatever the question or the box says."""

from __future__ import annotations

import copy

from omv_copilot_agent.collect.snapshot import SourceResult
from omv_copilot_agent.knowledge import fill
from tests.assist_helpers import fixture_snapshot
from tests.integration import test_assist_fill

srv = test_assist_fill.srv  # the fixture: a KB-only server on the fixture box, its snapshot edited or not


def _actions(server, query, pattern_id):
    resp = server.post("/api/v1/assist/query", json={"query": query, "mode": "kb_only"})
    assert resp.status_code == 200, resp.text
    answer = resp.json()
    assert answer["matched_patterns"][0]["pattern_id"] == pattern_id, answer["matched_patterns"]
    return answer["recommended_actions"]


def _row(rows, start):
    found = [r for r in rows if r.get("command", "").startswith(start)]
    assert len(found) == 1, rows
    return found[0]


def _storage(**changes):
    """An edit of the fixture box's storage reading."""
    def edit(snap):
        storage = copy.deepcopy(snap.sources["storage"].data)
        storage.update(changes)
        snap.sources["storage"] = SourceResult(name="storage", status="ok", data=storage)
    return edit


def test_the_disk_the_question_names_gets_the_long_self_test(srv):
    row = _row(_actions(srv(), "sdc is throwing I/O errors", "disk-io-errors-kernel-log"), "smartctl -t long")
    assert row["command"] == "smartctl -t long /dev/sdc" and row["needs"] == [] and row["params"] == {"device": "/dev/sdc"}, row


def test_the_partition_the_question_names_is_the_one_checked(srv):
    server = srv()
    rows = _actions(server, "/dev/sdb1 will not mount, fsck needed", "fs-mount-fails-needs-fsck")
    row = _row(rows, "umount")
    assert row["command"] == "umount /dev/sdb1 && e2fsck -f /dev/sdb1" and row["risk"] == "data-risk", row
    assert row["params"] == {"partition": "/dev/sdb1"} and row["needs"] == []
    assert "For XFS run xfs_repair /dev/sdb1;" in row["explanation"]  # the explanation names the same partition
    assert _row(rows, "e2fsck -b")["command"] == "e2fsck -b 32768 /dev/sdb1"
    # and the SMART check goes to the partition's disk, not the box's one failing disk or only disk
    answer = server.post("/api/v1/assist/query", json={"query": "/dev/sdb1 will not mount, fsck needed",
                                                       "mode": "kb_only"}).json()
    smart = [d for d in answer["suggested_diagnostics"] if d["command"].startswith("smartctl")]
    assert smart and smart[0]["command"].endswith("/dev/sdb"), smart


def test_a_partition_names_its_disk_for_a_check_never_for_a_data_risk_command():
    assert fill.candidates("nvme0n1p2 and mmcblk0p1 and vda3 fail", None)["device"] == [
        "/dev/nvme0n1", "/dev/mmcblk0", "/dev/vda"]
    snap = fixture_snapshot()  # md0 lost sdb: the box's one candidate disk
    assert fill.command_values("smartctl -a {device}", "sdc1 is read-only", snap) == {"device": "/dev/sdc"}
    # "wipe sdc1" is no wipe of the whole sdc, nor of the box's sdb: a data-risk command asks
    assert fill.command_values("wipefs -a {device}", "wipe sdc1", snap, strict=True) == {}
    assert fill.command_values("wipefs -a {device}", "wipe sdc", snap, strict=True) == {"device": "/dev/sdc"}


def test_no_partition_named_keeps_the_fsck_asking(srv):
    """The box lists its file systems, but not which one "my data disk" is: the data-risk fsck asks, even on a
    box whose one OMV file system is not mounted, and a disk name (sdb) is no partition."""
    server = srv(_storage(filesystems=[{"device": "/dev/sdb1", "mountpoint": "/srv/dev-disk-by-uuid-1", "fstype": "ext4",
                                        "mounted": False, "omv_managed": True, "readonly": None}]))
    for query in ("my data disk will not mount, fsck needed", "sdb will not mount, fsck needed"):
        row = _row(_actions(server, query, "fs-mount-fails-needs-fsck"), "umount")
        assert row["command"] == "umount {partition} && e2fsck -f {partition}", (query, row)
        assert row["needs"] == ["partition"] and row["params"] == {}, row
    # two partitions named: which one is not guessed
    assert fill.command_values("e2fsck -f {partition}", "sdb1 and sdc1 will not mount", None, strict=True) == {}


def test_a_disk_a_command_writes_over_is_never_filled(srv):
    """grub-install and dd write to a whole disk: a wrong one is destroyed, so the answer always asks, even when
    the question names a disk and the box has one disk failing or only one disk."""
    row = _row(_actions(srv(), "grub rescue after adding data disks, the OS disk is /dev/sda", "grub-install-device-wrong"),
               "grub-install")
    assert row["command"] == "grub-install {target_disk} && update-grub" and row["needs"] == ["target_disk"], row
    row = _row(_actions(srv(), "no cd-rom device found when installing omv from usb stick /dev/sdb",
                        "iso-installer-cdrom-network"), "sudo dd")
    assert row["command"] == "sudo dd if=openmediavault.iso of={target_disk} bs=4096" and row["needs"] == ["target_disk"], row
    snap = fixture_snapshot()
    for command in ("grub-install {target_disk}", "dd if=x.img of={target_disk}"):
        assert fill.command_values(command, "/dev/sda is the one", snap) == {}
        assert fill.apply_command(command, {"target_disk": "/dev/sda", "device": "/dev/sda"}) == (command, ["target_disk"])


def test_a_malicious_value_never_fills_a_partition():
    command = "umount {partition} && e2fsck -f {partition}"
    for bad in ("/dev/sdb1;reboot", "/dev/sdb1 /dev/sda1", "$(reboot)", "-/dev/sdb1", "/dev/sdb1\n", "/dev/sdb",
                "/dev/../etc/shadow", "/dev/sdb1`id`", "sdb1"):
        assert fill.apply_command(command, {"partition": bad}) == (command, ["partition"]), bad
    # from a question only the name comes through
    filled = fill.command_values(command, "fsck /dev/sdb1;rm -rf / $(reboot) `id` will not mount", None, strict=True)
    assert fill.apply_command(command, filled) == ("umount /dev/sdb1 && e2fsck -f /dev/sdb1", [])
    assert fill.command_values(command, "fsck /dev/sdb1x or /dev/../sdb1", None) == {}


def test_a_zfs_replace_takes_the_boxs_pool_only_when_it_is_in_trouble(srv):
    pool = {"name": "tank", "health": "DEGRADED", "size": 1, "alloc": 1, "free": 0, "capacity_percent": 50}
    rows = _actions(srv(_storage(zfs=[pool])), "zfs pool degraded", "zfs-pool-degraded")
    row = _row(rows, "zpool replace")
    assert row["command"] == "zpool replace tank {failed_member} {new_device}", row
    assert row["needs"] == ["failed_member", "new_device"] and row["params"] == {"pool": "tank"}
    # one healthy pool: the data-risk replace asks which, the clear and scrub (changes-config) may name it
    rows = _actions(srv(_storage(zfs=[dict(pool, health="ONLINE")])), "zfs pool degraded", "zfs-pool-degraded")
    assert _row(rows, "zpool replace")["needs"] == ["pool", "failed_member", "new_device"]
    assert _row(rows, "zpool clear")["command"] == "zpool clear tank && zpool scrub tank"


def test_the_inactive_array_the_question_names_is_the_one_stopped(srv):
    row = _row(_actions(srv(), "mdadm array inactive md127", "mdadm-inactive-array"), "mdadm --stop")
    assert row["command"] == "mdadm --stop /dev/md127 && mdadm --assemble --run /dev/md127" and row["needs"] == [], row


def test_the_cli_says_what_a_partition_is():
    from omv_copilot_agent.cli.ask import render

    answer = {"mode": "kb_only", "context": "storage", "recommended_actions": [
        {"action": "Check", "risk": "data-risk", "command": "umount {partition} && e2fsck -f {partition}",
         "needs": ["partition"], "params": {}, "explanation": "x"}]}
    text = render(answer, width=200)
    assert "needs: {partition} = the file system's partition, e.g. /dev/sdb1" in text and "(fill in before you run it)" in text
