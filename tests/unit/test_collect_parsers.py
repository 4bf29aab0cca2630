"""Collectors' parsers against real recorded outputs (tests/fixtures/captures) and pyfakefs."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from tests.conftest import FIXTURES

SMART = FIXTURES / "smartctl"
MDSTAT = FIXTURES / "proc" / "mdstat"


@pytest.mark.parametrize("path", sorted(SMART.glob("smart*.json")), ids=lambda p: p.name)
def test_every_smartctl_fixture_parses(path):
    from omv_copilot_agent.collect import smart

    disk = smart.parse(json.loads(path.read_text()), "/dev/x")
    assert set(disk) >= {"device", "model", "serial", "protocol", "passed", "temperature_c", "power_on_hours",
                         "attributes", "nvme", "error"}
    assert disk["device"] == "/dev/x"
    for attr in disk["attributes"]:
        assert set(attr) == {"id", "name", "value", "worst", "thresh", "raw", "when_failed"}


def test_smart_specifics():
    from omv_copilot_agent.collect import smart

    def load(name):
        return smart.parse(json.loads((SMART / name).read_text()))

    ata = load("smart-ata.json")
    assert ata["protocol"] == "ATA" and ata["passed"] is True and ata["temperature_c"] == 32
    assert ata["power_on_hours"] == 1730 and any(a["id"] == 5 for a in ata["attributes"])
    nvme = load("smart-nvme.json")
    assert nvme["protocol"] == "NVMe" and nvme["nvme"]["available_spare"] is not None and nvme["attributes"] == []
    scsi = load("smart-scsi.json")
    assert scsi["protocol"] == "SCSI" and scsi["passed"] is True and scsi["power_on_hours"] == 43549
    assert load("smart-fail2.json")["passed"] is False
    unreadable = load("smart-fail.json")
    assert unreadable["passed"] is None and "Open failed" in unreadable["error"]


def test_mdstat_every_state():
    from omv_copilot_agent.collect import mdstat

    arrays = {a["name"]: a for a in mdstat.parse(MDSTAT.read_text())}
    assert len(arrays) == 17
    assert arrays["md0"]["degraded"] is False and arrays["md0"]["level"] == "raid1"
    assert arrays["md6"]["degraded"] and arrays["md6"]["action"] == "recovery" and arrays["md6"]["progress_percent"] == 8.5
    assert arrays["md6"]["failed"] == ["sdb2"] and arrays["md6"]["spares"] == ["sdc"]
    assert arrays["md8"]["action"] == "resync" and not arrays["md8"]["degraded"]
    assert arrays["md201"]["action"] == "check"
    assert arrays["md7"]["degraded"] and arrays["md7"]["devices_active"] == 3 and arrays["md7"]["devices_total"] == 4
    assert arrays["md4"]["state"] == "inactive" and arrays["md4"]["degraded"]
    assert arrays["md9"]["pending"] == "delayed" and arrays["md11"]["pending"] == "pending"
    assert arrays["md11"]["read_only"] and arrays["md101"]["read_only"]
    assert arrays["md219"]["level"] is None and arrays["md219"]["spares"] == ["sdb", "sdc", "sda"]
    assert arrays["md120"]["level"] == "linear" and arrays["md10"]["devices_total"] == 2


def test_storage_raid_merges_omv(tmp_path):
    from omv_copilot_agent.collect import storage

    path = tmp_path / "mdstat"
    path.write_text("Personalities : [raid1]\nmd0 : active raid1 sdb[1] sda[0]\n      100 blocks [2/1] [U_]\n\nunused devices: <none>\n")
    arrays = storage.raid(str(path), [{"name": "nas:0", "devicefile": "/dev/md0", "state": "clean, degraded"}])
    assert arrays[0]["degraded"] and arrays[0]["omv_state"] == "clean, degraded"
    assert storage.raid(str(tmp_path / "absent")) == []


def test_services_parse_show():
    from omv_copilot_agent.collect import services

    rows = services.parse_show("Id=smbd.service\nActiveState=active\nSubState=running\nLoadState=loaded\n\n"
                               "Id=nfs-server.service\nActiveState=inactive\nSubState=dead\nLoadState=loaded\n")
    assert [r["Id"] for r in rows] == ["smbd.service", "nfs-server.service"]
    assert rows[1]["ActiveState"] == "inactive"


def test_logs_parse_bounds_and_bytes():
    from omv_copilot_agent.collect import logs

    lines = [json.dumps({"__REALTIME_TIMESTAMP": str(1_700_000_000_000_000 + i), "PRIORITY": "3" if i % 2 else "4",
                         "_SYSTEMD_UNIT": "smbd.service", "MESSAGE": f"m{i}"}) for i in range(10)]
    lines.append(json.dumps({"__REALTIME_TIMESTAMP": "1700000001000000", "PRIORITY": "4", "SYSLOG_IDENTIFIER": "kernel",
                             "MESSAGE": list(b"bytes \xff msg")}))
    lines.append("not json")
    entries = logs.parse("\n".join(lines), 5)
    assert len(entries) == 5
    assert entries[-1]["unit"] == "kernel" and entries[-1]["message"].startswith("bytes ")


def test_apt_pending_from_lists(fs):
    from omv_copilot_agent.collect import apt

    fs.create_file("/var/lib/dpkg/status", contents=(
        "Package: openssl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0.11-1~deb12u1\n\n"
        "Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b2\n\n"
        "Package: zsh\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 5.9-4\n"))
    fs.create_file("/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages", contents=(
        "Package: bash\nArchitecture: amd64\nVersion: 5.2.15-2+b7\n\nPackage: openssl\nArchitecture: amd64\nVersion: 3.0.11-1~deb12u1\n\n"
        "Package: zsh\nArchitecture: amd64\nVersion: 5.9-9\n"))
    fs.create_file("/var/lib/apt/lists/security.debian.org_debian-security_dists_bookworm-security_main_binary-amd64_Packages",
                   contents="Package: openssl\nArchitecture: amd64\nVersion: 3.0.13-1~deb12u1\n")
    data = apt.collect(SimpleNamespace(config=None, cache={}))
    assert data["pending_count"] == 2 and data["security_count"] == 1
    assert {p["name"]: p["security"] for p in data["pending"]} == {"bash": False, "openssl": True}
    assert data["lists_age_s"] is not None


def test_apt_unavailable_without_dpkg(fs):
    from omv_copilot_agent.collect import apt
    from omv_copilot_agent.collect.base import Unavailable

    with pytest.raises(Unavailable, match="dpkg"):
        apt.collect(SimpleNamespace(config=None, cache={}))


def test_network_and_storage_and_system_on_this_machine(make_config):
    """The psutil/pyudev sources on whatever box runs the tests: shape only, no disk assumptions."""
    from omv_copilot_agent.collect import Collector

    config, _ = make_config()
    collector = Collector(config, sources=("network", "storage"))
    try:
        snap = collector.collect()
    finally:
        collector.close()
    net = snap.sources["network"]
    assert net.status == "ok" and any(i["name"] == "lo" for i in net.data["interfaces"])
    lo = next(i for i in net.data["interfaces"] if i["name"] == "lo")
    assert lo["up"] and any(a["address"] == "127.0.0.1" for a in lo["addresses"])
    assert set(lo["counters"]) == {"bytes_sent", "bytes_recv", "packets_sent", "packets_recv", "errin", "errout", "dropin", "dropout"}
    storage = snap.sources["storage"]
    assert storage.status in ("ok", "degraded")
    assert {"block_devices", "filesystems", "raid", "zfs"} <= set(storage.data)
