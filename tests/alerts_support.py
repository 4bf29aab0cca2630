"""Helpers for the alerts tests: snapshots from fixtures, an AlertService on a real store."""

from __future__ import annotations

import json
from pathlib import Path

from omv_copilot_agent.collect.base import SourceResult
from omv_copilot_agent.collect.snapshot import Snapshot

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "captures"


def snapshot(ts: float, **sources: dict) -> Snapshot:
    """A Snapshot with each keyword as an 'ok' source's data."""
    return Snapshot(ts, {name: SourceResult(name, "ok", data, collected_at=ts) for name, data in sources.items()})


def smart_disk(fixture: str, device: str) -> dict:
    from omv_copilot_agent.collect import smart

    return smart.parse(json.loads((FIXTURES / "smartctl" / fixture).read_text()), device)


def fs(mountpoint: str, percent: float, total: float = 1000 * 2**30, **extra) -> dict:
    used = total * percent / 100
    return {"device": "/dev/sdb1", "mountpoint": mountpoint, "fstype": "ext4", "total": total, "used": used,
            "free": total - used, "percent": percent, "readonly": False, "mounted": True, "omv_managed": True, **extra}


def make_agent(tmp_path, alerts: dict | None = None):
    """A real Agent (real SQLite store) whose collector is never used."""
    from omv_copilot_agent import config as config_mod
    from omv_copilot_agent.daemon.agent import Agent

    cfg = config_mod.from_dict({"data_dir": str(tmp_path / "data"), "alerts": {"udev_monitor": False, "rrd_import": False, **(alerts or {})}})
    return Agent(cfg)


def cycle(agent, snap: Snapshot):
    """What Agent.run_cycle does after collecting: store, metrics, listeners."""
    from omv_copilot_agent.collect.samples import metric_samples

    agent.snapshot = snap
    agent.store.save_snapshot(snap)
    agent.store.add_metrics(snap.taken_at, metric_samples(snap))
    return agent.alerts.evaluate(snap)
