"""Team: how the manager's people use their empowerment this period, and what waits for them.

Widgets and layout only: `empowerment.team` reads and checks scope, `empowerment.gestures` approves,
rejects and voids. Every write runs in a button's `on_click` callback (a double tap acts once).
"""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from empowerment.actor import Actor
from empowerment.charts import team as team_charts
from empowerment.errors import EmpowermentError
from empowerment.queries import admin, team
from empowerment.services import accounts, gestures
from empowerment.ui import components as ui
from empowerment.ui.session import callback, get_db
from empowerment.ui.signin import require_page

S = st.session_state
FLASH, DONE = "tm_flash", "tm_done"

actor = require_page("team")
db = get_db()


# --- callbacks ------------------------------------------------------------------------------------

def _act(action: str, code: str, call, success: str) -> None:  # type: ignore[no-untyped-def]
    done = S.setdefault(DONE, set())
    if (action, code) in done:  # a second tap on the same button
        return
    try:
        call()
    except EmpowermentError as exc:
        ui.flash(FLASH, "error", str(exc))
        return
    done.add((action, code))
    ui.flash(FLASH, "success", success)


# Each callback gets the person re-read from the database (`callback`): never the previous run's.
def _mark_reviewed(actor: Actor, code: str) -> None:
    _act("review", code, lambda: gestures.mark_reviewed(db, actor, code, S.get(f"tm_comment_{code}", "")),
         "Marked reviewed.")


def _void(actor: Actor, code: str) -> None:
    _act("void", code, lambda: gestures.void_gesture(db, actor, code, S.get(f"tm_void_{code}", "")),
         "Gesture voided; its money went back to the budget.")


def _decide(actor: Actor, code: str, approve: bool) -> None:
    reason = S.get(f"tm_reason_{code}", "")
    _act("decide", code, lambda: gestures.decide_gesture(db, actor, code, approve, reason),
         "Approved: the held money is now spent." if approve else "Rejected: the held money is back.")


def _feature(actor: Actor, code: str, featured: bool) -> None:
    try:
        gestures.set_featured(db, actor, code, featured)
        ui.flash(FLASH, "success", "Story featured for the joint report." if featured else "Story un-featured.")
    except EmpowermentError as exc:
        ui.flash(FLASH, "error", str(exc))


def _unlock(actor: Actor, code: str, name: str, lock: str) -> None:
    # keyed by the lock too: a later lock of the same person can be lifted again
    _act("unlock", f"{code}@{lock}", lambda: accounts.unlock_pin(db, actor, code),
         f"{name}'s PIN is unlocked; they can sign in on the tablet again.")


# --- blocks ---------------------------------------------------------------------------------------

def _locked_pins(locked) -> None:  # type: ignore[no-untyped-def]
    if locked.empty:
        return
    with st.container(border=True):
        st.markdown(f"**🔒 Locked PINs ({len(locked)})** · after too many wrong tries. Unlock only "
                    "for the person themselves.")
        for row in locked.itertuples():
            left, right = st.columns([3, 1], vertical_alignment="center")
            left.markdown(f"{ui.md(row.name)} · {ui.md(row.team)} · locked until "
                          f"{row.locked_until:%d %b %H:%M}")
            right.button("Unlock", key=f"tm_unlock_{row.employee_code}", width="stretch",
                         on_click=callback(_unlock), args=(row.employee_code, row.name, str(row.locked_until)))


def _whole(cents: int) -> str:
    """Money without cents for the big numbers: '$7,500' fits a tablet's metric, '$7,500.00' does not."""
    return ui.money(cents - cents % 100).removesuffix(".00")


def _quote(text: str, prefix: str = "") -> str:
    lines = [ui.md(line) for line in str(text).splitlines() if line.strip()] or [""]
    return "\n".join(f"> {prefix if i == 0 else ''}{line}" for i, line in enumerate(lines))


def _gesture_header(row) -> None:  # type: ignore[no-untyped-def]
    st.markdown(f"**{ui.md(row.employee)}** · {ui.md(ui.gesture_label(row.type))} "
                f"**{ui.md(ui.money(row.cost_cents))}** for {ui.md(row.customer)}")
    st.caption(f"{ui.when(row.occurred_at)} · {ui.md(row.category)} · {ui.md(row.team)}")
    if row.note:
        st.markdown(_quote(row.note))


def _review_tab(queue) -> None:  # type: ignore[no-untyped-def]
    if queue.empty:
        ui.empty_state("Nothing to review", "Gestures above the review amount appear here.", "✅")
    for row in queue.itertuples():
        with st.container(border=True, key=f"tablet_review_{row.code}"):
            _gesture_header(row)
            left, right = st.columns(2)
            with left.form(f"tm_review_form_{row.code}", border=False):
                st.text_input("Comment", key=f"tm_comment_{row.code}", max_chars=gestures.MAX_COMMENT_CHARS)
                st.form_submit_button("Mark reviewed", type="primary", width="stretch",
                                      on_click=callback(_mark_reviewed), args=(row.code,))
            with right.form(f"tm_void_form_{row.code}", border=False):
                st.text_input("Reason to void", key=f"tm_void_{row.code}")
                st.form_submit_button("Void", width="stretch", on_click=callback(_void), args=(row.code,))


def _approval_tab(queue) -> None:  # type: ignore[no-untyped-def]
    if queue.empty:
        ui.empty_state("Nothing waiting", "Gestures above the approval amount wait here.", "✅")
    for row in queue.itertuples():
        with st.container(border=True, key=f"tablet_approve_{row.code}"):
            _gesture_header(row)
            with st.form(f"tm_decide_form_{row.code}", border=False):
                st.text_input("Reason (needed to reject)", key=f"tm_reason_{row.code}")
                left, right = st.columns(2)
                left.form_submit_button("Approve", type="primary", width="stretch",
                                        on_click=callback(_decide), args=(row.code, True))
                right.form_submit_button("Reject", width="stretch", on_click=callback(_decide),
                                         args=(row.code, False))


def _stories_tab(stories) -> None:  # type: ignore[no-untyped-def]
    if stories.empty:
        ui.empty_state("No stories yet", "Gestures logged with a note show up here.", "📖")
    for row in stories.itertuples():
        with st.container(border=True):
            st.markdown(_quote(row.note, "⭐ " if row.featured else ""))
            st.caption(f"{ui.md(row.employee)} · {ui.md(ui.gesture_label(row.type))} "
                       f"{ui.md(ui.money(row.cost_cents))} · {ui.md(row.category)} · "
                       f"{ui.when(row.occurred_at)}")
            st.button("Un-feature" if row.featured else "Feature in the joint report",
                      key=f"tm_feature_{row.code}", on_click=callback(_feature),
                      args=(row.code, not row.featured))


def _budget_tab(budgets, weekly) -> None:  # type: ignore[no-untyped-def]
    if budgets.empty:
        ui.empty_state("No team members", "Nobody active is in this team yet.")
        return
    st.altair_chart(team_charts.heatmap_chart(weekly), width="stretch")
    st.caption("Each row is a person, each column a week of the period: darker means more money "
               "spent, the number is how many gestures. An empty row is someone who never acted.")
    table = budgets.assign(**{c: budgets[c] / 100 for c in
                              ("allocated_cents", "spent_cents", "held_cents", "remaining_cents")})
    money_column = st.column_config.NumberColumn
    st.dataframe(
        table[["employee", "team", "allocated_cents", "spent_cents", "held_cents",
               "remaining_cents", "used_share", "gestures"]],
        hide_index=True, width="stretch",
        column_config={
            "employee": "Employee", "team": "Team", "gestures": "Gestures",
            "allocated_cents": money_column("Allocated", format="%.2f"),
            "spent_cents": money_column("Spent", format="%.2f"),
            "held_cents": money_column("Held", format="%.2f"),
            "remaining_cents": money_column("Remaining", format="%.2f"),
            "used_share": st.column_config.ProgressColumn("Used", min_value=0.0, max_value=1.0,
                                                          format="percent"),
        })


def _spend_tab(breakdown) -> None:  # type: ignore[no-untyped-def]
    if breakdown.empty:
        ui.empty_state("No spend yet", "Money spent this period appears here by gesture and cause.")
        return
    st.altair_chart(team_charts.breakdown_chart(breakdown), width="stretch")
    st.caption("Money spent this period (logged gestures) by what was done, coloured by what went wrong.")


def _under_use_tab(staff, teams) -> None:  # type: ignore[no-untyped-def]
    st.caption("People and teams who had incidents this period but logged no gesture: a nudge "
               "to coach, not a fault.")
    if staff.empty and teams.empty:
        st.success("Everyone with an incident this period also made a gesture.", icon="👏")
        return
    if not teams.empty:
        st.markdown("**Teams**")
        st.dataframe(teams, hide_index=True, width="stretch")
    if not staff.empty:
        st.markdown("**People**")
        st.dataframe(staff[["employee", "team", "incidents", "gestures"]], hide_index=True,
                     width="stretch")


# --- the page -------------------------------------------------------------------------------------

ui.apply_tablet_style()
st.title("👥 Team")
teams = admin.teams_for(db, actor)
if teams.empty:
    ui.empty_state("No teams yet", "An admin adds you as the manager of a team.")
    st.stop()
names = dict(zip(teams["id"], teams["name"], strict=True))
choice = st.selectbox("Team", [None, *names], key="tm_team", width=360,
                      format_func=lambda t: "All my teams" if t is None else names[t])
team_ids = [choice] if choice is not None else None

ui.show_flash(FLASH)

budgets = team.budget_use(db, actor, team_ids)
window = team.window_of(budgets)
reviews = team.review_queue(db, actor, team_ids)
approvals = team.approval_queue(db, actor, team_ids)

cols = st.columns(3)
for col, label, column in zip(cols, ("Allocated", "Spent", "Remaining"),
                              ("allocated_cents", "spent_cents", "remaining_cents"), strict=True):
    col.metric(label, _whole(int(budgets[column].sum())), border=True)
last_day = window.end - timedelta(days=1)
st.caption(f"This period: {window.start:%d %b} – {last_day:%d %b %Y} · {len(approvals)} waiting for "
           f"approval · {len(reviews)} to review.")

_locked_pins(team.locked_pins(db, actor, team_ids))

tabs = st.tabs(["Budget use", "Spend", f"Approvals ({len(approvals)})", f"Review ({len(reviews)})",
                "Stories", "Under-use"])
with tabs[0]:
    _budget_tab(budgets, team.weekly_activity(db, actor, window, team_ids))
with tabs[1]:
    _spend_tab(team.spend_breakdown(db, actor, window, team_ids))
with tabs[2]:
    _approval_tab(approvals)
with tabs[3]:
    _review_tab(reviews)
with tabs[4]:
    _stories_tab(team.story_feed(db, actor, team_ids))
with tabs[5]:
    _under_use_tab(*team.under_use(db, actor, window, team_ids))
