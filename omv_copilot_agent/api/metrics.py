"""``GET /metrics``: the box in Prometheus exposition format (token required), for fleets.

Built per scrape from the agent's cached snapshot and alert store, so 50 boxes can report to one
Prometheus. The text format (0.0.4) is written here, not with prometheus_client: importing that
library loads urllib.request and http.client with HTTPS, hence OpenSSL — 5–6 MiB that a daemon
scraped every 15 s would carry for good (memory.without_openssl). The format is small: a HELP
and a TYPE line per family, one line per sample, three escapes. tests/unit/test_metrics_exposition.py
parses the output with prometheus_client's own parser (a test dependency only).
"""

from __future__ import annotations

import math
import re
from typing import Iterable, Iterator

from flask import Blueprint, Response

from omv_copilot_agent import __version__
from omv_copilot_agent.api import agent

bp = Blueprint("metrics", __name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")


class Gauge:
    """One gauge family: its samples, written as the format's lines by :meth:`lines`."""

    def __init__(self, name: str, help_text: str, labels: Iterable[str] = ()):
        self.labels = tuple(labels)
        if not METRIC_NAME.match(name):
            raise ValueError(f"invalid metric name {name!r}")
        bad = [n for n in self.labels if not LABEL_NAME.match(n) or n.startswith("__")]
        if bad:
            raise ValueError(f"invalid label name(s) {bad} for {name}")
        self.name, self.help = name, help_text
        self.samples: list[tuple[tuple[str, ...], float]] = []

    def add(self, label_values: Iterable[object], value) -> None:
        self.samples.append((tuple(str(v) for v in label_values), float(value)))

    def lines(self) -> Iterator[str]:
        yield f"# HELP {self.name} {escape_help(self.help)}\n"
        yield f"# TYPE {self.name} gauge\n"
        order = sorted(range(len(self.labels)), key=self.labels.__getitem__)
        for values, value in self.samples:
            pairs = ",".join(f'{self.labels[i]}="{escape_label(values[i])}"' for i in order)
            yield f"{self.name}{{{pairs}}} {number(value)}\n" if pairs else f"{self.name} {number(value)}\n"


def escape_help(text: str) -> str:
    return text.replace("\\", r"\\").replace("\n", r"\n")


def escape_label(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def number(value: float) -> str:
    """A sample value as Prometheus (Go's ParseFloat) reads it: ``NaN``, ``+Inf``, ``-Inf`` or Python's repr."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)


def families(agent_obj) -> Iterator[Gauge]:
    snap = agent_obj.snapshot
    svc = getattr(agent_obj, "alerts", None)
    info = Gauge("omv_copilot_info", "agent version", ["version"])
    info.add([__version__], 1)
    yield info
    if snap is not None:
        age = Gauge("omv_copilot_snapshot_age_seconds", "age of the last collected snapshot")
        age.add([], snap.age_s())
        yield age
        fs_labels = ["mountpoint", "device", "fstype"]
        fs_size = Gauge("omv_copilot_filesystem_size_bytes", "filesystem size", fs_labels)
        fs_used = Gauge("omv_copilot_filesystem_used_bytes", "filesystem used", fs_labels)
        fs_avail = Gauge("omv_copilot_filesystem_avail_bytes", "filesystem free", fs_labels)
        fs_ro = Gauge("omv_copilot_filesystem_readonly", "1 when mounted read-only", fs_labels)
        for fs in snap.data("storage").get("filesystems") or []:
            if fs.get("mounted") is False or not fs.get("total"):
                continue
            labels = [fs.get("mountpoint"), fs.get("device"), fs.get("fstype")]
            fs_size.add(labels, fs["total"])
            fs_used.add(labels, fs.get("used") or 0)
            fs_avail.add(labels, fs.get("free") or 0)
            fs_ro.add(labels, 1 if fs.get("readonly") else 0)
        yield from (fs_size, fs_used, fs_avail, fs_ro)
        smart = Gauge("omv_copilot_smart_healthy", "1 SMART passed, 0 failed", ["device", "model", "serial"])
        temp = Gauge("omv_copilot_disk_temperature_celsius", "disk temperature", ["device"])
        for d in snap.data("smart").get("disks") or []:
            if d.get("passed") is not None:
                smart.add([d.get("device"), d.get("model"), d.get("serial")], 1 if d["passed"] else 0)
            if d.get("temperature_c") is not None:
                temp.add([d.get("device")], d["temperature_c"])
        yield from (smart, temp)
        up = Gauge("omv_copilot_service_up", "1 when the unit is active", ["service", "unit", "enabled_in_omv"])
        for u in snap.data("services").get("units") or []:
            up.add([u.get("omv_name") or u.get("name"), u.get("unit"), str(u.get("enabled_in_omv")).lower()],
                   1 if u.get("active_state") == "active" else 0)
        yield up
        raid = Gauge("omv_copilot_raid_degraded", "1 when the md array is degraded", ["array", "level"])
        for r in snap.data("storage").get("raid") or []:
            raid.add([r.get("name"), r.get("level")], 1 if r.get("degraded") else 0)
        yield raid
    if svc is not None:
        counts = Gauge("omv_copilot_alerts", "alerts by state and severity", ["state", "severity"])
        have = agent_obj.store.alert_counts()
        for state in ("firing", "acknowledged", "resolved"):
            for sev in ("info", "warning", "critical"):
                counts.add([state, sev], have.get((state, sev), 0))
        yield counts
        fc = Gauge("omv_copilot_filesystem_forecast_seconds_to_full",
                   "predicted seconds until the filesystem is full (filling ones only)", ["mountpoint"])
        for f in svc.forecasts():
            if f["status"] in ("filling", "full") and f["seconds_left"] is not None:
                fc.add([f["mountpoint"]], f["seconds_left"])
        yield fc
        score = Gauge("omv_copilot_health_score", "health score 0-100")
        score.add([], svc.health_score(snap)["score"])
        yield score


def exposition(agent_obj) -> bytes:
    return "".join(line for family in families(agent_obj) for line in family.lines()).encode("utf-8")


@bp.get("/metrics")
def metrics():
    return Response(exposition(agent()), mimetype=None, content_type=CONTENT_TYPE)
