"""Every rule from fixtures (real smartctl JSON, real mdstat) through a real AlertService + SQLite."""

import os
import time

from omv_copilot_agent.collect import mdstat
from tests.alerts_support import FIXTURES, cycle, fs, make_agent, smart_disk, snapshot

NOW = time.time()


def fired(agent, rule=None):
    rows = agent.alerts.open_alerts()
    return {(a["rule"], a["subject"]): a for a in rows if rule is None or a["rule"] == rule}


def test_failing_disks_from_smartctl_fixtures(tmp_path):
    agent = make_agent(tmp_path)
    disks = [smart_disk("smart-fail2.json", "/dev/sda"), smart_disk("smart-nvme-failed.json", "/dev/nvme0n1"),
             smart_disk("smart-pass.json", "/dev/sdb"), smart_disk("smart-nvme.json", "/dev/nvme1n1")]
    cycle(agent, snapshot(NOW, smart={"disks": disks}))
    alerts = fired(agent)
    assert alerts[("smart_health", "/dev/sda")]["severity"] == "critical"
    attrs = alerts[("smart_attributes", "/dev/sda")]
    assert attrs["severity"] == "critical" and "5 " in attrs["message"] and "197 " in attrs["message"]
    assert "7 media errors" in alerts[("nvme_health", "/dev/nvme0n1")]["message"]
    assert not [k for k in alerts if k[1] in ("/dev/sdb", "/dev/nvme1n1")]


def test_nvme_critical_warning_spare_and_wear(tmp_path):
    agent = make_agent(tmp_path)
    disk = {"device": "/dev/nvme0n1", "nvme": {"critical_warning": 4, "media_errors": 0, "percentage_used": 95,
                                               "available_spare": 5, "available_spare_threshold": 10}}
    cycle(agent, snapshot(NOW, smart={"disks": [disk]}))
    a = fired(agent)[("nvme_health", "/dev/nvme0n1")]
    assert a["severity"] == "critical"
    assert "0x04" in a["message"] and "95%" in a["message"] and "spare 5%" in a["message"]


def test_degraded_and_resyncing_md_arrays_from_mdstat(tmp_path):
    agent = make_agent(tmp_path)
    raid = mdstat.parse((FIXTURES / "proc" / "mdstat").read_text())
    cycle(agent, snapshot(NOW, storage={"raid": raid, "filesystems": []}))
    degraded = {s for r, s in fired(agent, "raid_degraded")}
    assert {"md6", "md7"} <= degraded and "md4" in degraded  # [2/1], [4/3], inactive
    assert "md0" not in degraded and "md127" not in degraded
    resync = fired(agent, "raid_resync")
    assert resync[("raid_resync", "md6")]["severity"] == "warning"  # recovery
    assert resync[("raid_resync", "md8")]["severity"] == "info"  # resync
    assert ("raid_resync", "md201") not in resync  # a check is routine


def test_enabled_but_down_service_is_critical(tmp_path):
    agent = make_agent(tmp_path)
    units = [{"name": "smb", "unit": "smbd.service", "active_state": "failed", "sub_state": "failed", "enabled_in_omv": True, "omv_name": "smb"},
             {"name": "nfs", "unit": "nfs-server.service", "active_state": "inactive", "sub_state": "dead", "enabled_in_omv": False},
             {"name": "ssh", "unit": "ssh.service", "active_state": "active", "sub_state": "running", "enabled_in_omv": True}]
    cycle(agent, snapshot(NOW, services={"units": units}))
    assert list(fired(agent)) == [("service_down", "smb")]
    assert fired(agent)[("service_down", "smb")]["severity"] == "critical"


def test_fs_thresholds_missing_and_readonly(tmp_path):
    agent = make_agent(tmp_path, {"disk_usage_warning_percent": 90, "disk_usage_critical_percent": 95})
    filesystems = [fs("/srv/a", 91), fs("/srv/b", 96), fs("/srv/c", 50),
                   fs("/srv/gone", 0, mounted=False), fs("/srv/ro", 10, readonly=True)]
    cycle(agent, snapshot(NOW, storage={"filesystems": filesystems}))
    alerts = fired(agent)
    assert alerts[("fs_full", "/srv/a")]["severity"] == "warning"
    assert alerts[("fs_full", "/srv/b")]["severity"] == "critical"
    assert ("fs_full", "/srv/c") not in alerts
    assert "missing" in alerts[("fs_state", "/srv/gone")]["title"]
    assert "read-only" in alerts[("fs_state", "/srv/ro")]["title"]


def test_temperature_memory_swap_updates_config_dirty(tmp_path):
    agent = make_agent(tmp_path, {"load_sustained_s": 0})
    system = {"memory": {"percent": 95}, "swap": {"total": 100, "percent": 80}, "cpu": {"count": 2, "load": [9.0, 5, 3]}}
    cycle(agent, snapshot(NOW, system=system, smart={"disks": [{"device": "/dev/sda", "temperature_c": 62}]},
                          apt={"security_count": 2, "pending": [{"name": "openssl", "security": True}]},
                          omv={"config_dirty": True, "dirty_modules": ["samba"]}))
    alerts = fired(agent)
    assert alerts[("disk_temperature", "/dev/sda")]["severity"] == "critical"
    assert {("memory_pressure", "memory"), ("memory_pressure", "swap"), ("load", "load"),
            ("security_updates", "apt"), ("config_dirty", "omv")} <= set(alerts)
    assert "openssl" in alerts[("security_updates", "apt")]["message"]
    assert "samba" in alerts[("config_dirty", "omv")]["message"]


def test_load_must_be_sustained(tmp_path):
    agent = make_agent(tmp_path, {"load_sustained_s": 600})
    hot = {"cpu": {"count": 1, "load": [5.0, 5, 5]}}
    cycle(agent, snapshot(NOW - 900, system=hot))
    assert not fired(agent, "load")  # one sample is not sustained
    for i in range(1, 10):
        cycle(agent, snapshot(NOW - 900 + i * 100, system=hot))
    assert fired(agent, "load")


def test_backup_overdue_from_a_stamp_file(tmp_path):
    stamp = tmp_path / "last-ok"
    stamp.write_text("ok")
    os.utime(stamp, (NOW - 3 * 86400, NOW - 3 * 86400))
    agent = make_agent(tmp_path, {"backup_jobs": [{"name": "nightly", "path": str(stamp), "max_age_s": 86400},
                                                  {"name": "never", "path": str(tmp_path / "nope")}]})
    cycle(agent, snapshot(NOW))
    alerts = fired(agent, "backup_overdue")
    assert "overdue" in alerts[("backup_overdue", "nightly")]["title"]
    assert "no success record" in alerts[("backup_overdue", "never")]["title"]
    os.utime(stamp, (NOW, NOW))
    cycle(agent, snapshot(NOW + 1))
    cycle(agent, snapshot(NOW + 2))
    assert ("backup_overdue", "nightly") not in fired(agent)


def test_forecast_rule_warns_with_date_and_rate(tmp_path):
    agent = make_agent(tmp_path)
    total = 1000 * 2**30
    for i in range(12):  # 40 GiB/day, 100 GiB free at the end -> ~2.5 days
        used = 850 * 2**30 + i * 3600 * (40 * 2**30 / 86400)
        cycle(agent, snapshot(NOW - (11 - i) * 3600, storage={"filesystems": [fs("/srv/data", used / total * 100, total)]}))
    a = fired(agent)[("fs_forecast", "/srv/data")]
    assert a["severity"] == "warning" and "40.0 GiB/day" in a["message"] and "predicted full by 20" in a["title"]
    assert 1.5 < a["details"]["days_left"] < 4
    fc = {f["mountpoint"]: f for f in agent.alerts.forecasts()}["/srv/data"]
    assert fc["status"] == "filling"


def test_unavailable_source_does_not_resolve(tmp_path):
    from omv_copilot_agent.collect.base import SourceResult
    from omv_copilot_agent.collect.snapshot import Snapshot

    agent = make_agent(tmp_path)
    cycle(agent, snapshot(NOW, storage={"filesystems": [fs("/srv/a", 99)]}))
    for i in range(5):
        cycle(agent, Snapshot(NOW + i + 1, {"storage": SourceResult("storage", "unavailable", reason="timeout")}))
    assert ("fs_full", "/srv/a") in fired(agent)


def test_disk_added_and_removed_events(tmp_path):
    agent = make_agent(tmp_path, {"device_event_hold_s": 60, "resolve_after_clear_cycles": 1})
    cycle(agent, snapshot(NOW))
    agent.alerts.record_device_event("remove", "/dev/sdc", "WDC WD40", "WX1", ts=NOW + 1)
    agent.alerts.record_device_event("add", "/dev/sdd", "ST4000", "Z1", ts=NOW + 2)
    alerts = fired(agent, "disk_change")
    assert alerts[("disk_change", "/dev/sdc")]["severity"] == "warning" and "removed" in alerts[("disk_change", "/dev/sdc")]["title"]
    assert "added" in alerts[("disk_change", "/dev/sdd")]["title"]
    cycle(agent, snapshot(NOW + 120))  # after the hold time they resolve
    assert not fired(agent, "disk_change")
