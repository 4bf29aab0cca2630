"""Disk-fill forecasting: a least-squares line through the usage series, with guards.

The fit is Prometheus' ``predict_linear``: ``used = a + b*t`` over a window,
extrapolated to the moment ``used`` reaches the size. A naive fit cries wolf on a
NAS (one 40 GB download in the last hour of a 6-hour window reads as "full in 2
days"), so a forecast only becomes an alert level when every guard holds:

* **cleanup split** — a large drop in usage starts a new series;
* **enough data** — at least ``min_points`` over ``min_span_s`` (6 h, the
  node-mixin's window);
* **a steady trend** — the longest window (6 h, 12 h, 24 h … the whole
  history) whose fit explains the data (R² ≥ ``r2_min``) and whose thirds each
  grow at the same rate within a factor of two. A single step scores R² ≤ 0.75
  (3·f·(1−f) for a step at fraction f), so a one-off copy is never a trend;
* **a horizon the window can vouch for** — no extrapolation further than
  ``extrapolation`` × the window (node-mixin: 6 h of data → 24 h ahead);
* **a free-space floor** — warning only below 40 % free, critical only below
  20 % (the node-mixin's NodeFilesystemSpaceFillingUp).

Every forecast carries its ``reason`` (what it saw, and why it does or does not
alert), R² and a ±2σ range for the time left. :class:`Guards` and
:func:`steady_fit` are the generic part, for any other predictive rule
(inodes, pending sectors).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from omv_copilot_agent.alerts.rules import human_bytes as _bytes

DAY = 86400.0
HOUR = 3600.0


@dataclass(frozen=True)
class Guards:
    """What a trend must show before it may become an alert (the ``alerts.forecast_*`` settings)."""

    min_points: int = 6
    min_span_s: float = 6 * HOUR
    r2_min: float = 0.9
    extrapolation: float = 4.0
    warning_s: float = 7 * DAY
    critical_s: float = DAY
    warning_free_percent: float = 40.0
    critical_free_percent: float = 20.0
    flat_fraction_per_day: float = 1e-4

    @classmethod
    def from_config(cls, cfg: dict) -> "Guards":
        return cls(min_points=cfg["forecast_min_points"], min_span_s=cfg["forecast_min_span_s"],
                   r2_min=cfg["forecast_r2_min"], extrapolation=cfg["forecast_extrapolation"],
                   warning_s=cfg["forecast_warning_s"], critical_s=cfg["forecast_critical_s"],
                   warning_free_percent=cfg["forecast_warning_free_percent"],
                   critical_free_percent=cfg["forecast_critical_free_percent"])


@dataclass
class Forecast:
    mountpoint: str
    status: str  # filling | flat | shrinking | unsteady | insufficient_data | full | unknown
    rate_bytes_per_day: float | None = None
    full_at: float | None = None
    days_left: float | None = None
    seconds_left: float | None = None
    reason: str | None = None
    points: int = 0
    severity: str | None = None  # the alert level the guards allow: None | warning | critical
    window_s: float | None = None  # the steady window the fit used
    r2: float | None = None
    seconds_left_range: list[float | None] | None = None  # [earliest, latest] at ±2σ of the slope; None = never
    free_percent: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Fit:
    slope: float
    intercept: float
    r2: float
    slope_se: float
    points: list = field(default_factory=list)

    @property
    def span(self) -> float:
        return self.points[-1][0] - self.points[0][0]


def linear_fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    """(slope, intercept) of the least-squares line; times are centred for precision."""
    fit = fit_line(points)
    return fit.slope, fit.intercept


def fit_line(points: list[tuple[float, float]]) -> Fit:
    """Least squares with R² and the slope's standard error (for a prediction range)."""
    n = len(points)
    t0 = points[0][0]
    ts = [t - t0 for t, _ in points]
    ys = [y for _, y in points]
    mt, my = sum(ts) / n, sum(ys) / n
    sxx = sum((t - mt) ** 2 for t in ts)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0:
        return Fit(0.0, my, 0.0, math.inf, points)
    slope = sum((t - mt) * (y - my) for t, y in zip(ts, ys)) / sxx
    ssr = sum((y - (my + slope * (t - mt))) ** 2 for t, y in zip(ts, ys))
    r2 = 1 - ssr / syy if syy > 0 else 0.0
    se = math.sqrt(ssr / (n - 2) / sxx) if n > 2 else math.inf
    return Fit(slope, my - slope * (mt + t0), max(0.0, r2), se, points)


def after_last_cleanup(points: list[tuple[float, float]], total: float, drop_fraction: float = 0.02) -> list[tuple[float, float]]:
    """The points after the last drop larger than ``drop_fraction`` of the size (a cleanup)."""
    start = 0
    for i in range(1, len(points)):
        if points[i - 1][1] - points[i][1] > drop_fraction * total:
            start = i
    return points[start:]


def _duration(seconds: float) -> str:
    """Minutes below an hour, hours below two days, else days ("45 min", "2.5 h", "3.2 d")."""
    if seconds < HOUR:
        return f"{round(seconds / 60)} min"
    if seconds < 2 * DAY:
        return f"{seconds / HOUR:.1f}".removesuffix(".0") + " h"
    return f"{seconds / DAY:.1f}".removesuffix(".0") + " d"


def _holds_in_thirds(fit: Fit, tolerance: float = 2.0) -> bool:
    """Each third of the window grows at the fit's rate within a factor of ``tolerance``.

    A hockey stick (flat, then a new trend) fails: its first third is flat, and the
    whole-window slope would understate the new rate. Skipped below 2 points a third.
    """
    t0, span = fit.points[0][0], fit.span
    thirds = [[p for p in fit.points if t0 + k * span / 3 <= p[0] <= t0 + (k + 1) * span / 3] for k in range(3)]
    if any(len(part) < 2 for part in thirds):
        return True
    return all(1 / tolerance <= fit_line(part).slope / fit.slope <= tolerance for part in thirds)


def steady_fit(points: list[tuple[float, float]], guards: Guards, flat_rate: float) -> tuple[Fit | None, Fit]:
    """(the longest steady window's fit or None, the whole series' fit).

    Windows double from ``min_span_s`` up to the whole series, all ending at the
    newest point; the longest steady one wins (the most evidence).
    """
    whole = fit_line(points)
    end, spans = points[-1][0], []
    span = guards.min_span_s
    while span < whole.span:
        spans.append(span)
        span *= 2
    spans.append(whole.span)
    for span in reversed(spans):
        window = [p for p in points if p[0] >= end - span]
        if len(window) < guards.min_points:
            continue
        fit = whole if len(window) == len(points) else fit_line(window)
        if abs(fit.slope) * DAY > flat_rate and fit.r2 >= guards.r2_min and _holds_in_thirds(fit):
            return fit, whole
    return None, whole


def _left(limit_gap: float, slope: float) -> float | None:
    return limit_gap / slope if slope > 0 else None


def forecast(mountpoint: str, points: list[tuple[float, float]], total: float | None, now: float,
             guards: Guards | None = None, **overrides) -> Forecast:
    """Predict when ``mountpoint`` (series of (ts, used_bytes)) reaches ``total`` bytes, and whether to alert."""
    guards = guards or Guards(**overrides)
    if not total or total <= 0:
        return Forecast(mountpoint, "unknown", reason="filesystem size unknown", points=len(points))
    points = sorted(points)
    recent = after_last_cleanup(points, total)
    cleaned = len(recent) < len(points)
    span = (recent[-1][0] - recent[0][0]) if recent else 0
    if len(recent) < guards.min_points or span < guards.min_span_s:
        n = len(recent)
        why = (f"too little data yet: {n} {'sample' if n == 1 else 'samples'} over {_duration(span)} "
               f"(a forecast needs {guards.min_points} over {_duration(guards.min_span_s)})")
        if cleaned:
            why += " since the last cleanup"
        return Forecast(mountpoint, "insufficient_data", reason=why, points=n)
    free_pct = round(100 * (total - recent[-1][1]) / total, 1)
    flat_rate = guards.flat_fraction_per_day * total
    fit, whole = steady_fit(recent, guards, flat_rate)
    if fit is None:
        if abs(whole.slope) * DAY <= flat_rate:
            return Forecast(mountpoint, "flat", whole.slope * DAY, points=len(recent),
                            reason=f"usage is flat: {_bytes(whole.slope * DAY)}/day over {_duration(span)}",
                            r2=round(whole.r2, 3), free_percent=free_pct)
        change = recent[-1][1] - recent[0][1]
        return Forecast(mountpoint, "unsteady", whole.slope * DAY, points=len(recent), r2=round(whole.r2, 3),
                        free_percent=free_pct,
                        reason=f"usage changed by {_bytes(change)} over {_duration(span)} but not steadily "
                               f"(no window of {_duration(guards.min_span_s)} or more fits a line with R² ≥ {guards.r2_min}): "
                               "a one-off copy or download is not a trend")
    rate, window = fit.slope * DAY, fit.span
    common = {"points": len(fit.points), "window_s": window, "r2": round(fit.r2, 3), "free_percent": free_pct}
    steady = f"{'+' if rate > 0 else '-'}{_bytes(abs(rate))}/day, steady over the last {_duration(window)} (R² {fit.r2:.2f})"
    if rate < 0:
        return Forecast(mountpoint, "shrinking", rate, reason=f"usage is shrinking: {steady}", **common)
    used_now = fit.intercept + fit.slope * now
    seconds = max(0.0, (total - used_now) / fit.slope)
    slow, fast = fit.slope - 2 * fit.slope_se, fit.slope + 2 * fit.slope_se
    seconds_range = [_left(total - used_now, fast), _left(total - used_now, slow)]
    severity, why = _alert_level(seconds, free_pct, window, guards)
    status = "full" if used_now >= total else "filling"
    return Forecast(mountpoint, status, rate, now + seconds, seconds / DAY, seconds,
                    f"{steady}; full in ~{_duration(seconds)}{_range_text(seconds_range)}; {why}", severity=severity,
                    seconds_left_range=seconds_range, **common)


def _alert_level(seconds: float, free_pct: float, window: float, g: Guards) -> tuple[str | None, str]:
    """The highest level whose horizon, free-space floor and extrapolation limit all hold, and why."""
    vouch = g.extrapolation * window
    why = None
    for level, horizon, floor in (("critical", g.critical_s, g.critical_free_percent),
                                  ("warning", g.warning_s, g.warning_free_percent)):
        if seconds > horizon:
            continue
        if free_pct >= floor:
            why = why or (f"no alert while {free_pct:g} % is free (a {level} needs < {floor:g} % free "
                          f"and full within {_duration(horizon)})")
            continue
        if seconds > vouch:
            why = why or (f"no alert yet: {_duration(window)} of steady trend vouch for {_duration(vouch)} ahead "
                          f"({g.extrapolation:g}×), not {_duration(seconds)}")
            continue
        return level, f"{level}: full within {_duration(horizon)} and {free_pct:g} % free (< {floor:g} %)"
    return None, why or f"no alert: beyond the {_duration(g.warning_s)} warning horizon"


def _range_text(r: list[float | None]) -> str:
    earliest, latest = r
    if earliest is None:
        return ""
    text = f"{_duration(earliest)} to {_duration(latest) if latest is not None else 'never'}"
    return "" if text == f"{_duration(earliest)} to {_duration(earliest)}" else f" (±2σ: {text})"

