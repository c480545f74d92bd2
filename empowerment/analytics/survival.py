"""Kaplan-Meier time-to-return curves and the log-rank test, numpy only.

Conventions follow lifelines (KaplanMeierFitter, logrank_test) so results can be
cross-checked exactly: the timeline includes 0, bands are 95% log-log
("exponential Greenwood"), and the median is the first time S(t) <= 0.5, with its
CI read off the bands the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Z_95 = 1.959963984540054  # standard normal 97.5% quantile


@dataclass(frozen=True)
class KMResult:
    timeline: np.ndarray
    survival: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    median: float  # inf when the curve never reaches 0.5, NaN with no data
    median_ci: tuple[float, float]
    n: int
    events: int


@dataclass(frozen=True)
class LogRankResult:
    test_statistic: float
    p_value: float
    observed_minus_expected: float  # for the first group


def _event_table(durations: np.ndarray, events: np.ndarray) -> tuple[np.ndarray, ...]:
    """Distinct times (with 0 prepended, as lifelines does), at-risk counts and deaths."""
    times, inverse = np.unique(durations, return_inverse=True)
    removed = np.bincount(inverse, minlength=times.size).astype(float)
    deaths = np.bincount(inverse, weights=events.astype(float), minlength=times.size)
    if times.size == 0 or times[0] > 0:
        times = np.concatenate(([0.0], times))
        removed = np.concatenate(([0.0], removed))
        deaths = np.concatenate(([0.0], deaths))
    at_risk = durations.size - np.concatenate(([0.0], np.cumsum(removed)[:-1]))
    return times, at_risk, deaths


def _first_time_at_or_below(timeline: np.ndarray, curve: np.ndarray, level: float) -> float:
    # Same rule as lifelines.utils.qth_survival_time: a binary search on -S.
    if curve.size == 0:
        return math.nan
    if curve[-1] > level:
        return math.inf
    return float(timeline[np.searchsorted(-curve, -level, side="left")])


def kaplan_meier(durations: np.ndarray, events: np.ndarray, z: float = Z_95) -> KMResult:
    """Kaplan-Meier estimate of P(no return by t) with log-log confidence bands."""
    durations = np.asarray(durations, dtype=float)
    events = np.asarray(events, dtype=bool)
    if durations.size == 0:
        empty = np.array([], dtype=float)
        return KMResult(empty, empty, empty, empty, math.nan, (math.nan, math.nan), 0, 0)
    timeline, at_risk, deaths = _event_table(durations, events)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_survival = np.cumsum(np.log(at_risk - deaths) - np.log(at_risk))
        greenwood_terms = deaths / (at_risk * (at_risk - deaths))
        greenwood = np.cumsum(np.where(np.isinf(greenwood_terms), 0.0, greenwood_terms))
        survival = np.exp(log_survival)
        log_s = np.log(survival)
        spread = z * np.sqrt(greenwood) / log_s
        lower = np.exp(-np.exp(np.log(-log_s) - spread))
        upper = np.exp(-np.exp(np.log(-log_s) + spread))
    lower = np.where(np.isnan(lower), 1.0, lower)  # S == 1: band is degenerate at 1
    upper = np.where(np.isnan(upper), 1.0, upper)
    return KMResult(
        timeline=timeline,
        survival=survival,
        ci_lower=lower,
        ci_upper=upper,
        median=_first_time_at_or_below(timeline, survival, 0.5),
        median_ci=(
            _first_time_at_or_below(timeline, lower, 0.5),
            _first_time_at_or_below(timeline, upper, 0.5),
        ),
        n=int(durations.size),
        events=int(events.sum()),
    )


def survival_at(result: KMResult, times: np.ndarray) -> np.ndarray:
    """Step-function value S(t) at arbitrary times (1 before the first timeline point)."""
    index = np.searchsorted(result.timeline, np.asarray(times, dtype=float), side="right") - 1
    return np.where(index >= 0, result.survival[np.maximum(index, 0)], 1.0)


def logrank(
    durations_a: np.ndarray,
    events_a: np.ndarray,
    durations_b: np.ndarray,
    events_b: np.ndarray,
) -> LogRankResult:
    """Two-group log-rank test (chi-square, 1 df), as lifelines.statistics.logrank_test."""
    durations = np.concatenate([np.asarray(durations_a, float), np.asarray(durations_b, float)])
    events = np.concatenate([np.asarray(events_a, bool), np.asarray(events_b, bool)])
    in_a = np.arange(durations.size) < np.asarray(durations_a).size
    times, inverse = np.unique(durations, return_inverse=True)
    removed = np.bincount(inverse, minlength=times.size).astype(float)
    removed_a = np.bincount(inverse, weights=in_a.astype(float), minlength=times.size)
    deaths = np.bincount(inverse, weights=events.astype(float), minlength=times.size)
    deaths_a = np.bincount(inverse, weights=(events & in_a).astype(float), minlength=times.size)
    at_risk = durations.size - np.concatenate(([0.0], np.cumsum(removed)[:-1]))
    at_risk_a = in_a.sum() - np.concatenate(([0.0], np.cumsum(removed_a)[:-1]))
    share_a = at_risk_a / at_risk
    expected_a = float(np.sum(deaths * share_a))
    with np.errstate(divide="ignore", invalid="ignore"):
        tie_factor = np.where(at_risk > 1, (at_risk - deaths) / (at_risk - 1), 0.0)
    variance = float(np.sum(deaths * share_a * (1 - share_a) * tie_factor))
    difference = float(deaths_a.sum()) - expected_a
    if variance <= 0:
        return LogRankResult(math.nan, math.nan, difference)
    statistic = difference**2 / variance
    return LogRankResult(statistic, math.erfc(math.sqrt(statistic / 2)), difference)


def rmst_draws(durations: np.ndarray, events: np.ndarray, horizon: float,
               weights: np.ndarray | None = None) -> np.ndarray:
    """Restricted mean time without return up to `horizon`: the area under the Kaplan-Meier curve
    on [0, horizon], once per row of `weights` (case counts, e.g. a customer bootstrap; None: one
    unweighted estimate). All rows at once: weighted event tables by one flat bincount."""
    durations = np.asarray(durations, dtype=float)
    events = np.asarray(events, dtype=bool)
    w = np.ones((1, durations.size)) if weights is None else np.atleast_2d(np.asarray(weights, dtype=float))
    if durations.size == 0:
        return np.full(w.shape[0], math.nan)
    times, inverse = np.unique(durations, return_inverse=True)
    k, rows = times.size, w.shape[0]
    flat = (inverse[None, :] + k * np.arange(rows)[:, None]).ravel()
    removed = np.bincount(flat, weights=w.ravel(), minlength=rows * k).reshape(rows, k)
    deaths = np.bincount(flat, weights=(w * events[None, :]).ravel(), minlength=rows * k).reshape(rows, k)
    at_risk = w.sum(axis=1, keepdims=True) - np.concatenate(
        [np.zeros((rows, 1)), np.cumsum(removed, axis=1)[:, :-1]], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(at_risk > 0, 1.0 - deaths / at_risk, 1.0)
    after = np.cumprod(factor, axis=1)  # S just after each distinct time
    # S is 1 on [0, t_1), then after[:, j] on [t_j, t_{j+1}); clip every segment at the horizon.
    starts = np.concatenate(([0.0], np.minimum(times, horizon)))
    ends = np.concatenate((np.minimum(times, horizon), [horizon]))
    level = np.concatenate([np.ones((rows, 1)), after], axis=1)
    area = level @ np.maximum(ends - starts, 0.0)
    return np.where(w.sum(axis=1) > 0, area, math.nan)
