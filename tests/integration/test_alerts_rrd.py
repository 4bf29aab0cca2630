"""Import of OMV's collectd RRD history, with RRD files created by the real rrdtool."""

import time

import pytest

from tests.alerts_support import cycle, fs, make_agent, snapshot
from tests.conftest import IN_CI

rrdtool = pytest.importorskip("rrdtool", reason="python3-rrdtool is not installed") if not IN_CI else __import__("rrdtool")

GiB = 2**30
TOTAL = 1000 * GiB


def make_rrd(path, ds_names, start, step=300):
    path.parent.mkdir(parents=True, exist_ok=True)
    rrdtool.create(str(path), "--start", str(int(start)), "--step", str(step),
                   *[f"DS:{ds}:GAUGE:600:U:U" for ds in ds_names],
                   "RRA:AVERAGE:0.5:1:8640", "RRA:AVERAGE:0.5:12:17520")  # 30 d of 5 min, 2 y of hours (collectd-like)


def fill(path, start, end, values, step=300):
    updates = [f"{int(t)}:" + ":".join(f"{v:.3f}" for v in values(t)) for t in range(int(start) + step, int(end), step)]
    for i in range(0, len(updates), 500):
        rrdtool.update(str(path), *updates[i:i + 500])


def test_forecast_works_on_the_day_of_install(tmp_path):
    now = time.time() // 300 * 300
    start = now - 10 * 86400
    rate = 20 * GiB / 86400  # 20 GiB/day
    db = tmp_path / "rrd" / "localhost"
    used_at = lambda t: 700 * GiB + (t - start) * rate  # noqa: E731
    for name, fn in (("df_complex-used.rrd", used_at), ("df_complex-free.rrd", lambda t: TOTAL - used_at(t))):
        make_rrd(db / "df-srv-dev-disk-by-uuid-abcd" / name, ["value"], start)
        fill(db / "df-srv-dev-disk-by-uuid-abcd" / name, start, now, lambda t, f=fn: [f(t)])
    make_rrd(db / "load" / "load.rrd", ["shortterm", "midterm", "longterm"], start)
    fill(db / "load" / "load.rrd", start, now, lambda t: [0.5, 0.4, 0.3])
    make_rrd(db / "memory" / "memory-used.rrd", ["value"], start)
    fill(db / "memory" / "memory-used.rrd", start, now, lambda t: [2 * GiB])

    agent = make_agent(tmp_path, {"rrd_import": True, "rrd_dir": str(tmp_path / "rrd")})
    mp = "/srv/dev-disk-by-uuid-abcd"
    snap = snapshot(now, storage={"filesystems": [fs(mp, used_at(now) / TOTAL * 100, TOTAL), fs("/srv/other", 10)]},
                    system={"memory": {"total": 8 * GiB, "percent": 25}, "cpu": {"count": 4, "load": [0.5, 0.4, 0.3]}})
    agent.snapshot = snap
    agent.alerts.on_snapshot(snap)  # the first cycle after install
    imported = agent.alerts.rrd_imported
    assert imported["fs.used_bytes{'mountpoint': '%s'}" % mp] > 2000
    assert "load.1" in imported and "mem.percent" in imported
    assert agent.store.series("mem.percent", None, since=start)[0][1] == pytest.approx(25.0)
    fc = {f["mountpoint"]: f for f in agent.alerts.forecasts()}
    assert fc[mp]["status"] == "filling"
    assert fc[mp]["rate_bytes_per_day"] == pytest.approx(20 * GiB, rel=0.01)
    assert fc["/srv/other"]["status"] == "insufficient_data"
    # re-import (a daemon restart) adds nothing
    from omv_copilot_agent.collect.rrd_import import import_history

    assert import_history(agent.store, snap, str(tmp_path / "rrd"), now=now) == {}


def test_missing_or_broken_rrd_dir_is_harmless(tmp_path):
    broken = tmp_path / "rrd" / "localhost" / "df-root"
    broken.mkdir(parents=True)
    (broken / "df_complex-used.rrd").write_text("not an rrd")
    good = tmp_path / "good.rrd"
    make_rrd(good, ["value"], time.time() - 3600)
    truncated = tmp_path / "rrd" / "localhost" / "df-srv-a"
    truncated.mkdir()
    (truncated / "df_complex-used.rrd").write_bytes(good.read_bytes()[:200])  # librrd would abort() on this in-process
    agent = make_agent(tmp_path, {"rrd_import": True, "rrd_dir": str(tmp_path / "rrd")})
    cycle(agent, snapshot(time.time(), storage={"filesystems": [fs("/", 50), fs("/srv/a", 50)]}))
    assert agent.alerts.import_rrd(agent.snapshot) == {}
    assert agent.alerts.import_rrd(agent.snapshot, str(tmp_path / "nowhere")) == {}
