"""``GET /metrics``: the box in Prometheus exposition format (token required), for fleets.

Built per scrape from the agent's cached snapshot and alert store with
python3-prometheus-client, so 50 boxes can report to one Prometheus.
"""

from __future__ import annotations

from flask import Blueprint, Response

from omv_copilot_agent import __version__
from omv_copilot_agent.api import agent

bp = Blueprint("metrics", __name__)


def exposition(agent_obj) -> bytes:
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.core import GaugeMetricFamily

    snap = agent_obj.snapshot
    svc = getattr(agent_obj, "alerts", None)

    class _Collector:
        def collect(self):
            info = GaugeMetricFamily("omv_copilot_info", "agent version", labels=["version"])
            info.add_metric([__version__], 1)
            yield info
            if snap is not None:
                age = GaugeMetricFamily("omv_copilot_snapshot_age_seconds", "age of the last collected snapshot")
                age.add_metric([], snap.age_s())
                yield age
                fs_size = GaugeMetricFamily("omv_copilot_filesystem_size_bytes", "filesystem size", labels=["mountpoint", "device", "fstype"])
                fs_used = GaugeMetricFamily("omv_copilot_filesystem_used_bytes", "filesystem used", labels=["mountpoint", "device", "fstype"])
                fs_avail = GaugeMetricFamily("omv_copilot_filesystem_avail_bytes", "filesystem free", labels=["mountpoint", "device", "fstype"])
                fs_ro = GaugeMetricFamily("omv_copilot_filesystem_readonly", "1 when mounted read-only", labels=["mountpoint", "device", "fstype"])
                for fs in snap.data("storage").get("filesystems") or []:
                    if fs.get("mounted") is False or not fs.get("total"):
                        continue
                    labels = [str(fs.get("mountpoint")), str(fs.get("device")), str(fs.get("fstype"))]
                    fs_size.add_metric(labels, fs["total"])
                    fs_used.add_metric(labels, fs.get("used") or 0)
                    fs_avail.add_metric(labels, fs.get("free") or 0)
                    fs_ro.add_metric(labels, 1 if fs.get("readonly") else 0)
                yield from (fs_size, fs_used, fs_avail, fs_ro)
                smart = GaugeMetricFamily("omv_copilot_smart_healthy", "1 SMART passed, 0 failed", labels=["device", "model", "serial"])
                temp = GaugeMetricFamily("omv_copilot_disk_temperature_celsius", "disk temperature", labels=["device"])
                for d in snap.data("smart").get("disks") or []:
                    if d.get("passed") is not None:
                        smart.add_metric([str(d.get("device")), str(d.get("model")), str(d.get("serial"))], 1 if d["passed"] else 0)
                    if d.get("temperature_c") is not None:
                        temp.add_metric([str(d.get("device"))], d["temperature_c"])
                yield from (smart, temp)
                up = GaugeMetricFamily("omv_copilot_service_up", "1 when the unit is active", labels=["service", "unit", "enabled_in_omv"])
                for u in snap.data("services").get("units") or []:
                    up.add_metric([str(u.get("omv_name") or u.get("name")), str(u.get("unit")), str(u.get("enabled_in_omv")).lower()],
                                  1 if u.get("active_state") == "active" else 0)
                yield up
                raid = GaugeMetricFamily("omv_copilot_raid_degraded", "1 when the md array is degraded", labels=["array", "level"])
                for r in snap.data("storage").get("raid") or []:
                    raid.add_metric([str(r.get("name")), str(r.get("level"))], 1 if r.get("degraded") else 0)
                yield raid
            if svc is not None:
                counts = GaugeMetricFamily("omv_copilot_alerts", "alerts by state and severity", labels=["state", "severity"])
                have = agent_obj.store.alert_counts()
                for state in ("firing", "acknowledged", "resolved"):
                    for sev in ("info", "warning", "critical"):
                        counts.add_metric([state, sev], have.get((state, sev), 0))
                yield counts
                fc = GaugeMetricFamily("omv_copilot_filesystem_forecast_seconds_to_full",
                                       "predicted seconds until the filesystem is full (filling ones only)", labels=["mountpoint"])
                for f in svc.forecasts():
                    if f["status"] in ("filling", "full") and f["seconds_left"] is not None:
                        fc.add_metric([f["mountpoint"]], f["seconds_left"])
                yield fc
                h = svc.health_score(snap)
                score = GaugeMetricFamily("omv_copilot_health_score", "health score 0-100")
                score.add_metric([], h["score"])
                yield score

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector())
    return generate_latest(registry)


@bp.get("/metrics")
def metrics():
    from prometheus_client import CONTENT_TYPE_LATEST

    return Response(exposition(agent()), mimetype=None, content_type=CONTENT_TYPE_LATEST)
