"""The joint report's three charts: plain functions from a small, aggregated DataFrame to an
`alt.Chart`. The page places them; the PDF and HTML renderers draw the same objects offline.

Every chart carries its data inline (a handful of rows), a fixed size and a plain font, so
vl-convert needs no network and the picture is the same on screen and on paper.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

GREEN = "#1f6f5c"
GREY = "#9aa5a1"
WIDTH = 440
HEIGHT = 220


def _configured(chart: alt.Chart | alt.LayerChart) -> alt.Chart | alt.LayerChart:
    return chart.properties(width=WIDTH, height=HEIGHT).configure_view(strokeWidth=0).configure_axis(
        labelFont="DejaVu Sans", titleFont="DejaVu Sans", labelFontSize=11, titleFontSize=12
    ).configure_legend(labelFont="DejaVu Sans", titleFont="DejaVu Sans")


def budget_bands_chart(bands: pd.DataFrame) -> alt.Chart:
    """Bars: how many people used how much of their budget (columns band, staff)."""
    order = list(bands["band"])
    chart = alt.Chart(bands).mark_bar(color=GREEN).encode(
        x=alt.X("band:N", sort=order, title="Share of budget used", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("staff:Q", title="People", axis=alt.Axis(tickMinStep=1)),
        tooltip=["band:N", "staff:Q"],
    )
    return _configured(chart)


def return_rates_chart(groups: pd.DataFrame, horizon_days: int) -> alt.LayerChart:
    """Bars with 95 % intervals: return rate of recovered vs not recovered customers
    (columns group, rate, ci_low, ci_high, n)."""
    base = alt.Chart(groups).encode(
        x=alt.X("group:N", title=None, sort=list(groups["group"]), axis=alt.Axis(labelAngle=0))
    )
    bars = base.mark_bar(size=60).encode(
        y=alt.Y("rate:Q", title=f"Came back within {horizon_days} days",
                axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("group:N", scale=alt.Scale(range=[GREEN, GREY]), legend=None),
        tooltip=["group:N", alt.Tooltip("rate:Q", format=".1%"), "n:Q"],
    )
    rules = base.mark_rule(strokeWidth=2).encode(y="ci_low:Q", y2="ci_high:Q")
    return _configured(alt.layer(bars, rules))


def teams_scatter(teams: pd.DataFrame) -> alt.LayerChart:
    """Do the teams that act more keep more customers? One dot per team (columns team,
    share_recovered, return_rate, followed_up, budget_used)."""
    base = alt.Chart(teams).encode(
        x=alt.X("share_recovered:Q", title="Share of incidents recovered", axis=alt.Axis(format="%"),
                scale=alt.Scale(zero=False, padding=20)),
        y=alt.Y("return_rate:Q", title="Customers who came back", axis=alt.Axis(format="%"),
                scale=alt.Scale(zero=False, padding=20)),
    )
    dots = base.mark_circle(color=GREEN, opacity=0.8).encode(
        size=alt.Size("followed_up:Q", title="Incidents followed up", scale=alt.Scale(range=[60, 600])),
        tooltip=[
            "team:N",
            alt.Tooltip("share_recovered:Q", format=".0%", title="Recovered"),
            alt.Tooltip("return_rate:Q", format=".0%", title="Came back"),
            alt.Tooltip("budget_used:Q", format=".0%", title="Budget used"),
            alt.Tooltip("followed_up:Q", title="Followed up"),
        ],
    )
    labels = base.mark_text(align="left", dx=9, dy=-7, fontSize=11, font="DejaVu Sans").encode(text="team:N")
    return _configured(alt.layer(dots, labels))


def to_png(chart: alt.TopLevelMixin, scale: float = 2) -> bytes:
    """PNG bytes, offline: inline data only, no external URL may be fetched."""
    import vl_convert as vlc

    return bytes(vlc.vegalite_to_png(chart.to_json(), scale=scale, allowed_base_urls=[]))


def to_svg(chart: alt.TopLevelMixin) -> str:
    import vl_convert as vlc

    return str(vlc.vegalite_to_svg(chart.to_json(), allowed_base_urls=[]))
