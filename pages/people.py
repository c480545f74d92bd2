"""People (admins): add a person, change their details, deactivate or bring them back, set or reset
their PIN and password, adjust their budget with a reason. Everyone is picked by name, never by a
typed id. `services.accounts` and `services.ledger.adjust_budget` decide, hash, refuse and audit;
every write runs in a button's `on_click` callback (a double tap acts once, as on the tablet).
"""

from __future__ import annotations

import streamlit as st

from empowerment import access, labels
from empowerment.actor import Actor
from empowerment.errors import EmpowermentError
from empowerment.models import Role
from empowerment.money import parse_cents
from empowerment.queries import admin
from empowerment.services import accounts, ledger
from empowerment.ui import components as ui
from empowerment.ui.session import callback, get_db
from empowerment.ui.signin import require_page

S = st.session_state
FLASH, PERSON = "pp_flash", "pp_person"
NO_TEAM = ""

actor = require_page("people")
db = get_db()


def _flash_outcome(call, success: str) -> bool:  # type: ignore[no-untyped-def]
    try:
        call()
    except EmpowermentError as exc:
        ui.flash(FLASH, "error", str(exc))
        return False
    ui.flash(FLASH, "success", success)
    return True


def _clear(*keys: str) -> None:
    for key in keys:
        S[key] = ""


# --- callbacks ------------------------------------------------------------------------------------
# Each callback gets the person re-read from the database (`callback`), never the previous run's.

def _add(actor: Actor) -> None:
    role = Role(S.get("pp_new_role", Role.STAFF.value))
    name = S.get("pp_new_name", "")
    created: list[str] = []

    def call() -> None:
        created.append(accounts.add_employee(
            db, actor, name=name, role=role, team_code=S.get("pp_new_team") or None,
            pin=S.get("pp_new_pin") or None, username=S.get("pp_new_username") or None,
            password=S.get("pp_new_password") or None))

    if _flash_outcome(call, f"Added {name.strip()} as {role.label}; they can sign in now."):
        S[PERSON] = created[0]  # show the new person below
        _clear("pp_new_name", "pp_new_pin", "pp_new_username", "pp_new_password")


def _save_details(actor: Actor, code: str) -> None:
    changed: list[list[str]] = []

    def call() -> None:
        changed.append(accounts.update_employee(
            db, actor, code, name=S.get(f"pp_name_{code}", ""), role=Role(S[f"pp_role_{code}"]),
            team_code=S.get(f"pp_team_{code}") or None))

    if _flash_outcome(call, "Saved.") and not changed[0]:
        ui.flash(FLASH, "info", "Nothing to save: the details are as they were.")


def _set_pin(actor: Actor, code: str, name: str) -> None:
    if _flash_outcome(lambda: accounts.set_pin(db, actor, code, S.get(f"pp_pin_{code}", "")),
                      f"{name}'s new PIN is set (and any lock lifted). Tell them in person."):
        _clear(f"pp_pin_{code}")


def _set_password(actor: Actor, code: str, name: str) -> None:
    if _flash_outcome(lambda: accounts.set_password(db, actor, code, S.get(f"pp_password_{code}", "")),
                      f"{name}'s new password is set."):
        _clear(f"pp_password_{code}")


def _adjust(actor: Actor, code: str, name: str) -> None:
    def call() -> None:
        cents = parse_cents(S.get(f"pp_amount_{code}", ""))
        sign = -1 if S.get(f"pp_direction_{code}") == "Take away" else 1
        ledger.adjust_budget(db, actor, ledger.Adjustment(code, sign * cents, S.get(f"pp_reason_{code}", "")))

    if _flash_outcome(call, f"{name}'s budget is adjusted; the reason is in the audit log."):
        _clear(f"pp_amount_{code}", f"pp_reason_{code}")


def _set_active(actor: Actor, code: str, name: str, active: bool) -> None:
    if _flash_outcome(lambda: accounts.set_active(db, actor, code, active, S.get(f"pp_why_{code}", "")),
                      f"{name} can sign in again." if active else
                      f"{name} is deactivated: they can no longer sign in; their records stay."):
        _clear(f"pp_why_{code}")


# --- blocks ---------------------------------------------------------------------------------------

def _sign_in_words(row) -> str:  # type: ignore[no-untyped-def]
    ways = [w for w, has in (("PIN", row.has_pin), ("password", row.has_password)) if has]
    text = " and ".join(ways) if ways else "no sign-in"
    return text + (" (PIN locked)" if row.pin_locked else "")


def _add_form(team_names: dict[str, str]) -> None:
    with st.expander("Add a person", icon=":material/person_add:"), st.form("pp_add_form"):
        first, second = st.columns(2)
        first.text_input("Name", key="pp_new_name", max_chars=accounts.MAX_NAME_CHARS)
        second.selectbox("Role", [r.value for r in Role], key="pp_new_role",
                         format_func=lambda r: Role(r).heading)
        first.selectbox("Team", [NO_TEAM, *team_names], key="pp_new_team",
                        format_func=lambda c: team_names.get(c, "No team"))
        second.text_input("PIN for the shared tablet (4 to 6 digits)", key="pp_new_pin", type="password",
                          max_chars=6)
        first.text_input("User name (only for a password sign-in)", key="pp_new_username")
        second.text_input(f"Password (at least {accounts.MIN_PASSWORD_CHARS} characters)",
                          key="pp_new_password", type="password")
        st.caption("Staff usually need only a PIN. HR, CX leads and admins sign in with a user name "
                   "and password.")
        st.form_submit_button("Add the person", type="primary", on_click=callback(_add), icon=":material/person_add:")


def _details(row, team_names: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    code = row.code
    with st.form(f"pp_details_{code}", border=False):
        first, second = st.columns(2)
        first.text_input("Name", value=row.name, key=f"pp_name_{code}", max_chars=accounts.MAX_NAME_CHARS)
        second.selectbox("Role", [r.value for r in Role], index=list(Role).index(Role(row.role)),
                         key=f"pp_role_{code}", format_func=lambda r: Role(r).heading)
        options = [NO_TEAM, *team_names]
        first.selectbox("Team", options, index=options.index(row.team_code if isinstance(row.team_code, str) else NO_TEAM), key=f"pp_team_{code}",
                        format_func=lambda c: team_names.get(c, "No team"))
        st.caption("A manager manages the team they are in. A role without a PIN (HR, CX lead, "
                   "admin) loses the tablet PIN.")
        st.form_submit_button("Save details", type="primary", on_click=callback(_save_details), args=(code,))


def _sign_in(row) -> None:  # type: ignore[no-untyped-def]
    code, name = row.code, row.name
    st.caption(f"Signs in with {_sign_in_words(row)}.")
    left, right = st.columns(2)
    if Role(row.role).signs_in_with_pin:
        with left.form(f"pp_pin_form_{code}", border=False):
            st.text_input("New PIN (4 to 6 digits)", key=f"pp_pin_{code}", type="password", max_chars=6)
            st.form_submit_button("Set PIN", on_click=callback(_set_pin), args=(code, name), icon=":material/pin:")
    else:
        left.caption(f"{Role(row.role).heading} accounts have no PIN.")
    if isinstance(row.username, str) and row.username:
        with right.form(f"pp_password_form_{code}", border=False):
            st.text_input(f"New password (at least {accounts.MIN_PASSWORD_CHARS} characters)",
                          key=f"pp_password_{code}", type="password")
            st.form_submit_button("Set password", on_click=callback(_set_password), args=(code, name),
                                  icon=":material/password:")
    else:
        right.caption("No user name: this person signs in on the tablet only.")


def _budget(row) -> None:  # type: ignore[no-untyped-def]
    code, name = row.code, row.name
    if not access.holds_a_budget(Role(row.role)):
        st.caption("No budget: only staff and managers hold a recovery budget.")
        return
    status = admin.person_budget(db, actor, code) if row.active else None
    if status is None:
        st.caption("No budget: this person's role holds none, or no policy gives them one (see Policies)."
                   if row.active else "A deactivated person's budget cannot be adjusted.")
        return
    cols = st.columns(3)
    cols[0].metric("Allocated", ui.money_short(status.allocated_cents), border=True)
    cols[1].metric("Used", ui.money_short(status.spent_cents + status.held_cents), border=True)
    cols[2].metric("Remaining", ui.money_short(status.remaining_cents), border=True)
    st.caption(f"{ui.md(status.period_label)} · {ui.md(status.policy_name)} · "
               f"{ui.md(ui.money(status.remaining_cents))} left of {ui.md(ui.money(status.allocated_cents))}.")
    with st.form(f"pp_adjust_form_{code}", border=False):
        first, second = st.columns(2)
        first.segmented_control("Adjustment", ["Add", "Take away"], default="Add", key=f"pp_direction_{code}")
        second.text_input("Amount", key=f"pp_amount_{code}", placeholder="50.00")
        st.text_input("Reason (kept in the audit log)", key=f"pp_reason_{code}")
        st.form_submit_button("Adjust the budget", on_click=callback(_adjust), args=(code, name),
                              icon=":material/account_balance_wallet:")


def _status(row) -> None:  # type: ignore[no-untyped-def]
    code, name = row.code, row.name
    if row.active:
        with st.form(f"pp_deactivate_form_{code}", border=False):
            st.text_input("Why (e.g. left the company)", key=f"pp_why_{code}")
            st.form_submit_button("Deactivate", on_click=callback(_set_active), args=(code, name, False),
                                  icon=":material/person_off:")
        st.caption("A deactivated person cannot sign in and leaves the tablet's list; their gestures, "
                   "budget history and audit trail stay.")
    else:
        st.info(f"{ui.name(name)} is deactivated.", icon=":material/person_off:")
        st.button("Reactivate", key=f"pp_reactivate_{code}", on_click=callback(_set_active), args=(code, name, True),
                  icon=":material/person_check:")


# --- the page -------------------------------------------------------------------------------------

st.title("People")
ui.show_flash(FLASH)
teams = admin.teams_for(db, actor)
team_names = dict(zip(teams["code"], teams["name"], strict=True))
_add_form(team_names)

everyone = admin.people(db, actor)
if everyone.empty:
    ui.empty_state("Nobody yet", "Add the first person above.", ":material/group_add:")
    st.stop()

shown_inactive = st.toggle("Show deactivated people", key="pp_inactive")
listed = everyone if shown_inactive else everyone[everyone["active"]]
st.dataframe(listed.assign(
    Role=listed["role"].map(lambda r: Role(r).heading), Team=listed["team"].fillna("—"),
    **{"Signs in with": [_sign_in_words(r).capitalize().replace("Pin", "PIN").replace("pin", "PIN")
                         for r in listed.itertuples()]},
    Status=listed["active"].map({True: "Active", False: "Deactivated"}),
)[["name", "Role", "Team", "Signs in with", "Status"]].rename(columns={"name": "Name"}),
    hide_index=True, width="stretch", height=min(38 + 35 * len(listed), 320))
st.caption(f"{labels.count(int(everyone['active'].sum()), 'active person', 'active people')} · "
           f"{int((~everyone['active']).sum()):,} deactivated.")

by_code = {row.code: row for row in everyone.itertuples()}
options = list(listed["code"]) or list(everyone["code"])
if S.get(PERSON) not in options:
    S.pop(PERSON, None)


def _person_words(code: str) -> str:
    """"Ana Staff · Staff · Front desk", so two people of one name are told apart without an id."""
    person = by_code[code]
    parts = (person.name, Role(person.role).heading, person.team, None if person.active else "deactivated")
    return " · ".join(str(x) for x in parts if isinstance(x, str) and x)


code = st.selectbox("Person", options, key=PERSON, format_func=_person_words)
row = by_code[code]
with st.container(border=True):
    st.subheader(row.name)
    tabs = st.tabs(["Details", "Sign-in", "Budget", "Active"], key="pp_tab")
    with tabs[0]:
        _details(row, team_names)
    with tabs[1]:
        _sign_in(row)
    with tabs[2]:
        _budget(row)
    with tabs[3]:
        _status(row)
