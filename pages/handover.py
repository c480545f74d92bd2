"""Shift hand-over: the last 24 hours per location - what is still open, and the recoveries worth
knowing about - plus a printable digest to download (text or HTML, everything escaped)."""

from __future__ import annotations

import streamlit as st

from empowerment.api.digest_routes import DIGEST_PATH
from empowerment.reports import digest
from empowerment.ui import components as ui
from empowerment.ui.session import get_db
from empowerment.ui.signin import require_page

actor = require_page("handover")
db = get_db()

st.title("📋 Shift hand-over")
data = digest.read_handover(db, actor)  # HR and CX: pseudonymised, and the read is audited
st.caption(f"From {data.since:%a %d %b %H:%M} to {data.until:%a %d %b %H:%M}, for "
           + ("every location." if data.every_location else "the locations of your team.")
           + (f" {digest.PSEUDONYM_NOTE}" if data.pseudonymised else ""))

# Links to a route that checks the sign-in cookie on every fetch (a download button's /media URL
# needs none, and stayed fetchable after the tablet switched to someone else).
with st.container(horizontal=True):
    st.link_button("Printable digest (HTML)", f"{DIGEST_PATH}?format=html", icon="🖨️")
    st.link_button("Digest as text", f"{DIGEST_PATH}?format=text", icon="📄")

if not data.locations:
    ui.empty_state("A quiet 24 hours", "Nothing open and no notable recoveries to hand over.", "🌙")

for location in data.locations:
    st.subheader(ui.md(location))
    open_here = data.open_incidents[data.open_incidents["location"] == location]
    done_here = data.recoveries[data.recoveries["location"] == location]
    open_col, done_col = st.columns(2)
    with open_col:
        st.markdown(f"**Still open ({len(open_here)})**")
        if open_here.empty:
            st.caption("Nothing open.")
        for row in open_here.itertuples():
            with st.container(border=True):
                room = f" · room {ui.md(row.room)}" if isinstance(row.room, str) and row.room else ""
                st.markdown(f"**{ui.md(row.customer)}**{room} · {ui.md(row.category)}")
                st.caption(f"{ui.when(row.occurred_at)} · reported by "
                           f"{ui.md(row.reported_by) if isinstance(row.reported_by, str) else '—'}")
                if isinstance(row.description, str) and row.description:
                    st.markdown(ui.md(row.description))
    with done_col:
        st.markdown(f"**Notable recoveries ({len(done_here)})**")
        if done_here.empty:
            st.caption("None to hand over.")
        for row in done_here.itertuples():
            with st.container(border=True):
                star = "⭐ " if row.featured else ""
                st.markdown(f"{star}**{ui.md(row.by)}** · {ui.md(ui.gesture_label(row.type))} "
                            f"{ui.md(ui.money(row.cost_cents))} for {ui.md(row.customer)}")
                st.caption(ui.when(row.occurred_at))
                if isinstance(row.note, str) and row.note:
                    st.markdown(f"> {ui.md(' '.join(row.note.split()))}")
