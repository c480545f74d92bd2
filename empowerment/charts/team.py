"""The Team page's charts: weekly activity per person, and spend by gesture type and cause."""

from __future__ import annotations

import altair as alt
import pandas as pd


def heatmap_chart(weekly: pd.DataFrame) -> alt.LayerChart:
    """Employees x weeks, colour = money spent, number = gestures; empty rows never acted."""
    data = weekly.assign(spend=weekly["spend_cents"] / 100,
                         week=pd.to_datetime(weekly["week"]).dt.strftime("%d %b"))
    order = (data.groupby("employee")["spend"].sum().sort_values(ascending=False).index.tolist())
    base = alt.Chart(data).encode(
        x=alt.X("week:O", title="Week starting", sort=None),
        y=alt.Y("employee:N", title=None, sort=order, axis=alt.Axis(labelOverlap=False, labelLimit=160)))
    cells = base.mark_rect(stroke="white").encode(
        color=alt.condition("datum.spend > 0", alt.Color(
            "spend:Q", title="Spent", scale=alt.Scale(scheme="greens"),
            legend=alt.Legend(format=",.0f")), alt.value("#eef0ef")),
        tooltip=[alt.Tooltip("employee:N"), alt.Tooltip("week:O"), alt.Tooltip("gestures:Q"),
                 alt.Tooltip("spend:Q", title="Spent", format=",.2f")])
    labels = base.mark_text(fontSize=12).encode(
        text=alt.condition("datum.gestures > 0", alt.Text("gestures:Q"), alt.value("")),
        color=alt.condition("datum.spend > 0.6 * datum.top", alt.value("white"), alt.value("#222")),
    ).transform_joinaggregate(top="max(spend)")
    return (cells + labels).properties(height=alt.Step(26))


def breakdown_chart(breakdown: pd.DataFrame) -> alt.Chart:
    """Spend by gesture type, stacked by incident category."""
    data = breakdown.assign(spend=breakdown["spend_cents"] / 100)
    return alt.Chart(data).mark_bar().encode(
        x=alt.X("sum(spend):Q", title="Spent", axis=alt.Axis(format=",.0f")),
        y=alt.Y("gesture_type:N", title=None, sort="-x"),
        color=alt.Color("category:N", title="What went wrong"),
        tooltip=["gesture_type", "category", "gestures",
                 alt.Tooltip("spend:Q", title="Spent", format=",.2f")],
    ).properties(height=max(32 * data["gesture_type"].nunique(), 80))
