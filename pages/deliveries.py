"""Delivery log (admins): every notification to every person on every channel, its outcome, and
Send again for a failed one or one whose outcome is unknown."""

from __future__ import annotations

import streamlit as st

from empowerment.actor import Actor
from empowerment.errors import EmpowermentError
from empowerment.models import DeliveryStatus, EventKind, NotificationChannel
from empowerment.queries import connections
from empowerment.services.notifications.delivery import send_again
from empowerment.ui import components as ui
from empowerment.ui.session import callback, get_db
from empowerment.ui.signin import require_page

S = st.session_state
FLASH = "dl_flash"

actor = require_page("deliveries")
db = get_db()


def _send_again(actor: Actor, delivery_id: int) -> None:
    try:
        send_again(db, actor, delivery_id)
        ui.flash(FLASH, "success", "Queued; the worker sends it within a few seconds.")
    except EmpowermentError as exc:
        ui.flash(FLASH, "error", str(exc))


st.title("Delivery log")
ui.show_flash(FLASH)
waiting = connections.waiting_events(db, actor)
if waiting:
    st.warning(f"{waiting:,} events wait for the notification worker. If this stays, start it: "
               "`python -m empowerment notify-worker` (`make run` starts it beside the app).")
status = st.segmented_control("Show", [None, *DeliveryStatus], default=None, key="dl_status",
                              format_func=lambda s: "All" if s is None else s.label)
rows = connections.deliveries(db, actor, status.value if status else None)
if rows.empty:
    ui.empty_state("Nothing sent yet", "Notifications appear here once the worker sends them.", ":material/inbox:")
else:
    shown = rows.assign(
        event=rows["event"].map(lambda v: EventKind(v).label),
        channel=rows["channel"].map(lambda v: NotificationChannel(v).label),
        status=rows["status"].map(lambda v: DeliveryStatus(v).label))
    st.dataframe(shown.drop(columns=["delivery_id"]), hide_index=True, width="stretch", column_config={
        "created_at": st.column_config.DatetimeColumn("When", format="YYYY-MM-DD HH:mm"),
        "event": "What", "recipient": "To", "channel": "Channel", "status": "Outcome", "attempts": "Tries",
        "next_attempt_at": st.column_config.DatetimeColumn("Next try", format="YYYY-MM-DD HH:mm"),
        "sent_at": st.column_config.DatetimeColumn("Sent", format="YYYY-MM-DD HH:mm"),
        "last_error": st.column_config.TextColumn("Problem", width="large")})
    again = rows[rows["status"].map(lambda v: DeliveryStatus(v).can_send_again)]
    for row in again.head(20).itertuples():
        left, right = st.columns([4, 1])
        left.caption(f"{EventKind(row.event).label} to {ui.name(row.recipient)} · "
                     f"{NotificationChannel(row.channel).label} · {DeliveryStatus(row.status).label.lower()}")
        right.button("Send again", key=f"dl_again_{row.delivery_id}", on_click=callback(_send_again), args=(row.delivery_id,))
