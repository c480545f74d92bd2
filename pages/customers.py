"""Customers (admins): merge two records of the same person. The duplicate's history moves to the
customer kept; money records stay as they are; the merge is audited and explained afterwards."""

from __future__ import annotations

import streamlit as st

from empowerment.actor import Actor
from empowerment.errors import EmpowermentError
from empowerment.queries import customers
from empowerment.queries.customers import CustomerCard
from empowerment.services import customers as customer_service
from empowerment.ui import components as ui
from empowerment.ui.session import callback, get_db
from empowerment.ui.signin import require_page

S = st.session_state
KEEP, DUPLICATE, REASON, RESULT = "cm_keep", "cm_duplicate", "cm_reason", "cm_result"


def _details(card: CustomerCard) -> str:
    return " · ".join(x for x in (card.room and f"room {card.room}", card.phone, card.email, card.location,
                                  card.code) if x)


def _merge(actor: Actor) -> None:
    keep, duplicate = S.get(KEEP), S.get(DUPLICATE)
    if not keep or not duplicate:
        S[RESULT] = ("error", "Pick both customers first.")
        return
    try:
        result = customer_service.merge_customers(get_db(), actor, keep, duplicate, S.get(REASON, ""))
    except EmpowermentError as exc:
        S[RESULT] = ("error", str(exc))
        return
    S[RESULT] = ("success", result.message)
    for key in (KEEP, DUPLICATE, REASON, "cm_find_keep", "cm_find_duplicate"):
        S.pop(key, None)


def pick(actor: Actor, label: str, key: str, find_key: str) -> CustomerCard | None:
    query = st.text_input(f"Find the {label}", key=find_key, placeholder="Name, id, phone or room")
    found = {card.code: card for card in customers.search_customers(get_db(), actor, query or "")}
    if (query or "").strip() and not found:
        st.caption("No customer matches.")
    code = st.radio(label.capitalize(), list(found), key=key, index=None, label_visibility="collapsed",
                    format_func=lambda c: f"{found[c].name} · {_details(found[c])}")
    if code is None:
        return None
    history = customers.customer_history(get_db(), actor, code)
    st.caption(ui.md(history.summary))
    return found[code]


def main() -> None:
    actor = require_page("customers")
    st.title("Customers")
    st.caption("Two records of the same person (a walk-in added twice, a booking under another "
               "spelling)? Merge them: the duplicate's incidents, gestures and purchases move to the "
               "customer you keep. Budgets and the ledger do not change; the audit log keeps the merge.")
    if S.get(RESULT):
        kind, message = S.pop(RESULT)
        getattr(st, kind)(ui.md(message))
    keep_col, dup_col = st.columns(2)
    with keep_col, st.container(border=True):
        st.markdown("##### Keep")
        keep = pick(actor, "customer to keep", KEEP, "cm_find_keep")
    with dup_col, st.container(border=True):
        st.markdown("##### Merge into it")
        duplicate = pick(actor, "duplicate", DUPLICATE, "cm_find_duplicate")
    st.text_input("Why are they the same person?", key=REASON, placeholder="e.g. same phone; added twice at check-in")
    if keep and duplicate:
        st.warning(ui.md(f"{duplicate.name} ({duplicate.code}) will become part of {keep.name} ({keep.code}). "
                         "This cannot be undone from this screen."), icon=":material/merge:")
    st.button("Merge", key="cm_merge", type="primary", icon=":material/merge:", disabled=not (keep and duplicate),
              on_click=callback(_merge))
    with st.expander("Why does an old customer id lead to someone else?"):
        code = st.text_input("Customer id", key="cm_explain")
        if code:
            explained = customers.merge_explanation(get_db(), actor, code.strip())
            st.write(explained or "That id was not merged into anyone.")


main()
