"""Time to return: restricted mean time without return up to H days (RMST) per group, with
customer-bootstrap intervals, as figures with their own verdict."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from empowerment.analytics import PayoffRequest, compute_payoff, link_incidents, make_synthetic
from empowerment.analytics.aipw import case_weights
from empowerment.analytics.survival import rmst_draws
from empowerment.analytics.time_to_return import GRID_PER_DAY, MIN_EPISODES, time_to_return
from empowerment.reports.wording import time_without_return_text


@pytest.fixture(scope="module")
def linked() -> pd.DataFrame:
    incidents, gestures, transactions, customers, truth = make_synthetic(1500, 3)
    return link_incidents(incidents, gestures, transactions, customers, truth["as_of"], 90, 72, by_episode=True)


def _on_grid(linked: pd.DataFrame) -> np.ndarray:
    return np.round(linked["duration_days"].to_numpy(dtype=float) * GRID_PER_DAY) / GRID_PER_DAY


def test_point_estimates_are_the_kaplan_meier_area_and_the_difference_is_theirs(linked: pd.DataFrame) -> None:
    found = time_to_return(linked, 90, bootstrap=40, seed=1)
    durations, events = _on_grid(linked), linked["event"].to_numpy(dtype=bool)
    recovered = linked["recovered"].to_numpy(dtype=bool)
    for figure, rows in ((found.recovered_days, recovered), (found.comparison_days, ~recovered)):
        assert figure.shown
        assert figure.estimate == pytest.approx(rmst_draws(durations[rows], events[rows], 90.0)[0], rel=1e-12)
        assert 0 < figure.low <= figure.estimate <= figure.high <= 90  # type: ignore[operator]
    gap = found.difference_days
    assert gap.estimate == pytest.approx(found.recovered_days.estimate - found.comparison_days.estimate)
    assert gap.low <= gap.estimate <= gap.high  # type: ignore[operator]
    assert gap.estimate < 0  # recovered customers (the loyal ones, and helped) come back sooner


def test_bootstrap_draws_are_the_area_under_each_weighted_curve(linked: pd.DataFrame) -> None:
    customers = linked["customer_id"].to_numpy()
    weights = case_weights(len(linked), 20, seed=5, clusters=customers)
    found = time_to_return(linked, 90, bootstrap=20, weights=weights)
    durations, events = _on_grid(linked), linked["event"].to_numpy(dtype=bool)
    rows = linked["recovered"].to_numpy(dtype=bool)
    draws = rmst_draws(durations[rows], events[rows], 90.0, weights[1:, rows])
    low, high = np.percentile(draws, [2.5, 97.5])
    assert found.recovered_days.low == pytest.approx(low) and found.recovered_days.high == pytest.approx(high)


def test_too_few_episodes_or_too_short_a_follow_up_withhold_the_figures(linked: pd.DataFrame) -> None:
    few = pd.concat([linked.loc[linked["recovered"]].head(MIN_EPISODES - 1), linked.loc[~linked["recovered"]]])
    found = time_to_return(few, 90, bootstrap=20)
    assert not found.recovered_days.shown and "Too few recovered episodes" in found.recovered_days.reason
    assert found.comparison_days.shown and not found.difference_days.shown
    assert found.recovered_days.to_json()["estimate"] is None
    short = time_to_return(linked.assign(duration_days=np.minimum(linked["duration_days"], 30.0)), 90, 20)
    assert not short.comparison_days.shown and "full 90 days" in short.comparison_days.reason
    assert not time_to_return(linked, 90, bootstrap=0).recovered_days.shown  # no draws: no range


def test_the_payoff_result_carries_them_in_json_and_words() -> None:
    result = compute_payoff(*make_synthetic(800, 4)[:4], request=PayoffRequest(bootstrap=30))
    data = result.to_json()
    for name in ("rmst_recovered_days", "rmst_comparison_days", "rmst_difference_days"):
        assert set(data[name]) == {"estimate", "low", "high", "reliable", "reasons"}
        assert name in result.figures
    assert data["rmst_recovered_days"]["estimate"] == pytest.approx(result.rmst_recovered_days.estimate)
    sentence = time_without_return_text(result)
    assert sentence.startswith("Of the first 90 days, recovered customers spent on average ")
    assert "as observed, not adjusted" in sentence
    withheld = result.rmst_recovered_days.with_reasons("Too few recovered episodes (3; need 30).")
    import dataclasses

    hidden = dataclasses.replace(result, rmst_recovered_days=withheld)
    text = time_without_return_text(hidden)
    assert "not shown: Too few recovered episodes" in text
    assert f"{result.rmst_recovered_days.estimate:.1f}" not in text
