"""Forecasting on synthetic series, checked against the closed-form least-squares answer."""

import random

import pytest

from omv_copilot_agent.alerts.forecasting import DAY, forecast, linear_fit

TOTAL = 1000.0 * 2**30
NOW = 1_700_000_000.0
HOUR = 3600.0


def series(n, step, f):
    return [(NOW - (n - 1 - i) * step, f(i)) for i in range(n)]


def closed_form(points):
    """Textbook OLS: slope = (nΣty - ΣtΣy) / (nΣt² - (Σt)²), on times relative to NOW."""
    n = len(points)
    ts = [t - NOW for t, _ in points]
    ys = [y for _, y in points]
    st, sy = sum(ts), sum(ys)
    stt, sty = sum(t * t for t in ts), sum(t * y for t, y in zip(ts, ys))
    slope = (n * sty - st * sy) / (n * stt - st * st)
    intercept = (sy - slope * st) / n  # value at NOW
    return slope, NOW + (TOTAL - intercept) / slope


def test_linear_series_predicts_exact_time():
    rate = 20 * 2**30 / DAY  # 20 GiB per day
    pts = series(48, HOUR, lambda i: 500 * 2**30 + rate * i * HOUR)
    fc = forecast("/srv/a", pts, TOTAL, NOW)
    slope, full_at = closed_form(pts)
    assert fc.status == "filling"
    assert fc.full_at == pytest.approx(full_at, abs=1)
    assert fc.rate_bytes_per_day == pytest.approx(20 * 2**30, rel=1e-9)
    # (1000-500-47h worth) GiB left at 20 GiB/day
    expected_days = (TOTAL - pts[-1][1]) / (20 * 2**30)
    assert fc.days_left == pytest.approx(expected_days, rel=1e-6)


def test_noisy_series_matches_closed_form():
    rng = random.Random(7)
    rate = 50 * 2**30 / DAY
    pts = series(200, 600, lambda i: 700 * 2**30 + rate * i * 600 + rng.gauss(0, 2**30))
    fc = forecast("/srv/a", pts, TOTAL, NOW)
    slope, full_at = closed_form(pts)
    assert fc.status == "filling"
    assert fc.full_at == pytest.approx(full_at, abs=60)
    assert fc.rate_bytes_per_day == pytest.approx(slope * DAY, rel=1e-6)
    assert linear_fit(pts)[0] == pytest.approx(slope, rel=1e-9)


def test_step_after_cleanup_uses_only_points_after_the_drop():
    rate = 10 * 2**30 / DAY
    before = series(30, HOUR, lambda i: 900 * 2**30 + rate * i * HOUR)
    before = [(t - 30 * HOUR, y) for t, y in before]
    after = series(24, HOUR, lambda i: 300 * 2**30 + rate * i * HOUR)
    fc = forecast("/srv/a", before + after, TOTAL, NOW)
    _, full_at = closed_form(after)
    assert fc.status == "filling" and fc.points == 24
    assert fc.full_at == pytest.approx(full_at, abs=1)


def test_step_with_too_few_points_after_cleanup_is_insufficient():
    before = series(30, HOUR, lambda i: 900 * 2**30 + i * 2**30)
    after = [(NOW + 1, 100 * 2**30), (NOW + 2, 100 * 2**30)]
    fc = forecast("/srv/a", before + after, TOTAL, NOW + 2)
    assert fc.status == "insufficient_data" and "cleanup" in fc.reason


def test_flat_shrinking_and_three_points_are_quiet_with_a_reason():
    flat = forecast("/a", series(48, HOUR, lambda i: 500 * 2**30), TOTAL, NOW)
    shrink = forecast("/a", series(48, HOUR, lambda i: 500 * 2**30 - i * 2**28), TOTAL, NOW)
    three = forecast("/a", series(3, HOUR, lambda i: 500 * 2**30 + i * 2**30), TOTAL, NOW)
    assert (flat.status, flat.full_at) == ("flat", None) and flat.reason
    assert (shrink.status, shrink.full_at) == ("shrinking", None) and shrink.rate_bytes_per_day < 0
    assert three.status == "insufficient_data" and "3 samples over 2 h" in three.reason
    one = forecast("/a", series(1, HOUR, lambda i: 500 * 2**30), TOTAL, NOW)
    assert one.reason == "too little data yet: 1 sample over 0 min (a forecast needs 6 over 1 h)"


def test_three_points_forecast_when_allowed_matches_closed_form():
    pts = series(3, HOUR, lambda i: 990 * 2**30 + i * 2**30)
    fc = forecast("/a", pts, TOTAL, NOW, min_points=3, min_span_s=60)
    assert fc.full_at == pytest.approx(closed_form(pts)[1], abs=1)


def test_unknown_size_and_already_full():
    assert forecast("/a", [], 0, NOW).status == "unknown"
    pts = series(10, HOUR, lambda i: TOTAL - 2**30 + i * 2**29)
    assert forecast("/a", pts, TOTAL, NOW).status == "full"


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(n=st.integers(6, 300), step=st.integers(60, 3600), start_frac=st.floats(0.01, 0.9),
       rate_frac_per_day=st.floats(0.001, 0.5))
def test_property_exact_line_always_hits_closed_form(n, step, start_frac, rate_frac_per_day):
    slope = rate_frac_per_day * TOTAL / DAY
    if (n - 1) * step < 3600:  # the default minimum span is one hour
        n = -(-3600 // step) + 1
    pts = series(n, step, lambda i: start_frac * TOTAL + slope * i * step)
    fc = forecast("/p", pts, TOTAL, NOW)
    if pts[-1][1] >= TOTAL:
        assert fc.status == "full"
        return
    assert fc.status == "filling"
    assert fc.full_at == pytest.approx(NOW + (TOTAL - pts[-1][1]) / slope, rel=1e-6, abs=1)
