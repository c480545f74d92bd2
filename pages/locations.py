"""Locations (admins): each property's currency (ISO 4217) and the locale its people type and read
amounts in. Picked from lists in words, never typed as codes; saved through
`services.organisation.set_location_money`, which checks the admin's right and audits the change.

The rule: a location's currency is fixed once any amount is stored in it there (a budget or ledger
entry, a gesture, a purchase of its customers, a budget policy of its teams or people), because
stored amounts are minor units of that currency and would be misread (¥1,250 would become $12.50).
Until then it may change freely. The locale may always change: it is only how amounts look."""

from __future__ import annotations

import streamlit as st

from empowerment import settings
from empowerment.actor import Actor
from empowerment.errors import EmpowermentError
from empowerment.money import currency_choices, currency_label, format_money, locale_choices, locale_label
from empowerment.queries import admin
from empowerment.services import organisation
from empowerment.ui import components as ui
from empowerment.ui.session import callback, get_db
from empowerment.ui.signin import require_page

S = st.session_state
PLACE, CURRENCY, LOCALE, RESULT = "lc_location", "lc_currency", "lc_locale", "lc_result"
INSTALLATION = ""  # the locale option "as the installation": the location keeps none of its own


@st.cache_data(show_spinner=False)
def _currencies() -> list[str]:
    return currency_choices()


@st.cache_data(show_spinner=False)
def _locales() -> list[str]:
    return locale_choices()


def _locale_words(name: str) -> str:
    if name == INSTALLATION:
        return f"As the installation: {locale_label(settings.locale())}"
    return locale_label(name)


def _save(actor: Actor) -> None:
    place = S.get(PLACE)
    if not place:
        S[RESULT] = ("error", "Pick a location first.")
        return
    try:
        here = organisation.set_location_money(get_db(), actor, place, S.get(CURRENCY) or "", S.get(LOCALE) or "")
    except EmpowermentError as exc:
        S[RESULT] = ("error", str(exc))
        return
    S[RESULT] = ("success", f"Saved: amounts there are in {currency_label(here.currency)}, written like "
                            f"{format_money(123450, here.currency, here.locale)}.")
    st.cache_data.clear()  # cached screens show money in the location's currency


def _picked(rows: list[admin.LocationMoneyRow]) -> None:
    """A new location picked: its own settings become the pickers' values."""
    row = next((r for r in rows if r.code == S.get(PLACE)), None)
    if row is not None:
        S[CURRENCY], S[LOCALE] = row.currency, row.locale or INSTALLATION
    S.pop(RESULT, None)


def main() -> None:
    actor = require_page("locations")
    st.title("Locations")
    st.caption("Each property's currency and how its people type and read amounts. Budgets, limits, "
               "gestures and its customers' purchases are kept in its currency; reports across "
               "locations convert them into the reporting currency at each day's rate.")
    rows = admin.locations_money(get_db(), actor)
    if not rows:
        ui.empty_state("No locations yet", "Locations are created with their teams (People page or an "
                       "employees import).", ":material/location_on:")
        return
    st.table([{"Location": r.name, "Currency": currency_label(r.currency),
               "Amounts written like": format_money(123450, r.currency, r.locale or settings.locale()),
               "Currency can change": ("No: it has " + r.recorded) if r.recorded else "Yes: no money recorded yet"}
              for r in rows])
    by_code = {r.code: r for r in rows}
    if S.get(PLACE) not in by_code:
        S[PLACE] = rows[0].code
        _picked(rows)
    st.selectbox("Location", list(by_code), key=PLACE, format_func=lambda c: by_code[c].name,
                 on_change=callback(_picked, signed_in=False), args=(rows,))
    row = by_code[S[PLACE]]
    S.setdefault(CURRENCY, row.currency)
    S.setdefault(LOCALE, row.locale or INSTALLATION)
    left, right = st.columns(2)
    left.selectbox("Currency", _currencies(), key=CURRENCY, format_func=currency_label,
                   disabled=row.currency_fixed,
                   help=(f"Fixed: {row.name} already has {row.recorded} in it; those amounts would be misread."
                         if row.currency_fixed else "Can change until the first budget, gesture or purchase."))
    right.selectbox("How people there type amounts", [INSTALLATION, *_locales()], key=LOCALE,
                    format_func=_locale_words)
    if row.currency_fixed:
        st.info(f"{row.name}'s currency is fixed: it already has {row.recorded} in "
                f"{currency_label(row.currency)}. The way amounts are typed may still change.",
                icon=":material/lock:")
    if RESULT in S:
        kind, message = S[RESULT]
        (st.success if kind == "success" else st.error)(ui.md(message))
    st.button("Save", key="lc_save", type="primary", on_click=callback(_save), icon=":material/save:")


main()
