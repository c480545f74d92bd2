"""The signed-in person, for pages. Contract used by every page and by AppTests:

- `st.session_state["actor"]` holds the signed-in `Actor` (AppTests may set it directly).
- `require_page(key)` returns the actor if their role may open the page; otherwise it shows the
  sign-in screen (or a refusal) and stops the script.
- `get_db()` is the process's cached `Database`.

(Provisional: the sign-in and cookie logic is being built in issue 4.)
"""

from __future__ import annotations

import streamlit as st

from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.ui.nav import PAGES_BY_KEY


@st.cache_resource(show_spinner=False)
def get_db() -> Database:
    return Database()


def current_actor() -> Actor | None:
    actor = st.session_state.get("actor")
    return actor if isinstance(actor, Actor) else None


def render_sign_in() -> None:
    st.title("Sign in")
    st.info("Sign in to continue.")


def require_page(key: str) -> Actor:
    actor = current_actor()
    if actor is None:
        render_sign_in()
        st.stop()
    assert actor is not None
    spec = PAGES_BY_KEY[key]
    if actor.role not in spec.roles:
        st.error(f"The {spec.title} page is not available to your role ({actor.role.value}).")
        st.stop()
    return actor
