"""Update preflight: apt's simulation of an upgrade, judged against the box, each reason a test.

The fixtures are `apt-get -s dist-upgrade` output in apt's own format (as Debian 12 prints it);
the last test feeds this machine's real simulation through the same path.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from omv_copilot_agent.changes import preflight
from omv_copilot_agent.changes.preflight import MIB, Box

HEADER = """NOTE: This is only a simulation!
      apt-get needs root privileges for real execution.
Reading package lists...
Building dependency tree...
Calculating upgrade...
"""
KERNEL_ZFS = HEADER + """The following NEW packages will be installed:
  linux-headers-6.1.0-28-amd64 linux-image-6.1.0-28-amd64
The following packages will be upgraded:
  linux-headers-amd64 linux-image-amd64 zfs-dkms zfsutils-linux
Inst linux-image-6.1.0-28-amd64 (6.1.119-1 Debian-Security:12/stable-security [amd64])
Inst linux-headers-6.1.0-28-amd64 (6.1.119-1 Debian-Security:12/stable-security [amd64])
Inst linux-image-amd64 [6.1.115-1] (6.1.119-1 Debian-Security:12/stable-security [amd64])
Inst zfs-dkms [2.1.11-1] (2.1.11-1+deb12u1 Debian:12.8/stable [all]) []
Inst zfsutils-linux [2.1.11-1] (2.1.11-1+deb12u1 Debian:12.8/stable [amd64])
Conf linux-image-6.1.0-28-amd64 (6.1.119-1 Debian-Security:12/stable-security [amd64])
"""
CORE_AHEAD = HEADER + """Inst openmediavault [7.4.17-1] (7.7.24-1 openmediavault.org archive:sandworm/sandworm [all])
Inst openmediavault-compose [7.2.1] (7.3.2 omv-extras.org:sandworm/sandworm [all])
"""
RELEASE = HEADER + """Inst openmediavault [7.7.24-1] (8.0.3-1 openmediavault.org archive:synchrony/synchrony [all])
Remv openmediavault-zfs [7.1.4]
"""
QUIET = HEADER + """Inst tzdata [2024a-0+deb12u1] (2025b-0+deb12u1 Debian:12.11/stable-updates [all])
"""

HEALTHY = dict(free_bytes={"/": 8000 * MIB, "/boot": 400 * MIB}, backup_age_s=3600.0)


def test_apt_simulation_is_parsed_with_versions_and_origins():
    upgrades, removed = preflight.parse_simulation(KERNEL_ZFS + "Remv libold1 [1.0-1]\n")
    assert [p.name for p in upgrades][:3] == ["linux-image-6.1.0-28-amd64", "linux-headers-6.1.0-28-amd64", "linux-image-amd64"]
    assert upgrades[0].old is None and upgrades[2].old == "6.1.115-1" and upgrades[2].new == "6.1.119-1"
    assert upgrades[3].origin == "Debian:12.8/stable" and [p.name for p in removed] == ["libold1"]


def test_a_small_update_on_a_healthy_box_is_go():
    out = preflight.assess(*preflight.parse_simulation(QUIET), Box(**HEALTHY))
    assert out["verdict"] == "go" and out["reasons"] == []


def test_kernel_and_zfs_dkms_mean_wait_and_a_rollback_with_the_old_kernel():
    box = Box(installed={"zfs-dkms": "2.1.11-1", "openmediavault": "7.7.24-1"}, running_kernel="6.1.0-27-amd64", **HEALTHY)
    out = preflight.assess(*preflight.parse_simulation(KERNEL_ZFS), box)
    assert out["verdict"] == "wait"
    dkms = next(r for r in out["reasons"] if "DKMS" in r["text"])
    assert dkms["level"] == "wait" and "zfs-dkms" in dkms["text"] and dkms["pattern_id"] == "zfs-pool-degraded"
    assert any(r["pattern_id"] == "reboot-required-kernel" for r in out["reasons"])
    assert out["touches"]["kernel"] == ["linux-image-6.1.0-28-amd64", "linux-image-amd64"]
    assert any("Advanced options" in step for step in out["rollback"])
    assert any("apt autoremove" in step for step in out["rollback"])


def test_a_full_boot_is_no_go():
    box = Box(installed={}, free_bytes={"/": 8000 * MIB, "/boot": 60 * MIB}, backup_age_s=60.0)
    out = preflight.assess(*preflight.parse_simulation(KERNEL_ZFS), box)
    assert out["verdict"] == "no-go"
    assert any(r["level"] == "no-go" and "/boot has 60 MiB" in r["text"] for r in out["reasons"])


def test_a_full_root_is_no_go():
    out = preflight.assess(*preflight.parse_simulation(QUIET), Box(free_bytes={"/": 200 * MIB}, backup_age_s=1.0))
    assert out["verdict"] == "no-go" and "/ has 200 MiB" in out["reasons"][0]["text"]


def test_a_plugin_lagging_the_core_means_wait():
    box = Box(installed={"openmediavault": "7.4.17-1", "openmediavault-zfs": "6.0.14", "openmediavault-compose": "7.2.1"},
              **HEALTHY)
    out = preflight.assess(*preflight.parse_simulation(CORE_AHEAD), box)
    assert out["verdict"] == "wait"
    (lag,) = [r for r in out["reasons"] if "plugins stay" in r["text"]]
    assert "openmediavault-zfs" in lag["text"] and "openmediavault-compose" not in lag["text"]


def test_a_release_upgrade_in_update_management_and_a_removed_plugin_are_no_go():
    box = Box(installed={"openmediavault": "7.7.24-1", "openmediavault-zfs": "7.1.4"}, **HEALTHY)
    out = preflight.assess(*preflight.parse_simulation(RELEASE), box)
    texts = [r["text"] for r in out["reasons"] if r["level"] == "no-go"]
    assert out["verdict"] == "no-go"
    assert any("would remove openmediavault-zfs" in t for t in texts)
    assert any("omv-release-upgrade" in t for t in texts)
    release = preflight.assess(*preflight.parse_simulation(RELEASE), box, release_upgrade=True)
    assert not any("omv-release-upgrade" in r["text"] for r in release["reasons"])


@pytest.mark.parametrize("box_fields,level,words", [
    ({"pending_modules": ["samba"]}, "wait", "unapplied configuration changes (samba)"),
    ({"raid_actions": ["md0: resync 42 %"]}, "wait", "RAID is busy (md0: resync 42 %)"),
    ({"backup_age_s": None}, "wait", "No configuration backup found"),
    ({"backup_age_s": 30 * 86400.0}, "wait", "30 days old"),
])
def test_the_box_state_reasons(box_fields, level, words):
    out = preflight.assess(*preflight.parse_simulation(QUIET), Box(**{**HEALTHY, **box_fields}))
    assert out["verdict"] == level and any(words in r["text"] for r in out["reasons"])


@pytest.mark.skipif(not shutil.which("apt-get"), reason="needs apt-get")
def test_this_machines_real_simulation_goes_through_the_same_path():
    text = subprocess.run(["apt-get", "-s", "dist-upgrade"], capture_output=True, text=True, timeout=120).stdout
    upgrades, removed = preflight.parse_simulation(text)
    assert len(upgrades) == text.count("\nInst ")
    out = preflight.assess(upgrades, removed, Box(**HEALTHY))
    assert out["verdict"] in ("go", "wait", "no-go") and out["summary"].startswith(out["verdict"].upper())


def test_installed_versions_come_from_dpkg_status_line_by_line(tmp_path):
    status = tmp_path / "status"
    status.write_text("Package: openmediavault\nStatus: install ok installed\nVersion: 7.7.24-1\n\n"
                      "Package: zfs-dkms\nStatus: deinstall ok config-files\nVersion: 2.1.11-1\n\n"
                      "Package: bash\nStatus: install ok installed\nVersion: 5.2\n\n"
                      "Package: linux-image-6.1.0-27-amd64\nStatus: install ok installed\nVersion: 6.1.115-1")
    assert preflight.installed_packages(str(status), preflight.relevant_package) == {
        "openmediavault": "7.7.24-1", "linux-image-6.1.0-27-amd64": "6.1.115-1"}
    assert preflight.installed_packages(str(tmp_path / "missing")) == {}


def test_the_newest_omv_backup_archive_is_found(tmp_path):
    import os

    assert preflight.newest_backup_age([str(tmp_path)]) is None
    folder = tmp_path / "dev-disk-by-uuid-1" / "backups" / "omvbackup"
    folder.mkdir(parents=True)
    archive = folder / "backup-omv-2026-12-01_03-00-00.fsa"
    archive.write_text("x")
    os.utime(archive, (1_000_000.0, 1_000_000.0))
    assert preflight.newest_backup_age([str(tmp_path)], now=1_000_000.0 + 3600) == 3600


def test_the_api_runs_apts_simulation_in_the_probe_sandbox_and_judges_it(live_server):
    from omv_copilot_agent import runner
    from omv_copilot_agent.cli.changes import render_preflight

    if runner.sandbox_unavailable():
        pytest.skip(f"probes cannot run here: {runner.sandbox_unavailable()}")
    srv = live_server()
    r = srv.get("/api/v1/changes/preflight")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["verdict"] in ("go", "wait", "no-go") and body["rollback"]
    assert render_preflight(body).startswith(body["verdict"].upper())
    assert srv.get("/api/v1/changes/preflight", params={"release": "maybe"}).status_code == 400
