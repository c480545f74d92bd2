"""My budget: what I have left this period, how I used it, and my own recovery stories."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from empowerment import clock
from empowerment.actor import Actor
from empowerment.charts.budget import spend_chart
from empowerment.errors import EmpowermentError, NoBudgetPolicy
from empowerment.queries import my_budget
from empowerment.queries.budgets import BudgetStatus, budget_status
from empowerment.ui import care as care_ui
from empowerment.ui import components as ui
from empowerment.ui.session import get_db
from empowerment.ui.signin import done_button, require_page

HISTORY_LIMIT = 200
STORIES_SHOWN = 10


def balance(actor: Actor, employee_code: str) -> BudgetStatus | None:
    try:
        status = budget_status(get_db(), actor, employee_code)
    except NoBudgetPolicy as exc:
        st.info(f"{ui.md(exc)} Until then there is no budget to show here.", icon=":material/sentiment_satisfied:")
        return None
    except EmpowermentError as exc:
        st.error(ui.md(exc))
        return None
    with st.container(border=True, key="tablet_balance"):
        last_day = status.period_end - timedelta(days=1)
        st.caption(ui.md(f"{status.period_label} · {status.policy_name} · last day {last_day:%d %b %Y}"))
        # Two by two: four tiles in a row cut "Remaining" off in portrait ("$50…").
        remaining, held = st.columns(2)
        allocated, spent = st.columns(2)
        remaining.metric("Remaining", ui.md(ui.money(status.remaining_cents, status.currency, status.locale)))
        allocated.metric("Allocated", ui.md(ui.money(status.allocated_cents, status.currency, status.locale)))
        spent.metric("Spent", ui.md(ui.money(status.spent_cents, status.currency, status.locale)))
        held.metric("On hold", ui.md(ui.money(status.held_cents, status.currency, status.locale)),
                    help="Gestures waiting for a manager's approval hold their money until decided.")
        ui.budget_meter(status)
        st.caption(ui.md(f"Up to {ui.money(status.customer_daily_cap_cents, status.currency, status.locale)} per customer per day."))
    return status


def spend_over_period(actor: Actor, employee_code: str, status: BudgetStatus) -> None:
    through = min(status.period_end, clock.business_today() + timedelta(days=1))  # no line into the future
    daily = my_budget.daily_spend(get_db(), actor, employee_code, status.period_start, through)
    st.subheader("Spend this period")
    chart = spend_chart(daily, status.allocated_cents, (status.period_start, status.period_end))
    st.altair_chart(chart, width="stretch")
    st.caption("Your spend so far this period, day by day (money on hold included, undone gestures "
               "left out). The dashed line is your allocation.")


def my_stories(history: pd.DataFrame, status: BudgetStatus | None = None) -> None:
    told = my_budget.my_stories(history).head(STORIES_SHOWN)
    st.subheader("My recovery stories")
    if told.empty:
        st.caption("Add a note when you log a gesture and it becomes a story here.")
        return
    for row in told.itertuples():
        with st.container(border=True):
            st.caption(ui.md(f"{ui.when(row.occurred_at)} · {row.customer} · {row.category} · "
                             f"{ui.gesture_label(row.gesture)} · {ui.money(row.cost_cents, *((status.currency, status.locale) if status else ()))}"))
            st.text(row.note)  # plain text: never Markdown or HTML


def main() -> None:
    actor = require_page("my_budget")
    ui.apply_tablet_style()
    with st.container(horizontal=True, vertical_alignment="center"):
        st.title(":material/account_balance_wallet: My budget", width="stretch")
        done_button("mb_done")
    try:
        employee_code = my_budget.employee_code_for(get_db(), actor)
    except EmpowermentError as exc:
        st.error(ui.md(exc))
        return
    status = balance(actor, employee_code)
    history = my_budget.my_gestures(get_db(), actor, employee_code, limit=HISTORY_LIMIT)
    if history.empty:
        ui.empty_state(
            "An unused budget is a missed chance to put something right",
            "The next time a guest is let down, fix it on the spot and log it on Log a recovery. "
            "A personal note or ten minutes of your time counts too.",
        )
        return
    if status is not None:
        spend_over_period(actor, employee_code, status)
    st.subheader("My gestures")
    st.dataframe(ui.gestures_table(history), hide_index=True, width="stretch")
    my_stories(history, status)
    care_ui.my_values_and_recognitions(actor, employee_code)  # issue 13


main()
