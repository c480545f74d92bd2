"""Payoff (managers, HR, CX leads, admins): did recovery keep customers, and did it pay?

Widgets and layout only. `empowerment.queries` reads the frames, `empowerment.analytics` computes
the figures and `empowerment.charts` draws them. The figures are stored per (data version, filters,
horizon) for every process and replica (`reports.computed`; the worker works out the opening view
ahead of time) and cached here, so a rerun with the same choices only redraws; the frames behind
them are read only when a figure must be worked out, once per data version (read-only, shared).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd
import streamlit as st

from empowerment import clock, settings
from empowerment.analytics import PayoffResult, what_works
from empowerment.analytics.payoff import PayoffView
from empowerment.charts import payoff as payoff_charts
from empowerment.errors import MissingExchangeRate
from empowerment.models.vocabulary import GESTURE_TYPE, INCIDENT_CATEGORY
from empowerment.queries import admin
from empowerment.queries import frames as frame_queries
from empowerment.reports import computed, wording
from empowerment.ui import care as care_ui
from empowerment.ui import components as ui
from empowerment.ui import pickers
from empowerment.ui.session import get_db
from empowerment.ui.signin import require_page

HORIZONS = (30, 90, 180, 365)
PERIOD_KINDS = ("All time", "Quarter", "Year", "Dates")
ALL_LOCATIONS, ALL_TEAMS, MY_TEAMS = "All locations", "All teams", "All my teams"
ALL_CATEGORIES = "All categories"
OBSERVATIONAL = wording.OBSERVATIONAL
BREAKDOWNS = (("first_gesture_type", "Gesture type", "First gesture"),
              ("gesture_speed", "Speed", "First gesture came"), ("category", "Category", "Category"),
              ("location", "Location", "Location"), ("team", "Team", "Team"))


@dataclass(frozen=True)
class Scope:
    date_from: date | None
    date_to: date | None
    location: str | None
    team: str | tuple[str, ...] | None
    label: str  # "in 2024-Q3", "over all time"


# --- data ---------------------------------------------------------------------------------------

@st.cache_data(show_spinner=False, ttl=3600, max_entries=8)
def cached_options(database: str, version: str) -> frame_queries.FilterOptions:
    return frame_queries.filter_options(get_db())


@st.cache_resource(show_spinner=False, max_entries=1)
def cached_frames(database: str, version: str) -> frame_queries.AnalyticsFrames:
    """Every incident's frames (large): shared, never copied, read once per data version, so a
    new filter or horizon only reruns the analytics. Treated read-only. `database` (the URL) is
    part of every key: versions of two databases can look alike."""
    return frame_queries.load_analytics_frames(get_db(), outcomes=True)  # HORIZONS are the table's


@st.cache_data(show_spinner=False, ttl=3600, max_entries=32)
def cached_view(database: str, version: str, _actor: Any,
                scope: computed.PayoffScope) -> tuple[PayoffView, str, datetime | None]:
    """The view, the currency note and when it was worked out if on older data: stored for every
    process (`reports.computed`), worked out here only when nobody has lately."""
    return computed.page_view(get_db(), _actor, version, scope, lambda: cached_frames(database, version))


@st.cache_data(show_spinner=False, ttl=3600, max_entries=64)
def cached_what_works(database: str, version: str, _actor: Any, scope: computed.PayoffScope, column: str,
                      within: tuple[str, str] | None) -> pd.DataFrame:
    return computed.what_works_view(get_db(), _actor, version, scope, column, within,
                                    lambda: cached_frames(database, version))


@st.cache_data(show_spinner=False, ttl=3600, max_entries=8)
def cached_categories(database: str, version: str, _actor: Any) -> list[str]:
    return computed.categories(get_db(), _actor, version, lambda: cached_frames(database, version))


# --- filters ------------------------------------------------------------------------------------

def choose_scope(options: frame_queries.FilterOptions, teams: list[str], managed_only: bool) -> Scope:
    today = clock.business_today()
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

def _money(figure: Any) -> str:
    return ui.md(wording.figure_text(figure, "money"))


def headline(report: PayoffResult, period_label: str) -> list[str]:
    """The answer in plain words, honest about uncertainty and about the method's limits; a
    figure that is not reliable gives its reason, never a number."""
    horizon, uplift = report.horizon_days, report.return_uplift
    if report.overall.incidents == 0:
        return [f"No incidents {period_label} for this selection."]
    lines = []
    if uplift.shown and uplift.estimate is not None:
        direction = "more" if uplift.estimate >= 0 else "less"
        sentence = (f"Recovery {period_label} is associated with customers coming back **{abs(uplift.estimate) * 100:.1f} "
                    f"points {direction} often** within {horizon} days than comparable unrecovered ones "
                    f"({ui.md(wording.range_text(uplift, 'points'))})")
        lines.append(sentence + ".")
    elif report.naive_uplift is not None:
        lines.append(
            f"**No adjusted estimate** {period_label}: {ui.md(uplift.reason)} The raw gap is "
            f"{report.naive_uplift * 100:+.1f} points, but it mixes any effect of recovery with who was "
            "chosen for a gesture.")
    else:
        lines.append(f"Not enough followed-up incidents with and without a gesture {period_label} "
                     f"to compare {horizon}-day return rates yet.")
    inaction = report.cost_of_inaction_cents
    if inaction.shown and inaction.estimate is not None:
        if inaction.estimate > 0:
            lines.append(f"Incidents nobody recovered {period_label} are associated with about "
                         f"**{_money(inaction)}** of lost margin, net of what recovering them would have "
                         f"cost ({report.margin_label}).")
        else:
            lines.append(f"Incidents nobody recovered {period_label} show no measurable lost margin, net of "
                         "what recovering them would have cost.")
    extra = report.incremental_margin_cents
    if report.spend_cents and extra.shown:
        lines.append(f"Gestures cost {ui.md(ui.money(report.spend_cents, settings.reporting_currency()))}; recovered customers brought an "
                     f"estimated {_money(extra)} of extra margin ({report.margin_label}).")
    lines.extend(ui.md(sentence) for sentence in wording.sensitivity_sentences(report))
    return lines


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _tile(figure: Any, unit: str) -> str:
    if not figure.shown or figure.estimate is None:
        return "—"
    if unit == "money":
        return wording.round_money(figure.estimate)
    return f"{figure.estimate * 100:+.1f} pts"


def _tile_help(figure: Any, unit: str) -> str:
    if not figure.shown:
        return f"Not shown: {figure.reason}"
    return f"{wording.range_text(figure, unit).capitalize()}. {OBSERVATIONAL}"


def show_metrics(report: PayoffResult) -> None:
    horizon = report.horizon_days
    # Two rows of short tiles: five across were truncated at 1024 px; exact figures are in the text.
    rates, money_row = st.columns(3), st.columns(3)
    rates[0].metric(f"{horizon}-day return, recovered", _rate(report.recovered.return_rate),
                    help=f"{report.recovered.eligible:,} recovered episodes with full follow-up "
                         f"({report.recovered.customers:,} customers)")
    rates[1].metric(f"{horizon}-day return, others", _rate(report.comparison.return_rate),
                    help=f"{report.comparison.eligible:,} episodes without a gesture, full follow-up "
                         f"({report.comparison.customers:,} customers)")
    rates[2].metric("Adjusted uplift", _tile(report.return_uplift, "points"),
                    help=_tile_help(report.return_uplift, "points"))
    money_row[0].metric("Spent on gestures", wording.round_money(report.spend_cents),
                        help=ui.money(report.spend_cents, settings.reporting_currency()))
    money_row[1].metric("Extra margin (est.)", _tile(report.incremental_margin_cents, "money"),
                        help=_tile_help(report.incremental_margin_cents, "money") + f" {report.margin_label}.")
    money_row[2].metric("Cost of inaction (est.)", _tile(report.cost_of_inaction_cents, "money"),
                        help=_tile_help(report.cost_of_inaction_cents, "money") + f" {report.margin_label}.")


def show_chart(chart: Any, caption: str, key: str) -> None:
    st.altair_chart(chart, width="stretch", key=key)
    st.caption(ui.md(caption))


def show_charts(view: PayoffView, horizon: int) -> None:
    report = view.result
    st.subheader("Did they come back?")
    rates = payoff_charts.uplift_frame(report)
    if not rates.empty:
        show_chart(payoff_charts.return_rates_chart(rates, horizon),
                   f"Share of customers back within {horizon} days, with 95% intervals. Left: as "
                   "observed. Right: recovered customers next to comparable unrecovered ones. "
                   + OBSERVATIONAL, "po_rates")
    show_chart(payoff_charts.km_chart(view.curves, horizon),
               "Share of customers back by each day after the recovery window (Kaplan-Meier, 95% bands); "
               "customers not yet back are followed up to the data's end. As observed, not adjusted.", "po_km")
    st.markdown(ui.md(wording.time_without_return_text(report)))
    st.subheader("Did it pay?")
    money_frame = payoff_charts.spend_vs_incremental_frame(view.over_time, report)
    if not money_frame.empty:
        shown = report.incremental_margin_cents.shown
        show_chart(payoff_charts.spend_vs_incremental_chart(money_frame),
                   "Spend on gestures per period of the incident"
                   + (f", and the extra margin they are associated with within {horizon} days "
                      f"({report.margin_label}). " + OBSERVATIONAL if shown else
                      f". The extra margin is not shown: {report.incremental_margin_cents.reason}")
                   + " Periods still running are left out.", "po_money")
    if report.recovered.incidents:
        show_chart(payoff_charts.time_to_gesture_chart(view.gesture_delays),
                   f"How soon the first gesture came. Only gestures within {report.recovery_window_hours} "
                   f"hours of the incident count as a recovery ({report.late_gestures:,} later ones do not; "
                   f"{report.early_gestures:,} dated before their incident never count).", "po_speed")


def show_raw_breakdowns(view: PayoffView, horizon: int) -> None:
    """The breakdowns as observed (raw, not adjusted), one click away from the adjusted ones."""
    with st.expander("Raw shares by group, as observed (not adjusted)"):
        show_chart(payoff_charts.cost_band_chart(view.bands, horizon),
                   f"Share back within {horizon} days by what was spent on the incident, including "
                   "no-cost gestures and incidents without a gesture. Raw: as observed, not adjusted.", "po_bands")
        tabs = st.tabs([label for _, label, _ in BREAKDOWNS])
        for tab, (column, label, axis) in zip(tabs, BREAKDOWNS, strict=True):
            with tab:
                frame = view.breakdowns[column]
                if frame.empty or frame["n"].sum() == 0:
                    st.caption("No incidents with full follow-up yet.")
                    continue
                show_chart(payoff_charts.breakdown_chart(frame, column, axis, horizon),
                           f"Share back within {horizon} days by {label.lower()}, with 95% intervals; "
                           "the largest groups first. Raw: as observed, not adjusted.", f"po_by_{column}")


def show_what_works(view: PayoffView, asked: computed.PayoffScope, horizon: int, version: str, actor: Any) -> None:
    """Adjusted effects by gesture type, incident category, team, cost band and follow-up
    (`analytics.what_works`): intervals, Holm's correction named, the reason where a group has too
    few cases or no reliable estimate; the raw breakdowns below, labelled raw."""
    st.subheader("What works?")
    choices = list(what_works.BREAKDOWN_LABELS)
    column = st.segmented_control("Break down by", choices, default=choices[0], key="po_ww_by",
                                  format_func=what_works.BREAKDOWN_LABELS.__getitem__) or choices[0]
    vocab = care_ui.current_vocabulary()
    within = None
    if column == "first_gesture_type":
        codes = cached_categories(get_db().url, version, actor)
        picked = st.selectbox("For incidents of", [ALL_CATEGORIES, *codes], key="po_ww_within",
                              format_func=lambda c: c if c == ALL_CATEGORIES else vocab.label(INCIDENT_CATEGORY, c))
        within = None if picked == ALL_CATEGORIES else ("category", picked)
    with st.spinner("Working out what works…"):
        effects = cached_what_works(get_db().url, version, actor, asked, column, within)
    title = what_works.BREAKDOWN_LABELS[column]
    if effects.empty:
        st.caption("No recovered incidents with full follow-up yet.")
    else:
        kind = {"first_gesture_type": GESTURE_TYPE, "category": INCIDENT_CATEGORY}.get(column)
        labelled = effects.assign(label=[vocab.label(kind, level) if kind else str(level) for level in effects["level"]])
        shown = labelled.loc[[wording.breakdown_figure(row).shown and row.cases >= what_works.MIN_CASES
                              for row in labelled.itertuples()]]
        if len(shown):
            show_chart(payoff_charts.adjusted_breakdown_chart(shown, title, horizon),
                       f"Each group of recovered customers against comparable customers given no gesture: the "
                       f"difference in the share back within {horizon} days, with 95% intervals. "
                       + OBSERVATIONAL, f"po_ww_{column}")
        for row in labelled.itertuples():
            st.markdown(f"- **{ui.md(row.label)}**: "
                        f"{ui.md(wording.breakdown_text(row, horizon, what_works.MIN_CASES))}.")
        st.caption(ui.md(f"Adjusted like the headline (doubly robust, customers resampled for the intervals). "
                         f"{what_works.MULTIPLICITY} Groups with fewer than {what_works.MIN_CASES} recovered "
                         "episodes with full follow-up show \"not enough cases yet\" instead of a number."))
    show_raw_breakdowns(view, horizon)


def show_checks(report: PayoffResult) -> None:
    """The diagnostics behind the verdicts, one click from the headline."""
    if report.balance.empty:
        return
    with st.expander("Check the comparison: balance, overlap and outliers"):
        worst = float(report.balance["smd_after_att"].abs().max())
        st.markdown(ui.md(
            "Recovered and comparable unrecovered customers should look alike before the incident. After "
            f"weighting, the largest difference is {worst:.2f} standardised units "
            + ("(within 0.1: like for like)." if worst <= 0.1 else "(above 0.1: the adjusted figures are not shown).")))
        show_chart(payoff_charts.balance_chart(payoff_charts.balance_frame(report.balance)),
                   "Each feature's difference between the groups before (grey) and after (green) weighting; "
                   "the shaded band is ±0.1.", "po_balance")
        show_chart(payoff_charts.overlap_chart(report.overlap),
                   "How likely a gesture was for each episode, from what was known before it. Where one group "
                   "has no counterpart, no fair comparison is possible.", "po_overlap")
        raw, clipped = report.incremental_revenue_cents, report.incremental_revenue_winsorised_cents
        st.markdown(ui.md(
            f"Extra revenue, all purchases: {wording.figure_text(raw, 'money')}. With the largest and smallest "
            f"{100 - report.winsor_percentile:.0f}% of customer revenue capped: "
            f"{wording.figure_text(clipped, 'money')}. A large gap means a few big purchases drive the figure."))
        control = report.negative_control_cents
        if control.low is not None and control.high is not None:
            st.markdown(ui.md(
                f"Check for hidden selection: revenue in the {report.horizon_days} days *before* the incident, which "
                "recovery cannot have changed, differs by "
                f"{wording.round_money(control.low)} to {wording.round_money(control.high)} per episode after "
                "adjustment" + ("; that includes zero, as it should." if control.low <= 0 <= control.high
                                 else "; that excludes zero: hidden selection probably remains.")))


def show_method(report: PayoffResult) -> None:
    with st.expander("How this is worked out"):
        st.markdown(ui.md(report.assumptions))
        st.markdown(ui.md(
            f"A gesture counts as a recovery only if it was logged within {report.recovery_window_hours} hours "
            "after the incident (gestures dated before it never count); for every incident, follow-up starts "
            f"when that window ends. Money is {report.margin_label}."))
        st.caption(ui.md(f"Data as of {report.as_of[:16].replace('T', ' ')}."))
        if st.toggle("Technical detail", key="po_technical"):
            st.caption(ui.md(report.method))


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
    current = settings.current()
    asked = computed.PayoffScope(scope.date_from, scope.date_to, scope.location, scope.team, horizon,
                                 current.recovery_window_hours, current.contribution_margin)
    try:
        with st.spinner("Computing the payoff…"):
            view, conversion_note, worked_out_at = cached_view(get_db().url, version, actor, asked)
    except MissingExchangeRate as exc:  # figures across currencies need every day's rate
        st.warning(ui.md(exc), icon=":material/currency_exchange:")
        return
    report = view.result
    with st.container(border=True, key="po_headline"):
        for line in headline(report, scope.label):
            st.markdown(line)
    if conversion_note:
        st.caption(ui.md(conversion_note))
    if worked_out_at is not None:
        st.caption(ui.md(f"Worked out at {ui.when(worked_out_at)}, on the data as it was then: what was recorded "
                         f"since is in when it is next worked out, within {computed.STALE_SECONDS // 60} minutes."))
    show_metrics(report)
    show_checks(report)
    for warning in report.warnings:
        st.caption(ui.md(warning))
    if report.overall.incidents:
        show_charts(view, horizon)
        show_what_works(view, asked, horizon, version, actor)
    show_method(report)


main()
