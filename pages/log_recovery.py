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

from empowerment import settings
from empowerment.actor import Actor
from empowerment.errors import EmpowermentError, NoBudgetPolicy
from empowerment.models import GestureStatus
from empowerment.models.vocabulary import DEFAULT_STAFF_MINUTES, GESTURE_TYPE, INCIDENT_CATEGORY
from empowerment.money import (
    QUICK_UNITS,
    AmbiguousAmount,
    amount_example,
    parse_amount,
    quick_step,
    typed_form,
)
from empowerment.queries import admin, customers, my_budget
from empowerment.queries.budgets import SpendingLimits, spending_limits
from empowerment.queries.customers import CustomerCard, CustomerHistory
from empowerment.services import customers as customer_service
from empowerment.services import gestures
from empowerment.services.customers import LikelyDuplicate
from empowerment.services.gestures import MAX_NOTE_CHARS, MAX_STAFF_MINUTES, LogRequest
from empowerment.ui import care as care_ui
from empowerment.ui import components as ui
from empowerment.ui.session import callback, get_db
from empowerment.ui.signin import done_button, require_page

# Session keys (prefixed so they never collide with other pages).
CUSTOMER, DRAFT_KEY, CONFIRMATION, FEEDBACK, OWNER = (
    "lr_customer", "lr_draft_key", "lr_confirmation", "lr_feedback", "lr_owner",
)
INCIDENT, CATEGORY, TYPE, QUICK, CUSTOM, NOTE = (
    "lr_incident", "lr_category", "lr_type", "lr_quick", "lr_custom", "lr_note",
)
MINUTES = "lr_minutes"  # staff time's minutes (shown only for a type valued at staff time)
DRAFT_FIELDS = (INCIDENT, CATEGORY, TYPE, QUICK, CUSTOM, NOTE, MINUTES, care_ui.VALUES_KEY)
NEW_FIELDS = ("lr_new_name", "lr_new_phone", "lr_new_room", "lr_new_email")
NEW_OPEN, NEW_ERROR, DUPLICATES = "lr_new_open", "lr_new_error", "lr_duplicates"
HERE = "lr_money"  # (currency, locale) of the person's location, from the last spending limits
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


def _carry_query() -> None:
    """The text searched is what the new-customer form starts from: digits go to the room (short)
    or the phone (long), anything else to the name."""
    query = " ".join((S.get("lr_query") or "").split())
    for key in NEW_FIELDS:
        S.pop(key, None)
    S.pop(NEW_ERROR, None)
    S.pop(DUPLICATES, None)
    digits = query.replace(" ", "").replace("+", "").replace("-", "")
    if digits.isdigit():
        S["lr_new_room" if len(digits) <= 5 else "lr_new_phone"] = query
    elif query:
        S["lr_new_name"] = query


def _open_new(open_it: bool = True) -> None:
    S[NEW_OPEN] = open_it
    S.pop(DUPLICATES, None)
    S.pop(NEW_ERROR, None)


def _create_customer(actor: Actor, not_a_duplicate: bool = False) -> None:
    if S.get(CUSTOMER):  # a second tap after the customer was already created
        return
    try:
        code = customer_service.create_customer(
            get_db(), actor, S.get("lr_new_name", ""), phone=S.get("lr_new_phone"),
            room=S.get("lr_new_room"), email=S.get("lr_new_email"), not_a_duplicate=not_a_duplicate,
        )
    except LikelyDuplicate as exc:
        S[DUPLICATES] = exc.candidates
        S.pop(NEW_ERROR, None)
        return
    except EmpowermentError as exc:
        S[NEW_ERROR] = str(exc)
        return
    S.pop(NEW_ERROR, None)
    S.pop(DUPLICATES, None)
    S.pop(NEW_OPEN, None)
    _pick_customer(code)


def _pick_existing(code: str) -> None:
    S.pop(DUPLICATES, None)
    S.pop(NEW_OPEN, None)
    _pick_customer(code)


def _only(keep: str, clear: str, empty: Any) -> None:
    """Two widgets answer one question (quick amount or typed amount, incident or category)."""
    if S.get(keep) not in (None, ""):
        S[clear] = empty


def _amount_cents() -> int | None:
    """The cost chosen: typed text wins over a quick amount. Raises InvalidAmount for bad text and
    AmbiguousAmount (with the readings) for text that could be read two ways."""
    typed = (S.get(CUSTOM) or "").strip()
    currency, locale = _here()
    if typed:
        return parse_amount(typed, locale, currency=currency)
    quick = S.get(QUICK)  # in currency units, scaled for small ones (10 -> ¥1,000)
    return None if quick is None else int(quick) * quick_step(currency)


def _here() -> tuple[str | None, str]:
    """The currency and locale amounts are typed and shown in at this person's location."""
    currency, locale = S.get(HERE) or (None, None)
    return currency, locale or settings.locale()


def _money(amount: int | None) -> str:
    return ui.money(amount, *_here())


def _choose_reading(cents: int) -> None:
    S[CUSTOM] = typed_form(cents, *_here())
    S[QUICK] = None
    S.pop(FEEDBACK, None)


def _edited(keep: str | None = None, clear: str | None = None, empty: Any = None) -> None:
    """Any change to the draft clears the last submit's error at once (it may no longer apply)."""
    S.pop(FEEDBACK, None)
    if keep and clear:
        _only(keep, clear, empty)


def _missing() -> str | None:
    if not S.get(INCIDENT) and not S.get(CATEGORY):
        return "Pick what went wrong first."
    if not S.get(TYPE):
        return "Pick what you did for them."
    if not (S.get(CUSTOM) or "").strip() and S.get(QUICK) is None:
        return "Pick or type the cost (0 is fine for a note or your time)."
    return None


def _submit(actor: Actor, employee_code: str, customer_name: str, who_decides: str) -> None:
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
            note=S.get(NOTE), idempotency_key=S[DRAFT_KEY], source="app", values=care_ui.chosen_values(),
            staff_minutes=S.get(MINUTES) if _is_staff_time(S.get(TYPE)) else None,
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
        undone=False, undo_error=None, pending=result.status == GestureStatus.PENDING_APPROVAL,
        who_decides=who_decides,
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

def header(actor: Actor) -> None:
    """Title, who is at the tablet, the guideline one tap away, and Done."""
    with st.container(horizontal=True, vertical_alignment="center", key="tablet_header"):
        with st.container(width="stretch", gap="small"):
            st.title("Log a recovery")
            st.caption(f"Signed in as {ui.name(actor.name)}")
        with st.popover("Guideline", icon=":material/menu_book:"):
            # Written by an admin as Markdown (no HTML); `$` escaped so amounts don't become LaTeX.
            st.markdown(admin.get_guideline(get_db()).replace("$", "\\$"))
        done_button("lr_done")


def limits_now(actor: Actor, employee_code: str, customer: CustomerCard | None) -> SpendingLimits | None:
    """Budget left, the customer's daily cap and the thresholds, pinned on top (message shown instead
    when there is no budget)."""
    try:
        left = spending_limits(get_db(), actor, employee_code, customer.code if customer else None)
    except NoBudgetPolicy as exc:
        st.info(f"{ui.md(exc)} You can still look customers up and read their history; logging a "
                "gesture needs a budget.", icon=":material/info:")
        return None
    except EmpowermentError as exc:
        st.error(ui.md(exc))
        return None
    S[HERE] = (left.currency, left.locale)
    ui.limits_bar(left.remaining_cents, left.customer_cap_cents,
                  left.customer_cap_left_cents if customer else None, left.review_above_cents,
                  left.approval_above_cents, left.who_decides, customer.name if customer else None,
                  left.currency, left.locale)
    return left


def find_customer(actor: Actor) -> None:
    with st.container(key="tablet_find"):
        query = st.text_input(
            "Find the customer", key="lr_query", placeholder="Name, customer id, phone or room",
            icon=":material/search:", live=True, on_change=callback(_carry_query, signed_in=False),
        )
        text = (query or "").strip()
        results = customers.search_customers(get_db(), actor, text)
        nothing = len(text) >= 2 and not results
        if nothing:
            st.caption(f"No customer matches “{ui.md(text)}”: add them below.")
        columns = st.columns(2)
        for i, card in enumerate(results):
            with columns[i % 2]:
                result_card(card)
        if S.get(DUPLICATES):
            duplicate_offer(actor)
        elif nothing or S.get(NEW_OPEN):
            new_customer_form(actor)
        elif len(text) >= 2:
            st.button("New customer", key="lr_new_toggle", icon=":material/person_add:",
                      on_click=callback(_open_new, signed_in=False), width="stretch")


def card_details(card: CustomerCard) -> str:
    """Everything that tells two people of the same name apart, never cut off."""
    return " · ".join(x for x in (card.room and f"room {card.room}", card.phone, card.email,
                                  card.location, card.code) if x)


def result_card(card: CustomerCard) -> None:
    with st.container(border=True, key=f"tablet_result_{card.code}"):
        st.markdown(f"**{ui.name(card.name)}**  \n{ui.md(card_details(card))}")
        st.button(f"Choose {card.name}", key=f"lr_pick_{card.code}", width="stretch",
                  on_click=callback(_pick_customer, signed_in=False), args=(card.code,))


def new_customer_form(actor: Actor) -> None:
    with st.container(border=True, key="tablet_new_customer"):
        st.markdown("##### New customer")
        with st.form("lr_new_customer", clear_on_submit=False, border=False):
            st.text_input("Name", key="lr_new_name", max_chars=customer_service.MAX_NAME_CHARS)
            phone, room, email = st.columns(3)
            phone.text_input("Phone", key="lr_new_phone", max_chars=50)
            room.text_input("Room", key="lr_new_room", max_chars=50)
            email.text_input("E-mail (optional)", key="lr_new_email", max_chars=200)
            st.form_submit_button("Add and continue", type="primary", width="stretch",
                                  on_click=callback(_create_customer))
        if S.get(NEW_ERROR):
            st.error(ui.md(S[NEW_ERROR]))


def duplicate_offer(actor: Actor) -> None:
    """Before a new customer is created: the people they probably are."""
    candidates = S[DUPLICATES]
    typed = " ".join((S.get("lr_new_name") or "").split())
    with st.container(border=True, key="tablet_duplicates"):
        st.warning(f"{ui.name(typed)} may already be a customer. Is it one of these?",
                   icon=":material/group:")
        for candidate in candidates:
            details = " · ".join(x for x in (candidate.room and f"room {candidate.room}", candidate.phone,
                                             candidate.email, candidate.location, candidate.code) if x)
            with st.container(border=True):
                st.markdown(f"**{ui.name(candidate.name)}**  \n{ui.md(details)}  \n*{ui.md(candidate.why)}*")
                st.button(f"Yes, it is {candidate.name}", key=f"lr_same_{candidate.code}", type="primary",
                          width="stretch", on_click=callback(_pick_existing, signed_in=False), args=(candidate.code,))
        st.button(f"No, {typed} is someone else: add them", key="lr_not_duplicate", width="stretch",
                  on_click=callback(_create_customer), args=(True,))


def load_history(actor: Actor) -> CustomerHistory | None:
    try:
        return customers.customer_history(get_db(), actor, S[CUSTOMER])
    except EmpowermentError as exc:
        st.error(ui.md(exc))
        S.pop(CUSTOMER, None)
        return None


def customer_block(history: CustomerHistory) -> Any:
    """The customer in two lines, with the history collapsed to its summary (one tap opens it).
    Returns the card's slot for the soft flags, filled once the amount is known: full width, a line
    each, so they never push the submit button below the fold."""
    card = history.customer
    with st.container(border=True, key="tablet_customer"):
        name_col, change_col = st.columns([3, 1], vertical_alignment="center")
        with name_col:
            st.subheader(ui.name(card.name))
            st.caption(ui.md(" · ".join(x for x in (card_details(card), card.segment) if x)))
        change_col.button("Change", key="lr_change", icon=":material/swap_horiz:", on_click=callback(_change_customer, signed_in=False),
                          width="stretch")
        if history.events.empty and not history.visits:  # one line: nothing to fold away
            ui.customer_history_card(history)
        else:
            with st.expander(f"History: {ui.md(history.summary)}", expanded=False, icon=":material/history:"):
                if history.recent_visits:
                    st.caption("Last visits: " + ", ".join(f"{ui.when(at)}" for at in history.recent_visits))
                if history.open_incident_list:
                    st.caption("Open in the last 30 days: " + "; ".join(
                        ui.md(f"{i.category} ({ui.when(i.occurred_at)}, {i.owner or 'nobody yet'})")
                        for i in history.open_incident_list))
                ui.customer_history_card(history, with_facts=False)  # the card and the summary above say it
        return st.container(key="tablet_flags")


def open_incidents(history: CustomerHistory) -> dict[str, str]:
    """Open incidents of the last 30 days only (older ones are on the hand-over, not offered here)."""
    return {i.code: f"{i.category} · {ui.when(i.occurred_at)}" for i in history.open_incident_list}


def what_went_wrong(history: CustomerHistory) -> None:
    st.markdown("##### What went wrong?")
    incidents = open_incidents(history)
    if incidents:
        st.pills("Continue an open issue", list(incidents), key=INCIDENT,
                 format_func=lambda code: ui.md(incidents.get(code, code)),
                 on_change=callback(_edited, signed_in=False), args=(INCIDENT, CATEGORY, None))
    vocab = care_ui.current_vocabulary()
    st.pills("Category", vocab.codes(INCIDENT_CATEGORY), key=CATEGORY, format_func=lambda c: ui.md(
             vocab.label(INCIDENT_CATEGORY, c)), label_visibility="collapsed" if not incidents
             else "visible", on_change=callback(_edited, signed_in=False), args=(CATEGORY, INCIDENT, None))


def _category_of(history: CustomerHistory, incident_code: str | None) -> str | None:
    if not incident_code or history.events.empty:
        return None
    match = history.events.loc[history.events["incident"] == incident_code, "category"]
    return str(match.iloc[0]) if len(match) else None


def what_you_did() -> None:
    st.markdown("##### What did you do?")
    vocab = care_ui.current_vocabulary()
    st.pills("Gesture", vocab.codes(GESTURE_TYPE), key=TYPE, format_func=lambda c: ui.gesture_label(
        c) if c in ui.GESTURE_LABELS and vocab.term(GESTURE_TYPE, c).is_default else ui.md(vocab.label(GESTURE_TYPE, c)),
        label_visibility="collapsed", on_change=callback(_edited, signed_in=False))
    care_ui.value_pills()
    if _is_staff_time(S.get(TYPE)):
        S.setdefault(MINUTES, DEFAULT_STAFF_MINUTES)
        st.number_input("Minutes spent", min_value=1, max_value=MAX_STAFF_MINUTES, step=5, key=MINUTES,
                        help="Your time is counted at the organisation's hourly rate in the payoff.",
                        on_change=callback(_edited, signed_in=False))


def _is_staff_time(code: str | None) -> bool:
    """Whether the gesture type is valued at staff time (its minutes are recorded)."""
    term = care_ui.current_vocabulary().term(GESTURE_TYPE, code) if code else None
    return term is not None and term.valuation == "hourly"


def cost() -> int | None:
    st.markdown("##### What did it cost?")
    currency, locale = _here()
    st.pills("Quick amount", QUICK_UNITS, key=QUICK,
             format_func=lambda v: ui.md(ui.money(v * quick_step(currency), currency, locale, whole=True)),
             on_change=callback(_edited, signed_in=False), args=(QUICK, CUSTOM, ""), label_visibility="collapsed")
    st.text_input("Other amount", key=CUSTOM, placeholder=f"e.g. {amount_example(currency, locale)}", live=True,
                  on_change=callback(_edited, signed_in=False), args=(CUSTOM, QUICK, None))
    try:
        return _amount_cents()
    except AmbiguousAmount as exc:  # asked, never guessed
        st.warning(ui.md(exc), icon=":material/help:")
        with st.container(horizontal=True):
            for i, cents in enumerate(exc.choices):
                st.button(ui.md(_money(cents)), key=f"lr_reading_{i}", on_click=callback(_choose_reading, signed_in=False), args=(cents,))
        return None
    except EmpowermentError as exc:
        st.error(ui.md(exc), icon=":material/error:")
        return None


def before_submit(left: SpendingLimits, customer: CustomerCard, amount: int | None) -> None:
    """Say it before submit: a limit the amount breaks, the approval it needs, the review it gets."""
    if amount is None:
        return
    if amount > left.remaining_cents:
        st.warning(ui.md(f"{_money(amount)} is more than your remaining budget of "
                         f"{_money(left.remaining_cents)}."), icon=":material/block:")
    if amount > left.customer_cap_left_cents:
        st.warning(ui.md(f"{_money(amount)} is over what is left for ") + ui.name(customer.name)
                   + ui.md(f" today: {_money(left.customer_cap_left_cents)} of the "
                           f"{_money(left.customer_cap_cents)} daily limit."), icon=":material/block:")
    if left.needs_approval(amount):
        st.warning(f"This needs a manager's approval: the money will be held until {ui.name(left.who_decides)} "
                   "decides.", icon=":material/hourglass_top:")
    elif left.needs_note(amount):
        st.info("A manager will review this afterwards: add a note.", icon=":material/rate_review:")


def note_and_submit(actor: Actor, employee_code: str, customer: CustomerCard, amount: int | None,
                    left: SpendingLimits) -> None:
    required = amount is not None and left.needs_note(amount)
    # No `max_chars`: Streamlit would silently cut a pasted note; the service refuses it instead.
    note = st.text_area("Note (required: what happened and what you did)" if required
                        else "Note (optional): what happened, what you did",
                        key=NOTE, height=68, on_change=callback(_edited, signed_in=False))
    count = len((note or "").strip())
    if count > MAX_NOTE_CHARS:
        st.warning(f"{count:,} / {MAX_NOTE_CHARS:,} characters: shorten the note by "
                   f"{count - MAX_NOTE_CHARS:,}.", icon=":material/content_cut:")
    if S.get(FEEDBACK):
        st.error(ui.md(S[FEEDBACK]))
    label = "Log recovery" + (f" · {ui.md(_money(amount))}" if amount is not None else "")
    with st.container(key="tablet_submit"):
        st.button(label, key="lr_submit", type="primary",
                  width="stretch", icon=":material/check_circle:",
                  on_click=callback(_submit), args=(employee_code, customer.name, left.who_decides))


def confirmation(actor: Actor) -> None:
    conf = S[CONFIRMATION]
    with st.container(border=True, key="tablet_confirmation"):
        st.markdown(f"#### Recovery for {ui.name(conf['customer'])}")
        if conf["undone"]:
            st.success(ui.md(f"Undone. {_money(conf['cost'])} is back in your budget."),
                       icon=":material/undo:")
            st.metric("Your balance", ui.md(_money(conf["remaining"])),
                      delta=ui.md(f"+{_money(conf['cost'])}"))
        else:
            if conf.get("pending"):  # amber: not done yet, and who will decide
                who = conf["who_decides"][:1].upper() + conf["who_decides"][1:]  # "An admin", "Mia Manager"
                st.warning(ui.md(conf["message"]) + f" {ui.name(who)} will decide.",
                           icon=":material/hourglass_top:")
            else:
                st.success(ui.md(conf["message"]), icon=":material/check_circle:")
            st.metric("Your balance", ui.md(_money(conf["remaining"])),
                      delta=ui.md(f"-{_money(conf['cost'])}") if conf["cost"] else None)
            if conf["already"]:
                st.caption("The same gesture reached us twice (a double tap?): it is logged once.")
        if conf["undo_error"]:
            st.error(ui.md(conf["undo_error"]))
        if not conf["undone"]:
            st.button("Undo", key="lr_undo", icon=":material/undo:", width="stretch", on_click=callback(_undo))
        again, done = st.columns(2)
        again.button("Another gesture", key="lr_again", icon=":material/add:", type="primary", width="stretch",
                     on_click=callback(_log_another, signed_in=False))
        done.button("Next customer", key="lr_next", icon=":material/arrow_forward:", width="stretch",
                    on_click=callback(_change_customer, signed_in=False))


# --- the page -------------------------------------------------------------------------------------

def main() -> None:
    actor = require_page("log_recovery")
    _reset_for(actor)
    ui.apply_tablet_style()
    ui.keypads(decimal=(CUSTOM,))
    header(actor)
    try:
        employee_code = my_budget.employee_code_for(get_db(), actor)
    except EmpowermentError as exc:
        st.error(ui.md(exc))
        return
    if S.get(CONFIRMATION):
        confirmation(actor)
        return
    if not S.get(CUSTOMER):
        limits_now(actor, employee_code, None)
        find_customer(actor)
        return
    history = load_history(actor)
    if history is None:
        return
    left = limits_now(actor, employee_code, history.customer)
    flags = customer_block(history)
    if left is None:
        return
    with st.container(key="tablet_form"):
        wrong_col, cost_col = st.columns(2, gap="medium")
        with wrong_col:
            what_went_wrong(history)
            care_ui.what_tends_to_work(S.get(CATEGORY) or _category_of(history, S.get(INCIDENT)))
            what_you_did()
        with cost_col:
            amount = cost()
            before_submit(left, history.customer, amount)
            with flags:
                care_ui.point_of_service_flags(history, amount, *_here())
            note_and_submit(actor, employee_code, history.customer, amount, left)


main()
