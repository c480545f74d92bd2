"""Log a recovery: the shared-tablet page where front-line staff put a bad experience right.

Flow: find (or add) the customer -> see their history -> what went wrong -> what you did -> cost ->
submit. The write happens in the submit button's `on_click` callback, reading the values from
`st.session_state`, with an idempotency key per draft (see docs/STREAMLIT-NOTES.md: a double
tap must log once). Widgets and layout only: the services decide and refuse.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import streamlit as st

from empowerment.actor import Actor
from empowerment.errors import EmpowermentError, NoBudgetPolicy
from empowerment.models import GestureType
from empowerment.money import parse_cents
from empowerment.queries import admin, customers, my_budget
from empowerment.queries.budgets import SpendingLimits, spending_limits
from empowerment.queries.customers import CustomerCard, CustomerHistory
from empowerment.services import customers as customer_service
from empowerment.services import gestures
from empowerment.services.gestures import INCIDENT_CATEGORIES, MAX_NOTE_CHARS, LogRequest
from empowerment.ui import components as ui
from empowerment.ui.session import callback, get_db
from empowerment.ui.signin import require_page

QUICK_AMOUNTS = (0, 10, 25, 50, 100, 250)
GESTURE_TYPES = tuple(t.value for t in GestureType)

# Session keys (prefixed so they never collide with other pages).
CUSTOMER, DRAFT_KEY, CONFIRMATION, FEEDBACK, OWNER = (
    "lr_customer", "lr_draft_key", "lr_confirmation", "lr_feedback", "lr_owner",
)
INCIDENT, CATEGORY, TYPE, QUICK, CUSTOM, NOTE = (
    "lr_incident", "lr_category", "lr_type", "lr_quick", "lr_custom", "lr_note",
)
DRAFT_FIELDS = (INCIDENT, CATEGORY, TYPE, QUICK, CUSTOM, NOTE)
S = st.session_state


# --- state helpers and callbacks (callbacks run before the script body) ---------------------------

def _new_draft() -> None:
    for key in DRAFT_FIELDS:
        S.pop(key, None)
    S.pop(FEEDBACK, None)
    S.pop(CONFIRMATION, None)
    S[DRAFT_KEY] = uuid.uuid4().hex


def _reset_for(actor: Actor) -> None:
    """A different person at the tablet starts from a clean page."""
    if S.get(OWNER) != actor.employee_id:
        S.pop(CUSTOMER, None)
        _new_draft()
        S[OWNER] = actor.employee_id
    S.setdefault(DRAFT_KEY, uuid.uuid4().hex)


def _pick_customer(code: str) -> None:
    _new_draft()
    S[CUSTOMER] = code


def _change_customer() -> None:
    _new_draft()
    S.pop(CUSTOMER, None)


def _create_customer(actor: Actor) -> None:
    if S.get(CUSTOMER):  # a second tap after the customer was already created
        return
    try:
        code = customer_service.create_customer(
            get_db(), actor, S.get("lr_new_name", ""), phone=S.get("lr_new_phone"),
            room=S.get("lr_new_room"), email=S.get("lr_new_email"),
        )
    except EmpowermentError as exc:
        S["lr_new_error"] = str(exc)
        return
    S.pop("lr_new_error", None)
    _pick_customer(code)


def _only(keep: str, clear: str, empty: Any) -> None:
    """Two widgets answer one question (quick amount or typed amount, incident or category)."""
    if S.get(keep) not in (None, ""):
        S[clear] = empty


def _amount_cents() -> int | None:
    """The cost chosen: typed text wins over a quick amount. Raises InvalidAmount for bad text."""
    typed = (S.get(CUSTOM) or "").strip()
    if typed:
        return parse_cents(typed)
    quick = S.get(QUICK)
    return None if quick is None else int(quick) * 100


def _missing() -> str | None:
    if not S.get(INCIDENT) and not S.get(CATEGORY):
        return "Pick what went wrong first."
    if not S.get(TYPE):
        return "Pick what you did for them."
    if not (S.get(CUSTOM) or "").strip() and S.get(QUICK) is None:
        return "Pick or type the cost (0 is fine for a note or your time)."
    return None


def _submit(actor: Actor, employee_code: str, customer_name: str) -> None:
    if S.get(CONFIRMATION):  # a late second tap on a gesture already logged: nothing to do
        return
    problem = _missing()
    if problem:
        S[FEEDBACK] = problem
        return
    try:
        request = LogRequest(
            employee_code=employee_code, customer_code=S[CUSTOMER], gesture_type=S[TYPE],
            amount=_amount_cents() or 0, incident_code=S.get(INCIDENT), category=S.get(CATEGORY),
            note=S.get(NOTE), idempotency_key=S[DRAFT_KEY], source="app",
        )
        result = gestures.log_gesture(get_db(), actor, request)
    except EmpowermentError as exc:
        S[FEEDBACK] = str(exc)
        return
    S.pop(FEEDBACK, None)
    # `already_logged` with this draft's own key means a repeated tap (or a retried request) of the
    # gesture this person just logged: confirm that gesture, with its Undo, rather than puzzle them.
    S[CONFIRMATION] = dict(
        code=result.gesture_code, message=replace(result, already_logged=False).message,
        cost=result.cost_cents,
        remaining=result.remaining_cents, already=result.already_logged, customer=customer_name,
        undone=False, undo_error=None,
    )
    S[DRAFT_KEY] = uuid.uuid4().hex  # rotated after success: the next gesture is a new one


def _undo(actor: Actor) -> None:
    conf = S.get(CONFIRMATION)
    if not conf or conf["undone"]:  # second tap on Undo
        return
    try:
        conf["remaining"] = gestures.void_gesture(get_db(), actor, conf["code"], reason="Undone at the tablet")
        conf["undone"] = True
    except EmpowermentError as exc:
        conf["undo_error"] = str(exc)


def _log_another() -> None:
    customer = S.get(CUSTOMER)
    _new_draft()
    if customer:
        S[CUSTOMER] = customer


# --- sections -------------------------------------------------------------------------------------

def show_guideline() -> None:
    with st.expander("📖 Our empowerment guideline", expanded=False):
        # Written by an admin as Markdown (no HTML); `$` escaped so amounts don't become LaTeX.
        st.markdown(admin.get_guideline(get_db()).replace("$", "\\$"))


def find_customer(actor: Actor) -> None:
    with st.container(key="tablet_find"):
        st.subheader("1 · Who is it?")
        query = st.text_input(
            "Find the customer", key="lr_query", placeholder="Name, customer id, phone or room",
            icon="🔎", live=True,
        )
        results = customers.search_customers(get_db(), actor, query or "")
        if len((query or "").strip()) >= 2 and not results:
            st.caption(f"No customer matches “{ui.md(query)}”. Add them below.")
        left, right = st.columns(2)
        for i, card in enumerate(results):
            (left if i % 2 == 0 else right).button(
                result_label(card), key=f"lr_pick_{card.code}", width="stretch",
                on_click=callback(_pick_customer, signed_in=False), args=(card.code,),
            )
        new_customer_form(actor)


def result_label(card: CustomerCard) -> str:
    details = " · ".join(x for x in (card.room and f"room {card.room}", card.phone, card.code) if x)
    return f"**{ui.name(card.name)}** · {ui.md(details)}"


def new_customer_form(actor: Actor) -> None:
    with st.expander("➕ New customer", expanded=bool(S.get("lr_new_error"))):
        with st.form("lr_new_customer", clear_on_submit=False, border=False):
            st.text_input("Name", key="lr_new_name", max_chars=customer_service.MAX_NAME_CHARS)
            phone, room = st.columns(2)
            phone.text_input("Phone", key="lr_new_phone", max_chars=50)
            room.text_input("Room", key="lr_new_room", max_chars=50)
            st.text_input("E-mail (optional)", key="lr_new_email", max_chars=200)
            st.form_submit_button("Add and continue", type="primary", width="stretch",
                                  on_click=callback(_create_customer))
        if S.get("lr_new_error"):
            st.error(ui.md(S["lr_new_error"]))


def show_customer(actor: Actor) -> CustomerHistory | None:
    try:
        history = customers.customer_history(get_db(), actor, S[CUSTOMER])
    except EmpowermentError as exc:
        st.error(ui.md(exc))
        S.pop(CUSTOMER, None)
        return None
    with st.container(border=True, key="tablet_customer"):
        name_col, change_col = st.columns([2, 1], vertical_alignment="center")
        name_col.subheader(f"1 · {ui.name(history.customer.name)}")
        change_col.button("Change customer", key="lr_change", on_click=callback(_change_customer, signed_in=False),
                          width="stretch")
        ui.customer_history_card(history)
    return history


def open_incidents(history: CustomerHistory) -> dict[str, str]:
    events = history.events
    if events.empty:
        return {}
    unresolved = events[events["gesture"].isna()]
    return {row.incident: f"{row.category} · {ui.when(row.incident_at)}" for row in unresolved.itertuples()}


def what_went_wrong(history: CustomerHistory) -> None:
    st.subheader("2 · What went wrong?")
    incidents = open_incidents(history)
    if incidents:
        st.pills("Continue an open issue", list(incidents), key=INCIDENT,
                 format_func=lambda code: ui.md(incidents.get(code, code)),
                 on_change=callback(_only, signed_in=False), args=(INCIDENT, CATEGORY, None))
    st.pills("Category", INCIDENT_CATEGORIES, key=CATEGORY, label_visibility="collapsed" if not incidents
             else "visible", on_change=callback(_only, signed_in=False), args=(CATEGORY, INCIDENT, None))


def what_you_did() -> None:
    st.subheader("3 · What did you do?")
    st.pills("Gesture", GESTURE_TYPES, key=TYPE, format_func=ui.gesture_label, label_visibility="collapsed")


def cost() -> int | None:
    st.subheader("4 · What did it cost?")
    st.pills("Quick amount", QUICK_AMOUNTS, key=QUICK,
             format_func=lambda v: ui.md(ui.money(v * 100).removesuffix(".00")),
             on_change=callback(_only, signed_in=False), args=(QUICK, CUSTOM, ""),
             label_visibility="collapsed")
    typed_col, _ = st.columns([1, 2])
    typed_col.text_input("Other amount", key=CUSTOM, placeholder="e.g. 37.50", live=True,
                         on_change=callback(_only, signed_in=False), args=(CUSTOM, QUICK, None))
    try:
        return _amount_cents()
    except EmpowermentError as exc:
        st.error(ui.md(exc), icon="⚠️")
        return None


def budget_left(actor: Actor, employee_code: str, customer: CustomerCard) -> SpendingLimits | None:
    """Remaining budget and what is left of the per-customer daily cap, or None (message shown)."""
    try:
        return spending_limits(get_db(), actor, employee_code, customer.code)
    except NoBudgetPolicy as exc:
        st.info(f"{ui.md(exc)} You can still look customers up and read their history; logging a "
                "gesture needs a budget.", icon="🙂")
    except EmpowermentError as exc:
        st.error(ui.md(exc))
    return None


def limits(left: SpendingLimits, customer: CustomerCard, amount: int | None) -> None:
    """Both limits before submitting, and exactly which one the amount would break."""
    budget_col, cap_col = st.columns(2)
    budget_col.metric("Your budget left", ui.md(ui.money(left.remaining_cents)))
    cap_col.metric(f"Left for {ui.name(customer.name)} today", ui.md(ui.money(left.customer_cap_left_cents)),
                   help=f"Daily limit per customer: {ui.md(ui.money(left.customer_cap_cents))}")
    if amount is None:
        return
    if amount > left.remaining_cents:
        st.warning(ui.md(f"{ui.money(amount)} is more than your remaining budget of "
                         f"{ui.money(left.remaining_cents)}."), icon="✋")
    if amount > left.customer_cap_left_cents:
        st.warning(ui.md(f"{ui.money(amount)} is over what is left for ") + ui.name(customer.name)
                   + ui.md(f" today: {ui.money(left.customer_cap_left_cents)} of the "
                           f"{ui.money(left.customer_cap_cents)} daily limit."), icon="✋")


def note_and_submit(actor: Actor, employee_code: str, customer: CustomerCard, amount: int | None) -> None:
    # No `max_chars`: Streamlit would silently cut a pasted note; the service refuses it instead.
    note = st.text_area("Note (optional): what happened, what you did, anything the next colleague "
                        "should know", key=NOTE, height=100)
    count = len((note or "").strip())
    if count > MAX_NOTE_CHARS:
        st.warning(f"{count:,} / {MAX_NOTE_CHARS:,} characters: shorten the note by "
                   f"{count - MAX_NOTE_CHARS:,}.", icon="✂️")
    else:
        st.caption(f"{count:,} / {MAX_NOTE_CHARS:,} characters")
    parts = [ui.md(ui.gesture_label(S[TYPE])) if S.get(TYPE) else None,
             ui.md(ui.money(amount)) if amount is not None else None, f"for {ui.name(customer.name)}"]
    st.markdown("**Ready to log:** " + " · ".join(p for p in parts if p))
    if S.get(FEEDBACK):
        st.error(ui.md(S[FEEDBACK]))
    with st.container(key="tablet_submit"):
        st.button("✅ Log recovery", key="lr_submit", type="primary", width="stretch",
                  on_click=callback(_submit), args=(employee_code, customer.name))


def confirmation(actor: Actor) -> None:
    conf = S[CONFIRMATION]
    with st.container(border=True, key="tablet_confirmation"):
        st.markdown(f"#### Recovery for {ui.name(conf['customer'])}")
        if conf["undone"]:
            st.success(ui.md(f"Undone. {ui.money(conf['cost'])} is back in your budget."), icon="↩️")
            st.metric("Your balance", ui.md(ui.money(conf["remaining"])),
                      delta=ui.md(f"+{ui.money(conf['cost'])}"))
        else:
            st.success(ui.md(conf["message"]), icon="✅")
            st.metric("Your balance", ui.md(ui.money(conf["remaining"])),
                      delta=ui.md(f"-{ui.money(conf['cost'])}") if conf["cost"] else None)
            if conf["already"]:
                st.caption("The same gesture reached us twice (a double tap?): it is logged once.")
        if conf["undo_error"]:
            st.error(ui.md(conf["undo_error"]))
        if not conf["undone"]:
            st.button("↩️ Undo", key="lr_undo", width="stretch", on_click=callback(_undo))
        again, done = st.columns(2)
        again.button("➕ Another gesture", key="lr_again", type="primary", width="stretch",
                     on_click=callback(_log_another, signed_in=False))
        done.button("➡️ Next customer", key="lr_next", width="stretch",
                    on_click=callback(_change_customer, signed_in=False))


# --- the page -------------------------------------------------------------------------------------

def main() -> None:
    actor = require_page("log_recovery")
    _reset_for(actor)
    ui.apply_tablet_style()
    st.title("🤝 Log a recovery")
    try:
        employee_code = my_budget.employee_code_for(get_db(), actor)
    except EmpowermentError as exc:
        st.error(ui.md(exc))
        return
    st.caption(f"Signed in as {ui.name(actor.name)}. Put it right on the spot, then log it here.")
    show_guideline()
    if S.get(CONFIRMATION):
        confirmation(actor)
        return
    if not S.get(CUSTOMER):
        find_customer(actor)
        return
    history = show_customer(actor)
    left = budget_left(actor, employee_code, history.customer) if history else None
    if history is None or left is None:
        return
    with st.container(key="tablet_form"):
        what_went_wrong(history)
        what_you_did()
        amount = cost()
        limits(left, history.customer, amount)
        note_and_submit(actor, employee_code, history.customer, amount)


main()
