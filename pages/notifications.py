"""Notifications: each person chooses where they hear about approvals, decisions, reviews and the
weekly digest. `services.notifications.preferences` checks the addresses and saves."""

from __future__ import annotations

import streamlit as st

from empowerment.actor import Actor
from empowerment.errors import EmpowermentError
from empowerment.models import NotificationChannel
from empowerment.queries.connections import my_channels
from empowerment.queries.my_budget import employee_code_for
from empowerment.services.notifications.preferences import ChannelChoice, set_channels
from empowerment.ui import components as ui
from empowerment.ui.session import callback, get_db
from empowerment.ui.signin import require_page

S = st.session_state
FLASH = "nt_flash"

actor = require_page("notifications")
db = get_db()
code = employee_code_for(db, actor)
email, states = my_channels(db, actor, code)
HINTS = {"email": "Your work email", "slack": "https://hooks.slack.com/services/...",
         "teams": "https://...logic.azure.com/workflows/...", "webhook": "https://your-system.example/hooks"}


def _save(actor: Actor) -> None:
    choices = []
    for channel in NotificationChannel:
        target = (S.get(f"nt_target_{channel.value}") or "").strip() or None
        choices.append(ChannelChoice(channel.value, bool(S.get(f"nt_on_{channel.value}")), target,
                                     (S.get("nt_secret") or "").strip() or None
                                     if channel == NotificationChannel.WEBHOOK else None))
    try:
        set_channels(db, actor, code, choices)
    except EmpowermentError as exc:
        ui.flash(FLASH, "error", str(exc))
        return
    S["nt_secret"] = ""
    ui.flash(FLASH, "success", "Saved: new notifications go where you chose.")


st.title("Notifications")
st.caption("Approvals waiting for you, decisions on your gestures, gestures to review and the weekly digest. "
           "Each message links to the page where you act.")
ui.show_flash(FLASH)
with st.form("nt_form", border=True, width=640):
    for state in states:
        channel = NotificationChannel(state.channel)
        st.toggle(channel.label, value=state.enabled, key=f"nt_on_{channel.value}")
        if channel == NotificationChannel.EMAIL:
            st.text_input("Email address", value=state.target or "", key="nt_target_email",
                          placeholder=email or HINTS["email"],
                          help="Empty: your work email" + (f" ({email})." if email else " (none recorded yet)."))
        else:
            st.text_input(f"{channel.label}: address", value=state.target or "", key=f"nt_target_{channel.value}",
                          placeholder=HINTS[channel.value])
        if channel == NotificationChannel.WEBHOOK:
            st.text_input("Signing secret", type="password", key="nt_secret",
                          placeholder="kept" if state.has_secret else "at least 16 characters",
                          help="We sign each post with it (X-Empowerment-Signature).")
    st.form_submit_button("Save", type="primary", on_click=callback(_save))
