"""The signed-in person, for pages. Contract used by every page and by AppTests:

- `st.session_state["actor"]` holds the signed-in `Actor` (AppTests may set it directly).
- `current_actor()` is that actor (its role, team and name re-read on every run), restored from
  the signed cookie after a refresh, or None once the session has been idle longer than
  `settings.idle_timeout_minutes()` or the account was deactivated.
- `empowerment.ui.signin.require_page(key)` (the gate) returns the actor if their role may open
  the page; otherwise it shows the sign-in screen (or a refusal) and stops the script.
- `get_db()` is the process's cached `Database`.

Persistence (see docs/STREAMLIT-NOTES.md): session state dies with the websocket, so after
a sign-in the page hands a short-lived signed token to `/api/session` (a route mounted by `app.py`
with `st.App(routes=...)`), which sets a signed HttpOnly SameSite=Strict cookie. A new websocket
reads it through `st.context.cookies`. Signing out or switching user revokes the session id on the
server, so the old cookie is useless even if the browser never deletes it.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import streamlit as st

from empowerment import errors, settings
from empowerment.actor import Actor, load_actor
from empowerment.db import Database
from empowerment.services import sessions
from empowerment.ui import components as ui

S = st.session_state
ACTOR = "actor"
SID, LAST_ACTIVITY = "_emp_sid", "_emp_last_activity"
MODE, COOKIE_JS, COOKIE_CHECKED, NOTICE = "_emp_mode", "_emp_cookie_js", "_emp_cookie_checked", "_emp_notice"
TABLET_LOCATION, TABLET_TEAM, PICKED, ERROR = (
    "_emp_tablet_location", "_emp_tablet_team", "_emp_tablet_pick", "_emp_error")
FAILURE = "_emp_failure"  # a callback's failure, shown once at the top of the next screen
# Kept when one person hands over to the next: the device's settings, not anybody's data.
INFRASTRUCTURE_KEYS = frozenset({MODE, COOKIE_JS, COOKIE_CHECKED, NOTICE, TABLET_LOCATION, TABLET_TEAM})
PASSWORD_MODE, TABLET_MODE = "Password", "Shared tablet"
# Set by a PIN sign-in: app.py opens the person's landing page, not the URL the last person left.
GO_HOME = "_emp_go_home"

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
    if sessions.idle_expired(S.get(LAST_ACTIVITY), now, minutes):
        sign_out("idle", notice=f"Signed out after {minutes} minutes without activity.")
        return None
    S[LAST_ACTIVITY] = now
    if S.get(SID):
        sessions.touch_session(get_db(), S[SID], now)
    if actor.employee_id is not None:
        # Re-read every run (one primary-key read): a changed role or team applies at once,
        # and a deactivated account is signed out instead of keeping access until it idles.
        fresh = load_actor(get_db(), actor.employee_id)
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
    device = sessions.parse_device(st.context.cookies.get(sessions.DEVICE_COOKIE))
    if device:
        S.setdefault(MODE, TABLET_MODE if device[0] == "tablet" else PASSWORD_MODE)
        S.setdefault(TABLET_LOCATION, device[1])
        S.setdefault(TABLET_TEAM, device[2])
    claim = sessions.read_cookie(st.context.cookies.get(sessions.SESSION_COOKIE))
    if claim is None:
        return None
    actor = sessions.restore_session(get_db(), claim, _now(), settings.idle_timeout_minutes())
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
        sessions.end_session(db, previous if isinstance(previous, Actor) else None, previous_sid, "switched")
    _wipe()
    sid, now = sessions.new_session_id(), _now()
    S[ACTOR], S[SID], S[LAST_ACTIVITY] = actor, sid, now
    sessions.touch_session(db, sid, now)
    if actor.employee_id is not None:
        _queue("POST", "/api/session", sessions.handoff_token(actor.employee_id, sid))


def sign_out(reason: str = "signed out", *, notice: str | None = None, mode: str | None = None) -> None:
    actor, sid = S.get(ACTOR), S.get(SID)
    sessions.end_session(get_db(), actor if isinstance(actor, Actor) else None, sid, reason)
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


# --- callbacks and failures -----------------------------------------------------------------------

def callback(fn: Callable[..., Any], *, signed_in: bool = True) -> Callable[..., None]:
    """Every `on_click` / `on_change` in pages/ and ui/ goes through this (a test checks).

    Streamlit runs a callback before the script, so before `app.py` re-reads the person: a callback
    holding the previous run's actor would act with rights the person lost a moment ago (demoted,
    deactivated, idle past the timeout). With `signed_in` (the default) the actor is re-read from
    the database first, with the idle check, and passed as the callback's first argument; when
    nobody is signed in any more the callback does nothing and the screen shows the sign-in.

    Any failure becomes a sentence at the top of the next screen instead of a traceback (an
    unexpected one is logged with a reference code), and the widgets keep what was typed."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            if not signed_in:
                fn(*args, **kwargs)
                return
            actor = current_actor()
            if actor is None:
                return
            fn(actor, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - shown as a sentence, logged in full
            S[FAILURE] = errors.unexpected(exc, f"callback {fn.__module__}.{fn.__qualname__}")

    return run


def show_failure() -> None:
    """A callback's failure, once, where the person looks first."""
    message = S.pop(FAILURE, None)
    if message:
        st.error(message, icon=":material/warning:")


@contextmanager
def readable_failures(where: str) -> Iterator[None]:
    """Run a screen; an exception becomes a short message with a reference code and a "Try again"
    button, never a traceback. The script then stops early, which keeps every widget's value in
    session state (a finished run would drop the widgets it did not draw: the draft)."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - Streamlit's own rerun/stop are BaseExceptions, not caught
        st.error(errors.unexpected(exc, where), icon=":material/warning:")
        st.button("Try again", key="_emp_try_again", icon=":material/refresh:", type="primary")
        st.stop()


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


def _device_value() -> str:
    mode = "tablet" if S.get(MODE) == TABLET_MODE else "password"
    return f"{mode}|{S.get(TABLET_LOCATION) or ''}|{S.get(TABLET_TEAM) or ''}"



# --- the frame's pieces ---------------------------------------------------------------------------

def render_account_box(actor: Actor) -> None:
    """Sidebar: who is signed in, and the way out."""
    with st.sidebar:
        st.caption(f"Signed in as **{ui.md(actor.name)}** · {actor.role.label}")
        st.button("Switch user", key="_emp_switch", icon=":material/switch_account:", width="stretch",
                  on_click=callback(sign_out, signed_in=False), kwargs=dict(reason="switch user", mode=TABLET_MODE))
        st.button("Sign out", key="_emp_sign_out", icon=":material/logout:", width="stretch",
                  on_click=callback(sign_out, signed_in=False))
        _idle_watch()


@st.fragment(run_every=timedelta(seconds=30))
def _idle_watch() -> None:
    """Return an untouched screen to the sign-in screen on time, without waiting for a tap."""
    if sessions.idle_expired(S.get(LAST_ACTIVITY), _now(), settings.idle_timeout_minutes()):
        st.rerun()
