"""Every "This box shows no ..." sentence (md arrays, ZFS pools, disks, network interfaces) comes from
fill._not_shown; these are their words, byte for byte, for one name and for more (seventeenth session:
the disk and interface sentences spelled their own singular and plural before)."""

from __future__ import annotations

import pytest

from omv_copilot_agent.knowledge import fill


class _Box:
    def __init__(self, raid=(), zfs=(), disks=("sda", "sdb"), ifaces=("eth0",)):
        self._data = {"storage": {"raid": [{"name": a, "state": "clean"} for a in raid],
                                  "zfs": [{"name": p, "health": "ONLINE"} for p in zfs],
                                  "block_devices": [{"name": d, "type": "disk"} for d in disks]},
                      "network": {"interfaces": [{"name": i, "operstate": "up"} for i in ifaces]}}

    def status(self, name):
        return "ok" if name in self._data else None

    def data(self, name):
        return self._data.get(name, {})


BARE, FULL = _Box(), _Box(raid=("md0",), zfs=("media",), ifaces=("eth0", "enp3s0"))
SAID = [
    (BARE, "is md127 still rebuilding",
     "This box shows no /dev/md127 right now (no md RAID array at all: the last reading of /proc/mdstat lists none): "
     "check the name; if it is right, that array is not assembled or its disks are missing."),
    (BARE, "md126 and md127 are both inactive after reboot",
     "This box shows no /dev/md126, /dev/md127 right now (no md RAID array at all: the last reading of /proc/mdstat "
     "lists none): check the names; if they are right, those arrays are not assembled or their disks are missing."),
    (FULL, "is md127 still rebuilding",
     "This box shows no /dev/md127 right now (its md arrays: /dev/md0): check the name; if it is right, that array is "
     "not assembled."),
    (FULL, "md126 and md127 are both inactive after reboot",
     "This box shows no /dev/md126, /dev/md127 right now (its md arrays: /dev/md0): check the names; if they are right, "
     "those arrays are not assembled."),
    (FULL, "zpool import tank fails",
     "This box shows no ZFS pool tank right now (its pools: media): check the name; if it is right, that pool is not "
     "imported."),
    (FULL, "zpool import tank fails and zpool import backup too",
     "This box shows no ZFS pools tank, backup right now (its pools: media): check the names; if they are right, those "
     "pools are not imported."),
    (BARE, "/dev/sdz shows SMART errors",
     "This box shows no disk /dev/sdz right now (its disks: /dev/sda, /dev/sdb): check the name (it may have changed "
     "at boot), or the disk is not connected."),
    (BARE, "sdx and sdy are missing after reboot",
     "This box shows no disks /dev/sdx, /dev/sdy right now (its disks: /dev/sda, /dev/sdb): check the names (they may "
     "have changed at boot), or the disks are not connected."),
    (FULL, "eth1 only links at 100Mb/s",
     "This box shows no network interface eth1 right now (its interfaces: eth0, enp3s0): check the name (an upgrade, "
     "a new board or a moved disk can rename them)."),
    (BARE, "eth1 and eth2 bond does not come up",
     "This box shows no network interfaces eth1, eth2 right now (its interfaces: eth0): check the names (an upgrade, "
     "a new board or a moved disk can rename them)."),
]


@pytest.mark.parametrize("box, query, sentence", SAID, ids=[q[:30] for _, q, _ in SAID])
def test_each_absent_name_is_said_in_the_same_words(box, query, sentence):
    said, _ = fill.absent_named(query, box)
    assert sentence in said, said


def test_one_helper_says_them_all():
    import inspect

    source = inspect.getsource(fill._absent_storage) + inspect.getsource(fill._absent_interfaces)
    assert "This box shows no" not in source.replace('"This box shows no md RAID', ""), "a sentence spelled outside _not_shown"
