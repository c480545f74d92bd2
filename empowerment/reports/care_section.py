"""The joint report's part of issue 13: which values staff live, by team (Empowerment), and where
customers' experience broke down, with the friction alerts (Customer outcomes)."""

from __future__ import annotations

from datetime import datetime, time

import pandas as pd

from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.periods import ReportWindow
from empowerment.queries import care as care_queries
from empowerment.queries.friction import friction_map
from empowerment.reports.model import ReportTable


def care_tables(db: Database, actor: Actor, window: ReportWindow, location: str | None) -> dict[str, ReportTable]:
    since = datetime.combine(window.start, time.min)
    end = datetime.combine(window.end, time.min)
    values = care_queries.values_lived(db, actor, None, since)
    frame = (values.pivot_table(index="team", columns="value", values="gestures", aggfunc="sum", fill_value=0)
             .reset_index().rename(columns={"team": "Team"})) if len(values) else pd.DataFrame({"Team": []})
    weeks = max(int((window.end - window.start).days // 7) + 1, 1)
    friction = friction_map(db, actor, location, weeks=weeks, now=end - pd.Timedelta(seconds=1))
    by_place = (friction.counts.groupby(["location", "touchpoint", "category"], as_index=False)["incidents"].sum()
                .sort_values("incidents", ascending=False).head(15)
                .rename(columns={"location": "Location", "touchpoint": "Touchpoint", "category": "Category",
                                 "incidents": "Incidents"})) if len(friction.counts) else pd.DataFrame(
        {"Location": [], "Touchpoint": [], "Category": [], "Incidents": []})
    alerts = friction.alerts
    alert_frame = pd.DataFrame({
        "Week of": [f"{w:%d %b %Y}" for w in alerts["week"]], "Location": alerts["location"],
        "Touchpoint": alerts["touchpoint"], "Category": alerts["category"], "Incidents": alerts["incidents"],
        "Usual a week": alerts["baseline"]}) if len(alerts) else pd.DataFrame(
        {"Week of": [], "Location": [], "Touchpoint": [], "Category": [], "Incidents": [], "Usual a week": []})
    value_formats = {c: "int" for c in frame.columns if c != "Team"}
    return {
        "values_lived": ReportTable(
            "values_lived", "Which values staff live, by team", "Empowerment",
            "Gestures staff tagged with one of the organisation's service values (optional, one or two per "
            "gesture) in the period.", frame, value_formats),
        "friction": ReportTable(
            "friction", "Where the experience breaks down", "Customer outcomes",
            "Incidents in the period by location, journey touchpoint and category (the most frequent first).",
            by_place, {"Incidents": "int"}),
        "friction_alerts": ReportTable(
            "friction_alerts", "Friction alerts", "Customer outcomes", friction.rule, alert_frame,
            {"Incidents": "int", "Usual a week": "number"}),
    }
