"""The Team page's charts: weekly activity per person, and spend by gesture type and cause."""

from __future__ import annotations

import altair as alt
import pandas as pd

from empowerment import labels
from empowerment.money import currency_symbol, format_money, minor_digits
from empowerment.settings import currency as installation_currency


def _units(cents: pd.Series, currency: str | None) -> pd.Series:
    return cents / 10 ** minor_digits(currency or installation_currency())


def heatmap_chart(weekly: pd.DataFrame, currency: str | None = None, locale: str | None = None) -> alt.LayerChart:
    """Employees x weeks, colour = money spent, number = gestures; empty rows never acted. Amounts
    in `currency` (the installation's by default)."""
    data = weekly.assign(spend=_units(weekly["spend_cents"], currency),
                         spent=weekly["spend_cents"].map(lambda c: format_money(c, currency, locale)),
                         week=pd.to_datetime(weekly["week"]).dt.strftime("%d %b"))
    order = (data.groupby("employee")["spend"].sum().sort_values(ascending=False).index.tolist())
    base = alt.Chart(data).encode(
        # every week labelled, turned when they would not fit side by side
        x=alt.X("week:O", title="Week starting", sort=None,
                axis=alt.Axis(labelOverlap=False, labelAngle=-45 if data["week"].nunique() > 6 else 0)),
        y=alt.Y("employee:N", title=None, sort=order, axis=alt.Axis(labelOverlap=False, labelLimit=160)))
    cells = base.mark_rect(stroke="white").encode(
        color=alt.condition("datum.spend > 0", alt.Color(
            "spend:Q", title=f"Spent ({currency_symbol(currency).strip()})", scale=alt.Scale(scheme="greens"),
            legend=alt.Legend(format=",.0f")), alt.value("#eef0ef")),
        tooltip=[alt.Tooltip("employee:N", title="Employee"), alt.Tooltip("week:O", title="Week starting"),
                 alt.Tooltip("gestures:Q", title="Gestures"), alt.Tooltip("spent:N", title="Spent")])
    labels = base.mark_text(fontSize=12).encode(
        text=alt.condition("datum.gestures > 0", alt.Text("gestures:Q"), alt.value("")),
        color=alt.condition("datum.spend > 0.6 * datum.top", alt.value("white"), alt.value("#222")),
    ).transform_joinaggregate(top="max(spend)")
    return (cells + labels).properties(height=alt.Step(26))


def breakdown_chart(breakdown: pd.DataFrame, currency: str | None = None, locale: str | None = None) -> alt.Chart:
    """Spend by gesture type (in words, every bar labelled), stacked by incident category."""
    data = breakdown.assign(spend=_units(breakdown["spend_cents"], currency),
                            spent=breakdown["spend_cents"].map(lambda c: format_money(c, currency, locale)),
                            gesture=breakdown["gesture_type"].map(labels.gesture_type))
    return alt.Chart(data).mark_bar().encode(
        x=alt.X("sum(spend):Q", title=f"Spent ({currency_symbol(currency).strip()})", axis=alt.Axis(format=",.0f")),
        y=alt.Y("gesture:N", title=None, sort="-x", axis=alt.Axis(labelOverlap=False, labelLimit=200)),
        color=alt.Color("category:N", title="What went wrong", legend=alt.Legend(orient="bottom", columns=2)),
        tooltip=[alt.Tooltip("gesture:N", title="What was done"),
                 alt.Tooltip("category:N", title="What went wrong"),
                 alt.Tooltip("gestures:Q", title="Gestures"), alt.Tooltip("spent:N", title="Spent")],
    ).properties(height=max(36 * data["gesture"].nunique(), 80))
