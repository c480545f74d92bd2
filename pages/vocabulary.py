"""Vocabulary (admins): the organisation's own words for gesture types, incident categories and
service values. Codes are stable (what records store); labels, descriptions and rules may change;
a term is retired, never deleted, so old records keep their meaning. "Other words" are what
imports and forms also accept (the Data page's value mapping adds them)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import streamlit as st

from empowerment.errors import EmpowermentError
from empowerment.models.vocabulary import (
    GESTURE_TYPE,
    INCIDENT_CATEGORY,
    KIND_LABELS,
    KIND_NOUNS,
    KINDS,
    SEVERITY_LABELS,
    TOUCHPOINT_LABELS,
    TOUCHPOINTS,
    VALUATION_LABELS,
)
from empowerment.queries import vocabulary as vocabulary_queries
from empowerment.services import vocabulary
from empowerment.ui import components as ui
from empowerment.ui.session import callback, get_db
from empowerment.ui.signin import require_page

S = st.session_state
NEW = "__new__"


def _save(actor: object, kind: str) -> None:
    picked = S.get(f"vc_pick_{kind}")
    code = S.get(f"vc_code_{kind}", "") if picked == NEW else picked
    rate_text = (S.get(f"vc_rate_{kind}") or "").strip()
    try:
        rate = int(Decimal(rate_text) * 100) if rate_text else None
    except InvalidOperation:
        S[f"vc_msg_{kind}"] = ("error", f"'{rate_text}' is not an hourly rate; write it like 30 or 27.50.")
        return
    try:
        term = vocabulary.save_term(get_db(), actor, vocabulary.TermRequest(  # type: ignore[arg-type]
            kind, code or "", S.get(f"vc_label_{kind}", ""), S.get(f"vc_desc_{kind}", ""),
            costs_money=S.get(f"vc_money_{kind}", True), valuation=S.get(f"vc_val_{kind}") or "",
            hourly_rate_cents=rate, severity=S.get(f"vc_sev_{kind}"), touchpoint=S.get(f"vc_touch_{kind}")))
        words = [w.strip() for w in (S.get(f"vc_words_{kind}") or "").split(",") if w.strip()]
        if words:
            vocabulary.map_values(get_db(), actor, kind, {w: term.code for w in words})  # type: ignore[arg-type]
    except EmpowermentError as exc:
        S[f"vc_msg_{kind}"] = ("error", str(exc))
        return
    S[f"vc_msg_{kind}"] = ("success", f"Saved “{term.label}”.")
    st.cache_data.clear()  # the tablet's cached vocabulary


def _retire(actor: object, kind: str, code: str, retired: bool) -> None:
    try:
        vocabulary.set_retired(get_db(), actor, kind, code, retired)  # type: ignore[arg-type]
    except EmpowermentError as exc:
        S[f"vc_msg_{kind}"] = ("error", str(exc))
        return
    S[f"vc_msg_{kind}"] = ("success", "Retired: old records keep the word; it is no longer offered."
                           if retired else "Back in use.")
    st.cache_data.clear()


def editor(actor: object, kind: str) -> None:
    vocab = vocabulary_queries.vocabulary(get_db())
    table = vocabulary_queries.terms_table(get_db(), kind)
    # A static table: its cells wrap, so the descriptions fit a portrait tablet (a grid scrolled
    # sideways at 820 px: 915 px of columns in 756).
    st.table(table.drop(columns=["code"]), hide_index=True, border="horizontal")
    noun = KIND_NOUNS[kind]
    terms = {t.code: t for t in vocab.of(kind, include_retired=True)}
    picked = st.selectbox(f"Add or change a {noun}", [NEW, *terms], key=f"vc_pick_{kind}",
                          format_func=lambda c: f"A new {noun}…" if c == NEW else terms[c].label)
    term = terms.get(picked)
    with st.form(f"vc_form_{kind}_{picked}", border=True):
        if term is None:
            st.text_input("Code (stable, never changes; letters, digits, _ )", key=f"vc_code_{kind}")
        else:
            st.caption(ui.md(f"Code: {term.code} (stable)"))
        st.text_input("Label (what people read)", value=term.label if term else "", key=f"vc_label_{kind}")
        st.text_input("One-line description", value=term.description if term else "", key=f"vc_desc_{kind}")
        if kind == GESTURE_TYPE:
            left, right = st.columns(2)
            left.checkbox("Costs money (from the budget)", value=term.costs_money if term else True,
                          key=f"vc_money_{kind}")
            options = list(VALUATION_LABELS)
            right.selectbox("Valued as", options, index=options.index(term.valuation) if term else 0,
                            format_func=VALUATION_LABELS.get, key=f"vc_val_{kind}")
            rate = term.hourly_rate_cents if term else None
            st.text_input("Hourly rate for staff time", value=str(Decimal(rate) / 100) if rate else "",
                          key=f"vc_rate_{kind}", placeholder="30.00")
        if kind == INCIDENT_CATEGORY:
            left, right = st.columns(2)
            left.selectbox("Severity", [1, 2, 3], index=((term.severity or 1) - 1) if term else 0,
                           format_func=lambda s: f"{s} · {SEVERITY_LABELS[s]}", key=f"vc_sev_{kind}")
            right.selectbox("Journey touchpoint", TOUCHPOINTS,
                            index=TOUCHPOINTS.index(term.touchpoint) if term and term.touchpoint in TOUCHPOINTS else 0,
                            format_func=TOUCHPOINT_LABELS.get, key=f"vc_touch_{kind}")
        st.text_input("Other words that mean it (comma-separated; imports accept them)", key=f"vc_words_{kind}",
                      placeholder=", ".join(term.synonyms) if term and term.synonyms else "e.g. Comp'd meal")
        st.form_submit_button("Save", type="primary", on_click=callback(_save), args=(kind,))
    if term is not None:
        if term.retired:
            st.button("Bring back into use", key=f"vc_restore_{kind}", on_click=callback(_retire),
                      args=(kind, term.code, False))
        else:
            st.button(f"Retire this {noun}", key=f"vc_retire_{kind}", on_click=callback(_retire),
                      args=(kind, term.code, True), help="Old records keep it; it is no longer offered.")
    message = S.pop(f"vc_msg_{kind}", None)
    if message:
        (st.success if message[0] == "success" else st.error)(ui.md(message[1]))


def main() -> None:
    actor = require_page("vocabulary")
    st.title(":material/translate: Vocabulary")
    st.caption("Your organisation's own words. Imports match codes, labels and other words whatever the case.")
    for tab, kind in zip(st.tabs([KIND_LABELS[k] for k in KINDS]), KINDS, strict=True):
        with tab:
            editor(actor, kind)


main()
