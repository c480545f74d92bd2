"""The friction map's read (issue 13): incidents by week, location, touchpoint and category in
the actor's reach, and the alerts `analytics.friction` raises on them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import select

from empowerment import access
from empowerment.actor import Actor
from empowerment.analytics.friction import DEFAULT_RULE, FrictionRule, friction_alerts, weekly_counts
from empowerment.clock import utc_now
from empowerment.db import Database
from empowerment.errors import NotFound, PermissionDenied
from empowerment.models import Incident, Location
from empowerment.models.vocabulary import (
    INCIDENT_CATEGORY,
    SEVERITY_LABELS,
    TOUCHPOINT_LABELS,
    load_vocabulary,
)


@dataclass(frozen=True)
class FrictionMap:
    counts: pd.DataFrame  # week, location, touchpoint, category (labels), incidents; the shown weeks
    alerts: pd.DataFrame  # week, location, touchpoint, category, incidents, baseline, p_value
    rule: str
    weeks: pd.DatetimeIndex


def friction_map(db: Database, actor: Actor, location: str | None = None, *, weeks: int = 26,
                 now: datetime | None = None, rule: FrictionRule = DEFAULT_RULE) -> FrictionMap:
    now = now or utc_now()
    this_week = pd.Timestamp(now).normalize() - pd.Timedelta(days=pd.Timestamp(now).weekday())
    calendar = pd.date_range(end=this_week, periods=weeks + rule.baseline_weeks, freq="7D")
    with db.read() as session:
        reach = access.location_ids(session, actor, "friction.read")
        query = (select(Incident.occurred_at, Location.name, Incident.category)
                 .outerjoin(Location, Location.id == Incident.location_id)
                 .where(Incident.occurred_at >= calendar[0].to_pydatetime(),
                        Incident.occurred_at < (this_week + timedelta(days=7)).to_pydatetime()))
        if reach is not None:
            query = query.where(Incident.location_id.in_(reach))
        if location is not None:
            found = session.scalar(select(Location.id).where((Location.code == location) | (Location.name == location)))
            if found is None:
                raise NotFound(f"No location '{location}'.")
            if reach is not None and found not in reach:
                raise PermissionDenied("You may only see the friction map of your own locations.")
            query = query.where(Incident.location_id == found)
        rows = session.execute(query).all()
        vocab = load_vocabulary(session)
    incidents = pd.DataFrame(rows, columns=["occurred_at", "location", "category"])
    touchpoints = {t.code: t.touchpoint or "anywhere" for t in vocab.of(INCIDENT_CATEGORY, include_retired=True)}
    counts = weekly_counts(incidents, touchpoints)
    alerts = friction_alerts(counts, rule, calendar)
    shown = calendar[rule.baseline_weeks:]

    def readable(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        out["category"] = out["category"].map(lambda c: vocab.label(INCIDENT_CATEGORY, c))
        out["touchpoint"] = out["touchpoint"].map(lambda t: TOUCHPOINT_LABELS.get(t, str(t).capitalize()))
        return out

    counts = readable(counts.loc[counts["week"] >= shown[0]]) if len(counts) else counts
    alerts = readable(alerts.loc[alerts["week"] >= shown[0]]) if len(alerts) else alerts
    return FrictionMap(counts.reset_index(drop=True), alerts.reset_index(drop=True), rule.describe(), shown)


__all__ = ["SEVERITY_LABELS", "FrictionMap", "friction_map"]
