"""Altair charts for the Payoff page: plain functions, small DataFrame in, `alt.Chart` out.

Every builder works on frames already aggregated by `empowerment.analytics` (curves, rates per
group, totals per period) and refuses more than `MAX_ROWS` rows: Altair embeds the data in the
page, so it must stay small (Streamlit ships it on every rerun).
"""

from __future__ import annotations

from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from empowerment.analytics.breakdowns import wilson_interval
from empowerment.analytics.result import PayoffResult

MAX_ROWS = 5_000
MAX_LEVELS = 15  # bars per breakdown; the rest are lumped into "(other)"
GREEN, GREY, GOLD, BLUE = "#2e7d32", "#9e9e9e", "#b8860b", "#1565c0"
MARGIN_SERIES = "Extra margin (estimated)"
GROUP_COLOURS = {"Recovered": GREEN, "Not recovered": GREY, "Comparable, not recovered": GOLD}


def _checked(frame: pd.DataFrame) -> pd.DataFrame:
    if len(frame) > MAX_ROWS:
        raise ValueError(f"{len(frame):,} rows is too many for a chart; aggregate to {MAX_ROWS:,} or fewer.")
    return frame


def _finish(chart: Any, height: int = 280, width: Any = "container") -> Any:
    # Marks without a tooltip are unnamed pictures to a screen reader (axe-core "svg-img-alt"):
    # the chart is read through its axes, legend and the numbers printed beside it.
    return (chart.properties(height=height, width=width)
            .configure_view(stroke=None).configure_axis(grid=False).configure_mark(aria=False))


# --------------------------------------------------------------------------------------------
# Time to return (Kaplan-Meier)


def km_chart(curves: pd.DataFrame, horizon_days: int | None = None) -> alt.LayerChart:
    """Share of customers back by day t (1 - KM survival) with 95% bands, recovered vs not.

    `curves`: analytics.km_curves_frame (group, time, survival, lower, upper).
    """
    frame = _checked(curves).assign(
        group=curves["group"].map({"recovered": "Recovered", "comparison": "Not recovered"}),
        back=1 - curves["survival"], back_low=1 - curves["upper"], back_high=1 - curves["lower"],
    )
    colour = alt.Color("group:N", title=None, scale=alt.Scale(
        domain=["Recovered", "Not recovered"], range=[GREEN, GREY]), legend=alt.Legend(orient="top"))
    base = alt.Chart(frame).encode(x=alt.X("time:Q", title="Days after the incident"), color=colour)
    band = base.mark_area(opacity=0.2, interpolate="step-after").encode(
        y=alt.Y("back_low:Q", title="Customers back", axis=alt.Axis(format="%")), y2="back_high:Q")
    line = base.mark_line(interpolate="step-after").encode(
        y="back:Q",
        tooltip=[alt.Tooltip("group:N", title="Group"), alt.Tooltip("time:Q", title="Day", format=".0f"),
                 alt.Tooltip("back:Q", title="Back by then", format=".1%")])
    layers: list[Any] = [band, line]
    if horizon_days:
        layers.append(alt.Chart(pd.DataFrame({"time": [horizon_days]})).mark_rule(
            strokeDash=[4, 4], color="#555").encode(x="time:Q"))
    return _finish(alt.layer(*layers))  # type: ignore[no-any-return]


# --------------------------------------------------------------------------------------------
# Return rates: naive and adjusted, side by side


def uplift_frame(report: PayoffResult) -> pd.DataFrame:
    """Rows for `return_rates_chart` from a `PayoffResult`.

    As observed: each group's H-day return rate (Wilson 95% CI). Adjusted: the recovered rate next
    to what comparable unrecovered customers would have done (recovered rate - adjusted uplift, its
    range from the uplift's); only when the adjusted uplift may be shown (`Figure.shown`).
    """
    rows = []
    for group, label in ((report.recovered, "Recovered"), (report.comparison, "Not recovered")):
        if group.return_rate is None:
            continue
        low, high = wilson_interval(np.array([group.returned]), np.array([group.eligible]))
        rows.append({"view": "As observed", "group": label, "rate": group.return_rate,
                     "ci_low": float(low[0]), "ci_high": float(high[0]), "n": group.eligible})
    uplift, rate = report.return_uplift, report.recovered.return_rate
    if uplift.shown and rate is not None and uplift.estimate is not None and uplift.low is not None \
            and uplift.high is not None:
        naive = next(r for r in rows if r["group"] == "Recovered")
        rows.append({**naive, "view": "Adjusted"})
        rows.append({
            "view": "Adjusted", "group": "Comparable, not recovered", "rate": rate - uplift.estimate,
            "ci_low": rate - uplift.high, "ci_high": rate - uplift.low, "n": report.comparison.eligible,
        })
    return pd.DataFrame(rows, columns=["view", "group", "rate", "ci_low", "ci_high", "n"])


def return_rates_chart(rates: pd.DataFrame, horizon_days: int) -> alt.FacetChart:
    """Bars with 95% CI error bars, one panel per view (naive, adjusted). `rates`: uplift_frame."""
    frame = _checked(rates)
    groups = list(dict.fromkeys(frame["group"]))
    base = alt.Chart().encode(x=alt.X("group:N", title=None, sort=groups, axis=alt.Axis(labelAngle=0,
                                                                                    labelLimit=160)))
    bars = base.mark_bar(width=alt.RelativeBandSize(0.7)).encode(
        y=alt.Y("rate:Q", title=f"Back within {horizon_days} days", axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("group:N", legend=None, scale=alt.Scale(
            domain=list(GROUP_COLOURS), range=list(GROUP_COLOURS.values()))),
        tooltip=[alt.Tooltip("group:N", title="Group"), alt.Tooltip("rate:Q", title="Rate", format=".1%"),
                 alt.Tooltip("ci_low:Q", title="95% CI from", format=".1%"),
                 alt.Tooltip("ci_high:Q", title="to", format=".1%"), alt.Tooltip("n:Q", title="Incidents")])
    errors = base.mark_errorbar(ticks=True, color="#333").encode(
        y=alt.Y("ci_low:Q", title=f"Back within {horizon_days} days"), y2="ci_high:Q")
    chart = alt.layer(bars, errors, data=frame).properties(width=170, height=240).facet(
        column=alt.Column("view:N", title=None, sort=["As observed", "Adjusted"]))
    return chart.resolve_scale(x="independent").configure_view(stroke=None)  # type: ignore[no-any-return]


# --------------------------------------------------------------------------------------------
# Money over time


def spend_vs_incremental_frame(over_time: pd.DataFrame, report: PayoffResult) -> pd.DataFrame:
    """Long rows (period, series, dollars): spend on gestures, and the estimated incremental
    margin (the adjusted per-episode effect x recovered episodes then, at the contribution margin)
    only when that figure may be shown. Periods without their full follow-up yet are dropped, so
    the chart never ends on a partial period.

    `over_time`: analytics.spend_vs_revenue_over_time.
    """
    complete = over_time.loc[over_time["complete"]] if "complete" in over_time else over_time
    spend = complete["spend_cents"].to_numpy(dtype=float) / 100
    pieces = [pd.DataFrame({"period": complete["period"], "series": "Spend on gestures", "dollars": spend})]
    recovered = report.recovered.incidents
    margin = report.incremental_margin_cents
    if margin.shown and margin.estimate is not None and recovered:
        per_incident = margin.estimate / recovered / 100
        pieces.append(pd.DataFrame({
            "period": complete["period"], "series": MARGIN_SERIES,
            "dollars": complete["recovered_incidents"].to_numpy(dtype=float) * per_incident}))
    return pd.concat(pieces, ignore_index=True)


def spend_vs_incremental_chart(frame: pd.DataFrame) -> alt.Chart:
    data = _checked(frame)
    chart = alt.Chart(data).mark_line(point=True).encode(
        x=alt.X("period:T", title=None),
        y=alt.Y("dollars:Q", title="Dollars", axis=alt.Axis(format="$,.0f")),
        color=alt.Color("series:N", title=None, legend=alt.Legend(orient="top"), scale=alt.Scale(
            domain=["Spend on gestures", MARGIN_SERIES], range=[GOLD, GREEN])),
        tooltip=[alt.Tooltip("period:T", title="Period", format="%b %Y"),
                 alt.Tooltip("series:N", title="Series"), alt.Tooltip("dollars:Q", title="Dollars",
                                                                      format="$,.0f")],
    )
    return _finish(chart)  # type: ignore[no-any-return]


# --------------------------------------------------------------------------------------------
# Breakdowns


def top_levels(rates: pd.DataFrame, column: str, keep: int = MAX_LEVELS) -> pd.DataFrame:
    """The `keep` largest levels by incidents; the rest pooled into "(other)" (rate and Wilson CI
    recomputed from the pooled counts)."""
    if len(rates) <= keep:
        return rates
    ranked = rates.sort_values("n", ascending=False, kind="stable")
    head, tail = ranked.iloc[:keep - 1], ranked.iloc[keep - 1:]
    n, returned = int(tail["n"].sum()), int(tail["returned"].sum())
    low, high = wilson_interval(np.array([returned]), np.array([n]))
    other = pd.DataFrame({column: ["(other)"], "n": [n], "returned": [returned],
                          "rate": [returned / n if n else np.nan], "ci_low": low, "ci_high": high})
    return pd.concat([head, other], ignore_index=True)


def breakdown_chart(rates: pd.DataFrame, column: str, title: str, horizon_days: int) -> alt.LayerChart:
    """Return rate per level with 95% CI, levels ordered by size. `rates`: analytics.return_rates_by."""
    frame = _checked(top_levels(rates.loc[rates["n"] > 0], column)).astype({column: str})
    order = list(frame.sort_values("n", ascending=False, kind="stable")[column])
    base = alt.Chart(frame).encode(y=alt.Y(f"{column}:N", title=title, sort=order,
                                           axis=alt.Axis(labelLimit=180)))
    bars = base.mark_bar(color=GREEN).encode(
        x=alt.X("rate:Q", title=f"Back within {horizon_days} days", axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1])),
        opacity=alt.condition(alt.datum[column] == "(no gesture)", alt.value(0.45), alt.value(1.0)),
        tooltip=[alt.Tooltip(f"{column}:N", title=title), alt.Tooltip("rate:Q", title="Rate", format=".1%"),
                 alt.Tooltip("ci_low:Q", title="95% CI from", format=".1%"),
                 alt.Tooltip("ci_high:Q", title="to", format=".1%"), alt.Tooltip("n:Q", title="Incidents")])
    errors = base.mark_errorbar(ticks=True, color="#333").encode(
        x=alt.X("ci_low:Q", title=f"Back within {horizon_days} days"), x2="ci_high:Q")
    return _finish(alt.layer(bars, errors), height=max(120, 26 * len(frame)))  # type: ignore[no-any-return]


def cost_band_chart(bands: pd.DataFrame, horizon_days: int) -> alt.LayerChart:
    """Return rate by recovery spend per incident, incl. the $0 band and the no-gesture reference.

    `bands`: analytics.return_rate_by_cost_band (band, n, returned, rate, ci_low, ci_high, ...).
    """
    frame = _checked(bands)
    order = list(frame["band"])
    base = alt.Chart(frame).encode(x=alt.X("band:N", title="Spent on the incident", sort=order,
                                           axis=alt.Axis(labelAngle=-25, labelLimit=160)))
    bars = base.mark_bar(color=GREEN).encode(
        y=alt.Y("rate:Q", title=f"Back within {horizon_days} days", axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1])),
        opacity=alt.condition(alt.datum.band == "(no gesture)", alt.value(0.45), alt.value(1.0)),
        tooltip=[alt.Tooltip("band:N", title="Spent"), alt.Tooltip("rate:Q", title="Rate", format=".1%"),
                 alt.Tooltip("ci_low:Q", title="95% CI from", format=".1%"),
                 alt.Tooltip("ci_high:Q", title="to", format=".1%"), alt.Tooltip("n:Q", title="Incidents")])
    errors = base.mark_errorbar(ticks=True, color="#333").encode(
        y=alt.Y("ci_low:Q", title=f"Back within {horizon_days} days"), y2="ci_high:Q")
    return _finish(alt.layer(bars, errors), width=alt.Step(70))  # type: ignore[no-any-return]


def time_to_gesture_chart(delays: pd.DataFrame) -> alt.Chart:
    """Recovered episodes by how long after the incident the first gesture came.
    `delays`: analytics.breakdowns.time_to_gesture_frame (delay, recovered)."""
    frame = _checked(delays)
    chart = alt.Chart(frame).mark_bar(color=GREEN).encode(
        x=alt.X("delay:N", title="First gesture after the incident", sort=list(frame["delay"]),
                axis=alt.Axis(labelAngle=-25, labelLimit=140)),
        y=alt.Y("recovered:Q", title="Recovered episodes"),
        tooltip=[alt.Tooltip("delay:N", title="After"), alt.Tooltip("recovered:Q", title="Episodes")])
    return _finish(chart, height=220, width=alt.Step(60))  # type: ignore[no-any-return]


def overlap_chart(overlap: pd.DataFrame) -> alt.Chart:
    """Propensity histograms, recovered above the axis and not recovered below: where one group
    has no counterpart, no fair comparison is possible. `overlap`: diagnostics.overlap_frame."""
    frame = _checked(overlap).assign(
        signed=lambda f: np.where(f["group"] == "Recovered", f["episodes"], -f["episodes"]),
        middle=lambda f: (f["start"] + f["end"]) / 2)
    chart = alt.Chart(frame).mark_bar().encode(
        x=alt.X("start:Q", title="Chance of a gesture, from what was known before the incident",
                bin="binned", axis=alt.Axis(format="%")),
        x2="end:Q",
        y=alt.Y("signed:Q", title="Episodes (not recovered below)"),
        color=alt.Color("group:N", title=None, legend=alt.Legend(orient="top"), scale=alt.Scale(
            domain=["Recovered", "Not recovered"], range=[GREEN, GREY])),
        tooltip=[alt.Tooltip("group:N", title="Group"), alt.Tooltip("middle:Q", title="Chance", format=".0%"),
                 alt.Tooltip("episodes:Q", title="Episodes")])
    return _finish(chart, height=220)  # type: ignore[no-any-return]


def balance_frame(balance: pd.DataFrame, estimand: str = "att") -> pd.DataFrame:
    """Long rows (feature, when, smd) for `balance_chart`; the features as people read them."""
    rows = balance.rename(columns={"smd_before": "Before weighting", f"smd_after_{estimand}": "After weighting"})
    return rows.melt(id_vars="feature", value_vars=["Before weighting", "After weighting"],
                     var_name="when", value_name="smd")


def balance_chart(frame: pd.DataFrame) -> alt.LayerChart:
    """Standardised mean difference per feature before and after weighting, with the ±0.1 band."""
    data = _checked(frame)
    order = list(dict.fromkeys(data["feature"]))
    points = alt.Chart(data).mark_point(filled=True, size=60).encode(
        x=alt.X("smd:Q", title="Difference between the groups (standardised)"),
        y=alt.Y("feature:N", title=None, sort=order, axis=alt.Axis(labelLimit=220)),
        color=alt.Color("when:N", title=None, legend=alt.Legend(orient="top"), scale=alt.Scale(
            domain=["Before weighting", "After weighting"], range=[GREY, GREEN])),
        tooltip=[alt.Tooltip("feature:N", title="Feature"), alt.Tooltip("when:N", title="When"),
                 alt.Tooltip("smd:Q", title="Difference", format="+.2f")])
    band = alt.Chart(pd.DataFrame({"low": [-0.1], "high": [0.1]})).mark_rect(opacity=0.12, color=GREEN).encode(
        x="low:Q", x2="high:Q")
    return _finish(alt.layer(band, points), height=max(140, 20 * len(order)))  # type: ignore[no-any-return]


def adjusted_breakdown_chart(effects: pd.DataFrame, title: str, horizon_days: int) -> alt.LayerChart:
    """Adjusted difference in the share back within H days per level (points with 95% intervals,
    a rule at no difference). `effects`: the reliable rows of `analytics.what_works` with a
    readable `label` column; unreliable rows are never passed (their reason is shown as text)."""
    frame = _checked(effects).loc[:, ["label", "cases", "estimate", "low", "high"]].copy()
    frame["estimate_pts"], frame["low_pts"], frame["high_pts"] = (frame[c] * 100 for c in ("estimate", "low", "high"))
    order = list(frame.sort_values("cases", ascending=False, kind="stable")["label"])
    axis_title = f"Difference in customers back within {horizon_days} days (points, adjusted)"
    # No axis title: the breakdown's name is on the control above, and a rotated title outgrows one row.
    base = alt.Chart(frame).encode(y=alt.Y("label:N", title=None, sort=order, axis=alt.Axis(labelLimit=180)))
    dots = base.mark_point(filled=True, size=90, color=GREEN).encode(
        x=alt.X("estimate_pts:Q", title=axis_title),
        tooltip=[alt.Tooltip("label:N", title=title),
                 alt.Tooltip("estimate_pts:Q", title="Difference (points)", format="+.1f"),
                 alt.Tooltip("low_pts:Q", title="Between", format="+.1f"),
                 alt.Tooltip("high_pts:Q", title="and", format="+.1f"), alt.Tooltip("cases:Q", title="Cases")])
    errors = base.mark_errorbar(ticks=True, color="#333").encode(x=alt.X("low_pts:Q", title=axis_title),
                                                                x2="high_pts:Q")
    zero = alt.Chart(pd.DataFrame({"zero": [0.0]})).mark_rule(color=GREY, strokeDash=[4, 4]).encode(x="zero:Q")
    return _finish(alt.layer(zero, errors, dots), height=max(120, 32 * len(frame)))  # type: ignore[no-any-return]
