"""Empowerment: the frame. Page config, sign-in gate, navigation filtered by role."""

from __future__ import annotations

import streamlit as st

from empowerment.ui import nav
from empowerment.ui.session import current_actor, render_sign_in

st.set_page_config(page_title="Empowerment", page_icon="🤝", layout="wide")

actor = current_actor()
if actor is None:
    page = st.navigation([st.Page(render_sign_in, title="Sign in", icon="🔐")], position="hidden")
else:
    landing = nav.landing_page_for(actor.role)
    sections: dict[str, list[st.Page]] = {}
    for spec in nav.pages_for(actor.role):
        sections.setdefault(spec.section, []).append(
            st.Page(spec.path, title=spec.title, icon=spec.icon, default=spec is landing,
                    url_path=spec.key)
        )
    page = st.navigation(sections)
page.run()
