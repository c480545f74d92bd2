"""Chart builders: small frames in, valid Vega-Lite out, never more than 5,000 embedded rows."""

from __future__ import annotations

import dataclasses
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import pytest

from empowerment.analytics import (
    Figure,
    PayoffRequest,
    compute_payoff,
    km_curves_frame,
    link_incidents,
    make_synthetic,
    return_rate_by_cost_band,
    return_rates_by,
    spend_vs_revenue_over_time,
)
from empowerment.charts import payoff as payoff_charts


@pytest.fixture(scope="module")
def linked_and_report() -> tuple[pd.DataFrame, dict[str, Any]]:
    incidents, gestures, transactions, customers, _ = make_synthetic(1500, 9)
    report = compute_payoff(incidents, gestures, transactions, customers, PayoffRequest(bootstrap=20))
    linked = link_incidents(incidents, gestures, transactions, customers, pd.Timestamp(report.as_of), 90)
    # The charts' own rules are tested here, whatever this data set's verdict: treat its figures as reliable.
    trusted = {name: Figure(f.estimate, f.low, f.high, True, ()) for name, f in report.figures.items()}
    return linked, dataclasses.replace(report, **trusted)


def rows_embedded(chart: alt.TopLevelMixin) -> int:
    spec = chart.to_dict()
    return sum(len(rows) for rows in spec.get("datasets", {}).values())


def test_every_builder_gives_a_valid_small_chart(linked_and_report) -> None:  # type: ignore[no-untyped-def]
    linked, report = linked_and_report
    built = [
        payoff_charts.km_chart(km_curves_frame(linked), 90),
        payoff_charts.return_rates_chart(payoff_charts.uplift_frame(report), 90),
        payoff_charts.spend_vs_incremental_chart(
            payoff_charts.spend_vs_incremental_frame(spend_vs_revenue_over_time(linked, "M"), report)),
        payoff_charts.cost_band_chart(return_rate_by_cost_band(linked), 90),
        *[payoff_charts.breakdown_chart(return_rates_by(linked, column), column, column, 90)
          for column in ("first_gesture_type", "category", "location", "team")],
    ]
    for chart in built:
        assert 0 < rows_embedded(chart) <= payoff_charts.MAX_ROWS
        chart.to_json()  # validates against the Vega-Lite schema


def test_uplift_frame_puts_naive_and_adjusted_side_by_side(linked_and_report) -> None:  # type: ignore[no-untyped-def]
    _, report = linked_and_report
    frame = payoff_charts.uplift_frame(report)
    assert list(frame["view"]) == ["As observed", "As observed", "Adjusted", "Adjusted"]
    adjusted = frame.iloc[3]
    uplift = report.return_uplift
    recovered_rate = report.recovered.return_rate
    assert adjusted["rate"] == pytest.approx(recovered_rate - uplift.estimate)
    assert adjusted["ci_low"] == pytest.approx(recovered_rate - uplift.high)
    assert adjusted["ci_high"] == pytest.approx(recovered_rate - uplift.low)
    assert (frame["ci_low"] <= frame["rate"]).all() and (frame["rate"] <= frame["ci_high"]).all()


def test_an_unreliable_adjustment_is_not_drawn(linked_and_report) -> None:  # type: ignore[no-untyped-def]
    _, report = linked_and_report
    unreliable = dataclasses.replace(report, return_uplift=report.return_uplift.with_reasons("Poor overlap."))
    assert set(payoff_charts.uplift_frame(unreliable)["view"]) == {"As observed"}


def test_incremental_margin_per_period_adds_up_to_the_estimate(linked_and_report) -> None:  # type: ignore[no-untyped-def]
    linked, report = linked_and_report
    over_time = spend_vs_revenue_over_time(linked, "M")
    frame = payoff_charts.spend_vs_incremental_frame(over_time, report)
    complete = over_time[over_time["complete"]]
    running = linked.copy()
    running.attrs["as_of"] = pd.Timestamp("2024-12-15")
    assert not spend_vs_revenue_over_time(running, "M")["complete"].iloc[-1]  # a running month is left out
    incremental = frame.loc[frame["series"] == payoff_charts.MARGIN_SERIES, "dollars"].sum()
    share = complete["recovered_incidents"].sum() / report.recovered.incidents
    assert incremental == pytest.approx(report.incremental_margin_cents.estimate / 100 * share, rel=1e-6)
    spend = frame.loc[frame["series"] == "Spend on gestures", "dollars"].sum()
    assert spend == pytest.approx(complete["spend_cents"].sum() / 100)


def test_an_unreliable_margin_is_never_plotted(linked_and_report) -> None:  # type: ignore[no-untyped-def]
    linked, report = linked_and_report
    withheld = dataclasses.replace(report, incremental_margin_cents=report.incremental_margin_cents.with_reasons(
        "No overlap."))
    frame = payoff_charts.spend_vs_incremental_frame(spend_vs_revenue_over_time(linked, "M"), withheld)
    assert set(frame["series"]) == {"Spend on gestures"}


def test_many_levels_are_pooled_into_other() -> None:
    levels = pd.DataFrame({"location": [f"L{i:02d}" for i in range(40)], "n": np.arange(40, 0, -1),
                           "returned": np.arange(40, 0, -1) // 2})
    levels["rate"] = levels["returned"] / levels["n"]
    levels["ci_low"], levels["ci_high"] = levels["rate"] - 0.1, levels["rate"] + 0.1
    pooled = payoff_charts.top_levels(levels, "location")
    assert len(pooled) == payoff_charts.MAX_LEVELS and pooled.iloc[-1]["location"] == "(other)"
    assert pooled["n"].sum() == levels["n"].sum() and pooled["returned"].sum() == levels["returned"].sum()
    chart = payoff_charts.breakdown_chart(levels, "location", "Location", 90)
    assert rows_embedded(chart) == payoff_charts.MAX_LEVELS


def test_too_many_rows_are_refused_rather_than_shipped() -> None:
    curves = pd.DataFrame({"group": "recovered", "time": np.arange(6000.0), "survival": 0.5,
                           "lower": 0.4, "upper": 0.6})
    with pytest.raises(ValueError, match="aggregate"):
        payoff_charts.km_chart(curves)


def test_km_chart_shows_the_share_back_not_the_survival() -> None:
    curves = pd.DataFrame({"group": ["recovered", "comparison"], "time": [10.0, 10.0], "survival": [0.25, 0.75],
                           "lower": [0.2, 0.7], "upper": [0.3, 0.8]})
    spec = payoff_charts.km_chart(curves, 90).to_dict()
    back = {row["group"]: row["back"] for rows in spec["datasets"].values() for row in rows if "back" in row}
    assert back == {"Recovered": 0.75, "Not recovered": 0.25}
