"""Patterns' findings against snapshots built from real captures (tests/fixtures/captures) and realistic data.

Each pattern's findings must hold where the box really has the problem and stay quiet on
healthy data and on missing/degraded sources (a broken collector must not invent a problem).
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import ROOT
from omv_copilot_agent.collect import mdstat, smart
from omv_copilot_agent.knowledge import KnowledgeBase, signals

#: Real captures (licences and origin in their README), in the repository so these tests run in any clone.
FIXTURES = ROOT / "tests" / "fixtures" / "captures"


@pytest.fixture(scope="module")
def kb():
    return KnowledgeBase(ROOT / "patterns")


def snap(**sources) -> dict:
    return {"taken_at": 0, "sources": {name: {"status": "ok", "reason": None, "data": data} for name, data in sources.items()}}


def smart_disk(name: str) -> dict:
    return smart.parse(json.loads((FIXTURES / "smartctl" / name).read_text()))


def fired(kb, snapshot) -> dict[str, list[str]]:
    return {m.pattern_id: m.reasons for m in kb.signals(snapshot)}


# --- SMART: real smartctl --json of real drives ----------------------------------------------

HEALTHY_SMART = ["smart-ata.json", "smart-ata-full.json", "smart-ata2.json", "smart-ata-date.json", "smart-nvme.json",
                 "smart-nvme2.json", "smart-scsi.json", "smart-scsi2.json", "smart-pass.json", "smart-megaraid0.json",
                 "smart-raid.json", "smart-sat.json", "smart-fail.json"]
SMART_PATTERNS = {"hdd-temperature-high", "nvme-temperature-high", "nvme-wear-spare", "smart-crc-errors-cable",
                  "smart-overall-failed", "smart-pending-sectors", "smart-reallocated-sectors"}


@pytest.mark.parametrize("fixture", HEALTHY_SMART)
def test_healthy_or_unreadable_drives_raise_no_smart_signal(kb, fixture):
    assert not SMART_PATTERNS & set(fired(kb, snap(smart={"disks": [smart_disk(fixture)]})))


@pytest.mark.parametrize("fixture,expected", [
    # overall FAILED behind a USB bridge, 1975 reallocated, 8 pending
    ("smart-fail2.json", {"smart-overall-failed", "smart-reallocated-sectors", "smart-pending-sectors"}),
    # 10 reallocated / pending / uncorrectable / CRC and 62 °C
    ("smart-ata-date2.json", {"smart-reallocated-sectors", "smart-pending-sectors", "smart-crc-errors-cable",
                              "hdd-temperature-high"}),
    # SMART says PASSED but 108 UDMA CRC errors
    ("smart-ata-failed-scrutiny.json", {"smart-crc-errors-cable"}),
    ("smart-megaraid1.json", {"smart-reallocated-sectors"}),
    # NVMe with 7 media errors
    ("smart-nvme-failed.json", {"nvme-wear-spare"}),
])
def test_failing_drives_raise_exactly_their_signals(kb, fixture, expected):
    got = fired(kb, snap(smart={"disks": [smart_disk(fixture)]}))
    assert SMART_PATTERNS & set(got) == expected
    for pid in expected:
        assert any(r.startswith("finding: ") for r in got[pid])


def test_smart_signal_reason_names_the_disk_and_value(kb):
    disk = smart_disk("smart-fail2.json")
    got = fired(kb, snap(smart={"disks": [smart_disk("smart-ata.json"), disk]}))
    reasons = " ".join(got["smart-reallocated-sectors"])
    assert "raw=1975" in reasons and disk["device"] in reasons
    assert "FAILED" in " ".join(got["smart-overall-failed"]) and disk["device"] in " ".join(got["smart-overall-failed"])


def test_nvme_temperature_threshold_and_critical_warning(kb):
    hot = smart_disk("smart-nvme2.json")
    hot["temperature_c"] = 75
    warned = smart_disk("smart-nvme.json")
    warned["nvme"]["critical_warning"] = 2
    assert "nvme-temperature-high" in fired(kb, snap(smart={"disks": [hot]}))
    assert "nvme-temperature-high" in fired(kb, snap(smart={"disks": [warned]}))
    cool = smart_disk("smart-nvme2.json")
    cool["temperature_c"] = 69
    assert "nvme-temperature-high" not in fired(kb, snap(smart={"disks": [cool]}))
    # an ATA disk at 75 °C is not an NVMe problem (where: protocol)
    ata = smart_disk("smart-ata.json")
    ata["temperature_c"] = 75
    got = fired(kb, snap(smart={"disks": [ata]}))
    assert "nvme-temperature-high" not in got and "hdd-temperature-high" in got


# --- mdadm: the real /proc/mdstat with every state -----------------------------------------

@pytest.fixture(scope="module")
def arrays():
    return {a["name"]: a for a in mdstat.parse((FIXTURES / "proc" / "mdstat").read_text())}


def raid_fired(kb, arrays, names) -> dict[str, list[str]]:
    return fired(kb, snap(storage={"raid": [arrays[n] for n in names]}))


@pytest.mark.parametrize("name,expected", [
    ("md3", set()),                    # clean raid6 with spares
    ("md127", set()), ("md0", set()),  # clean raid1
    ("md10", set()), ("md12", set()), ("md126", set()), ("md00", set()), ("md120", set()),  # raid0 / linear / external
    ("md101", set()),                  # read-only raid0
    ("md6", {"mdadm-degraded", "mdadm-resync-slow"}),  # [U_] recovering onto a spare
    ("md7", {"mdadm-degraded"}),                       # raid6 [U_UU] with a failed member, no rebuild
    ("md4", {"mdadm-inactive-array"}),                 # inactive raid1
    ("md219", {"mdadm-inactive-array"}),               # inactive IMSM container
    ("md8", {"mdadm-resync-slow"}),                    # resync 8.5 %
    ("md201", {"mdadm-resync-slow"}),                  # check 5.7 %
    ("md9", {"mdadm-resync-slow"}),                    # resync=DELAYED
    ("md11", {"mdadm-resync-slow"}),                   # auto-read-only, resync=PENDING
])
def test_every_md_state(kb, arrays, name, expected):
    md = {"mdadm-degraded", "mdadm-inactive-array", "mdadm-resync-slow"}
    got = raid_fired(kb, arrays, [name])
    assert md & set(got) == expected
    for pid in expected:
        assert any(name in r for r in got[pid]), got[pid]


def test_whole_mdstat_file_names_every_bad_array(kb, arrays):
    got = raid_fired(kb, arrays, list(arrays))
    degraded = " ".join(got["mdadm-degraded"])
    assert "md6" in degraded and "md7" in degraded and "md3" not in degraded and "md4" not in degraded


# --- the other sources, with realistic collector output --------------------------------------

FS_OK = {"device": "/dev/sdb1", "mountpoint": "/srv/dev-disk-by-uuid-1", "fstype": "ext4", "percent": 42.0,
         "readonly": False, "mounted": True, "omv_managed": True, "omv_status": "online"}
ROOT_FS = {"device": "/dev/sda1", "mountpoint": "/", "fstype": "ext4", "percent": 30.0, "readonly": False,
           "mounted": True, "omv_managed": False}


def fs_case(**changes):
    return snap(storage={"filesystems": [ROOT_FS, {**FS_OK, **changes}]})


@pytest.mark.parametrize("changes,expected", [
    ({}, set()),
    ({"percent": 96.5}, {"data-disk-full"}),
    ({"percent": 94.9}, set()),
    ({"readonly": True}, {"fs-read-only-remount"}),
    ({"mounted": False, "percent": None}, {"fs-not-mounted-after-reboot"}),
    ({"omv_status": "missing", "mounted": False}, {"fs-missing-uuid", "fs-not-mounted-after-reboot"}),
    ({"omv_managed": False, "percent": 99.0}, set()),  # a USB stick outside OMV is not a data disk
])
def test_filesystem_signals(kb, changes, expected):
    fs = {"data-disk-full", "fs-read-only-remount", "fs-not-mounted-after-reboot", "fs-missing-uuid", "root-fs-full-logs"}
    assert fs & set(fired(kb, fs_case(**changes))) == expected


def test_root_filesystem_full(kb):
    full = snap(storage={"filesystems": [{**ROOT_FS, "percent": 97.0}, FS_OK]})
    got = fired(kb, full)
    assert {"root-fs-full-logs", "docker-fills-root"} <= set(got) and "data-disk-full" not in got
    data_full = fired(kb, snap(storage={"filesystems": [ROOT_FS, {**FS_OK, "percent": 97.0}]}))
    assert {"data-disk-full", "smb-recycle-bin-space", "backup-target-full"} <= set(data_full)
    assert "docker-fills-root" not in data_full


def test_zfs_pool_health(kb):
    assert "zfs-pool-degraded" in fired(kb, snap(storage={"zfs": [{"name": "tank", "health": "DEGRADED"}]}))
    assert "zfs-pool-degraded" not in fired(kb, snap(storage={"zfs": [{"name": "tank", "health": "ONLINE"}]}))


def unit(name, active="active", omv=True):
    return {"name": name.split(".")[0], "unit": name, "active_state": active, "sub_state": "running" if active == "active" else "dead",
            "enabled_in_omv": omv, "omv_name": name.split(".")[0]}


def test_service_signals(kb):
    healthy = snap(services={"units": [unit("smbd.service"), unit("nfs-server.service"), unit("proftpd.service", "inactive", False),
                                       unit("openmediavault-engined.service", omv=None), unit("php8.2-fpm.service", omv=None),
                                       unit("docker.service", omv=None)]})
    assert not fired(kb, healthy)
    broken = snap(services={"units": [unit("smbd.service", "failed"), unit("openmediavault-engined.service", "inactive", None),
                                      unit("php8.2-fpm.service", "failed", None), unit("docker.service", "failed", None),
                                      unit("nfs-server.service", "inactive")]})
    got = fired(kb, broken)
    assert {"smb-share-not-accessible", "omv-service-enabled-not-running", "engined-not-running",
            "webui-502-bad-gateway", "docker-compose-plugin-issues", "nfs-mount-denied"} <= set(got)
    assert "ftp-login-fails" not in got
    assert any("on smbd" in r for r in got["omv-service-enabled-not-running"])


def iface(**changes):
    base = {"name": "eth0", "up": True, "speed_mbps": 1000, "duplex": "full", "mtu": 1500,
            "counters": {"errin": 0, "errout": 0, "dropin": 12, "dropout": 0}}
    return {**base, **changes}


@pytest.mark.parametrize("changes,expected", [
    ({}, set()),
    ({"speed_mbps": 100}, {"slow-transfer-link-speed"}),
    ({"duplex": "half"}, {"slow-transfer-link-speed"}),
    ({"mtu": 9000}, {"jumbo-frames-mtu"}),
    ({"up": False, "speed_mbps": 10, "mtu": 9000}, set()),  # a down port is not a slow link
    ({"name": "lo", "mtu": 65536, "speed_mbps": None, "duplex": None, "counters": {"dropin": 5000}}, set()),  # loopback
    ({"speed_mbps": None, "duplex": None}, set()),           # speed unknown (virtual NIC) is not slow
    ({"counters": {"errin": 5000, "dropin": 0}}, {"nic-errors-drops"}),
    ({"counters": {"errin": 0, "dropin": 250000}}, {"nic-errors-drops"}),
])
def test_network_signals(kb, changes, expected):
    net = {"slow-transfer-link-speed", "jumbo-frames-mtu", "nic-errors-drops"}
    assert net & set(fired(kb, snap(network={"interfaces": [iface(**changes)]}))) == expected


def test_system_signals(kb):
    calm = {"cpu": {"count": 4, "percent": 12.0, "load": [0.3, 0.4, 0.5]}, "memory": {"percent": 40.0}, "swap": {"percent": 0.0}}
    assert not fired(kb, snap(system=calm))
    busy = {"cpu": {"count": 4, "percent": 99.0, "load": [12.5, 9.0, 6.0]}, "memory": {"percent": 97.0}, "swap": {"percent": 85.0}}
    got = fired(kb, snap(system=busy))
    assert {"high-cpu-process", "disk-io-bottleneck", "memory-swap-pressure"} <= set(got)
    assert any("load 12.5 on 4 CPUs" in r for r in got["disk-io-bottleneck"])


def test_apt_omv_and_log_signals(kb):
    quiet = snap(apt={"pending_count": 3, "security_count": 0}, omv={"config_dirty": False, "reboot_required": False},
                 logs={"entries": [{"unit": "ssh.service", "message": "Accepted publickey for root"}]})
    assert not fired(kb, quiet)
    loud = snap(apt={"pending_count": 3, "security_count": 2}, omv={"config_dirty": True, "reboot_required": True},
                logs={"entries": [{"unit": "ssh.service", "message": "Failed password for invalid user admin from 203.0.113.9"},
                                  {"unit": "postfix.service", "message": "SASL authentication failed; server smtp.gmail.com"}]})
    got = fired(kb, loud)
    assert {"pending-security-updates", "config-apply-fails", "config-hand-edit-overwritten", "reboot-required-kernel",
            "ssh-hardening", "email-notifications-fail"} <= set(got)


def test_missing_or_degraded_sources_never_fire(kb):
    assert kb.signals(None) == []
    assert kb.signals({"sources": {}}) == []
    degraded = {"sources": {name: {"status": "unavailable", "reason": "x", "data": None}
                            for name in ("system", "storage", "smart", "services", "omv", "network", "logs", "apt")}}
    assert kb.signals(degraded) == []
    odd = snap(smart={"disks": [None, "x", {"device": "/dev/sda", "attributes": None}]}, storage={"raid": "not a list"},
               system={"cpu": {"load": []}})
    assert kb.signals(odd) == []


def test_reference_narrows_by_subject_severity_and_evidence():
    from omv_copilot_agent.findings import Finding

    full = Finding("filesystem-full", "warning", "/", "/ is 92% full", {"omv_managed": False, "percent": 92.0}, 90)
    pattern = lambda *refs: {"findings": list(refs)}  # noqa: E731
    assert signals.evaluate(pattern("filesystem-full"), [full]) == ["filesystem-full on /: / is 92% full"]
    assert signals.evaluate(pattern({"id": "filesystem-full", "subject": "/"}), [full])
    assert not signals.evaluate(pattern({"id": "filesystem-full", "subject": "/srv/a"}), [full])
    assert signals.evaluate(pattern({"id": "filesystem-full", "min_severity": "warning"}), [full])
    assert not signals.evaluate(pattern({"id": "filesystem-full", "min_severity": "critical"}), [full])
    assert signals.evaluate(pattern({"id": "filesystem-full", "evidence": {"omv_managed": False}}), [full])
    assert not signals.evaluate(pattern({"id": "filesystem-full", "evidence": {"omv_managed": True}}), [full])
    assert not signals.evaluate(pattern("disk-hot"), [full])
    # two references hitting the same finding report it once
    assert len(signals.evaluate(pattern("filesystem-full", {"id": "filesystem-full", "subject": "/"}), [full])) == 1


def test_unknown_finding_id_is_a_pattern_error(tmp_path):
    from omv_copilot_agent.knowledge import loader

    text = (ROOT / "patterns" / "storage--data-disk-full.yaml").read_text()
    pattern = __import__("yaml").safe_load(text)
    pattern["findings"] = ["filesystem-ful"]
    problems = loader.validate(pattern)
    assert problems and problems[0][0] == "findings" and "unknown finding id 'filesystem-ful'" in problems[0][1]
    pattern["findings"] = [{"id": "filesystem-full", "bogus": 1}]
    assert loader.validate(pattern)


def test_pattern_threshold_follows_the_findings_config(kb):
    """data-disk-full holds at the critical disk usage level, wherever the config puts it."""
    from omv_copilot_agent.findings import Thresholds

    snapshot = fs_case(percent=93.0)
    assert "data-disk-full" not in fired(kb, snapshot)
    strict = KnowledgeBase(ROOT / "patterns", thresholds=Thresholds.from_section({"disk_usage_warning_percent": 80,
                                                                                 "disk_usage_critical_percent": 92}))
    assert "data-disk-full" in fired(strict, snapshot)


# --- diagnostics' expected_output judged on the same real captures ---------------------------

def test_md_diagnostics_expected_output_on_real_mdstat(kb):
    from omv_copilot_agent.knowledge.diagnostics import matches_expected

    real = (FIXTURES / "proc" / "mdstat").read_text()
    healthy = "\n".join(real.split("\n\n")[:3]) + "\n\nunused devices: <none>\n"  # md3, md127, md0: clean
    assert "md4" not in healthy and "md3" in healthy
    degraded_cat = kb.get("mdadm-degraded")["diagnostics"][0]
    inactive_cat = kb.get("mdadm-inactive-array")["diagnostics"][0]
    assert degraded_cat["command"] == inactive_cat["command"] == "cat /proc/mdstat"
    assert matches_expected(degraded_cat["expected_output"], real) is False   # md6 [U_], md7 [U_UU]
    assert matches_expected(degraded_cat["expected_output"], healthy) is True
    assert matches_expected(inactive_cat["expected_output"], real) is False   # md4, md219 inactive
    assert matches_expected(inactive_cat["expected_output"], healthy) is True
    detail = kb.get("mdadm-degraded")["diagnostics"][1]["expected_output"]
    assert matches_expected(detail, "        Raid Level : raid1\n             State : clean \n") is True
    assert matches_expected(detail, "             State : active \n") is True
    assert matches_expected(detail, "             State : clean, degraded, recovering \n") is False


def test_smart_diagnostics_expected_output_on_real_drives(kb):
    from omv_copilot_agent.knowledge.diagnostics import matches_expected

    health = kb.get("smart-overall-failed")["diagnostics"][0]["expected_output"]
    assert matches_expected(health, "SMART overall-health self-assessment test result: PASSED") is True
    assert matches_expected(health, "SMART overall-health self-assessment test result: FAILED!") is False
    assert matches_expected("(unclosed", "text with (unclosed paren") is True  # bad regex falls back to substring


#: (finding, evidence) bindings two patterns share on purpose, each with why the title decides
SHARED_BINDINGS = {
    # a full OMV data filesystem: the recycle bin is one cause the alert's title can name
    ("filesystem-full", '{"omv_managed": true}'): {"data-disk-full", "smb-recycle-bin-space"},
}


def test_a_finding_with_its_evidence_points_to_one_pattern(kb):
    """A failed system backup job (job-failed, kind backup) pointed both to "no backup of the system
    disk" and to "the system backup fails": the Dashboard and the alert then named whichever ranked
    first. A finding narrowed by its evidence names one pattern unless listed above."""
    bound: dict[tuple[str, str], set[str]] = {}
    for pid, pattern in kb.patterns.items():
        for sig in pattern.get("findings") or []:
            if isinstance(sig, dict) and sig.get("evidence"):
                bound.setdefault((sig["id"], json.dumps(sig["evidence"], sort_keys=True)), set()).add(pid)
    shared = {key: pids for key, pids in bound.items() if len(pids) > 1}
    assert shared == SHARED_BINDINGS
