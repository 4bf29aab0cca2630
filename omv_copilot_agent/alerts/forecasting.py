"""Disk-fill forecasting: an ordinary least-squares line through the usage series.

This is what Prometheus' ``predict_linear`` does: fit ``used = a + b*t`` over a
window and extrapolate to the moment ``used`` reaches the filesystem size.
Two things make a naive fit lie on a NAS, so they are handled explicitly:

* a cleanup (a large drop in usage) splits the series — only the points after
  the last drop describe the current trend;
* flat, shrinking or too-short series give no forecast, and the answer says
  why (``status`` + ``reason``) instead of raising an alert.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

DAY = 86400.0


@dataclass
class Forecast:
    mountpoint: str
    status: str  # filling | flat | shrinking | insufficient_data | full | unknown
    rate_bytes_per_day: float | None = None
    full_at: float | None = None
    days_left: float | None = None
    seconds_left: float | None = None
    reason: str | None = None
    points: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def linear_fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    """(slope, intercept) of the least-squares line; times are centred for precision."""
    n = len(points)
    t0 = points[0][0]
    ts = [t - t0 for t, _ in points]
    ys = [y for _, y in points]
    mt, my = sum(ts) / n, sum(ys) / n
    sxx = sum((t - mt) ** 2 for t in ts)
    if sxx == 0:
        return 0.0, my
    slope = sum((t - mt) * (y - my) for t, y in zip(ts, ys)) / sxx
    return slope, my - slope * (mt + t0)


def after_last_cleanup(points: list[tuple[float, float]], total: float, drop_fraction: float = 0.02) -> list[tuple[float, float]]:
    """The points after the last drop larger than ``drop_fraction`` of the size (a cleanup)."""
    start = 0
    for i in range(1, len(points)):
        if points[i - 1][1] - points[i][1] > drop_fraction * total:
            start = i
    return points[start:]


def _duration(seconds: float) -> str:
    """Minutes below an hour, else hours ("45 min", "1 h", "2.5 h")."""
    return f"{round(seconds / 60)} min" if seconds < 3600 else f"{seconds / 3600:.1f}".removesuffix(".0") + " h"


def forecast(mountpoint: str, points: list[tuple[float, float]], total: float | None, now: float, *,
             min_points: int = 6, min_span_s: float = 3600, flat_fraction_per_day: float = 1e-4) -> Forecast:
    """Predict when ``mountpoint`` (series of (ts, used_bytes)) reaches ``total`` bytes."""
    if not total or total <= 0:
        return Forecast(mountpoint, "unknown", reason="filesystem size unknown", points=len(points))
    points = sorted(points)
    recent = after_last_cleanup(points, total)
    cleaned = len(recent) < len(points)
    if len(recent) < min_points or (recent and recent[-1][0] - recent[0][0] < min_span_s):
        span = (recent[-1][0] - recent[0][0]) if recent else 0
        n = len(recent)
        why = (f"too little data yet: {n} {'sample' if n == 1 else 'samples'} over {_duration(span)} "
               f"(a forecast needs {min_points} over {_duration(min_span_s)})")
        if cleaned:
            why += " since the last cleanup"
        return Forecast(mountpoint, "insufficient_data", reason=why, points=len(recent))
    slope, intercept = linear_fit(recent)
    rate = slope * DAY
    used_now = intercept + slope * now
    if used_now >= total:
        return Forecast(mountpoint, "full", rate, now, 0.0, 0.0, "the trend says the filesystem is full now", len(recent))
    if abs(rate) <= flat_fraction_per_day * total:
        return Forecast(mountpoint, "flat", rate, reason="usage is flat", points=len(recent))
    if rate < 0:
        return Forecast(mountpoint, "shrinking", rate, reason="usage is shrinking", points=len(recent))
    seconds = (total - used_now) / slope
    return Forecast(mountpoint, "filling", rate, now + seconds, seconds / DAY, seconds, None, len(recent))
