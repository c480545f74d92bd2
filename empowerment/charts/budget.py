"""My budget's chart: spend over the period against the allocation."""

from __future__ import annotations

from datetime import date

import altair as alt
import pandas as pd

from empowerment.money import currency_symbol, format_money


def spend_chart(daily: pd.DataFrame, allocated_cents: int, period: tuple[date, date] | None = None) -> alt.Chart:
    """Cumulative spend per day (area) against the allocation (dashed rule). With `period`
    (start, exclusive end) the time axis spans the whole period, so the days still ahead show."""
    data = daily.assign(spent=daily["cumulative_cents"] / 100,
                        that_day_text=daily["spent_cents"].map(format_money),
                        so_far_text=daily["cumulative_cents"].map(format_money))
    scale: alt.Scale | alt.utils.schemapi.UndefinedType = alt.Undefined
    if period is not None:
        scale = alt.Scale(domain=[pd.Timestamp(period[0]).isoformat(),
                                  (pd.Timestamp(period[1]) - pd.Timedelta(days=1)).isoformat()])
    x = alt.X("day:T", title=None, scale=scale, axis=alt.Axis(format="%d %b"))
    area = alt.Chart(data).mark_area(line=True, opacity=0.3).encode(
        x=x,
        y=alt.Y("spent:Q", title=f"Spent so far ({currency_symbol().strip()})", axis=alt.Axis(format=",.0f")),
        tooltip=[alt.Tooltip("day:T", title="Day", format="%d %b %Y"),
                 alt.Tooltip("that_day_text:N", title="That day"),
                 alt.Tooltip("so_far_text:N", title="So far")],
    )
    rule = alt.Chart(pd.DataFrame({"allocated": [allocated_cents / 100]})).mark_rule(
        strokeDash=[6, 4], color="#888"
    ).encode(y="allocated:Q")
    return (area + rule).properties(height=220)
