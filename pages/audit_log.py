"""Audit log (admins, HR): who did what and when; filter by action, person and date; export CSV
(spreadsheet-safe: cells that would run as formulas are neutralised)."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from empowerment import clock, labels
from empowerment.queries import audit_log
from empowerment.ui import components as ui
from empowerment.ui.session import get_db
from empowerment.ui.signin import require_page

actor = require_page("audit_log")
db = get_db()

st.title("Audit log")
actions, people = audit_log.audit_choices(db, actor)
left, middle, right = st.columns(3)
chosen_actions = left.multiselect("Action", actions, key="al_actions", placeholder="All actions",
                                  format_func=labels.audit_action)
chosen_people = middle.multiselect("Who", people, key="al_people", placeholder="Everyone")
today = clock.business_today()
span = right.date_input("Dates", (today - timedelta(days=30), today), key="al_dates",
                        max_value=today, format="YYYY-MM-DD")
since, until = (span[0], span[-1]) if isinstance(span, tuple) and span else (None, None)

events = audit_log.query_audit(db, actor, actions=chosen_actions or None,
                              actors=chosen_people or None, since=since, until=until)
shown = len(events)
note = f" (the newest {audit_log.MAX_ROWS:,}; narrow the filters to see older ones)" \
    if shown >= audit_log.MAX_ROWS else ""
st.caption(f"{labels.count(shown, 'event')}{note}. {audit_log.time_zone_words()}")
readable = audit_log.for_people(db, actor, events)
st.download_button("Export CSV", audit_log.to_csv(readable), file_name=f"audit-log-{today}.csv",
                   mime="text/csv", icon=":material/download:", on_click="ignore", disabled=events.empty)
if events.empty:
    ui.empty_state("No events", "Nothing matches these filters.", ":material/search_off:")
else:
    # The table's own "Download as CSV" would skip the formula guard: hide it, keep Export CSV.
    st.html('<style>.st-key-al_table button[aria-label="Download as CSV"] {display: none}</style>')
    with st.container(key="al_table"):
        # Four columns fit 820 px; the reference and the detail are in the CSV and one tap away.
        picked = st.dataframe(readable, hide_index=True, width="stretch", height=480,
                              column_order=["When", "Who", "What", "On"], key="al_grid",
                              on_select="rerun", selection_mode="single-row", column_config={
                                  "When": st.column_config.DatetimeColumn("When", format="D MMM, HH:mm"),
                              })
        rows = picked.selection.rows if picked is not None else []  # type: ignore[union-attr]
        chosen = readable.iloc[rows[0]] if rows else None
        if chosen is None:
            st.caption("Tap a row to read its detail.")
        else:
            with st.container(border=True):
                st.markdown(f"**{ui.md(chosen['What'])}** · {ui.md(chosen['On'])} · {ui.when_local(chosen['When'])} "
                            f"· {ui.name(chosen['Who'])}")
                st.caption(ui.md(chosen["Detail"] or "No further detail.")
                           + (f" · Reference {ui.md(chosen['Reference'])}" if chosen["Reference"] else ""))
