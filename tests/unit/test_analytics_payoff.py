"""The payoff report (JSON shape, scope filters, money arithmetic) and the chart breakdowns."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from empowerment.analytics import (
    compute_payoff,
    km_curves_frame,
    link_incidents,
    make_synthetic,
    return_rate_by_cost_band,
    return_rates_by,
    spend_vs_revenue_over_time,
    wilson_interval,
)
from empowerment.analytics.payoff import filter_incidents, json_safe

GROUP_KEYS = {
    "incidents",
    "eligible",
    "returned",
    "return_rate",
    "km_median_days",
    "km_median_ci",
    "revenue_after_cents",
}
TOP_KEYS = {
    "horizon_days", "as_of", "overall", "recovered", "comparison", "naive_uplift", "adjusted_uplift",
    "spend_cents", "incremental_revenue_cents", "incremental_revenue_cents_ci_low",
    "incremental_revenue_cents_ci_high", "customers_kept", "customers_kept_ci_low", "customers_kept_ci_high",
    "return_on_spend", "return_on_spend_ci_low", "return_on_spend_ci_high", "cost_of_inaction_cents",
    "cost_of_inaction_cents_ci_low", "cost_of_inaction_cents_ci_high", "warnings",
}  # fmt: skip


@pytest.fixture(scope="module")
def synthetic() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    return make_synthetic(1500, 21)


@pytest.fixture(scope="module")
def report(synthetic: tuple[Any, ...]) -> dict[str, Any]:
    incidents, gestures, transactions, customers, _ = synthetic
    return compute_payoff(incidents, gestures, transactions, customers, bootstrap=60, seed=1)


def test_report_has_the_documented_shape_and_is_strict_json(report: dict[str, Any]) -> None:
    assert set(report) == TOP_KEYS
    for group in ("overall", "recovered", "comparison"):
        assert set(report[group]) == GROUP_KEYS
    assert set(report["adjusted_uplift"]) == {"estimate", "ci_low", "ci_high", "method", "reliable"}
    json.dumps(report, allow_nan=False)
    for key in ("spend_cents", "incremental_revenue_cents", "cost_of_inaction_cents"):
        assert isinstance(report[key], int)
    pd.Timestamp(report["as_of"])  # ISO string


def test_report_arithmetic_is_consistent(report: dict[str, Any], synthetic: tuple[Any, ...]) -> None:
    recovered, comparison, overall = report["recovered"], report["comparison"], report["overall"]
    assert recovered["incidents"] + comparison["incidents"] == overall["incidents"] == len(synthetic[0])
    assert recovered["return_rate"] == pytest.approx(recovered["returned"] / recovered["eligible"])
    assert report["naive_uplift"] == pytest.approx(recovered["return_rate"] - comparison["return_rate"])
    uplift = report["adjusted_uplift"]
    assert uplift["ci_low"] <= uplift["estimate"] <= uplift["ci_high"]
    assert report["customers_kept"] == pytest.approx(uplift["estimate"] * recovered["incidents"])
    spend = report["spend_cents"]
    assert report["return_on_spend"] == pytest.approx(
        (report["incremental_revenue_cents"] - spend) / spend, abs=1e-6
    )
    assert report["incremental_revenue_cents_ci_low"] <= report["incremental_revenue_cents"]
    assert report["cost_of_inaction_cents_ci_low"] <= report["cost_of_inaction_cents_ci_high"]
    assert any("too recent" in note for note in report["warnings"])


def test_spend_counts_only_non_voided_gestures(report: dict[str, Any], synthetic: tuple[Any, ...]) -> None:
    gestures = synthetic[1]
    assert report["spend_cents"] == int(gestures.loc[~gestures["voided"], "cost_cents"].sum())


def test_filters_scope_incidents_by_time_location_and_team(synthetic: tuple[Any, ...]) -> None:
    incidents, gestures, transactions, customers, _ = synthetic
    start, end = pd.Timestamp("2024-03-01"), pd.Timestamp("2024-03-31")
    scoped = filter_incidents(incidents, start, end, location="north", team=["floor", "support"])
    assert len(scoped) > 0
    assert scoped["occurred_at"].min() >= start and scoped["occurred_at"].max() < end + pd.Timedelta(days=1)
    assert set(scoped["location"]) == {"north"} and set(scoped["team"]) <= {"floor", "support"}
    report = compute_payoff(
        incidents,
        gestures,
        transactions,
        customers,
        date_from=start,
        date_to=end,
        location="north",
        team=["floor", "support"],
        bootstrap=20,
    )
    assert report["overall"]["incidents"] == len(scoped)


def test_no_spend_gives_no_return_on_spend_and_nan_becomes_none() -> None:
    incidents = pd.DataFrame({
        "incident_id": [1, 2], "customer_id": [1, 2],
        "occurred_at": pd.to_datetime(["2024-01-01", "2024-01-02"]),
        "category": "billing", "location": "", "team": None,
    })  # fmt: skip
    gestures = pd.DataFrame({
        "gesture_id": [1], "incident_id": [1], "customer_id": [1], "employee_id": [1],
        "occurred_at": pd.to_datetime(["2024-01-01"]), "type": ["personal note"], "cost_cents": [0],
        "voided": [False], "team": [None], "location": [""],
    })  # fmt: skip
    transactions = pd.DataFrame({
        "customer_id": [1], "occurred_at": pd.to_datetime(["2024-06-01"]), "amount_cents": [500],
    })  # fmt: skip
    report = compute_payoff(incidents, gestures, transactions, bootstrap=10)
    assert report["spend_cents"] == 0 and report["return_on_spend"] is None
    assert report["adjusted_uplift"]["estimate"] is None and report["adjusted_uplift"]["reliable"] is False
    assert report["comparison"]["km_median_days"] is None  # never reached 0.5: infinite -> None
    json.dumps(report, allow_nan=False)


def test_json_safe_converts_numpy_and_non_finite_values() -> None:
    value = {"a": np.int64(3), "b": [np.float64("nan"), math.inf, 1.5], "c": pd.NA, ("x"): (np.bool_(True),)}
    assert json_safe(value) == {"a": 3, "b": [None, None, 1.5], "c": None, "x": [True]}


# --- breakdowns -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def linked(synthetic: tuple[Any, ...]) -> pd.DataFrame:
    incidents, gestures, transactions, customers, truth = synthetic
    return link_incidents(incidents, gestures, transactions, customers, as_of=truth["as_of"])


def test_wilson_interval_known_values() -> None:
    low, high = wilson_interval(np.array([0, 5, 50]), np.array([10, 10, 100]))
    assert low[0] == 0.0 and high[0] == pytest.approx(0.2775, abs=1e-4)
    assert low[1] == pytest.approx(0.2366, abs=1e-4) and high[1] == pytest.approx(0.7634, abs=1e-4)
    assert low[2] == pytest.approx(0.4038, abs=1e-4)


@pytest.mark.parametrize("column", ["first_gesture_type", "category", "location", "team"])
def test_return_rates_by_column_add_up(linked: pd.DataFrame, column: str) -> None:
    rates = return_rates_by(linked, column)
    eligible = linked[linked["eligible"]]
    assert list(rates.columns) == [column, "n", "returned", "rate", "ci_low", "ci_high"]
    assert rates["n"].sum() == len(eligible)
    assert rates["returned"].sum() == eligible["returned_within"].sum()
    assert (rates["ci_low"] <= rates["rate"]).all() and (rates["rate"] <= rates["ci_high"]).all()
    if column == "first_gesture_type":
        assert "(no gesture)" in set(rates[column])
    if column == "location":
        assert "(unknown)" in set(rates[column])  # blanks and NA are one explicit level


def test_cost_bands_include_zero_cost_and_the_comparison_group(linked: pd.DataFrame) -> None:
    bands = return_rate_by_cost_band(linked)
    assert bands["band"].tolist()[:2] == ["(no gesture)", "$0 (no-cost gesture)"]
    assert bands["band"].iloc[-1] == "$500+"
    assert bands["n"].sum() == linked["eligible"].sum()
    zero = linked[linked["eligible"] & linked["recovered"] & (linked["spend_cents"] == 0)]
    assert bands["n"].iloc[1] == len(zero) > 0


def test_spend_vs_revenue_over_time_sums_to_totals(linked: pd.DataFrame) -> None:
    monthly = spend_vs_revenue_over_time(linked)
    assert monthly["incidents"].sum() == len(linked)
    assert monthly["spend_cents"].sum() == linked.loc[linked["recovered"], "spend_cents"].sum()
    assert monthly["period"].is_monotonic_increasing and len(monthly) <= 14


def test_km_curves_frame_is_tidy_and_downsampled(linked: pd.DataFrame) -> None:
    curves = km_curves_frame(linked, max_points=100)
    assert list(curves.columns) == ["group", "time", "survival", "lower", "upper"]
    for _group, curve in curves.groupby("group"):
        assert 2 <= len(curve) <= 100
        assert curve["time"].is_monotonic_increasing and curve["survival"].is_monotonic_decreasing
        assert curve["time"].iloc[0] == 0 and curve["survival"].iloc[0] == 1.0
