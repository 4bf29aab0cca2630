"""Import OMV's collectd history (RRD files) so forecasts work on the day of install.

OMV 7 runs collectd with rrdcached; files live under
``/var/lib/rrdcached/db/<host>/``: ``df-<mount>/df_complex-{used,free}.rrd``
(``<mount>`` is the mount point without the leading '/', other '/' as '-',
``root`` for '/'), ``load/load.rrd`` (shortterm/midterm/longterm) and
``memory/memory-used.rrd``. Points are written into the metric tiers the
store downsamples to (5-minute for the last 30 days, hourly before), and only
for time before a series' first own sample, so re-importing is harmless.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from omv_copilot_agent import runner

log = logging.getLogger(__name__)

DEFAULT_DIR = "/var/lib/rrdcached/db"
RECENT_S = 30 * 86400
OLDEST_S = 730 * 86400


def df_instance(mountpoint: str) -> str:
    """collectd df plugin instance name for a mount point."""
    return "root" if mountpoint == "/" else mountpoint.strip("/").replace("/", "-")


def _fetch_rule(args: list[str]) -> str | None:
    """``rrdtool fetch FILE CF -s/-e/-r N`` only: reading, nothing else."""
    if args[:1] != ["fetch"] or len(args) < 3:
        return "rrdtool only 'fetch FILE CF [-s T] [-e T] [-r S]'"
    for flag in args[3::2]:
        if flag not in ("-s", "-e", "-r"):
            return f"rrdtool fetch option {flag!r} is not allowed"
    return None


runner.register("rrdtool", _fetch_rule)


def _parse(text: str) -> tuple[list[str], list[tuple[float, list[float | None]]]]:
    names, rows = [], []
    for line in text.splitlines():
        if not line.strip():
            continue
        if ":" not in line:
            names = line.split()
            continue
        ts, _, values = line.partition(":")
        parsed = []
        for v in values.split():
            try:
                f = float(v)
                parsed.append(None if f != f else f)  # -nan / nan
            except ValueError:
                parsed.append(None)
        rows.append((float(ts), parsed))
    return names, rows


def fetch(path: Path, ds: str, now: float) -> list[tuple[float, int, float]]:
    """(ts, tier, value) points of one data source: 5-min for 30 days, hourly before.

    Runs the ``rrdtool`` program rather than the python3-rrdtool module: librrd
    aborts the whole process on a truncated file, which must not kill the daemon.
    """
    points = []
    for start, end, resolution, tier in ((now - OLDEST_S, now - RECENT_S, 3600, 2), (now - RECENT_S, now, 300, 1)):
        res = runner.run(["rrdtool", "fetch", str(path), "AVERAGE", "-s", str(int(start)), "-e", str(int(end)),
                          "-r", str(resolution)], timeout=60, max_output=64 * 1024 * 1024)
        if res.error or res.returncode != 0:
            raise ValueError(f"rrdtool fetch {path} failed: {res.error or res.stderr.strip()[:200]}")
        names, rows = _parse(res.stdout)
        if ds not in names:
            raise ValueError(f"{path} has no data source {ds!r} (has {', '.join(names)})")
        idx = names.index(ds)
        for ts, values in rows:
            if idx < len(values) and values[idx] is not None and start <= ts <= end:
                points.append((ts, tier, values[idx]))
    return points


def import_history(store, snapshot, rrd_dir: str = DEFAULT_DIR, now: float | None = None) -> dict[str, int]:
    """Import what matches the snapshot's filesystems, load and memory; returns points per series."""
    base = Path(rrd_dir)
    hosts = [p for p in sorted(base.iterdir()) if p.is_dir()] if base.is_dir() else []
    if not hosts:
        return {}
    host = next((h for h in hosts if h.name in ("localhost", (snapshot.data("system").get("hostname") or ""))), hosts[0])
    now = now or time.time()
    imported: dict[str, int] = {}

    def put(name: str, labels: dict | None, points: list[tuple[float, int, float]]) -> None:
        n = store.import_metric_points(name, labels, points)
        if n:
            imported[f"{name}{labels or ''}"] = n

    for fs in snapshot.data("storage").get("filesystems") or []:
        mp, total = fs.get("mountpoint"), fs.get("total")
        folder = host / f"df-{df_instance(mp)}" if mp else None
        if not folder or not (folder / "df_complex-used.rrd").exists():
            continue
        try:
            used = fetch(folder / "df_complex-used.rrd", "value", now)
            free = {ts: v for ts, _, v in fetch(folder / "df_complex-free.rrd", "value", now)} if (folder / "df_complex-free.rrd").exists() else {}
        except Exception as exc:  # a damaged file must not stop the daemon
            log.warning("cannot import %s: %s", folder, exc)
            continue
        labels = {"mountpoint": mp}
        put("fs.used_bytes", labels, used)
        if free:
            put("fs.free_bytes", labels, [(ts, tier, free[ts]) for ts, tier, _ in used if ts in free])
            put("fs.used_percent", labels, [(ts, tier, 100.0 * u / (u + free[ts])) for ts, tier, u in used if ts in free and u + free[ts] > 0])
        elif total:
            put("fs.used_percent", labels, [(ts, tier, 100.0 * u / total) for ts, tier, u in used])
    load = host / "load" / "load.rrd"
    if load.exists():
        for ds, name in (("shortterm", "load.1"), ("midterm", "load.5"), ("longterm", "load.15")):
            try:
                put(name, None, fetch(load, ds, now))
            except Exception as exc:
                log.warning("cannot import %s %s: %s", load, ds, exc)
    mem_total = (snapshot.data("system").get("memory") or {}).get("total")
    mem = host / "memory" / "memory-used.rrd"
    if mem.exists() and mem_total:
        try:
            put("mem.percent", None, [(ts, tier, 100.0 * v / mem_total) for ts, tier, v in fetch(mem, "value", now)])
        except Exception as exc:
            log.warning("cannot import %s: %s", mem, exc)
    return imported
