"""The metric time series, downsampled like RRD so the store stays small.

Tier 0 keeps raw samples for 48 h, tier 1 five-minute averages for 30 days,
tier 2 hourly averages for 2 years. ``series()`` reads across tiers so a
forecast over a week sees 5-minute points and one over a year sees hours.

Why two tables: raw samples go to ``metrics_raw``, whose rowid is their time (:func:`raw_id`),
so a flush appends to its last page (SQLite's quick balance) and a time range is a rowid range,
and whose series is a small integer (``metric_series``) instead of its name and labels; ``metrics`` (tiers 1 and 2, and tier-0 rows written by
older versions or imports) is keyed by series. Downsampling moves rows on a daily grid
(:data:`ROLLUP_S`, UTC midnight): between two grid points it finds nothing to move and dirties
no page, and its buckets never straddle a cutoff. Measured on a store holding two days of
samples (9 series): a flush of 15 cycles writes ~8 pages instead of 31-40, the rollups ~250
pages a day instead of ~1,400 hourly. Raw samples are kept 48 to 72 h, 5-min averages 30 to 31 days.
"""

from __future__ import annotations

import time
from typing import Iterable

# (tier, bucket seconds, keep seconds)
TIERS = ((0, 0, 48 * 3600), (1, 300, 30 * 86400), (2, 3600, 730 * 86400))
#: retention cutoffs move in steps of this many seconds (a multiple of every bucket): once a day
ROLLUP_S = 86400
#: a raw sample's rowid: its time in µs times this, plus its place among its cycle's samples
RAW_SLOTS = 1024
#: tier-0 rows of one series in a time range (as a rowid range, see raw_id), from metrics_raw
_RAW = ("SELECT ts, value, 0 AS tier FROM metrics_raw WHERE id >= ? AND id < ? "
        "AND series = (SELECT id FROM metric_series WHERE name = ? AND labels = ?)")
#: raw rows with their series' name and labels
_RAW_NAMED = "SELECT r.ts, s.name, s.labels, r.value FROM metrics_raw r JOIN metric_series s ON s.id = r.series"


def raw_id(ts: float, place: int = 0) -> int:
    """The rowid of a raw sample: time order is rowid order, so appends are SQLite's cheapest write."""
    return int(ts * 1_000_000) * RAW_SLOTS + place % RAW_SLOTS  # < 2**63 until the year 2255


def _raw_range(since: float, until: float) -> tuple[int, int]:
    return raw_id(since), raw_id(until) + RAW_SLOTS

Sample = tuple[str, str, float]  # name, labels, value


def labels_key(labels: dict | str | None) -> str:
    """Canonical label string: ``k=v,k2=v2`` sorted, so lookups are exact."""
    if not labels:
        return ""
    if isinstance(labels, str):
        return labels
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def bucketed(points: list[tuple[float, float]], step: float) -> list[tuple[float, float]]:
    """Average ``points`` into buckets of ``step`` seconds, each at its bucket's middle (``step`` 0: unchanged).

    A chart over 30 days wants a few hundred points, not the ~14 000 the tiers hold
    (48 h raw + 28 days of 5-minute averages); the tiers' own buckets are averages
    too, so averaging them again keeps the shape.
    """
    if step <= 0 or not points:
        return list(points)
    sums: dict[int, list[float]] = {}
    for ts, value in points:
        acc = sums.setdefault(int(ts // step), [0.0, 0])
        acc[0] += value
        acc[1] += 1
    return [(k * step + step / 2, total / n) for k, (total, n) in sorted(sums.items())]


def _raw_rows(conn, rows: list) -> list:
    """(ts, name, labels, value) rows as (rowid, series id, ts, value); the n-th sample of a cycle gets place n."""
    places: dict[float, int] = {}
    series: dict[tuple[str, str], int] = {}
    out = []
    for ts, name, labels, value in rows:
        sid = series.get((name, labels))
        if sid is None:
            conn.execute("INSERT OR IGNORE INTO metric_series (name, labels) VALUES (?, ?)", (name, labels))
            sid = series[(name, labels)] = conn.execute("SELECT id FROM metric_series WHERE name = ? AND labels = ?",
                                                        (name, labels)).fetchone()[0]
        place = places[ts] = places.get(ts, -1) + 1
        out.append((raw_id(ts, place), sid, ts, value))
    return out


class MetricsMixin:
    #: rows waiting for flush_metrics() once buffer_metrics() was called (the daemon), else None
    _metric_buffer: list | None = None

    def buffer_metrics(self) -> None:
        """Keep new samples in memory until flush_metrics(): one commit every few minutes, not one per cycle.

        Reads (series, metric_names) include the buffered samples.
        """
        if self._metric_buffer is None:
            self._metric_buffer = []

    def add_metrics(self, ts: float, samples: Iterable[Sample]) -> int:
        rows = [(ts, name, labels_key(labels), float(value)) for name, labels, value in samples if value is not None]
        if self._metric_buffer is not None:
            self._metric_buffer.extend(rows)
        elif rows:
            self._insert_metrics(rows)
        return len(rows)

    def flush_metrics(self) -> int:
        """Write the buffered samples (inside the caller's transaction when there is one)."""
        rows, self._metric_buffer = self._metric_buffer, ([] if self._metric_buffer is not None else None)
        if rows:
            try:
                self._insert_metrics(rows)
            except Exception:
                self._metric_buffer[:0] = rows  # kept for the next flush (a full disk may recover)
                raise
        return len(rows or ())

    def buffered_points(self, name: str, key: str, since: float, until: float) -> list[tuple[float, float, int]]:
        """(ts, value, tier 0) of one series still waiting in the buffer."""
        return [(ts, value, 0) for ts, n, labels, value in list(self._metric_buffer or ())
                if n == name and labels == key and since <= ts <= until]

    def _insert_metrics(self, rows: list) -> None:
        with self.write() as conn:
            conn.executemany("INSERT OR REPLACE INTO metrics_raw (id, series, ts, value) VALUES (?, ?, ?, ?)", _raw_rows(conn, rows))

    def series(self, name: str, labels: dict | str | None = None, since: float = 0.0, until: float | None = None,
               step: float = 0) -> list[tuple[float, float]]:
        """(ts, value) points of one series, oldest first, finest tier available per time range,
        averaged into ``step``-second buckets when ``step`` is given."""
        until = until or time.time() + 1
        key = labels_key(labels)
        rows = [dict(r) for r in self.query(
            "SELECT ts, value, tier FROM metrics WHERE name = ? AND labels = ? AND ts >= ? AND ts <= ? UNION ALL " + _RAW,
            (name, key, since, until, *_raw_range(since, until), name, key),
        )]
        rows += [{"ts": ts, "value": value, "tier": tier} for ts, value, tier in self.buffered_points(name, key, since, until)]
        if not rows:
            return []
        rows.sort(key=lambda r: r["ts"])
        raw_start = min((r["ts"] for r in rows if r["tier"] == 0), default=None)
        five_start = min((r["ts"] for r in rows if r["tier"] == 1), default=None)
        points = []
        for r in rows:
            if r["tier"] == 2 and five_start is not None and r["ts"] >= five_start:
                continue
            if r["tier"] == 1 and raw_start is not None and r["ts"] >= raw_start:
                continue
            points.append((r["ts"], r["value"]))
        return bucketed(points, step)

    def metric_names(self) -> list[tuple[str, str]]:
        stored = {(r["name"], r["labels"]) for r in self.query(
            "SELECT DISTINCT name, labels FROM metrics UNION "
            "SELECT name, labels FROM metric_series s WHERE EXISTS (SELECT 1 FROM metrics_raw WHERE series = s.id)")}
        return sorted(stored | {(n, labels) for _, n, labels, _ in list(self._metric_buffer or ())})

    def downsample_metrics(self, now: float | None = None) -> dict[str, int]:
        """Roll expired raw samples into 5-min averages, those into hourly; drop the oldest.

        Cutoffs are on the :data:`ROLLUP_S` grid: called hourly, this writes once a day.
        """
        now = now or time.time()
        removed = {}
        cut = lambda keep: (now - keep) // ROLLUP_S * ROLLUP_S  # noqa: E731
        with self.write() as conn:
            for (tier, _, keep), (next_tier, bucket, _) in zip(TIERS, TIERS[1:]):
                cutoff = cut(keep)
                source = ("(SELECT ts, name, labels, value FROM metrics WHERE tier = 0 AND ts < :cutoff UNION ALL "
                          f"{_RAW_NAMED} WHERE r.id < :cut_id)" if tier == 0 else
                          "(SELECT ts, name, labels, value FROM metrics WHERE tier = :tier AND ts < :cutoff)")
                conn.execute(
                    "INSERT INTO metrics (ts, name, labels, value, tier) "
                    f"SELECT CAST(ts / :bucket AS INTEGER) * :bucket + :bucket / 2.0, name, labels, AVG(value), :next FROM {source} "
                    "GROUP BY name, labels, CAST(ts / :bucket AS INTEGER)",
                    {"bucket": bucket, "next": next_tier, "tier": tier, "cutoff": cutoff, "cut_id": raw_id(cutoff)},
                )
                gone = conn.execute("DELETE FROM metrics WHERE tier = ? AND ts < ?", (tier, cutoff)).rowcount
                if tier == 0:
                    gone += conn.execute("DELETE FROM metrics_raw WHERE id < ?", (raw_id(cutoff),)).rowcount
                removed[f"metrics_tier{tier}"] = gone
            last_tier, _, keep = TIERS[-1]
            removed[f"metrics_tier{last_tier}"] = conn.execute("DELETE FROM metrics WHERE tier = ? AND ts < ?", (last_tier, cut(keep))).rowcount
        return removed

    def import_metric_points(self, name: str, labels, points: list[tuple[float, int, float]]) -> int:
        """Insert (ts, tier, value) points older than the series' first sample (idempotent re-import)."""
        key = labels_key(labels)
        first = self.query("SELECT MIN(m) FROM (SELECT MIN(ts) AS m FROM metrics WHERE name = ? AND labels = ? "
                           "UNION ALL SELECT MIN(ts) FROM metrics_raw WHERE series = "
                           "(SELECT id FROM metric_series WHERE name = ? AND labels = ?))", (name, key, name, key))[0][0]
        rows = [(ts, name, key, value, tier) for ts, tier, value in points if first is None or ts < first]
        if not rows:
            return 0
        with self.write() as conn:
            conn.executemany("INSERT INTO metrics (ts, name, labels, value, tier) VALUES (?, ?, ?, ?, ?)", rows)
        return len(rows)

    def usage_series(self, name: str, labels, since: float, until: float) -> list[tuple[float, float]]:
        """Like ``series()`` but one index range scan per tier (tier IN ...), for the per-cycle forecasts."""
        key = labels_key(labels)
        rows = self.query("SELECT ts, value, tier FROM metrics WHERE name = ? AND labels = ? AND tier IN (0, 1, 2) "
                          "AND ts >= ? AND ts <= ? UNION ALL " + _RAW, (name, key, since, until, *_raw_range(since, until), name, key))
        rows = sorted([tuple(r) for r in rows] + self.buffered_points(name, key, since, until))
        raw_start = min((r[0] for r in rows if r[2] == 0), default=None)
        five_start = min((r[0] for r in rows if r[2] == 1), default=None)
        return [(r[0], r[1]) for r in rows
                if not (r[2] == 2 and five_start is not None and r[0] >= five_start)
                and not (r[2] == 1 and raw_start is not None and r[0] >= raw_start)]
