"""The sign-in gate and screen: user name and password, or the shared tablet's switch-user screen
(tap your name, enter your PIN). `require_page(key)` is the first call of every page."""

from __future__ import annotations

import html
from functools import partial

import streamlit as st

from empowerment import access, settings
from empowerment.actor import Actor
from empowerment.errors import AuthenticationFailed
from empowerment.queries import roster
from empowerment.services import signin
from empowerment.ui import components as ui
from empowerment.ui.nav import PAGES, PAGES_BY_KEY
from empowerment.ui.session import (
    ERROR,
    GO_HOME,
    MODE,
    NOTICE,
    PASSWORD_MODE,
    PICKED,
    TABLET_LOCATION,
    TABLET_MODE,
    TABLET_TEAM,
    S,
    _device_value,
    _frame,
    _now,
    _queue,
    callback,
    current_actor,
    get_db,
    sign_out,
    start_session,
    sync_cookie,
)


def _reframe_if_served_alone() -> None:
    """A fresh server runs a `pages/` file directly (Streamlit's old pages-folder mode) until some
    session has run `app.py`'s `st.navigation`. Leave that mode now and rerun through `app.py`, so
    the visitor gets the role's navigation and the sign-in frame, not the folder's page list."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory and not getattr(_frame, "active", False):
        PagesManager.uses_pages_directory = False  # what st.navigation itself does on first call
        st.rerun()


def _done() -> None:
    sign_out("done", mode=TABLET_MODE)


def done_button(key: str) -> None:
    """"Done": this person's turn at the shared tablet ends; the switch-user screen comes back."""
    st.button("Done", key=key, icon=":material/logout:", on_click=callback(_done, signed_in=False),
              help="End your turn: the tablet goes back to the switch-user screen.")


def require_page(key: str) -> Actor:
    _reframe_if_served_alone()
    actor = current_actor()
    if actor is None:
        render_sign_in()
        sync_cookie()
        st.stop()
    assert actor is not None
    spec = PAGES_BY_KEY[key]
    if not access.allows(actor, spec.action, anywhere=True):
        st.error(f"The {spec.title} page is not available to your role ({actor.role.label}).")
        st.stop()
    sync_cookie()
    return actor


def sign_in_pages() -> list[st.Page]:
    """Navigation for someone not signed in: every page URL shows the sign-in screen, so a deep
    link opens the real page right after signing in."""
    pages = [st.Page(render_sign_in, title="Sign in", icon=":material/login:", default=True)]
    for spec in PAGES:
        pages.append(st.Page(partial(render_sign_in), title="Sign in", icon=":material/login:", url_path=spec.key))
    return pages



# --- the sign-in screen ---------------------------------------------------------------------------

def render_sign_in() -> None:
    """User name and password, or the shared tablet's switch-user screen (tap your name, PIN)."""
    ui.apply_tablet_style()
    st.html(_SIGN_IN_CSS)
    st.title("Sign in")
    if S.get(NOTICE):
        st.info(S.pop(NOTICE), icon=":material/timer:")
    mode = S.get(MODE, PASSWORD_MODE)
    st.segmented_control("Sign in with", [PASSWORD_MODE, TABLET_MODE], default=mode,
                         key="_emp_mode_choice", on_change=callback(_choose_mode, signed_in=False), label_visibility="collapsed")
    if S.get(ERROR):
        st.error(S.pop(ERROR), icon=":material/lock:")
    if mode == TABLET_MODE:
        _switch_user_screen()
    else:
        _company_sign_in()
        _password_form()


def _company_sign_in() -> None:
    """The organisation's OpenID Connect provider, when one is set up (`empowerment.api.oidc_routes`)."""
    config = settings.current()
    if not config.oidc_enabled:
        return
    # A plain link in this tab: the provider's page replaces the app's, then sends the browser back.
    st.html(f"<a class='emp-oidc' href='/api/oidc/login' target='_self'>{html.escape(config.oidc_button_label)}</a>"
            "<style>.emp-oidc{display:block;max-width:480px;box-sizing:border-box;text-align:center;padding:.8rem;"
            "border-radius:.5rem;background:#1f6f5c;color:#fff!important;text-decoration:none;font-weight:600}</style>")
    st.caption("Or with a user name and password:")


# Nobody is signed in: no sidebar (a switch leaves the previous person's open); names a finger hits.
_SIGN_IN_CSS = """<style>
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"] {display: none}
.st-key-tablet_roster button {min-height: 4rem; font-size: 1.1rem}
.st-key-tablet_pin input {font-size: 1.6rem; letter-spacing: .4rem}
.st-key-tablet_pin input::placeholder {font-size: 1.1rem; letter-spacing: normal}
</style>"""


def _choose_mode() -> None:
    S[MODE] = S.get("_emp_mode_choice") or S.get(MODE, PASSWORD_MODE)
    S.pop(PICKED, None)
    _queue("POST", "/api/device", _device_value())


def _password_form() -> None:
    with st.form("_emp_sign_in_form", border=True, width=480):
        st.text_input("Username", key="_emp_username", autocomplete="username")
        st.text_input("Password", type="password", key="_emp_password",
                      autocomplete="current-password")
        st.form_submit_button("Sign in", type="primary", width="stretch", on_click=callback(_password_sign_in, signed_in=False))


def _password_sign_in() -> None:
    username, password = S.get("_emp_username", ""), S.get("_emp_password", "")
    S["_emp_password"] = ""
    try:
        actor = signin.authenticate(get_db(), username, password, now=_now())
    except AuthenticationFailed as exc:
        S[ERROR] = str(exc)
        return
    start_session(actor)


def _switch_user_screen() -> None:
    if S.get(PICKED):
        _pin_form(*S[PICKED])
        return
    locations, teams = roster.roster_places(get_db())
    places = {code: name for code, name in locations}
    location = S.get(TABLET_LOCATION) if S.get(TABLET_LOCATION) in places else None
    team_names = {code: name for code, name, loc in teams if location is None or loc == location}
    team = S.get(TABLET_TEAM) if S.get(TABLET_TEAM) in team_names else None
    left, right = st.columns(2)
    left.selectbox("Location", [None, *places], key="_emp_location_choice",
                   index=[None, *places].index(location), on_change=callback(_remember, signed_in=False),
                   format_func=lambda c: "Choose a location" if c is None else places[c],
                   args=("_emp_location_choice", TABLET_LOCATION))
    right.selectbox("Team", [None, *team_names], key="_emp_team_choice",
                    index=[None, *team_names].index(team), on_change=callback(_remember, signed_in=False),
                    format_func=lambda c: "Choose a team" if c is None else team_names[c],
                    args=("_emp_team_choice", TABLET_TEAM))
    if location is None or team is None:
        # Nobody is signed in yet: the names (and who works where) only for the chosen team's tablet.
        st.info("Choose this tablet's location and team to see the names. The tablet remembers them.",
                icon=":material/location_on:")
        return
    people = roster.tablet_roster(get_db(), location, team)
    if not people:
        st.info("Nobody here has a PIN yet. An admin can set PINs; until then, sign in with a "
                "password.")
        return
    st.caption("Tap your name.")
    with st.container(key="tablet_roster"):
        columns = st.columns(4)
        for i, person in enumerate(people):
            columns[i % 4].button(person.name, key=f"_emp_pick_{person.code}", width="stretch",
                                  help=" · ".join(x for x in (person.team, person.location) if x),
                                  on_click=callback(_pick, signed_in=False), args=(person.code, person.name))


def _remember(widget_key: str, state_key: str) -> None:
    S[state_key] = S.get(widget_key)
    _queue("POST", "/api/device", _device_value())


def _pick(code: str, name: str) -> None:
    S[PICKED] = (code, name)


def _pin_form(code: str, name: str) -> None:
    st.subheader(ui.md(name))
    ui.keypads(numeric=("_emp_pin",))  # the numeric pad, not the full keyboard
    with st.container(key="tablet_pin", width=420):
        with st.form("_emp_pin_form", border=False):
            st.text_input("PIN", type="password", max_chars=6, key="_emp_pin",
                          placeholder="4 to 6 digits", autocomplete="off")
            st.form_submit_button("Switch", type="primary", width="stretch", on_click=callback(_pin_sign_in, signed_in=False))
        st.button("Not me", key="_emp_not_me", icon=":material/undo:", width="stretch",
                  on_click=callback(_not_me, signed_in=False))


def _not_me() -> None:
    S.pop(PICKED, None)


def _pin_sign_in() -> None:
    picked, pin = S.get(PICKED), S.get("_emp_pin", "")
    S["_emp_pin"] = ""
    if not picked:
        return
    try:
        actor = signin.authenticate_pin(get_db(), picked[0], pin, now=_now())
    except AuthenticationFailed as exc:  # PinLocked is one too
        S[ERROR] = str(exc)
        return
    start_session(actor)
    S[GO_HOME] = True  # at the shared tablet everyone starts on their own landing page
