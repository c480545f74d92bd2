"""Empowerment: the frame. Page config, sign-in gate, navigation filtered by role.

`streamlit run app.py` finds the `st.App` below and serves this same file as the Streamlit script
with one extra route, `/api/session`, which sets and clears the signed sign-in cookie. When the
file runs as the script (`__name__ == "__main__"`, also under AppTest) it is the frame.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent


def _frame() -> None:
    from empowerment import settings
    from empowerment.ui import nav
    from empowerment.ui.session import (
        GO_HOME,
        MODE,
        TABLET_MODE,
        current_actor,
        framed,
        render_account_box,
        show_failure,
        sync_cookie,
    )
    from empowerment.ui.signin import sign_in_pages

    try:
        settings.current()
    except settings.SettingsInvalid as exc:  # say which setting is wrong instead of failing later
        st.error(str(exc))
        st.stop()
    actor = current_actor()
    if actor is not None and nav.sidebar_collapsed(actor, st.session_state.get(MODE) == TABLET_MODE):
        st.set_page_config(initial_sidebar_state="collapsed")
    home = None
    if actor is None:
        page = st.navigation(sign_in_pages(), position="hidden")
    else:
        sections: dict[str, list[st.Page]] = {}
        by_key: dict[str, st.Page] = {}
        for spec in nav.pages_for(actor):
            if not (ROOT / spec.path).is_file():  # a page not installed: leave it out, never crash
                continue
            by_key[spec.key] = st.Page(spec.path, title=spec.title, icon=spec.icon, url_path=spec.key)
            sections.setdefault(spec.section, []).append(by_key[spec.key])
        # "/" opens the role's landing page under its own URL, so a deep link to it (/team) works:
        # Streamlit serves the default page only at "/".
        landing = by_key.get(nav.landing_page_for(actor).key) or next(iter(by_key.values()))
        home = st.Page(partial(st.switch_page, landing), title=landing.title, icon=landing.icon,
                       url_path="home", default=True, visibility="hidden")
        shown = {heading: list(pages) for heading, pages in sections.items()}
        next(iter(sections.values())).insert(0, home)
        page = st.navigation(sections, position="hidden")
        nav.render_links(shown)  # plain links: Streamlit's own menu fails axe-core's list rules
        if st.session_state.pop(GO_HOME, False) and page.url_path != landing.url_path:
            st.switch_page(landing)  # a PIN sign-in at the shared tablet starts on the person's own page
        render_account_box(actor)
    if page is not home:
        # "/" only forwards to the landing page (a rerun): the cookie hand-off waits for the page
        # that stays on screen, or the rerun could remove its script before the browser ran it.
        sync_cookie()
    with framed():
        show_failure()
        page.run()


if __name__ == "__main__":
    from empowerment.ui.session import readable_failures

    st.set_page_config(page_title="Empowerment", page_icon=":material/handshake:", layout="wide", initial_sidebar_state="collapsed")
    with readable_failures("app.py"):
        _frame()
else:  # imported by `streamlit run` (uvicorn) to build the server
    from empowerment.api import routes

    app = st.App(__file__, routes=routes())
