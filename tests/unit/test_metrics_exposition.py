"""``GET /metrics``' text: valid Prometheus exposition (0.0.4) for hostile names, same content as before.

The agent writes the format itself (api/metrics.py) so a scrape loads no prometheus_client, urllib
or OpenSSL into the daemon; prometheus_client's own parser (a test dependency) checks the output.
``exposition-prometheus-client.txt`` is what the former prometheus_client-based code produced for
the box below: the families, labels and values must stay the same.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from omv_copilot_agent.api.metrics import exposition
from tests.alerts_support import snapshot

BEFORE = Path(__file__).resolve().parents[1] / "fixtures" / "metrics" / "exposition-prometheus-client.txt"

#: names a user can give a mount, a share, a disk model or a service: quotes, backslashes, newlines, unicode
HOSTILE = ['/srv/dev-disk-by-label-"quoted"', "/srv/back\\slash\\", "/srv/new\nline", "/srv/Müll ☃ 数据",
           '/srv/all\\"\n\\n"', "/srv/{brace}=,x"]


def hostile_agent():
    filesystems = [{"device": f"/dev/sd{chr(97 + i)}1", "mountpoint": m, "fstype": "ext4", "total": 1000 * 2**30 + i,
                    "used": 2.5 * 2**30 * i, "free": 10**12 - i, "readonly": i % 2 == 1, "mounted": True}
                   for i, m in enumerate(HOSTILE)]
    filesystems += [{"device": "/dev/sdz1", "mountpoint": "/srv/unmounted", "mounted": False, "total": 5},
                    {"device": "/dev/sdy1", "mountpoint": "/srv/empty", "total": 0}]
    disks = [{"device": "/dev/sda", "model": 'WDC "Red"\\Plus\n', "serial": "WD-1234ÄÖ", "passed": True, "temperature_c": 34},
             {"device": "/dev/sdb", "model": None, "serial": None, "passed": False, "temperature_c": float("nan")},
             {"device": "/dev/sdc", "model": "x", "serial": "y", "passed": None, "temperature_c": float("inf")},
             {"device": "/dev/sdd", "model": "x", "serial": "y", "passed": True, "temperature_c": float("-inf")},
             {"device": "/dev/sde", "model": "asleep", "serial": "z", "passed": None, "temperature_c": None}]
    units = [{"name": "smb", "omv_name": 'Samba "SMB"\\CIFS', "unit": "smbd.service", "active_state": "active",
              "enabled_in_omv": True},
             {"name": "nfs\nserver", "unit": "nfs-server.service", "active_state": "failed", "enabled_in_omv": False},
             {"name": "plex ☃", "unit": None, "active_state": "inactive", "enabled_in_omv": None}]
    raid = [{"name": "md0", "level": "raid5", "degraded": True}, {"name": 'md"1\\', "level": None, "degraded": False}]
    snap = snapshot(1_700_000_000.0, storage={"filesystems": filesystems, "raid": raid}, smart={"disks": disks},
                    services={"units": units})
    snap.age_s = lambda now=None: 12.5
    forecasts = [{"mountpoint": HOSTILE[0], "status": "filling", "seconds_left": 86400 * 30.5},
                 {"mountpoint": HOSTILE[2], "status": "full", "seconds_left": 0},
                 {"mountpoint": HOSTILE[3], "status": "filling", "seconds_left": 1.5e10},
                 {"mountpoint": "/srv/steady", "status": "steady", "seconds_left": None},
                 {"mountpoint": "/srv/unknown", "status": "filling", "seconds_left": None}]
    alerts = SimpleNamespace(forecasts=lambda: forecasts, health_score=lambda snap: {"score": 73})
    store = SimpleNamespace(alert_counts=lambda: {("firing", "critical"): 2, ("acknowledged", "warning"): 1,
                                                  ("resolved", "info"): 1234567})
    return SimpleNamespace(snapshot=snap, alerts=alerts, store=store)


def families(text: str) -> dict:
    """name -> (type, help, {(sample name, sorted labels): value as repr, so NaN equals NaN})."""
    from prometheus_client.parser import text_string_to_metric_families

    return {f.name: (f.type, f.documentation, {(s.name, tuple(sorted(s.labels.items()))): repr(float(s.value))
                                               for s in f.samples})
            for f in text_string_to_metric_families(text)}


def test_same_families_labels_and_values_as_prometheus_client_wrote():
    text = exposition(hostile_agent()).decode("utf-8")
    assert families(text) == families(BEFORE.read_text(encoding="utf-8"))


def test_hostile_label_values_survive_the_parser():
    got = families(exposition(hostile_agent()).decode("utf-8"))
    mounts = {dict(labels)["mountpoint"] for _, labels in got["omv_copilot_filesystem_size_bytes"][2]}
    assert mounts == set(HOSTILE)
    models = {dict(labels)["model"] for _, labels in got["omv_copilot_smart_healthy"][2]}
    assert models == {'WDC "Red"\\Plus\n', "None", "x"}
    temps = {dict(labels)["device"]: value for (_, labels), value in got["omv_copilot_disk_temperature_celsius"][2].items()}
    assert temps == {"/dev/sda": "34.0", "/dev/sdb": "nan", "/dev/sdc": "inf", "/dev/sdd": "-inf"}


def test_invalid_metric_or_label_names_are_refused():
    import pytest

    from omv_copilot_agent.api.metrics import Gauge

    for name, labels in (("1st_metric", ()), ("omv-copilot", ()), ("ok", ["mount point"]), ("ok", ["__reserved"]),
                         ("ok", ["1x"]), ("", ())):
        with pytest.raises(ValueError):
            Gauge(name, "help", labels)
    assert list(Gauge("a:b_c", "x\\y\nz", ["_l1"]).lines())[0] == "# HELP a:b_c x\\\\y\\nz\n"
