"""Team: how the manager's people use their empowerment this period, and what waits for them.

Widgets and layout only: `empowerment.team` reads and checks scope, `empowerment.gestures` approves,
rejects and voids. Every write runs in a button's `on_click` callback (a double tap acts once).
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from empowerment import clock, labels, settings
from empowerment.actor import Actor
from empowerment.charts import team as team_charts
from empowerment.errors import EmpowermentError, MissingExchangeRate
from empowerment.money import minor_digits
from empowerment.queries import admin, team
from empowerment.services import accounts, gestures
from empowerment.ui import care as care_ui
from empowerment.ui import components as ui
from empowerment.ui import pickers
from empowerment.ui.session import callback, get_db
from empowerment.ui.signin import require_page

S = st.session_state
FLASH, DONE = "tm_flash", "tm_done"
PERIOD_KINDS = ("Month", "Quarter", "Year", pickers.DATES)

actor = require_page("team")
db = get_db()


# --- callbacks ------------------------------------------------------------------------------------
# Each callback gets the person re-read from the database (`callback`): never the previous run's.
# A decision or review is answered on its own card: each card is a fragment, so a tap reruns that
# card only (about a tenth of the whole page), the page stays on its tab, and a refusal is shown on
# the card that was tapped, not at the top of the page.

def _outcome_key(code: str) -> str:
    return f"tm_outcome_{code}"


def _act(action: str, code: str, call, success: str, *, on_card: bool = True) -> None:  # type: ignore[no-untyped-def]
    """Run a decision once per (action, code); answer on the tapped card, or at the page top."""
    done = S.setdefault(DONE, set())
    if (action, code) in done:  # a second tap on the same button
        return

    def answer(kind: str, message: str) -> None:
        if on_card:
            S[_outcome_key(code)] = (kind, message)
        else:
            ui.flash(FLASH, kind, message)

    try:
        call()
    except EmpowermentError as exc:
        answer("error", str(exc))
        return
    done.add((action, code))
    answer("success", success)


# Each callback gets the person re-read from the database (`callback`): never the previous run's.
def _mark_reviewed(actor: Actor, code: str) -> None:
    _act("review", code, lambda: gestures.mark_reviewed(db, actor, code, S.get(f"tm_comment_{code}", "")),
              "Marked reviewed.")


def _void(actor: Actor, code: str) -> None:
    _act("void", code, lambda: gestures.void_gesture(db, actor, code, S.get(f"tm_void_{code}", "")),
              "Gesture undone; its money went back to the budget.")


def _decide(actor: Actor, code: str, approve: bool) -> None:
    reason = S.get(f"tm_reason_{code}", "")
    _act("decide", code, lambda: gestures.decide_gesture(db, actor, code, approve, reason),
              "Approved: the held money is now spent." if approve else "Rejected: the held money is back.")


def _feature(actor: Actor, code: str, featured: bool) -> None:
    try:
        gestures.set_featured(db, actor, code, featured)
        S[_outcome_key(f"story_{code}")] = ("success", "Story featured for the joint report." if featured
                                            else "Story un-featured.")
    except EmpowermentError as exc:
        S[_outcome_key(f"story_{code}")] = ("error", str(exc))


def _unlock(actor: Actor, code: str, name: str, lock: str) -> None:
    # keyed by the lock too: a later lock of the same person can be lifted again
    _act("unlock", f"{code}@{lock}", lambda: accounts.unlock_pin(db, actor, code),
         f"{name}'s PIN is unlocked; they can sign in on the tablet again.", on_card=False)


# --- blocks ---------------------------------------------------------------------------------------

def _locked_pins(locked) -> None:  # type: ignore[no-untyped-def]
    if locked.empty:
        return
    with st.container(border=True, key="tablet_locked_pins"):
        st.markdown(f"**:material/lock: Locked PINs ({len(locked)})** · after too many wrong tries. "
                    "Unlock only for the person themselves.")
        for row in locked.itertuples():
            left, right = st.columns([3, 1], vertical_alignment="center")
            left.markdown(f"{ui.name(row.name)} · {ui.md(row.team)} · locked until "
                          f"{row.locked_until:%d %b %H:%M}")
            right.button("Unlock", key=f"tm_unlock_{row.employee_code}", width="stretch",
                         on_click=callback(_unlock), args=(row.employee_code, row.name, str(row.locked_until)))


def _money(cents: int) -> str:
    """An amount in the figures' currency (`team.team_money`: the teams' own, or the reporting one)."""
    return ui.money(cents, money.currency, money.locale)


def _whole(cents: int) -> str:
    """Money without cents for the big numbers: '$7,500' fits a tablet's metric, '$7,500.00' does
    not; from $100k the short form ('$127.5k'), so a metric is never cut off at 820 px."""
    if abs(cents) >= 10_000_000 and money.currency == settings.currency():
        return ui.money_short(cents)
    step = 10 ** minor_digits(money.currency)
    return ui.money(cents - cents % step, money.currency, money.locale, whole=True)


def _quote(text: str, prefix: str = "") -> str:
    lines = [ui.md(line) for line in str(text).splitlines() if line.strip()] or [""]
    return "\n".join(f"> {prefix if i == 0 else ''}{line}" for i, line in enumerate(lines))


def _gesture_header(row) -> None:  # type: ignore[no-untyped-def]
    st.markdown(f"**{ui.name(row.employee)}** · {ui.md(labels.gesture_type(row.type))} "
                f"**{ui.md(ui.money(row.cost_cents, row.currency, row.locale))}** for {ui.name(row.customer)}")
    st.caption(f"{ui.when(row.occurred_at)} · {ui.md(row.category)} · {ui.md(row.team)}")
    if row.note:
        st.markdown(_quote(row.note))


def _outcome(code: str) -> bool:
    """Show the card's answer; True when the card is settled (nothing left to do on it)."""
    kind, message = S.get(_outcome_key(code), (None, None))
    if kind is None:
        return False
    if kind == "error":
        S.pop(_outcome_key(code))  # shown once; the buttons stay for another try
        st.error(ui.md(message), icon=":material/error:")
        return False
    st.success(ui.md(message), icon=":material/check_circle:")
    return True


@st.fragment
def _review_card(row) -> None:  # type: ignore[no-untyped-def]
    with st.container(border=True, key=f"tablet_review_{row.code}"):
        _gesture_header(row)
        if _outcome(row.code):
            return
        left, right = st.columns(2)
        with left.form(f"tm_review_form_{row.code}", border=False):
            st.text_input("Comment", key=f"tm_comment_{row.code}", max_chars=gestures.MAX_COMMENT_CHARS)
            st.form_submit_button("Mark reviewed", type="primary", width="stretch",
                                  on_click=callback(_mark_reviewed), args=(row.code,))
        with right.form(f"tm_void_form_{row.code}", border=False):
            st.text_input("Reason to undo", key=f"tm_void_{row.code}")
            st.form_submit_button("Undo the gesture", width="stretch", on_click=callback(_void), args=(row.code,))


@st.fragment
def _approval_card(row) -> None:  # type: ignore[no-untyped-def]
    with st.container(border=True, key=f"tablet_approve_{row.code}"):
        _gesture_header(row)
        if _outcome(row.code):
            return
        with st.form(f"tm_decide_form_{row.code}", border=False):
            st.text_input("Reason (needed to reject)", key=f"tm_reason_{row.code}")
            left, right = st.columns(2)
            left.form_submit_button("Approve", type="primary", width="stretch",
                                    on_click=callback(_decide), args=(row.code, True))
            right.form_submit_button("Reject", width="stretch", on_click=callback(_decide),
                                     args=(row.code, False))


def _own_waiting_note(count: int, what: str) -> None:
    if count:
        st.caption(f":material/info: {labels.count(count, 'gesture')} of your own {what}: another "
                   "manager of the team or an admin decides on them, never the person who logged them.")


def _review_tab(queue, own: int) -> None:  # type: ignore[no-untyped-def]
    _own_waiting_note(own, "may wait here")
    if queue.empty:
        ui.empty_state("Nothing to review", "Gestures above the review amount appear here.",
                       ":material/task_alt:")
    for row in queue.itertuples():
        _review_card(row)


def _approval_tab(queue, own: int) -> None:  # type: ignore[no-untyped-def]
    _own_waiting_note(own, "may wait here")
    if queue.empty:
        ui.empty_state("Nothing waiting", "Gestures above the approval amount wait here.",
                       ":material/task_alt:")
    for row in queue.itertuples():
        _approval_card(row)


@st.fragment
def _story_card(row) -> None:  # type: ignore[no-untyped-def]
    with st.container(border=True):
        kind, _message = S.get(_outcome_key(f"story_{row.code}"), (None, None))
        featured = bool(row.featured) != (kind == "success")  # a tap here flipped it
        st.markdown(_quote(row.note, ":material/star: " if featured else ""))
        st.caption(f"{ui.name(row.employee)} · {ui.md(labels.gesture_type(row.type))} "
                   f"{ui.md(ui.money(row.cost_cents, row.currency, row.locale))} · {ui.md(row.category)} · "
                   f"{ui.when(row.occurred_at)}")
        if kind is not None:
            _k, message = S.pop(_outcome_key(f"story_{row.code}"))
            (st.success if kind == "success" else st.error)(ui.md(message))
        st.button("Un-feature" if featured else "Feature in the joint report",
                  key=f"tm_feature_{row.code}", on_click=callback(_feature), args=(row.code, not featured))


def _stories_tab(stories) -> None:  # type: ignore[no-untyped-def]
    if stories.empty:
        ui.empty_state("No stories yet", "Gestures logged with a note show up here.", ":material/menu_book:")
    for row in stories.itertuples():
        _story_card(row)


def _budget_tab(budgets, weekly, one_team: bool) -> None:  # type: ignore[no-untyped-def]
    if budgets.empty:
        ui.empty_state("No team members", "Nobody active is in this team yet.")
        return
    st.altair_chart(team_charts.heatmap_chart(weekly, money.currency, money.locale), width="stretch")
    st.caption("Each row is a person, each column a week of the period: darker means more money "
               "spent, the number is how many gestures. An empty row is someone who never acted.")
    step = 10 ** minor_digits(money.currency)
    table = budgets.assign(**{c: budgets[c] / step for c in
                              ("allocated_cents", "spent_cents", "held_cents", "remaining_cents")},
                           used_share=budgets["used_share"] * 100)  # a whole percent: "%.0f%%" below
    money_column = st.column_config.NumberColumn
    money_format = ui.money_format(money.currency)
    columns = ["employee", *([] if one_team else ["team"]), "allocated_cents", "spent_cents", "held_cents",
               "remaining_cents", "used_share", "gestures"]
    st.dataframe(
        table[columns], hide_index=True, width="stretch",
        column_config={
            "employee": "Employee", "team": "Team", "gestures": "Gestures",
            "allocated_cents": money_column("Allocated", format=money_format),
            "spent_cents": money_column("Spent", format=money_format),
            "held_cents": money_column("Held", format=money_format, help="Waiting for a manager's approval"),
            "remaining_cents": money_column("Remaining", format=money_format),
            "used_share": st.column_config.ProgressColumn("Used", min_value=0.0, max_value=100.0,
                                                          format="%.0f%%", width="small"),
        })


def _spend_tab(breakdown, period_words: str) -> None:  # type: ignore[no-untyped-def]
    if breakdown.empty:
        ui.empty_state("No spend yet", f"Money spent {period_words} appears here by gesture and cause.")
        return
    st.altair_chart(team_charts.breakdown_chart(breakdown, money.currency, money.locale), width="stretch")
    st.caption(f"Money spent {period_words} (logged gestures) by what was done, coloured by what went wrong.")


def _under_use_tab(people, teams, period_words: str, one_team: bool) -> None:  # type: ignore[no-untyped-def]
    st.caption(f"Gestures per incident handled, {period_words}, lowest first: a nudge to coach, not a "
               "fault. Someone who handled incidents and logged no gesture at all comes first.")
    handled = people[people["incidents"] > 0]
    if handled.empty:
        ui.empty_state("No incidents handled", f"Nobody in reach handled an incident {period_words}.",
                       ":material/sentiment_satisfied:")
        return
    none_at_all = int(((handled["gestures"] == 0)).sum())
    if none_at_all:
        st.warning(f"{labels.count(none_at_all, 'person', 'people')} handled incidents and logged no "
                   "gesture at all.", icon=":material/campaign:")
    else:
        st.success("Everyone who handled an incident also made a gesture.", icon=":material/celebration:")
    rate = st.column_config.NumberColumn("Gestures per incident", format="%.2f")
    if not one_team and len(teams) > 1:  # a plain table: two grids on one page repeat cell ids (axe)
        st.markdown("**Teams**")
        busy = teams[teams["incidents"] > 0]
        st.table(pd.DataFrame({"Team": busy["team"], "Incidents handled": busy["incidents"],
                               "Gestures": busy["gestures"],
                               "Gestures per incident": busy["gestures_per_incident"].map("{:.2f}".format)}),
                 hide_index=True)
    st.markdown("**People**")
    st.dataframe(handled[["employee", *([] if one_team else ["team"]), "incidents", "gestures",
                          "gestures_per_incident"]],
                 hide_index=True, width="stretch", column_config={
                     "employee": "Employee", "team": "Team", "incidents": "Incidents handled",
                     "gestures": "Gestures", "gestures_per_incident": rate})


# --- the page -------------------------------------------------------------------------------------

ui.apply_tablet_style()
st.title("Team")
teams = admin.teams_for(db, actor)
if teams.empty:
    ui.empty_state("No teams yet", "An admin adds you as the manager of a team.")
    st.stop()
names = dict(zip(teams["id"], teams["name"], strict=True))
today = clock.business_today()
team_col, period_col = st.columns([1, 1])
choice = team_col.selectbox("Team", [None, *names], key="tm_team",
                            format_func=lambda t: "All my teams" if t is None else names[t])
team_ids = [choice] if choice is not None else None
one_team = choice is not None or len(names) == 1
kind = pickers.period_kind(PERIOD_KINDS, "Month", key="tm")
picked = pickers.period_choice(period_col, kind, today - timedelta(days=3 * 366), today, key="tm",
                               today=today, current_first=True)
assert picked.date_from is not None and picked.date_to is not None
window = team.Window(picked.date_from, picked.date_to + timedelta(days=1))

ui.show_flash(FLASH)

money = team.team_money(db, actor, team_ids)
try:
    budgets = team.budget_use(db, actor, team_ids, window=window)
    weekly = team.weekly_activity(db, actor, window, team_ids)
    breakdown = team.spend_breakdown(db, actor, window, team_ids)
except MissingExchangeRate as exc:  # across currencies every amount needs its day's rate: never 1.0
    st.warning(ui.md(f"These teams keep {', '.join(money.converted_from)} beside {money.currency}, so their "
                     f"figures are converted into {money.currency}; {exc}"), icon=":material/currency_exchange:")
    budgets = weekly = breakdown = None
reviews = team.review_queue(db, actor, team_ids)
approvals = team.approval_queue(db, actor, team_ids)

if budgets is not None:
    totals = {column: int(budgets[column].sum()) for column in
              ("allocated_cents", "spent_cents", "held_cents", "remaining_cents")}
    cols = st.columns(4)
    for col, label, column in zip(cols, ("Allocated", "Spent", "Held", "Remaining"), totals, strict=True):
        col.metric(label, _whole(totals[column]), border=True)
    st.caption(
        f"{picked.label[:1].upper()}{picked.label[1:]}: {ui.md(_money(totals['spent_cents']))} spent + "
        f"{ui.md(_money(totals['held_cents']))} held for approval + {ui.md(_money(totals['remaining_cents']))} "
        f"remaining = {ui.md(_money(totals['allocated_cents']))} allocated · "
        f"{labels.count(len(approvals), 'gesture')} waiting for approval · {len(reviews):,} to review.")
    if money.note:
        st.caption(ui.md(money.note), help="The rates are the imported exchange-rate table's (Data page).")

_locked_pins(team.locked_pins(db, actor, team_ids))

own = team.own_waiting(db, actor)
tabs = st.tabs(["Budget use", "Spend", f"Approvals ({len(approvals)})", f"Review ({len(reviews)})",
                "Stories", "Under-use", "Values & speed"], key="tm_tab")
with tabs[0]:
    if budgets is not None:
        _budget_tab(budgets, weekly, one_team)
with tabs[1]:
    if breakdown is not None:
        _spend_tab(breakdown, picked.label)
with tabs[2]:
    _approval_tab(approvals, own)
with tabs[3]:
    _review_tab(reviews, own)
with tabs[4]:
    _stories_tab(team.story_feed(db, actor, team_ids))
with tabs[5]:
    _under_use_tab(*team.use_rates(db, actor, window, team_ids), picked.label, one_team)
with tabs[6]:  # issue 13: the values staff live, and the time from incident to gesture
    care_ui.team_values_and_speed(actor, team_ids, window.start_at)
