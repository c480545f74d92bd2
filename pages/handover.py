"""Shift hand-over: per location, what is still open (last 30 days) and the recoveries worth knowing
about (last 24 hours), plus a printable digest (text or HTML, everything escaped). Each open card
can be acknowledged, taken over or closed with a note; a recovery can be marked followed up."""

from __future__ import annotations

import streamlit as st

from empowerment import access
from empowerment.actor import Actor
from empowerment.api.digest_routes import DIGEST_PATH
from empowerment.errors import EmpowermentError
from empowerment.reports import digest
from empowerment.services import incidents
from empowerment.ui import care as care_ui
from empowerment.ui import components as ui
from empowerment.ui.session import callback, get_db
from empowerment.ui.signin import done_button, require_page

FLASH = "ho_flash"


def _act(actor: Actor, verb: str, code: str) -> None:
    """One hand-over action; its outcome is said on the card it came from."""
    try:
        if verb == "acknowledge":
            incidents.acknowledge(get_db(), actor, code)
            message = "Acknowledged: the next shift sees you know about it."
        elif verb == "take_over":
            incidents.take_over(get_db(), actor, code)
            message = "It is yours now."
        elif verb == "close":
            incidents.close(get_db(), actor, code, st.session_state.get(f"ho_note_{code}", ""))
            message = "Closed with your note."
        else:
            incidents.follow_up(get_db(), actor, code, st.session_state.get(f"ho_fu_note_{code}", ""))
            message = "Marked followed up."
    except EmpowermentError as exc:
        st.session_state[FLASH] = (code, "error", str(exc))
        return
    st.session_state[FLASH] = (code, "success", message)


def _said_here(code: str) -> None:
    flashed = st.session_state.get(FLASH)
    if flashed and flashed[0] == code:
        st.session_state.pop(FLASH)
        getattr(st, flashed[1])(ui.md(flashed[2]))


actor = require_page("handover")
db = get_db()
ui.apply_tablet_style()
may_act = access.allows(actor, "incident.handle", anywhere=True)

with st.container(horizontal=True, vertical_alignment="center"):
    st.title(":material/assignment: Shift hand-over", width="stretch")
    done_button("ho_done")
data = digest.read_handover(db, actor)  # HR and CX: pseudonymised, and the read is audited
st.caption(f"From {data.since:%a %d %b %H:%M} to {data.until:%a %d %b %H:%M}, for "
           + ("every location." if data.every_location else "the locations of your team.")
           + (f" {digest.PSEUDONYM_NOTE}" if data.pseudonymised else ""))

# Links to a route that checks the sign-in cookie on every fetch (a download button's /media URL
# needs none, and stayed fetchable after the tablet switched to someone else).
with st.container(horizontal=True):
    st.link_button("Printable digest (HTML)", f"{DIGEST_PATH}?format=html", icon=":material/print:")
    st.link_button("Digest as text", f"{DIGEST_PATH}?format=text", icon=":material/description:")

# Proactive care (issue 13): who is at risk, which recoveries still need a follow-up, what waits.
care_ui.hand_over_sections(actor)

if not data.locations:
    ui.empty_state("A quiet 24 hours", "Nothing open and no notable recoveries to hand over.", ":material/bedtime:")

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
            with st.container(border=True, key=f"tablet_open_{row.incident}"):
                room = f" · room {ui.md(row.room)}" if isinstance(row.room, str) and row.room else ""
                st.markdown(f"**{ui.name(row.customer)}**{room} · {ui.md(row.category)}")
                owner = ui.name(row.owner) if isinstance(row.owner, str) else "nobody yet"
                seen = (f" · acknowledged by {ui.name(row.acknowledged_by)}"
                        if isinstance(row.acknowledged_by, str) else "")
                st.caption(f"{ui.when_local(row.occurred_at)} · reported by "
                           f"{ui.name(row.reported_by) if isinstance(row.reported_by, str) else '—'}"
                           f" · looked after by {owner}{seen}")
                if isinstance(row.description, str) and row.description:
                    st.markdown(ui.md(row.description))
                _said_here(row.incident)
                if may_act:
                    with st.container(horizontal=True):
                        if not isinstance(row.acknowledged_by, str):
                            st.button("Acknowledge", key=f"ho_ack_{row.incident}", icon=":material/visibility:",
                                      on_click=callback(_act), args=("acknowledge", row.incident))
                        if row.owner != actor.name:
                            st.button("Take over", key=f"ho_take_{row.incident}", icon=":material/front_hand:",
                                      on_click=callback(_act), args=("take_over", row.incident))
                        with st.popover("Close", icon=":material/task_alt:"):
                            st.text_input("Why is it closed?", key=f"ho_note_{row.incident}",
                                          placeholder="e.g. guest checked out happy; nothing to give")
                            st.button("Close with this note", key=f"ho_close_{row.incident}", type="primary",
                                      on_click=callback(_act), args=("close", row.incident))
    with done_col:
        st.markdown(f"**Notable recoveries ({len(done_here)})**")
        if done_here.empty:
            st.caption("None to hand over.")
        for row in done_here.itertuples():
            with st.container(border=True):
                star = ":material/star: " if row.featured else ""
                st.markdown(f"{star}**{ui.md(row.by)}** · {ui.md(ui.gesture_label(row.type))} "
                            f"{ui.md(ui.money(row.cost_cents))} for {ui.md(row.customer)}")
                followed = (f" · followed up by {ui.name(row.followed_up_by)} {ui.when_local(row.followed_up_at)}"
                            if isinstance(row.followed_up_by, str) else "")
                st.caption(ui.when_local(row.occurred_at) + followed)
                if isinstance(row.note, str) and row.note:
                    st.markdown(f"> {ui.md(' '.join(row.note.split()))}")
                _said_here(row.incident)
                if may_act and not followed:
                    with st.popover("Followed up", icon=":material/phone_callback:"):
                        st.text_input("How did it go? (optional)", key=f"ho_fu_note_{row.incident}")
                        st.button("Mark followed up", key=f"ho_fu_{row.incident}", type="primary",
                                  on_click=callback(_act), args=("follow_up", row.incident))
