"""The metric time series, downsampled like RRD so the store stays small.

Tier 0 keeps raw samples for 48 h, tier 1 five-minute averages for 30 days,
tier 2 hourly averages for 2 years. ``series()`` reads across tiers so a
forecast over a week sees 5-minute points and one over a year sees hours.
"""

from __future__ import annotations

import time
from typing import Iterable

# (tier, bucket seconds, keep seconds)
TIERS = ((0, 0, 48 * 3600), (1, 300, 30 * 86400), (2, 3600, 730 * 86400))

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
            conn.executemany("INSERT INTO metrics (ts, name, labels, value, tier) VALUES (?, ?, ?, ?, 0)", rows)

    def series(self, name: str, labels: dict | str | None = None, since: float = 0.0, until: float | None = None,
               step: float = 0) -> list[tuple[float, float]]:
        """(ts, value) points of one series, oldest first, finest tier available per time range,
        averaged into ``step``-second buckets when ``step`` is given."""
        until = until or time.time() + 1
        key = labels_key(labels)
        rows = [dict(r) for r in self.query(
            "SELECT ts, value, tier FROM metrics WHERE name = ? AND labels = ? AND ts >= ? AND ts <= ? ORDER BY ts",
            (name, key, since, until),
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
        stored = {(r["name"], r["labels"]) for r in self.query("SELECT DISTINCT name, labels FROM metrics")}
        return sorted(stored | {(n, labels) for _, n, labels, _ in list(self._metric_buffer or ())})

    def downsample_metrics(self, now: float | None = None) -> dict[str, int]:
        """Roll expired raw samples into 5-min averages, those into hourly; drop the oldest."""
        now = now or time.time()
        removed = {}
        with self.write() as conn:
            for (tier, _, keep), (next_tier, bucket, _) in zip(TIERS, TIERS[1:]):
                cutoff = now - keep
                conn.execute(
                    "INSERT INTO metrics (ts, name, labels, value, tier) "
                    "SELECT CAST(ts / ? AS INTEGER) * ? + ? / 2.0, name, labels, AVG(value), ? FROM metrics "
                    "WHERE tier = ? AND ts < ? GROUP BY name, labels, CAST(ts / ? AS INTEGER)",
                    (bucket, bucket, bucket, next_tier, tier, cutoff, bucket),
                )
                removed[f"metrics_tier{tier}"] = conn.execute("DELETE FROM metrics WHERE tier = ? AND ts < ?", (tier, cutoff)).rowcount
            last_tier, _, keep = TIERS[-1]
            removed[f"metrics_tier{last_tier}"] = conn.execute("DELETE FROM metrics WHERE tier = ? AND ts < ?", (last_tier, now - keep)).rowcount
        return removed

    def import_metric_points(self, name: str, labels, points: list[tuple[float, int, float]]) -> int:
        """Insert (ts, tier, value) points older than the series' first sample (idempotent re-import)."""
        key = labels_key(labels)
        first = self.query("SELECT MIN(ts) FROM metrics WHERE name = ? AND labels = ?", (name, key))[0][0]
        rows = [(ts, name, key, value, tier) for ts, tier, value in points if first is None or ts < first]
        if not rows:
            return 0
        with self.write() as conn:
            conn.executemany("INSERT INTO metrics (ts, name, labels, value, tier) VALUES (?, ?, ?, ?, ?)", rows)
        return len(rows)

    def usage_series(self, name: str, labels, since: float, until: float) -> list[tuple[float, float]]:
        """Like ``series()`` but one index range scan per tier (tier IN ...), for the per-cycle forecasts."""
        rows = self.query("SELECT ts, value, tier FROM metrics WHERE name = ? AND labels = ? AND tier IN (0, 1, 2) "
                          "AND ts >= ? AND ts <= ? ORDER BY ts", (name, labels_key(labels), since, until))
        rows = sorted([tuple(r) for r in rows] + self.buffered_points(name, labels_key(labels), since, until))
        raw_start = min((r[0] for r in rows if r[2] == 0), default=None)
        five_start = min((r[0] for r in rows if r[2] == 1), default=None)
        return [(r[0], r[1]) for r in rows
                if not (r[2] == 2 and five_start is not None and r[0] >= five_start)
                and not (r[2] == 1 and raw_start is not None and r[0] >= raw_start)]
