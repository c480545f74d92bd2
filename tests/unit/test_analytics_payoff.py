"""The payoff report (JSON shape, scope filters, money arithmetic) and the chart breakdowns."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from empowerment.analytics import (
    Figure,
    PayoffRequest,
    PayoffResult,
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
    "episodes",
    "incidents",
    "customers",
    "eligible",
    "returned",
    "return_rate",
    "km_median_days",
    "km_median_ci",
    "revenue_after_cents",
}
FIGURES = {"return_uplift", "revenue_uplift_cents", "incremental_revenue_cents", "incremental_margin_cents",
           "incremental_revenue_winsorised_cents", "customers_kept", "return_on_spend", "cost_of_inaction_cents",
           "rmst_recovered_days", "rmst_comparison_days", "rmst_difference_days"}
TOP_KEYS = {
    "horizon_days", "recovery_window_hours", "contribution_margin", "as_of", "overall", "recovered",
    "comparison", "naive_uplift", *FIGURES, "e_value", "e_value_limit", "roi_tipping_share", "winsor_percentile", "negative_control_cents", "balance",
    "spend_cents", "late_gestures", "early_gestures", "method",
    "assumptions", "warnings",
}  # fmt: skip


@pytest.fixture(scope="module")
def synthetic() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    return make_synthetic(1500, 21)


@pytest.fixture(scope="module")
def report(synthetic: tuple[Any, ...]) -> PayoffResult:
    incidents, gestures, transactions, customers, _ = synthetic
    return compute_payoff(incidents, gestures, transactions, customers, PayoffRequest(bootstrap=60, seed=1))


def test_result_is_frozen_and_its_json_has_the_documented_shape(report: PayoffResult) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.spend_cents = 0  # type: ignore[misc]
    data = report.to_json()
    assert set(data) == TOP_KEYS
    for group in ("overall", "recovered", "comparison"):
        assert set(data[group]) == GROUP_KEYS
    for name in FIGURES:
        assert set(data[name]) == {"estimate", "low", "high", "reliable", "reasons"}
    json.dumps(data, allow_nan=False)
    assert isinstance(data["spend_cents"], int)
    pd.Timestamp(data["as_of"])  # ISO string


def test_report_arithmetic_is_consistent(report: PayoffResult, synthetic: tuple[Any, ...]) -> None:
    recovered, comparison, overall = report.recovered, report.comparison, report.overall
    assert recovered.incidents + comparison.incidents == overall.incidents == len(synthetic[0])
    assert recovered.return_rate == pytest.approx(recovered.returned / recovered.eligible)
    assert report.naive_uplift == pytest.approx(recovered.return_rate - comparison.return_rate)
    uplift = report.return_uplift
    assert uplift.low <= uplift.estimate <= uplift.high  # type: ignore[operator]
    assert report.customers_kept.estimate == pytest.approx(uplift.estimate * recovered.customers)
    spend = report.spend_cents
    margin = report.incremental_margin_cents
    assert margin.estimate == pytest.approx(report.incremental_revenue_cents.estimate * report.margin)
    assert report.return_on_spend.estimate == pytest.approx((margin.estimate - spend) / spend, abs=1e-6)
    assert report.incremental_revenue_cents.low <= report.incremental_revenue_cents.estimate  # type: ignore[operator]
    assert report.cost_of_inaction_cents.low <= report.cost_of_inaction_cents.high  # type: ignore[operator]
    assert any("too recent" in note for note in report.warnings)


def test_spend_counts_only_non_voided_gestures(report: PayoffResult, synthetic: tuple[Any, ...]) -> None:
    gestures = synthetic[1]
    assert report.spend_cents == int(gestures.loc[~gestures["voided"], "cost_cents"].sum())


def test_filters_scope_incidents_by_time_location_and_team(synthetic: tuple[Any, ...]) -> None:
    incidents, gestures, transactions, customers, _ = synthetic
    start, end = pd.Timestamp("2024-03-01"), pd.Timestamp("2024-03-31")
    scoped = filter_incidents(incidents, start, end, location="north", team=["floor", "support"])
    assert len(scoped) > 0
    assert scoped["occurred_at"].min() >= start and scoped["occurred_at"].max() < end + pd.Timedelta(days=1)
    assert set(scoped["location"]) == {"north"} and set(scoped["team"]) <= {"floor", "support"}
    request = PayoffRequest(date_from=start, date_to=end, location="north", team=["floor", "support"],
                            bootstrap=20)
    report = compute_payoff(incidents, gestures, transactions, customers, request)
    assert report.overall.incidents == len(scoped)


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
    report = compute_payoff(incidents, gestures, transactions, request=PayoffRequest(bootstrap=10))
    assert report.spend_cents == 0 and not report.return_on_spend.shown
    assert "Nothing was spent" in report.return_on_spend.reason
    assert report.return_uplift.estimate is None and not report.return_uplift.reliable
    assert report.comparison.km_median_days is None  # never reached 0.5: infinite -> None
    data = report.to_json()
    json.dumps(data, allow_nan=False)
    assert data["return_on_spend"]["estimate"] is None and data["return_on_spend"]["reasons"]


def test_an_unreliable_figure_has_no_number_in_json() -> None:
    figure = Figure(-5.69, -9.0, -1.0, False, ("Few eligible incidents (12 recovered, 900 comparison).",))
    assert not figure.shown
    assert figure.to_json() == {"estimate": None, "low": None, "high": None, "reliable": False,
                                "reasons": ["Few eligible incidents (12 recovered, 900 comparison)."]}


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


def test_e_value_and_roi_tipping_point() -> None:
    from empowerment.analytics.sensitivity import e_value, sensitivity
    from empowerment.reports.wording import sensitivity_sentences

    assert e_value(2.0) == pytest.approx(2 + math.sqrt(2))  # VanderWeele & Ding's formula
    assert e_value(0.5) == pytest.approx(e_value(2.0))  # protective effects are inverted first
    uplift = Figure(0.2, 0.1, 0.3, True)  # 60% recovered vs 40%: RR 1.5
    margin = Figure(40_000.0, 10_000.0, 70_000.0, True)
    found = sensitivity(uplift, 0.6, margin, 10_000)
    assert found.e_value == pytest.approx(1.5 + math.sqrt(0.75))
    assert found.e_value_limit == pytest.approx(e_value(0.6 / 0.5))  # the limit nearer no effect
    assert found.roi_tipping_share == pytest.approx(0.75)  # bias taking 3/4 of the margin leaves ROI 0
    assert sensitivity(Figure(0.2, -0.1, 0.3, True), 0.6, margin, 10_000).e_value_limit == 1.0
    assert sensitivity(Figure(0.2, 0.1, 0.3, False), 0.6, margin, 10_000).e_value is None
    result = compute_payoff(*make_synthetic(600, 4)[:4], request=PayoffRequest(bootstrap=10))
    shown = dataclasses.replace(result, return_uplift=uplift, e_value=2.37, e_value_limit=1.69)
    sentence = sensitivity_sentences(shown)[0]
    assert sentence.startswith("A hidden factor would have to make recovery and return each about 2.4 times")
    hidden = dataclasses.replace(shown, return_uplift=uplift.with_reasons("Poor overlap."))
    assert not any("hidden factor" in s for s in sensitivity_sentences(hidden))


def test_non_cash_gestures_count_at_their_value_in_the_spend() -> None:
    """Staff time logged at no cost counts at the type's hourly rate (upgrades are entered as the rate
    difference, so as entered) in the payoff's spend, the denominator of the return on spend;
    linking keeps `spend_cents` (money entered) and adds `valued_spend_cents` beside it."""
    from empowerment.analytics.linking import valued_cents
    from empowerment.models.vocabulary import DEFAULTS, build_vocabulary

    staff_time = build_vocabulary([]).staff_time_values()
    assert staff_time == {"time": 750}  # 15 minutes at $30 an hour
    assert next(t for t in DEFAULTS if t.code == "upgrade").staff_time_cents is None
    incidents, gestures, transactions, customers, _ = make_synthetic(1500, 3)
    rates = build_vocabulary([]).staff_hourly_rates()
    assert rates == {"time": 3000}
    valued = gestures.assign(valued_cents=valued_cents(gestures, rates))  # no minutes recorded: 15
    timed = valued.loc[valued["type"] == "time"]
    assert len(timed) and (timed["valued_cents"] == np.where(timed["cost_cents"] == 0, 750, timed["cost_cents"])).all()
    others = valued.loc[valued["type"] != "time"]
    assert (others["valued_cents"] == others["cost_cents"]).all()
    request = PayoffRequest(bootstrap=0)
    plain = compute_payoff(incidents, gestures, transactions, customers, request)
    counted = compute_payoff(incidents, valued, transactions, customers, request)
    linked = link_incidents(incidents, valued, transactions, customers, recovery_window_hours=72, by_episode=True)
    recovered = linked["recovered"].to_numpy(dtype=bool)
    assert counted.spend_cents == int(linked.loc[recovered, "valued_spend_cents"].sum())
    assert counted.spend_cents > plain.spend_cents == int(linked.loc[recovered, "spend_cents"].sum())


def test_staff_time_is_valued_at_its_recorded_minutes() -> None:
    import pandas as pd

    from empowerment.analytics.linking import valued_cents

    gestures = pd.DataFrame({"type": ["time", "time", "time", "comp"], "cost_cents": [0, 0, 500, 0],
                             "staff_minutes": [40, None, 40, None]})
    # 40 min at $30 = $20.00; none recorded: 15 min = $7.50; a cost entered wins; other types as entered
    assert valued_cents(gestures, {"time": 3000}).tolist() == [2000, 750, 500, 0]

def test_the_figures_do_not_depend_on_the_order_the_rows_come_in() -> None:
    # A database returns rows without ORDER BY in any order (PostgreSQL's hash joins at 200k
    # incidents): the bootstrap, the warm start's subsample and tied reference levels must follow
    # the data, not the order, or SQLite and PostgreSQL print different intervals.
    incidents, gestures, transactions, customers, _truth = make_synthetic(1500, seed=5)
    request = PayoffRequest(bootstrap=40, seed=2)
    ordered = compute_payoff(incidents, gestures, transactions, customers, request).to_json()
    rng = np.random.default_rng(0)
    shuffled = compute_payoff(incidents.iloc[rng.permutation(len(incidents))], gestures.iloc[rng.permutation(len(gestures))],
                              transactions.iloc[rng.permutation(len(transactions))],
                              customers.iloc[rng.permutation(len(customers))], request).to_json()
    assert json.dumps(shuffled, sort_keys=True) == json.dumps(ordered, sort_keys=True)
