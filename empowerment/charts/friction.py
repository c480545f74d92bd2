"""The friction map chart: weeks x (touchpoint · category), colour = incidents, alerts ringed."""

from __future__ import annotations

import altair as alt
import pandas as pd


def friction_heatmap(counts: pd.DataFrame, alerts: pd.DataFrame) -> alt.LayerChart:
    """`counts`: week, touchpoint, category, incidents (one location, or summed); `alerts` the
    same keys for the weeks that alerted."""
    data = counts.groupby(["week", "touchpoint", "category"], as_index=False)["incidents"].sum()
    data["row"] = data["touchpoint"] + " · " + data["category"]
    data["week_label"] = pd.to_datetime(data["week"]).dt.strftime("%d %b")
    flagged = set(zip(pd.to_datetime(alerts["week"]), alerts["category"], strict=True)) if len(alerts) else set()
    data["alert"] = [(pd.Timestamp(w), c) in flagged for w, c in zip(data["week"], data["category"], strict=True)]
    # Each cell says itself to a screen reader (axe "svg-img-alt": marks need a name).
    data["said"] = (data["row"] + ", week of " + data["week_label"] + ": " + data["incidents"].astype(str)
                    + " incidents" + data["alert"].map({True: ", above its usual level", False: ""}))
    weeks = sorted(data["week"].unique())
    order = [f"{pd.Timestamp(w):%d %b}" for w in weeks]
    base = alt.Chart(data).encode(
        x=alt.X("week_label:O", title="Week starting", sort=order),
        y=alt.Y("row:N", title=None, sort=alt.SortField("row"), axis=alt.Axis(labelLimit=220)))
    cells = base.mark_rect(stroke="white").encode(
        color=alt.Color("incidents:Q", title="Incidents", scale=alt.Scale(scheme="oranges")),
        description=alt.Description("said:N"),
        tooltip=[alt.Tooltip("touchpoint:N", title="Touchpoint"), alt.Tooltip("category:N", title="Category"),
                 alt.Tooltip("week_label:O", title="Week"), alt.Tooltip("incidents:Q", title="Incidents")])
    # The rings and the numbers repeat what each cell already says: hidden from screen readers.
    rings = base.transform_filter("datum.alert").mark_rect(fill=None, stroke="#b00020", strokeWidth=3, aria=False)
    labels = base.mark_text(fontSize=11, aria=False).encode(text="incidents:Q")
    return (cells + rings + labels).properties(
        height=alt.Step(24), description="Incidents per week by journey touchpoint and category; ringed "
        "cells are weeks a category ran above its own usual level.")
