"""Payoff (managers, HR, CX leads, admins): did recovery keep customers, and did it pay?

Widgets and layout only. `empowerment.queries` reads the frames, `empowerment.analytics` computes
the figures and `empowerment.charts` draws them. The figures are cached on (data version, filters,
horizon), so a rerun with the same choices only redraws; the frames behind them are read once per
data version (read-only, shared), so a new filter or horizon does not read the database again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from empowerment.analytics import (
    compute_payoff,
    km_curves_frame,
    link_incidents,
    return_rate_by_cost_band,
    return_rates_by,
    spend_vs_revenue_over_time,
)
from empowerment.analytics.payoff import filter_incidents
from empowerment.charts import payoff as payoff_charts
from empowerment.queries import admin
from empowerment.queries import frames as frame_queries
from empowerment.ui import components as ui
from empowerment.ui import pickers
from empowerment.ui.session import get_db
from empowerment.ui.signin import require_page

HORIZONS = (30, 90, 180, 365)
BOOTSTRAP = 200
PERIOD_KINDS = ("All time", "Quarter", "Year", "Dates")
ALL_LOCATIONS, ALL_TEAMS, MY_TEAMS = "All locations", "All teams", "All my teams"
OBSERVATIONAL = ("Observational estimate: adjusted for prior visits, spend, tenure, category and "
                 "location; not a randomised trial.")
BREAKDOWNS = (("first_gesture_type", "Gesture type", "First gesture"), ("category", "Category", "Category"),
              ("location", "Location", "Location"), ("team", "Team", "Team"))


@dataclass(frozen=True)
class Scope:
    date_from: date | None
    date_to: date | None
    location: str | None
    team: str | tuple[str, ...] | None
    label: str  # "in 2024-Q3", "over all time"


# What the page shows, as a plain dict (st.cache_data pickles it, and a class defined in a page
# script would be pickled by reference to a module that is replaced on every run):
# report (compute_payoff's dict), curves, bands, over_time (small frames), breakdowns {column: frame}.
PayoffView = dict[str, Any]


# --- data ---------------------------------------------------------------------------------------

@st.cache_data(show_spinner=False, ttl=3600, max_entries=8)
def cached_options(database: str, version: str) -> frame_queries.FilterOptions:
    return frame_queries.filter_options(get_db())


@st.cache_resource(show_spinner=False, max_entries=1)
def cached_frames(database: str, version: str) -> frame_queries.AnalyticsFrames:
    """Every incident's frames (large): shared, never copied, read once per data version, so a
    new filter or horizon only reruns the analytics. Treated read-only. `database` (the URL) is
    part of every key: versions of two databases can look alike."""
    return frame_queries.load_analytics_frames(get_db())


@st.cache_data(show_spinner=False, ttl=3600, max_entries=32)
def cached_view(database: str, version: str, date_from: date | None, date_to: date | None, location: str | None,
                team: str | tuple[str, ...] | None, horizon: int) -> PayoffView:
    frames = cached_frames(database, version)
    report = compute_payoff(frames.incidents, frames.gestures, frames.transactions, frames.customers,
                            horizon_days=horizon, as_of=frames.as_of, date_from=date_from,
                            date_to=date_to, location=location, team=_team_arg(team),
                            bootstrap=BOOTSTRAP, seed=0)
    scoped = filter_incidents(frames.incidents, date_from, date_to, location, _team_arg(team))
    linked = link_incidents(scoped, frames.gestures, frames.transactions, frames.customers,
                            as_of=pd.Timestamp(report["as_of"]), horizon_days=horizon)
    span = linked["occurred_at"].max() - linked["occurred_at"].min() if len(linked) else pd.Timedelta(0)
    return {
        "report": report,
        "curves": km_curves_frame(linked),
        "bands": return_rate_by_cost_band(linked),
        "over_time": spend_vs_revenue_over_time(linked, "W" if span <= pd.Timedelta(days=120) else "M"),
        "breakdowns": {column: return_rates_by(linked, column) for column, _, _ in BREAKDOWNS},
    }


def _team_arg(team: str | tuple[str, ...] | None) -> str | list[str] | None:
    return list(team) if isinstance(team, tuple) else team


# --- filters ------------------------------------------------------------------------------------

def choose_scope(options: frame_queries.FilterOptions, teams: list[str], managed_only: bool) -> Scope:
    today = date.today()
    first, last = options.first_incident or today, options.last_incident or today
    kind = pickers.period_kind(PERIOD_KINDS, "All time", key="po")
    period_col, place_col, team_col = st.columns(pickers.period_widths(kind, others=2))
    picked = pickers.period_choice(period_col, kind, first, last, key="po", today=today)
    place = place_col.selectbox("Location", [ALL_LOCATIONS, *options.locations], key="po_location")
    every = MY_TEAMS if managed_only else ALL_TEAMS
    picked_team = team_col.selectbox("Team", [every, *teams], key="po_team")
    team: str | tuple[str, ...] | None = picked_team
    if picked_team == every:
        team = tuple(teams) if managed_only else None
    return Scope(picked.date_from, picked.date_to, None if place == ALL_LOCATIONS else place, team,
                 picked.label)


def visible_teams(actor: Any, options: frame_queries.FilterOptions) -> tuple[list[str], bool]:
    """The teams this person may look at (`access`: managers their own teams, others every team),
    and whether that is a restriction."""
    names = admin.team_names_in_reach(get_db(), actor, "payoff.read")
    return (options.teams, False) if names is None else (names, True)


# --- the words ----------------------------------------------------------------------------------

def _points(value: float) -> str:
    return f"{abs(value) * 100:.1f}"


def headline(report: dict[str, Any], period_label: str) -> list[str]:
    """The answer in plain words, honest about uncertainty and about the method's limits."""
    horizon = report["horizon_days"]
    uplift = report["adjusted_uplift"]
    lines = []
    if report["overall"]["incidents"] == 0:
        return [f"No incidents {period_label} for this selection."]
    if uplift["reliable"] and uplift["estimate"] is not None:
        estimate = uplift["estimate"]
        direction = "more" if estimate >= 0 else "less"
        sentence = (f"Recovered customers came back **{_points(estimate)} points {direction} often** "
                    f"within {horizon} days than comparable unrecovered ones")
        if uplift["ci_low"] is not None and uplift["ci_high"] is not None:
            sentence += f" (95% CI {uplift['ci_low'] * 100:+.1f} to {uplift['ci_high'] * 100:+.1f} points)"
            if uplift["ci_low"] <= 0 <= uplift["ci_high"]:
                sentence += "; that range includes no difference at all"
        lines.append(sentence + ".")
    elif report["naive_uplift"] is not None:
        lines.append(
            f"The recovered and unrecovered customers {period_label} are too different (prior visits, "
            "spend, tenure, category, location) to compare fairly, so **no adjusted estimate** is given. "
            f"The raw gap is {report['naive_uplift'] * 100:+.1f} points, but it mixes the effect of "
            "recovery with who was chosen for a gesture.")
    else:
        lines.append(f"Not enough followed-up incidents with and without a gesture {period_label} "
                     f"to compare {horizon}-day return rates yet.")
    cost = report.get("cost_of_inaction_cents")
    if cost is not None and uplift["reliable"]:
        if cost > 0:
            lines.append(f"Unrecovered incidents {period_label} cost about **{ui.md(ui.money(cost))}** "
                         f"in lost revenue{_money_ci(report, 'cost_of_inaction_cents')}.")
        else:
            lines.append(f"Unrecovered incidents {period_label} show no measurable lost revenue.")
    spend, extra = report["spend_cents"], report.get("incremental_revenue_cents")
    if spend and extra is not None and uplift["reliable"]:
        lines.append(f"Gestures cost {ui.md(ui.money(spend))} and brought in about "
                     f"{ui.md(ui.money(extra))} of extra revenue{_money_ci(report, 'incremental_revenue_cents')}.")
    return lines


def _money_ci(report: dict[str, Any], key: str) -> str:
    low, high = report.get(f"{key}_ci_low"), report.get(f"{key}_ci_high")
    if low is None or high is None:
        return ""
    return f" (95% CI {ui.md(ui.money(low))} to {ui.md(ui.money(high))})"


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def show_metrics(report: dict[str, Any]) -> None:
    horizon, uplift = report["horizon_days"], report["adjusted_uplift"]
    # Two rows of short tiles: five across were truncated at 1024 px; exact figures are in the text.
    rates, money_row = st.columns(3), st.columns(3)
    rates[0].metric(f"{horizon}-day return, recovered", _rate(report["recovered"]["return_rate"]),
                    help=f"{report['recovered']['eligible']:,} recovered incidents with full follow-up")
    rates[1].metric(f"{horizon}-day return, others", _rate(report["comparison"]["return_rate"]),
                    help=f"{report['comparison']['eligible']:,} incidents without a gesture, full follow-up")
    adjusted = f"{uplift['estimate'] * 100:+.1f} pts" if uplift["reliable"] and uplift["estimate"] is not None else "—"
    rates[2].metric("Adjusted uplift", adjusted, help=OBSERVATIONAL)
    money_row[0].metric("Spent on gestures", ui.money_short(report["spend_cents"]),
                        help=ui.money(report["spend_cents"]))
    extra = report.get("incremental_revenue_cents")
    reliable_extra = extra is not None and uplift["reliable"]
    money_row[1].metric("Extra revenue (est.)", ui.money_short(extra) if reliable_extra else "—",
                        help=OBSERVATIONAL)
    inaction = report.get("cost_of_inaction_cents")
    money_row[2].metric("Cost of inaction (est.)",
                        ui.money_short(inaction) if inaction is not None and uplift["reliable"] else "—",
                        help=OBSERVATIONAL)


def show_chart(chart: Any, caption: str, key: str) -> None:
    st.altair_chart(chart, width="stretch", key=key)
    st.caption(ui.md(caption))


def show_charts(view: PayoffView, horizon: int) -> None:
    report = view["report"]
    st.subheader("Did they come back?")
    rates = payoff_charts.uplift_frame(report)
    if not rates.empty:
        show_chart(payoff_charts.return_rates_chart(rates, horizon),
                   f"Share of customers back within {horizon} days, with 95% intervals. Left: as "
                   "observed. Right: recovered customers next to comparable unrecovered ones. "
                   + OBSERVATIONAL, "po_rates")
    show_chart(payoff_charts.km_chart(view["curves"], horizon),
               "Share of customers back by each day after the incident (Kaplan-Meier, 95% bands); "
               "customers not yet back are followed up to the data's end. Not adjusted.", "po_km")
    st.subheader("Did it pay?")
    if not view["over_time"].empty:
        show_chart(payoff_charts.spend_vs_incremental_chart(payoff_charts.spend_vs_incremental_frame(view["over_time"], report)),
                   "Spend on gestures per period of the incident, and the extra revenue they are "
                   f"estimated to have brought in within {horizon} days. " + OBSERVATIONAL, "po_money")
    st.subheader("What works?")
    show_chart(payoff_charts.cost_band_chart(view["bands"], horizon),
               f"Share back within {horizon} days by what was spent on the incident, including "
               "no-cost gestures and incidents without a gesture. As observed, not adjusted.", "po_bands")
    tabs = st.tabs([label for _, label, _ in BREAKDOWNS])
    for tab, (column, label, axis) in zip(tabs, BREAKDOWNS, strict=True):
        with tab:
            frame = view["breakdowns"][column]
            if frame.empty or frame["n"].sum() == 0:
                st.caption("No incidents with full follow-up yet.")
                continue
            show_chart(payoff_charts.breakdown_chart(frame, column, axis, horizon),
                       f"Share back within {horizon} days by {label.lower()}, with 95% intervals; "
                       "the largest groups first. As observed, not adjusted.", f"po_by_{column}")


def main() -> None:
    actor = require_page("payoff")
    st.title("Payoff")
    st.caption("Did recovery gestures keep customers, and did they pay?")
    version = frame_queries.data_version(get_db())
    options = cached_options(get_db().url, version)
    teams, managed_only = visible_teams(actor, options)
    if managed_only and not teams:
        ui.empty_state("No team yet", "You manage no team yet; ask an admin to add you as a team's manager.")
        return
    scope = choose_scope(options, teams, managed_only)
    horizon = st.segmented_control("Follow-up window (days)", HORIZONS, default=90, key="po_horizon") or 90
    with st.spinner("Computing the payoff…"):
        view = cached_view(get_db().url, version, scope.date_from, scope.date_to, scope.location, scope.team, horizon)
    report = view["report"]
    with st.container(border=True, key="po_headline"):
        for line in headline(report, scope.label):
            st.markdown(line)
    show_metrics(report)
    for warning in report.get("warnings") or []:
        st.caption(ui.md(warning))
    if report["overall"]["incidents"]:
        show_charts(view, horizon)
    with st.expander("How this is worked out"):
        st.markdown(ui.md(report["adjusted_uplift"]["method"]))
        st.caption(ui.md(f"Data as of {str(report['as_of'])[:16].replace('T', ' ')}. {OBSERVATIONAL}"))


main()
