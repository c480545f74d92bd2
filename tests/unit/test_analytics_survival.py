"""Kaplan-Meier and log-rank against lifelines (an independent implementation)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test
from lifelines.utils import median_survival_times

from empowerment.analytics.survival import kaplan_meier, logrank, survival_at

# lifelines itself trips pandas' future-API warnings; they are not ours.
pytestmark = pytest.mark.filterwarnings("ignore:Starting with pandas version 4.0")


def _tied_censored_sample(seed: int, n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    durations = np.round(rng.exponential(40.0, n), 0)  # rounding -> many ties, some zeros
    durations[: n // 10] = np.round(durations[: n // 10] / 10) * 10  # heavier ties
    events = rng.random(n) < 0.6
    return durations, events


def _lifelines_fit(durations: np.ndarray, events: np.ndarray) -> KaplanMeierFitter:
    return KaplanMeierFitter().fit(durations, events)


def _assert_close(ours: float, theirs: float) -> None:
    if math.isinf(theirs):
        assert math.isinf(ours)
    else:
        assert ours == pytest.approx(theirs, abs=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_kaplan_meier_matches_lifelines(seed: int) -> None:
    durations, events = _tied_censored_sample(seed)
    ours = kaplan_meier(durations, events)
    theirs = _lifelines_fit(durations, events)

    np.testing.assert_allclose(ours.timeline, theirs.timeline, atol=0, rtol=0)
    np.testing.assert_allclose(ours.survival, theirs.survival_function_.iloc[:, 0], atol=1e-9, rtol=0)
    np.testing.assert_allclose(ours.ci_lower, theirs.confidence_interval_.iloc[:, 0], atol=1e-9, rtol=0)
    np.testing.assert_allclose(ours.ci_upper, theirs.confidence_interval_.iloc[:, 1], atol=1e-9, rtol=0)
    _assert_close(ours.median, theirs.median_survival_time_)
    median_ci = median_survival_times(theirs.confidence_interval_)
    _assert_close(ours.median_ci[0], float(median_ci.iloc[0, 0]))
    _assert_close(ours.median_ci[1], float(median_ci.iloc[0, 1]))


@pytest.mark.parametrize(
    ("durations", "events"),
    [
        ([5.0, 5.0, 5.0, 8.0], [True, True, True, True]),  # curve reaches 0
        ([3.0, 4.0, 9.0], [False, False, False]),  # no events: median is infinite
        ([0.0, 0.0, 2.0, 2.0, 7.0], [True, False, True, True, False]),  # events at time 0
        ([10.0, 1.0, 1.0, 3.0, 3.0, 3.0], [False, True, False, True, True, False]),
    ],
)
def test_kaplan_meier_edge_cases_match_lifelines(durations: list[float], events: list[bool]) -> None:
    ours = kaplan_meier(np.array(durations), np.array(events))
    theirs = _lifelines_fit(np.array(durations), np.array(events))
    np.testing.assert_allclose(ours.survival, theirs.survival_function_.iloc[:, 0], atol=1e-9)
    np.testing.assert_allclose(ours.ci_lower, theirs.confidence_interval_.iloc[:, 0], atol=1e-9)
    np.testing.assert_allclose(ours.ci_upper, theirs.confidence_interval_.iloc[:, 1], atol=1e-9)
    _assert_close(ours.median, theirs.median_survival_time_)


def test_kaplan_meier_empty_input_is_nan_not_an_error() -> None:
    result = kaplan_meier(np.array([]), np.array([], dtype=bool))
    assert result.n == 0 and math.isnan(result.median)


def test_survival_at_reads_the_step_function() -> None:
    result = kaplan_meier(np.array([1.0, 2.0, 3.0, 4.0]), np.ones(4, dtype=bool))
    np.testing.assert_allclose(
        survival_at(result, np.array([-1.0, 0.5, 1.0, 2.5, 9.0])), [1, 1, 0.75, 0.5, 0]
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_logrank_matches_lifelines(seed: int) -> None:
    durations_a, events_a = _tied_censored_sample(seed, 250)
    durations_b, events_b = _tied_censored_sample(seed + 100, 180)
    durations_b = durations_b * 1.3  # a real difference, still with ties
    ours = logrank(durations_a, events_a, durations_b, events_b)
    theirs = logrank_test(durations_a, durations_b, event_observed_A=events_a, event_observed_B=events_b)
    assert ours.test_statistic == pytest.approx(theirs.test_statistic, rel=1e-9)
    assert ours.p_value == pytest.approx(theirs.p_value, rel=1e-9, abs=1e-15)


def test_rmst_of_exponential_without_censoring_is_the_closed_form() -> None:
    from empowerment.analytics.survival import rmst_draws

    rate, horizon = 0.05, 30.0
    durations = np.random.default_rng(0).exponential(1 / rate, 100_000)
    expected = (1 - np.exp(-rate * horizon)) / rate
    assert rmst_draws(durations, np.ones(durations.size, bool), horizon)[0] == pytest.approx(expected, rel=0.01)


def test_rmst_handles_censoring_as_the_km_area() -> None:
    from empowerment.analytics.survival import rmst_draws

    # KM: S=1 on [0,2), 3/4 after t=2; censored at 3 leaves 2 at risk; S=3/8 after t=5.
    durations = np.array([2.0, 3.0, 5.0, 8.0])
    events = np.array([True, False, True, False])
    expected = 2 * 1 + 3 * 0.75 + 1 * 0.375  # area up to H=6
    assert rmst_draws(durations, events, 6.0)[0] == pytest.approx(expected)
    # Case weights equal duplicated rows.
    weighted = rmst_draws(durations, events, 6.0, np.array([[2, 1, 1, 1]]))[0]
    duplicated = rmst_draws(np.r_[durations, 2.0], np.r_[events, True], 6.0)[0]
    assert weighted == pytest.approx(duplicated)


def test_rmst_bootstrap_interval_covers_the_truth_in_a_small_simulation() -> None:
    from empowerment.analytics.aipw import case_weights
    from empowerment.analytics.survival import rmst_draws

    rate, horizon = 0.1, 20.0
    truth = (1 - np.exp(-rate * horizon)) / rate
    covered = 0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        times, censor = rng.exponential(1 / rate, 150), rng.uniform(5, 40, 150)
        draws = rmst_draws(np.minimum(times, censor), times <= censor, horizon, case_weights(150, 200, seed)[1:])
        low, high = np.percentile(draws, [2.5, 97.5])
        covered += low <= truth <= high
    assert covered >= 34  # nominal 95% of 40 is 38
