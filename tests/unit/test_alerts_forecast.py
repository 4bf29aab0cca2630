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
    assert "3 samples over 2 h" in three.reason
    assert (flat.status, flat.full_at) == ("flat", None) and flat.reason
    assert (shrink.status, shrink.full_at) == ("shrinking", None) and shrink.rate_bytes_per_day < 0
    assert three.status == "insufficient_data" and "3 samples over 2 h" in three.reason
    one = forecast("/a", series(1, HOUR, lambda i: 500 * 2**30), TOTAL, NOW)
    assert one.reason == "too little data yet: 1 sample over 0 min (a forecast needs 6 over 6 h)"


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
    if (n - 1) * step < 6 * 3600:  # the default minimum span is six hours
        n = -(-6 * 3600 // step) + 1
    pts = series(n, step, lambda i: start_frac * TOTAL + slope * i * step)
    fc = forecast("/p", pts, TOTAL, NOW)
    if pts[-1][1] >= TOTAL:
        assert fc.status == "full"
        return
    assert fc.status == "filling"
    assert fc.full_at == pytest.approx(NOW + (TOTAL - pts[-1][1]) / slope, rel=1e-6, abs=1)


# -- guards (issue 21) -----------------------------------------------------------------------
TB4 = 4000 * 10**9


def download(history_s, at_percent=50.0, size=40 * 10**9, step=300):
    """Flat usage, then one download of ``size`` spread over the last hour's first 20 minutes."""
    n = int(history_s // step) + 1
    base = TB4 * at_percent / 100

    def used(i):
        t_from_end = (n - 1 - i) * step
        return base + size * min(1.0, max(0.0, (3600 - t_from_end) / 1200))
    return series(n, step, used)


@pytest.mark.parametrize("history_s", [6 * HOUR, 7 * DAY])
def test_one_40gb_download_on_a_half_empty_4tb_disk_raises_nothing(history_s):
    fc = forecast("/srv/media", download(history_s), TB4, NOW)
    assert fc.severity is None and fc.reason
    assert fc.status in ("unsteady", "flat")  # a step is never a steady trend (R² of a step <= 0.75)


def test_the_same_download_on_a_nearly_full_disk_is_still_no_forecast_alert():
    fc = forecast("/srv/media", download(7 * DAY, at_percent=85), TB4, NOW)
    assert fc.severity is None and fc.status in ("unsteady", "flat") and "over 7 d" in fc.reason


def test_free_space_floor_blocks_a_real_trend_on_a_roomy_disk():
    rate = 400e9 / DAY  # 48 h at 400 GB/day
    roomy = forecast("/a", series(49, HOUR, lambda i: TB4 * 0.3 + rate * i * HOUR), TB4, NOW)  # ends 50 % free
    assert roomy.status == "filling" and roomy.days_left == pytest.approx(5) and roomy.severity is None
    assert "no alert while 50 % is free" in roomy.reason and "< 40 % free" in roomy.reason
    tight = forecast("/a", series(49, HOUR, lambda i: TB4 * 0.45 + rate * i * HOUR), TB4, NOW)  # ends 35 % free
    assert tight.severity == "warning" and "R² 1.00" in tight.reason and tight.days_left == pytest.approx(3.5)


def test_short_trend_cannot_vouch_for_a_far_horizon():
    rate = 40 * 10**9 / DAY  # 40 GB/day on a disk with 3.2 % free: 3.2 days left, 8 h of data vouch for 32 h
    pts = series(9, HOUR, lambda i: TB4 * 0.968 - 8 * HOUR * rate + rate * i * HOUR)
    fc = forecast("/a", pts, TB4, NOW)
    assert fc.status == "filling" and fc.severity is None and "vouch for 32 h ahead (4×), not 3.2 d" in fc.reason
    longer = forecast("/a", series(49, HOUR, lambda i: TB4 * 0.968 - 48 * HOUR * rate + rate * i * HOUR), TB4, NOW)
    assert longer.severity == "warning"


def test_critical_needs_the_critical_floor_and_horizon():
    rate = 100 * 10**9 / DAY  # 100 GB/day, 60 GB free: full in ~14 h, 1.5 % free
    fc = forecast("/a", series(25, HOUR, lambda i: TB4 - 60e9 - 24 * HOUR * rate + rate * i * HOUR), TB4, NOW)
    assert fc.severity == "critical" and fc.seconds_left == pytest.approx(60e9 / rate, rel=1e-6)
    earliest, latest = fc.seconds_left_range
    assert earliest <= fc.seconds_left <= latest


def test_noisy_growth_gives_a_prediction_range():
    rng = random.Random(3)
    rate = 30e9 / DAY
    fc = forecast("/a", series(7 * 24, HOUR, lambda i: TB4 * 0.9 + rate * i * HOUR + rng.gauss(0, 3e9)), TB4, NOW)
    earliest, latest = fc.seconds_left_range
    assert fc.status == "filling" and earliest < fc.seconds_left < latest and "±2σ" in fc.reason


@pytest.mark.parametrize("history_s", [6 * HOUR, 7 * DAY])
def test_issue_21_download_through_the_service_raises_nothing_and_says_why(tmp_path, history_s):
    """6 h or a week of history (what the RRD import gives), then one 40 GB download: no alert, a reason."""
    from tests.alerts_support import cycle, fs, make_agent, snapshot

    agent = make_agent(tmp_path, {"forecast_interval_s": 0})
    total = 4000 * 10**9
    for t, used in download(history_s, step=300):
        agent.store.add_metrics(t, [("fs.used_bytes", {"mountpoint": "/srv/media"}, used)])
    events = cycle(agent, snapshot(NOW, storage={"filesystems": [fs("/srv/media", 51.0, total)]}))
    assert events.new == []
    (fc,) = agent.alerts.forecasts()
    assert fc["severity"] is None and fc["status"] in ("flat", "unsteady") and fc["reason"]
