"""The joint report's three charts: plain functions from a small, aggregated DataFrame to an
`alt.Chart`. The page places them; the PDF and HTML renderers draw the same objects offline.

Every chart carries its data inline (a handful of rows), a fixed size and a plain font, so
vl-convert needs no network and the picture is the same on screen and on paper.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import altair as alt
import pandas as pd

GREEN = "#1f6f5c"
GREY = "#9aa5a1"
WIDTH = 440
HEIGHT = 220


def _configured(chart: Any) -> Any:
    return chart.properties(width=WIDTH, height=HEIGHT).configure_view(strokeWidth=0).configure_axis(
        labelFont="DejaVu Sans", titleFont="DejaVu Sans", labelFontSize=11, titleFontSize=12
    ).configure_legend(labelFont="DejaVu Sans", titleFont="DejaVu Sans").configure_mark(
        aria=False)  # unnamed marks are unlabelled pictures to a screen reader (axe "svg-img-alt")


def budget_bands_chart(bands: pd.DataFrame) -> alt.TopLevelMixin:
    """Bars: how many people used how much of their budget (columns band, staff)."""
    order = list(bands["band"])
    chart = alt.Chart(bands).mark_bar(color=GREEN).encode(
        x=alt.X("band:N", sort=order, title="Share of budget used", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("staff:Q", title="People", axis=alt.Axis(tickMinStep=1)),
        tooltip=["band:N", "staff:Q"],
    )
    return _configured(chart)


def return_rates_chart(groups: pd.DataFrame, horizon_days: int) -> alt.TopLevelMixin:
    """Bars with 95 % intervals: return rate of recovered vs not recovered customers
    (columns group, rate, ci_low, ci_high, n)."""
    base = alt.Chart(groups).encode(
        x=alt.X("group:N", title=None, sort=list(groups["group"]), axis=alt.Axis(labelAngle=0))
    )
    bars = base.mark_bar(size=60).encode(
        y=alt.Y("rate:Q", title=f"Came back within {horizon_days} days",
                axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("group:N", scale=alt.Scale(domain=list(groups["group"]), range=[GREEN, GREY]),
                        legend=None),
        tooltip=["group:N", alt.Tooltip("rate:Q", format=".1%"), "n:Q"],
    )
    rules = base.mark_rule(strokeWidth=2).encode(y="ci_low:Q", y2="ci_high:Q")
    return _configured(alt.layer(bars, rules))


def teams_scatter(teams: pd.DataFrame) -> alt.TopLevelMixin:
    """Do the teams that act more keep more customers? One numbered dot per team (columns number,
    team, share_recovered, return_rate, followed_up, budget_used); the number is the team's row in
    the teams table, so a dozen teams stay readable on paper."""
    base = alt.Chart(teams).encode(
        x=alt.X("share_recovered:Q", title="Share of incidents recovered", axis=alt.Axis(format=".0%"),
                scale=alt.Scale(zero=False, padding=24)),
        y=alt.Y("return_rate:Q", title="Customers who came back", axis=alt.Axis(format=".0%"),
                scale=alt.Scale(zero=False, padding=24)),
        tooltip=[
            "team:N",
            alt.Tooltip("share_recovered:Q", format=".0%", title="Recovered"),
            alt.Tooltip("return_rate:Q", format=".0%", title="Came back"),
            alt.Tooltip("budget_used:Q", format=".0%", title="Budget used"),
            alt.Tooltip("followed_up:Q", title="Followed up"),
        ],
    )
    dots = base.mark_circle(color=GREEN, opacity=0.75).encode(
        size=alt.Size("followed_up:Q", scale=alt.Scale(range=[120, 700]), legend=None),
    )
    labels = base.mark_text(fontSize=10, fontWeight="bold", color="white", font="DejaVu Sans").encode(
        text="number:N"
    )
    return _configured(alt.layer(dots, labels))


_warm = threading.Lock()
_warmed = False


def warm_up() -> None:
    """Start vl-convert's JavaScript engine in the background (its first call takes about a
    second; it releases the GIL, so this overlaps with loading and analysing the data)."""
    global _warmed
    with _warm:
        if _warmed:
            return
        _warmed = True

    def convert() -> None:
        import vl_convert as vlc

        spec = {"data": {"values": [{"x": 1}]}, "mark": "point", "encoding": {"x": {"field": "x"}}}
        with contextlib.suppress(Exception):  # a warm-up only; the real call reports errors
            vlc.vegalite_to_svg(spec, allowed_base_urls=[])

    threading.Thread(target=convert, name="vl-convert-warm-up", daemon=True).start()


def to_png(chart: alt.TopLevelMixin, scale: float = 2) -> bytes:
    """PNG bytes, offline: inline data only, no external URL may be fetched."""
    import vl_convert as vlc

    return bytes(vlc.vegalite_to_png(chart.to_json(), scale=scale, allowed_base_urls=[]))
