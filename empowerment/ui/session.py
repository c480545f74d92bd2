"""The signed-in person, for pages. Contract used by every page and by AppTests:

- `st.session_state["actor"]` holds the signed-in `Actor` (AppTests may set it directly).
- `current_actor()` is that actor, restored from the signed cookie after a refresh, or None once
  the session has been idle longer than `settings.idle_timeout_minutes()`.
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
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

import streamlit as st
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from empowerment import auth, settings
from empowerment.actor import Actor
from empowerment.db import Database
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
    return actor


def _restore_from_cookie() -> Actor | None:
    """Once per browser session: the person named by a valid, live, unrevoked cookie."""
    if S.get(COOKIE_CHECKED):
        return None
    S[COOKIE_CHECKED] = True
    claim = auth.read_cookie(st.context.cookies.get(auth.SESSION_COOKIE))
    if claim is None:
        return None
    actor = auth.restore_session(get_db(), claim, _now(), settings.idle_timeout_minutes())
    if actor is None:
        S[COOKIE_JS] = ("clear", "")
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
    if previous_sid:
        auth.end_session(db, previous if isinstance(previous, Actor) else None, previous_sid, "switched")
    _wipe()
    sid, now = auth.new_session_id(), _now()
    S[ACTOR], S[SID], S[LAST_ACTIVITY] = actor, sid, now
    auth.touch_session(sid, now)
    if actor.employee_id is not None:
        S[COOKIE_JS] = ("set", auth.handoff_token(actor.employee_id, sid))


def sign_out(reason: str = "signed out", *, notice: str | None = None, mode: str | None = None) -> None:
    actor, sid = S.get(ACTOR), S.get(SID)
    auth.end_session(get_db(), actor if isinstance(actor, Actor) else None, sid, reason)
    _wipe()
    S[COOKIE_JS] = ("clear", "")
    if notice:
        S[NOTICE] = notice
    if mode:
        S[MODE] = mode


def require_page(key: str) -> Actor:
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

def sync_cookie() -> None:
    """Tell the browser to store or drop the session cookie (once, after a sign-in or sign-out)."""
    pending = S.pop(COOKIE_JS, None)
    if not pending:
        return
    action, token = pending
    if action == "set":
        call = f"fetch('/api/session', {{method: 'POST', body: {json.dumps(token)}, cache: 'no-store'}})"
    else:
        call = "fetch('/api/session', {method: 'DELETE', cache: 'no-store'})"
    st.html(f"<script>{call}.catch(() => {{}});</script>", unsafe_allow_javascript=True)


# --- the cookie: server side (mounted by app.py through st.App(routes=...)) -----------------------

async def _session_route(request: Request) -> Response:
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    if request.method == "DELETE":
        response.delete_cookie(auth.SESSION_COOKIE, path="/", httponly=True, samesite="strict")
        return response
    token = (await request.body())[:4096].decode("ascii", errors="replace")
    value = auth.cookie_from_handoff(token)
    if value is None:
        return Response(status_code=400, headers={"Cache-Control": "no-store"})
    https = request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
    response.set_cookie(auth.SESSION_COOKIE, value, max_age=auth.SESSION_MAX_AGE_SECONDS,
                        path="/", httponly=True, samesite="strict", secure=https)
    return response


def cookie_routes() -> list[BaseRoute]:
    return [Route("/api/session", _session_route, methods=["POST", "DELETE"])]


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
        st.caption(f"Signed in as **{_md(actor.name)}** · {actor.role.value.replace('_', ' ')}")
        left, right = st.columns(2)
        left.button("Switch user", key="_emp_switch", icon="🔁", width="stretch",
                    on_click=sign_out, kwargs=dict(reason="switch user", mode=TABLET_MODE))
        right.button("Sign out", key="_emp_sign_out", icon="🚪", width="stretch", on_click=sign_out)
        _idle_watch()


@st.fragment(run_every=timedelta(seconds=30))
def _idle_watch() -> None:
    """Return an untouched screen to the sign-in screen on time, without waiting for a tap."""
    if auth.idle_expired(S.get(LAST_ACTIVITY), _now(), settings.idle_timeout_minutes()):
        st.rerun()


def _md(text: object) -> str:
    from empowerment.ui.components import md

    return md(text)


def render_sign_in() -> None:
    """The sign-in screen: user name and password, or the shared tablet's switch-user screen."""
    from empowerment.ui import signin_view

    signin_view.render()
