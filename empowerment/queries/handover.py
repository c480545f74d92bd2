"""Shift hand-over: what the next shift must know, per location, for the last 24 hours.

- Open incidents: something went wrong and it is still open (`IncidentStatus.is_open`: no gesture
  resolved it and nobody closed it), over the last 30 days, so it stays on the hand-over until
  someone acts on it; with its owner and who acknowledged it.
- Notable recoveries: gestures that carry a story (a note), were featured or were big enough to
  need a manager's review.
The printable digest of it is `empowerment.reports.digest`.

Readers who may not see who the customers are (`access` "handover.identities": HR and CX leads,
who read every location) get each customer's pseudonym instead of the name and no room; the read
itself is audited (`reports.digest.read_handover`). Times are shown on the business's clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import func, or_, select, true
from sqlalchemy.orm import aliased

from empowerment import access
from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.models import Customer, Employee, Gesture, GestureStatus, Incident, IncidentStatus, Location
from empowerment.periods import as_utc, local_time, utc_now, zone
from empowerment.queries.pseudonyms import Pseudonymiser

WINDOW_HOURS = 24
OPEN_DAYS = 30  # an open incident stays on the hand-over this long (the log form offers the same)
# Appended after the columns above (the digest reads those by name): the incident's life.
LIFE_COLUMNS = ["owner", "acknowledged_by", "acknowledged_at"]
FOLLOW_UP_COLUMNS = ["incident", "followed_up_at", "followed_up_by"]
NO_LOCATION = "No location"
OPEN_COLUMNS = ["location", "occurred_at", "incident", "category", "customer", "room",
                "reported_by", "description"]
RECOVERY_COLUMNS = ["location", "occurred_at", "gesture", "customer", "room", "by", "type",
                    "cost_cents", "note", "featured", "needs_review"]


@dataclass(frozen=True)
class Handover:
    since: datetime
    until: datetime
    open_incidents: pd.DataFrame
    recoveries: pd.DataFrame
    every_location: bool = False  # the reader's scope is the whole organisation
    pseudonymised: bool = False  # customers shown by pseudonym, rooms left out

    @property
    def locations(self) -> list[str]:
        names = set(self.open_incidents["location"]) | set(self.recoveries["location"])
        return sorted(names, key=lambda n: (n == NO_LOCATION, n))


def build_handover(db: Database, actor: Actor, now: datetime | None = None,
                   hours: int = WINDOW_HOURS, location_id: int | None = None) -> Handover:
    """The hand-over for the locations the actor works at (every location for hr, cx, admin)."""
    until = as_utc(now).replace(microsecond=0) if now else utc_now()
    since = until - timedelta(hours=hours)
    with db.read() as session:
        scope = access.location_ids(session, actor, "handover.read")
        if location_id is not None:
            scope = [location_id] if scope is None or location_id in scope else []
        open_rows = session.execute(_open_query(until - timedelta(days=OPEN_DAYS), until, scope)).all()
        recovery_rows = session.execute(_recovery_query(since, until, scope)).all()
    hide = not access.allows(actor, "handover.identities", anywhere=True)
    open_frame = pd.DataFrame([list(r) for r in open_rows],
                              columns=[*OPEN_COLUMNS, "customer_code", *LIFE_COLUMNS])
    recoveries = pd.DataFrame([[*r[:6], r[6].value, *r[7:]] for r in recovery_rows],
                              columns=[*RECOVERY_COLUMNS, "customer_code", *FOLLOW_UP_COLUMNS])
    names = Pseudonymiser() if hide else None
    tz = zone()
    frames = []
    for frame in (open_frame, recoveries):
        frame["location"] = frame["location"].fillna(NO_LOCATION)
        frame["occurred_at"] = pd.Series([local_time(t, tz) for t in frame["occurred_at"]], dtype="datetime64[us]")
        for column in ("acknowledged_at", "followed_up_at"):  # stored in UTC like every time
            if column in frame:
                frame[column] = pd.Series([local_time(t, tz) if isinstance(t, datetime) else None
                                           for t in frame[column]], dtype="datetime64[us]")
        if names is not None:
            frame["customer"] = names.many(frame["customer_code"])
            frame["room"] = None
        frames.append(frame.drop(columns="customer_code"))
    open_frame, recoveries = frames
    return Handover(local_time(since, tz), local_time(until, tz), open_frame, recoveries,
                    every_location=scope is None, pseudonymised=hide)


def _in_scope(column: object, scope: list[int] | None) -> object:
    if scope is None:
        return true()
    return column.in_(scope)  # type: ignore[attr-defined]


def _open_query(since: datetime, until: datetime, scope: list[int] | None):  # type: ignore[no-untyped-def]
    reporter, owner, acknowledger = aliased(Employee), aliased(Employee), aliased(Employee)
    return (
        select(Location.name, Incident.occurred_at, Incident.code, Incident.category, Customer.name,
               Customer.room, reporter.name, Incident.description, Customer.code,
               owner.name, acknowledger.name, Incident.acknowledged_at)
        .join(Customer, Customer.id == Incident.customer_id)
        .outerjoin(Location, Location.id == Incident.location_id)
        .outerjoin(reporter, reporter.id == Incident.employee_id)
        .outerjoin(owner, owner.id == func.coalesce(Incident.owner_id, Incident.employee_id))
        .outerjoin(acknowledger, acknowledger.id == Incident.acknowledged_by_id)
        .where(Incident.occurred_at >= since, Incident.occurred_at <= until,
               Incident.status.in_(IncidentStatus.open_statuses()),
               _in_scope(Incident.location_id, scope))  # type: ignore[arg-type]
        .order_by(Location.name, Incident.occurred_at.desc())
    )


def _recovery_query(since: datetime, until: datetime, scope: list[int] | None):  # type: ignore[no-untyped-def]
    follower = aliased(Employee)
    return (
        select(Location.name, Gesture.occurred_at, Gesture.code, Customer.name, Customer.room,
               Employee.name, Gesture.type, Gesture.cost_cents, Gesture.note, Gesture.featured,
               Gesture.needs_review, Customer.code, Incident.code, Incident.followed_up_at, follower.name)
        .join(Incident, Incident.id == Gesture.incident_id)
        .outerjoin(follower, follower.id == Incident.followed_up_by_id)
        .join(Customer, Customer.id == Gesture.customer_id)
        .join(Employee, Employee.id == Gesture.employee_id)
        .outerjoin(Location, Location.id == Incident.location_id)
        .where(Gesture.occurred_at >= since, Gesture.occurred_at <= until,
               Gesture.status.in_(GestureStatus.recoveries()),
               or_(Gesture.note.is_not(None) & (Gesture.note != ""), Gesture.featured.is_(True),
                   Gesture.needs_review.is_(True)),
               _in_scope(Incident.location_id, scope))  # type: ignore[arg-type]
        .order_by(Location.name, Gesture.cost_cents.desc(), Gesture.occurred_at.desc())
    )
