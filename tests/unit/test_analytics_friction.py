"""The friction alert: fires on a planted rise, rarely on pure noise (the rates are printed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import poisson

from empowerment.analytics.friction import FrictionRule, friction_alerts, poisson_upper_tail, weekly_counts

WEEKS = pd.date_range("2024-01-01", periods=52, freq="7D")


def _counts(rates: np.ndarray, rng: np.random.Generator, series: int) -> pd.DataFrame:
    """Weekly Poisson counts for `series` (location, category) pairs with per-week rates."""
    frames = []
    for s in range(series):
        frames.append(pd.DataFrame({"week": WEEKS, "location": f"L{s % 5}", "touchpoint": "room",
                                    "category": f"C{s}", "incidents": rng.poisson(rates)}))
    return pd.concat(frames, ignore_index=True)


def test_the_poisson_tail_matches_scipy() -> None:
    counts = np.array([0, 1, 3, 7, 12, 30])
    rates = np.array([0.5, 2.0, 1.2, 3.0, 4.5, 10.0])
    np.testing.assert_allclose(poisson_upper_tail(counts, rates), poisson.sf(counts - 1, rates), rtol=1e-9, atol=1e-12)


def test_it_rarely_fires_on_noise_and_fires_on_a_planted_rise() -> None:
    rng = np.random.default_rng(3)
    rule = FrictionRule()
    series = 200
    for rate in (0.5, 2.0, 5.0):
        noise = _counts(np.full(len(WEEKS), rate), rng, series)
        alerts = friction_alerts(noise, rule, WEEKS)
        judged = series * (len(WEEKS) - rule.min_history_weeks)
        share = len(alerts) / judged
        print(f"friction: pure noise at {rate}/week fired on {share:.2%} of {judged:,} series-weeks")
        assert share < 0.05
    # A rise from 2 to 8 a week for four weeks is caught in most series within its first two weeks.
    planted = np.full(len(WEEKS), 2.0)
    planted[40:44] = 8.0
    risen = _counts(planted, rng, series)
    alerts = friction_alerts(risen, rule, WEEKS)
    caught = alerts.loc[alerts["week"].isin(WEEKS[40:42]), "category"].nunique() / series
    print(f"friction: planted rise 2 -> 8/week caught in its first two weeks in {caught:.0%} of series")
    assert caught > 0.8


def test_weekly_counts_group_by_week_location_touchpoint_and_category() -> None:
    incidents = pd.DataFrame({"occurred_at": pd.to_datetime(["2024-03-04 10:00", "2024-03-10 23:00", "2024-03-11 00:00"]),
                              "location": ["Harbour", "Harbour", "Harbour"], "category": ["Noise", "Noise", "Noise"]})
    counts = weekly_counts(incidents, {"Noise": "room"})
    assert counts[["week", "touchpoint", "incidents"]].values.tolist() == [
        [pd.Timestamp("2024-03-04"), "room", 2], [pd.Timestamp("2024-03-11"), "room", 1]]
