"""Care list: the customers at risk at your location, most value at risk first, each with the
reason in words; act on an entry (a call, a check-in, a note, or a gesture) and it leaves the list.
Also the location's recognition feed: featured stories, their values and a manager's thanks."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from empowerment import access
from empowerment.clock import utc_now
from empowerment.errors import EmpowermentError
from empowerment.queries import care as care_queries
from empowerment.queries import my_budget
from empowerment.services import care
from empowerment.ui import care as care_ui
from empowerment.ui import components as ui
from empowerment.ui.session import callback, get_db
from empowerment.ui.signin import require_page

S = st.session_state


def _thank(actor: object, code: str) -> None:
    try:
        care.thank(get_db(), actor, code, S.get(f"thanks_{code}", ""))  # type: ignore[arg-type]
    except EmpowermentError as exc:
        S["thanks_error"] = str(exc)
        return
    S.pop("thanks_error", None)
    S["thanks_flash"] = "Thanks sent; the story is on the feed."


def main() -> None:
    actor = require_page("care_list")
    ui.apply_tablet_style()
    st.title(":material/favorite: Care list")
    locations = care_queries.locations_in_reach(get_db(), actor)
    if not locations:
        ui.empty_state("No location yet", "Your team has no location; ask an admin to set one.", ":material/location_off:")
        return
    names = [name for _, name in locations]
    location = names[0] if len(names) == 1 else st.selectbox("Location", names, key="care_location")
    try:
        employee_code: str | None = my_budget.employee_code_for(get_db(), actor)
    except EmpowermentError:
        employee_code = None
    at_risk, feed = st.tabs(["Customers at risk", "Recognition"])
    with at_risk:
        try:
            care_ui.care_list_section(actor, employee_code, location, limit=25)
        except EmpowermentError as exc:
            st.error(ui.md(exc))
    with feed:
        if S.get("thanks_flash"):
            st.success(ui.md(S.pop("thanks_flash")), icon=":material/chat:")
        care_ui.recognition_feed(care_queries.recognition_feed(get_db(), actor, location),
                                 "When a manager thanks someone for a recovery, the story appears here.")
        if access.allows(actor, "recognition.give", anywhere=True):
            stories = care_queries.stories_to_thank(get_db(), actor, utc_now() - timedelta(days=30))
            with st.expander(f"Thank someone ({len(stories)} recent stories)", icon=":material/chat:"):
                for row in stories.head(10).itertuples():
                    st.markdown(f"**{ui.name(row.by)}** for {ui.name(row.customer)} · {ui.when(row.occurred_at)}")
                    st.markdown(f"> {ui.md(' '.join(str(row.note).split()))}")
                    st.text_input("Your thanks", key=f"thanks_{row.gesture_code}")
                    st.button("Thank and feature", key=f"thank_{row.gesture_code}", on_click=callback(_thank),
                              args=(row.gesture_code,))
                if S.get("thanks_error"):
                    st.error(ui.md(S.pop("thanks_error")))


main()
