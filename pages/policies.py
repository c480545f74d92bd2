"""Policies (admins): budget policies and their versions, a form to create or change one, and the
empowerment guideline shown next to the tablet form. `services.policies.set_policy` and
`services.organisation.set_guideline` decide and refuse; a change applies from the next period unless
"Apply immediately" is ticked."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from empowerment.actor import Actor
from empowerment.errors import EmpowermentError, InvalidInput
from empowerment.models import Period, Role, Rollover
from empowerment.money import format_rate
from empowerment.queries import admin
from empowerment.services import organisation, policies
from empowerment.ui import components as ui
from empowerment.ui.session import callback, get_db
from empowerment.ui.signin import require_page

S = st.session_state
FLASH = "po_flash"
EVERYONE, ONE_EMPLOYEE = "everyone", "employee"

actor = require_page("policies")
db = get_db()


def _save_policy(actor: Actor) -> None:
    scope = S.get("po_scope", EVERYONE)
    try:
        kwargs: dict[str, object] = {}
        if scope.startswith("role:"):
            kwargs["role"] = Role(scope.removeprefix("role:"))
        elif scope.startswith("team:"):
            kwargs["team_code"] = scope.removeprefix("team:")
        elif scope == ONE_EMPLOYEE:
            kwargs["employee_code"] = S.get("po_employee") or None
            if not kwargs["employee_code"]:
                raise InvalidInput("Pick the employee the policy is for.")
        policy = policies.set_policy(db, actor, policies.PolicyRequest(
            name=S.get("po_name", ""),
            allowance_cents=str(S.get("po_allowance") or ""),  # read in the policy's currency and locale
            period=Period(S.get("po_period", Period.MONTH.value)),
            rollover=Rollover(S.get("po_rollover", Rollover.NONE.value)),
            customer_daily_cap_cents=str(S.get("po_cap") or "") or policies.DEFAULT_CUSTOMER_DAILY_CAP_CENTS,
            review_above_cents=str(S.get("po_review") or ""),
            approval_above_cents=str(S.get("po_approval") or ""),
            immediate=bool(S.get("po_immediate")),
            **kwargs,  # type: ignore[arg-type]
        ))
    except EmpowermentError as exc:
        ui.flash(FLASH, "error", str(exc))
        return
    moved = " Budgets already open this period now have the new allowance." if S.get("po_immediate") else ""
    ui.flash(FLASH, "success", f"Saved '{policy.name}': in force from {policy.effective_from:%d %b %Y}.{moved}")


def _money_or_none(cents: object, currency: str, locale: str) -> str:
    return "—" if cents is None or pd.isna(cents) else ui.money(int(cents), currency, locale)  # type: ignore[call-overload]


def _save_guideline(actor: Actor) -> None:
    try:
        organisation.set_guideline(db, actor, S.get("po_guideline", ""))
    except EmpowermentError as exc:
        ui.flash(FLASH, "error", str(exc))
        return
    ui.flash(FLASH, "success", "Guideline saved; the tablets show it from their next screen.")


st.title("Policies")
ui.show_flash(FLASH)

versions = admin.policy_versions(db, actor)
st.subheader("Budget policies")
if versions.empty:
    ui.empty_state("No policy yet", "Nobody has a budget until a policy exists: create one below.",
                   ":material/tune:")
else:
    # Two narrow tables rather than one of ten columns, which scrolled sideways at 820 px.
    # Each policy's amounts in its own currency (a Tokyo team's in yen): written out, not a number column.
    def in_its_money(column: str) -> pd.Series:
        return pd.Series([_money_or_none(v, c, loc) for v, c, loc in
                          zip(versions[column], versions["currency"], versions["locale"], strict=True)],
                         index=versions.index)

    shown = versions.assign(allowance=in_its_money("allowance_cents"))
    st.dataframe(shown[["name", "scope", "allowance", "period", "rollover", "effective_from"]],
                 hide_index=True, width="stretch", column_config={
                     "name": "Policy", "scope": "Applies to", "period": "Every", "rollover": "Unused money",
                     "allowance": "Allowance",
                     "effective_from": st.column_config.DateColumn("In force from", format="D MMM YYYY")})
    # The limits as a plain table (two interactive grids on one page repeat their cell ids: axe).
    st.table(pd.DataFrame({
        "Policy": versions["name"],
        "Per customer per day": in_its_money("customer_daily_cap_cents"),
        "Review above": in_its_money("review_above_cents"),
        "Approval above": in_its_money("approval_above_cents"),
    }), hide_index=True)
    st.caption("Every version is kept. The newest version in force wins; an employee's own policy "
               "beats their team's, which beats their role's, which beats the one for everyone.")
    own_currency, foreign = admin.foreign_currencies_today(db, actor)
    if foreign:
        # what a role's or everyone's policy comes to abroad, and where it cannot apply today
        priced = [f"1 {own_currency} = {format_rate(f.rate)} {f.currency} "
                  f"({', '.join(ui.md(place) for place in f.locations)})" for f in foreign if f.rate is not None]
        st.caption(f"A policy for a role or for everyone is in {own_currency}; people at a location in "
                   "another currency get its amounts converted at the day's rate (the allowance at the "
                   "rate of their period's first day)." + (f" Today: {'; '.join(priced)}." if priced else ""))
        for f in foreign:
            if f.rate is None:
                st.warning(ui.md(f"No exchange rate from {own_currency} to {f.currency} today: people at "
                                 f"{', '.join(f.locations)} cannot log gestures under a policy for a role or "
                                 f"for everyone. Import exchange rates on the Data page, or give their teams "
                                 f"a policy of their own in {f.currency}."), icon=":material/currency_exchange:")

teams = admin.teams_for(db, actor)
people = admin.people(db, actor)
people = people[people["active"]]
employees = dict(zip(people["code"], people["name"] + people["team"].map(
    lambda t: f" · {t}" if isinstance(t, str) else ""), strict=True))
scopes = {EVERYONE: "Everyone", **{f"role:{r.value}": f"Role: {r.heading}" for r in Role},
          **{f"team:{c}": f"Team: {n}" for c, n in zip(teams["code"], teams["name"], strict=True)},
          ONE_EMPLOYEE: "One employee (pick them)"}
with st.form("po_policy_form"):
    st.markdown("**Create a policy, or change one by reusing its name**")
    first, second = st.columns(2)
    first.text_input("Policy name", key="po_name", placeholder="e.g. Front desk monthly")
    second.selectbox("Applies to", list(scopes), key="po_scope", format_func=scopes.__getitem__)
    first.text_input("Allowance per period", key="po_allowance", placeholder="500.00")
    second.selectbox("Employee (only for one employee)", [None, *employees], key="po_employee",
                     format_func=lambda c: "—" if c is None else employees[c])
    first.selectbox("Period", [p.value for p in Period], key="po_period",
                    format_func=lambda p: Period(p).label)
    second.selectbox("Unused money at period end", [r.value for r in Rollover], key="po_rollover",
                     format_func=lambda r: Rollover(r).label)
    first.text_input("Limit per customer per day (empty: the standard limit)", key="po_cap",
                     placeholder="2000")
    second.text_input("Manager reviews gestures above (optional)", key="po_review")
    first.text_input("Manager approves gestures above (optional)", key="po_approval")
    st.checkbox("Apply immediately: budgets already open this period get the new allowance now "
                "(otherwise a change starts with the next period; a new policy's limits apply from today)",
                key="po_immediate", value=False)
    st.caption(ui.md(
        "Amounts are typed in the currency of whom the policy is for: a team's or a person's location's, "
        f"the installation's ({ui.money(policies.DEFAULT_CUSTOMER_DAILY_CAP_CENTS)} is its standard limit per "
        "customer per day) for a role or for everyone. Amounts are not converted: where a location has "
        "another currency, give its teams a policy of their own."))
    st.form_submit_button("Save policy", type="primary", on_click=callback(_save_policy))

st.subheader("Empowerment guideline")
st.caption("Shown next to the form on every tablet. Markdown is allowed.")
with st.form("po_guideline_form"):
    st.text_area("Guideline", value=admin.get_guideline(db), key="po_guideline", height=260,
                 max_chars=organisation.MAX_GUIDELINE_CHARS)
    st.form_submit_button("Save guideline", on_click=callback(_save_guideline))
