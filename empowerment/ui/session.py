"""The signed-in person, for pages. Contract used by every page and by AppTests:

- `st.session_state["actor"]` holds the signed-in `Actor` (AppTests may set it directly).
- `current_actor()` is that actor (its role, team and name re-read on every run), restored from
  the signed cookie after a refresh, or None once the session has been idle longer than
  `settings.idle_timeout_minutes()` or the account was deactivated.
- `require_page(key)` returns the actor if their role may open the page; otherwise it shows the
  sign-in screen (or a refusal) and stops the script. Pages call it first: Streamlit may serve a
  page file before `app.py` has run.
- `get_db()` is the process's cached `Database`.

Persistence (see /work/shared/STREAMLIT-NOTES.md): session state dies with the websocket, so after
a sign-in the page hands a short-lived signed token to `/api/session` (a route mounted by `app.py`
with `st.App(routes=...)`), which sets a signed HttpOnly SameSite=Strict cookie. A new websocket
reads it through `st.context.cookies`. Signing out or switching user revokes the session id on the
server, so the old cookie is useless even if the browser never deletes it.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import partial

import streamlit as st
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from empowerment import auth, settings
from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.errors import AuthenticationFailed
from empowerment.ui import components as ui
from empowerment.ui.nav import PAGES, PAGES_BY_KEY

S = st.session_state
ACTOR = "actor"
SID, LAST_ACTIVITY = "_emp_sid", "_emp_last_activity"
MODE, COOKIE_JS, COOKIE_CHECKED, NOTICE = "_emp_mode", "_emp_cookie_js", "_emp_cookie_checked", "_emp_notice"
TABLET_LOCATION, TABLET_TEAM, PICKED, ERROR = (
    "_emp_tablet_location", "_emp_tablet_team", "_emp_tablet_pick", "_emp_error")
# Kept when one person hands over to the next: the device's settings, not anybody's data.
INFRASTRUCTURE_KEYS = frozenset({MODE, COOKIE_JS, COOKIE_CHECKED, NOTICE, TABLET_LOCATION, TABLET_TEAM})
PASSWORD_MODE, TABLET_MODE = "Password", "Shared tablet"

clock: Callable[[], datetime] = datetime.now  # tests replace it to move time forward


@st.cache_resource(show_spinner=False)
def get_db() -> Database:
    return Database()


def _now() -> datetime:
    return clock().replace(microsecond=0)


# --- who is signed in -----------------------------------------------------------------------------

def current_actor() -> Actor | None:
    """The signed-in actor, after the idle check; also records this run as activity."""
    actor = S.get(ACTOR)
    if getattr(_frame, "active", False):  # app.py checked and refreshed it earlier in this run
        return actor if isinstance(actor, Actor) else None
    if not isinstance(actor, Actor):
        actor = _restore_from_cookie()
    if actor is None:
        return None
    now, minutes = _now(), settings.idle_timeout_minutes()
    if auth.idle_expired(S.get(LAST_ACTIVITY), now, minutes):
        sign_out("idle", notice=f"Signed out after {minutes} minutes without activity.")
        return None
    S[LAST_ACTIVITY] = now
    if S.get(SID):
        auth.touch_session(S[SID], now)
    if actor.employee_id is not None:
        # Re-read every run (one primary-key read): a changed role or team applies at once,
        # and a deactivated account is signed out instead of keeping access until it idles.
        fresh = auth.load_actor(get_db(), actor.employee_id)
        if fresh is None:
            S.pop(ACTOR, None)  # recorded as the screen: the account may not exist any more
            sign_out("account deactivated",
                     notice="Your account is no longer active. Ask an admin if this is a mistake.")
            return None
        if fresh != actor:
            S[ACTOR] = actor = fresh
    return actor


def _restore_from_cookie() -> Actor | None:
    """Once per browser session: the device's sign-in settings, and the person named by a valid,
    live, unrevoked session cookie."""
    if S.get(COOKIE_CHECKED):
        return None
    S[COOKIE_CHECKED] = True
    device = _parse_device(st.context.cookies.get(DEVICE_COOKIE))
    if device:
        S.setdefault(MODE, device[0])
        S.setdefault(TABLET_LOCATION, device[1])
        S.setdefault(TABLET_TEAM, device[2])
    claim = auth.read_cookie(st.context.cookies.get(auth.SESSION_COOKIE))
    if claim is None:
        return None
    actor = auth.restore_session(get_db(), claim, _now(), settings.idle_timeout_minutes())
    if actor is None:
        _queue("DELETE", "/api/session")
        return None
    S[ACTOR], S[SID], S[LAST_ACTIVITY] = actor, claim.sid, _now()
    return actor


def _wipe() -> None:
    """Forget everything the previous person had on screen; keep only the device's settings."""
    for key in list(S.keys()):
        if key not in INFRASTRUCTURE_KEYS:
            del S[key]


def start_session(actor: Actor) -> None:
    """Make `actor` the signed-in person (ending whoever was signed in on this screen)."""
    previous, previous_sid = S.get(ACTOR), S.get(SID)
    db = get_db()
    if previous_sid or isinstance(previous, Actor):
        auth.end_session(db, previous if isinstance(previous, Actor) else None, previous_sid, "switched")
    _wipe()
    sid, now = auth.new_session_id(), _now()
    S[ACTOR], S[SID], S[LAST_ACTIVITY] = actor, sid, now
    auth.touch_session(sid, now)
    if actor.employee_id is not None:
        _queue("POST", "/api/session", auth.handoff_token(actor.employee_id, sid))


def sign_out(reason: str = "signed out", *, notice: str | None = None, mode: str | None = None) -> None:
    actor, sid = S.get(ACTOR), S.get(SID)
    auth.end_session(get_db(), actor if isinstance(actor, Actor) else None, sid, reason)
    _wipe()
    _queue("DELETE", "/api/session")
    if notice:
        S[NOTICE] = notice
    if mode:
        S[MODE] = mode


_frame = threading.local()


@contextmanager
def framed() -> Iterator[None]:
    """`app.py` runs the chosen page inside this, so a page knows the frame is around it."""
    _frame.active = True
    try:
        yield
    finally:
        _frame.active = False


def _reframe_if_served_alone() -> None:
    """A fresh server runs a `pages/` file directly (Streamlit's old pages-folder mode) until some
    session has run `app.py`'s `st.navigation`. Leave that mode now and rerun through `app.py`, so
    the visitor gets the role's navigation and the sign-in frame, not the folder's page list."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory and not getattr(_frame, "active", False):
        PagesManager.uses_pages_directory = False  # what st.navigation itself does on first call
        st.rerun()


def require_page(key: str) -> Actor:
    _reframe_if_served_alone()
    actor = current_actor()
    if actor is None:
        render_sign_in()
        sync_cookie()
        st.stop()
    assert actor is not None
    spec = PAGES_BY_KEY[key]
    if actor.role not in spec.roles:
        st.error(f"The {spec.title} page is not available to your role ({actor.role.value}).")
        st.stop()
    sync_cookie()
    return actor


# --- the cookie: page side ------------------------------------------------------------------------

def _queue(method: str, path: str, body: str = "") -> None:
    S[COOKIE_JS] = [*S.get(COOKIE_JS, []), (method, path, body)]


def sync_cookie() -> None:
    """Have the browser call our cookie routes (once, after a sign-in, sign-out or device choice)."""
    pending = S.pop(COOKIE_JS, None)
    if not pending:
        return
    calls = "".join(
        f"await fetch({json.dumps(path)}, {{method: {json.dumps(method)}, body: "
        f"{json.dumps(body) if method == 'POST' else 'null'}, cache: 'no-store'}});"
        for method, path, body in pending)
    with st.container(key="emp_cookie_sync"):  # hidden: no gap in the layout
        st.html(f"<style>.st-key-emp_cookie_sync {{display: none}}</style>"
                f"<script>(async () => {{ {calls} }})().catch(() => {{}});</script>",
                unsafe_allow_javascript=True)


DEVICE_COOKIE = "emp_device"
_DEVICE_PART = re.compile(r"^[A-Za-z0-9._-]{0,64}$")


def _device_value() -> str:
    mode = "tablet" if S.get(MODE) == TABLET_MODE else "password"
    return f"{mode}|{S.get(TABLET_LOCATION) or ''}|{S.get(TABLET_TEAM) or ''}"


def _parse_device(value: str | None) -> tuple[str, str | None, str | None] | None:
    """'tablet|HAR|HAR-FD' -> (mode, location code, team code); None if malformed."""
    parts = (value or "").split("|")
    if len(parts) != 3 or parts[0] not in ("tablet", "password"):
        return None
    if not all(_DEVICE_PART.match(p) for p in parts[1:]):
        return None
    return (TABLET_MODE if parts[0] == "tablet" else PASSWORD_MODE), parts[1] or None, parts[2] or None


# --- the cookie: server side (mounted by app.py through st.App(routes=...)) -----------------------

async def _device_route(request: Request) -> Response:
    """Remembers, per browser, which sign-in screen and which location/team the tablet shows."""
    value = (await request.body())[:300].decode("ascii", errors="replace")
    if _parse_device(value) is None:
        return Response(status_code=400, headers={"Cache-Control": "no-store"})
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.set_cookie(DEVICE_COOKIE, value, max_age=365 * 86400, path="/", httponly=True,
                        samesite="strict", secure=_https(request))
    return response


def _https(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


async def _session_route(request: Request) -> Response:
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    if request.method == "DELETE":
        response.delete_cookie(auth.SESSION_COOKIE, path="/", httponly=True, samesite="strict")
        return response
    token = (await request.body())[:4096].decode("ascii", errors="replace")
    value = auth.cookie_from_handoff(token)
    if value is None:
        return Response(status_code=400, headers={"Cache-Control": "no-store"})
    response.set_cookie(auth.SESSION_COOKIE, value, max_age=auth.SESSION_MAX_AGE_SECONDS,
                        path="/", httponly=True, samesite="strict", secure=_https(request))
    return response


def cookie_routes() -> list[BaseRoute]:
    return [Route("/api/session", _session_route, methods=["POST", "DELETE"]),
            Route("/api/device", _device_route, methods=["POST"])]


# --- the frame's pieces ---------------------------------------------------------------------------

def sign_in_pages() -> list[st.Page]:
    """Navigation for someone not signed in: every page URL shows the sign-in screen, so a deep
    link opens the real page right after signing in."""
    pages = [st.Page(render_sign_in, title="Sign in", icon="🔐", default=True)]
    for spec in PAGES:
        pages.append(st.Page(partial(render_sign_in), title="Sign in", icon="🔐", url_path=spec.key))
    return pages


def render_account_box(actor: Actor) -> None:
    """Sidebar: who is signed in, and the way out."""
    with st.sidebar:
        st.caption(f"Signed in as **{ui.md(actor.name)}** · {actor.role.value.replace('_', ' ')}")
        st.button("Switch user", key="_emp_switch", icon="🔁", width="stretch",
                  on_click=sign_out, kwargs=dict(reason="switch user", mode=TABLET_MODE))
        st.button("Sign out", key="_emp_sign_out", icon="🚪", width="stretch", on_click=sign_out)
        _idle_watch()


@st.fragment(run_every=timedelta(seconds=30))
def _idle_watch() -> None:
    """Return an untouched screen to the sign-in screen on time, without waiting for a tap."""
    if auth.idle_expired(S.get(LAST_ACTIVITY), _now(), settings.idle_timeout_minutes()):
        st.rerun()


# --- the sign-in screen ---------------------------------------------------------------------------

def render_sign_in() -> None:
    """User name and password, or the shared tablet's switch-user screen (tap your name, PIN)."""
    ui.apply_tablet_style()
    st.html(_SIGN_IN_CSS)
    st.title("Sign in")
    if S.get(NOTICE):
        st.info(S.pop(NOTICE), icon="⏱️")
    mode = S.get(MODE, PASSWORD_MODE)
    st.segmented_control("Sign in with", [PASSWORD_MODE, TABLET_MODE], default=mode,
                         key="_emp_mode_choice", on_change=_choose_mode, label_visibility="collapsed")
    if S.get(ERROR):
        st.error(S.pop(ERROR), icon="🔒")
    if mode == TABLET_MODE:
        _switch_user_screen()
    else:
        _password_form()


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
        st.form_submit_button("Sign in", type="primary", width="stretch", on_click=_password_sign_in)


def _password_sign_in() -> None:
    username, password = S.get("_emp_username", ""), S.get("_emp_password", "")
    S["_emp_password"] = ""
    try:
        actor = auth.authenticate(get_db(), username, password, now=_now())
    except AuthenticationFailed as exc:
        S[ERROR] = str(exc)
        return
    start_session(actor)


def _switch_user_screen() -> None:
    if S.get(PICKED):
        _pin_form(*S[PICKED])
        return
    locations, teams = auth.roster_places(get_db())
    places = {code: name for code, name in locations}
    location = S.get(TABLET_LOCATION) if S.get(TABLET_LOCATION) in places else None
    team_names = {code: name for code, name, loc in teams if location is None or loc == location}
    team = S.get(TABLET_TEAM) if S.get(TABLET_TEAM) in team_names else None
    left, right = st.columns(2)
    left.selectbox("Location", [None, *places], key="_emp_location_choice",
                   index=[None, *places].index(location), on_change=_remember,
                   format_func=lambda c: "All locations" if c is None else places[c],
                   args=("_emp_location_choice", TABLET_LOCATION))
    right.selectbox("Team", [None, *team_names], key="_emp_team_choice",
                    index=[None, *team_names].index(team), on_change=_remember,
                    format_func=lambda c: "All teams" if c is None else team_names[c],
                    args=("_emp_team_choice", TABLET_TEAM))
    roster = auth.tablet_roster(get_db(), location, team)
    if not roster:
        st.info("Nobody here has a PIN yet. An admin can set PINs; until then, sign in with a "
                "password.")
        return
    st.caption("Tap your name.")
    with st.container(key="tablet_roster"):
        columns = st.columns(4)
        for i, person in enumerate(roster):
            columns[i % 4].button(person.name, key=f"_emp_pick_{person.code}", width="stretch",
                                  help=" · ".join(x for x in (person.team, person.location) if x),
                                  on_click=_pick, args=(person.code, person.name))


def _remember(widget_key: str, state_key: str) -> None:
    S[state_key] = S.get(widget_key)
    _queue("POST", "/api/device", _device_value())


def _pick(code: str, name: str) -> None:
    S[PICKED] = (code, name)


def _pin_form(code: str, name: str) -> None:
    st.subheader(f"👋 {ui.md(name)}")
    with st.container(key="tablet_pin", width=420):
        with st.form("_emp_pin_form", border=False):
            st.text_input("PIN", type="password", max_chars=6, key="_emp_pin",
                          placeholder="4 to 6 digits", autocomplete="off")
            st.form_submit_button("Switch", type="primary", width="stretch", on_click=_pin_sign_in)
        st.button("Not me", key="_emp_not_me", icon="↩️", width="stretch",
                  on_click=lambda: S.pop(PICKED, None))


def _pin_sign_in() -> None:
    picked, pin = S.get(PICKED), S.get("_emp_pin", "")
    S["_emp_pin"] = ""
    if not picked:
        return
    try:
        actor = auth.authenticate_pin(get_db(), picked[0], pin, now=_now())
    except AuthenticationFailed as exc:  # PinLocked is one too
        S[ERROR] = str(exc)
        return
    start_session(actor)
