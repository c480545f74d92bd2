"""Friction map: incidents by touchpoint and category per location and week, with the weeks a
category ran well above its own baseline ringed (the rule is stated on the page)."""

from __future__ import annotations

import streamlit as st

from empowerment.charts.friction import friction_heatmap
from empowerment.errors import EmpowermentError
from empowerment.queries import care as care_queries
from empowerment.queries.friction import friction_map
from empowerment.ui import components as ui
from empowerment.ui.session import get_db
from empowerment.ui.signin import require_page


def main() -> None:
    actor = require_page("friction")
    st.title(":material/explore: Friction map")
    st.caption("Where customers' experience breaks down: incidents by journey touchpoint and category, "
               "week by week. Use it to change the process, not to blame a team.")
    locations = [name for _, name in care_queries.locations_in_reach(get_db(), actor, "friction.read")]
    if not locations:
        ui.empty_state("No location in reach", "The friction map shows the locations of the teams you manage.", ":material/location_off:")
        return
    left, right = st.columns([2, 1])
    location = left.selectbox("Location", locations, key="fr_location")
    weeks = right.select_slider("Weeks", [8, 13, 26, 52], value=13, key="fr_weeks")
    try:
        result = friction_map(get_db(), actor, location, weeks=weeks)
    except EmpowermentError as exc:
        st.error(ui.md(exc))
        return
    if result.alerts.empty:
        st.success("No category is running above its own baseline.", icon=":material/check_circle:")
    for row in result.alerts.head(5).itertuples():
        st.warning(ui.md(f"{row.category} ({row.touchpoint}) at {row.location}: {row.incidents} incidents in the "
                         f"week of {row.week:%d %b}, against a usual {row.baseline:g} a week."), icon=":material/trending_up:")
    st.caption(ui.md(f"Rule: {result.rule}"))
    if result.counts.empty:
        ui.empty_state("No incidents in these weeks", "Incidents logged at this location appear here.", ":material/explore:")
        return
    st.altair_chart(friction_heatmap(result.counts, result.alerts), width="stretch", key="fr_chart")


main()
