"""Read side for one person's own gestures: the "My budget" history, chart and recovery stories.

Query functions only: they open a read unit, never write, and return DataFrames.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from empowerment import access
from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.errors import UnknownEmployee
from empowerment.models import Customer, Employee, Gesture, GestureStatus, Incident
from empowerment.models.lookups import business_zone
from empowerment.periods import business_date, window_bounds_utc

HISTORY_COLUMNS = [
    "code", "occurred_at", "customer", "category", "gesture", "cost_cents", "status", "needs_review", "note",
]


def _employee(session: Session, actor: Actor, employee_code: str) -> Employee:
    return access.employee(session, actor, "budget.read", employee_code, active_only=False)


def employee_code_for(db: Database, actor: Actor) -> str:
    """The organisation's id of the signed-in person (services take codes). A signed-in actor
    carries it (re-read with the role on every run); others are looked up."""
    if actor.code is not None:
        return actor.code
    with db.read() as session:
        code = session.scalar(select(Employee.code).where(Employee.id == actor.employee_id))
    if code is None:
        raise UnknownEmployee("Your sign-in is not linked to an employee record; ask an admin to fix it.")
    return code


def my_gestures(db: Database, actor: Actor, employee_code: str, limit: int = 200) -> pd.DataFrame:
    """The person's gestures, newest first, with the customer and what went wrong."""
    with db.read() as session:
        employee = _employee(session, actor, employee_code)
        rows = session.execute(
            select(
                Gesture.code, Gesture.occurred_at, Customer.name, Incident.category, Gesture.type,
                Gesture.cost_cents, Gesture.status, Gesture.needs_review, Gesture.note,
            )
            .join(Customer, Customer.id == Gesture.customer_id)
            .join(Incident, Incident.id == Gesture.incident_id)
            .where(Gesture.employee_id == employee.id)
            .order_by(Gesture.occurred_at.desc(), Gesture.id.desc())
            .limit(max(int(limit), 0))
        ).all()
    frame = pd.DataFrame(rows, columns=HISTORY_COLUMNS)
    for column in ("gesture", "status"):
        frame[column] = frame[column].map(lambda v: getattr(v, "value", v))
    return frame


def my_stories(history: pd.DataFrame) -> pd.DataFrame:
    """The gestures that carry a note and still count: the person's own recovery stories."""
    if history.empty:
        return history
    has_note = history["note"].fillna("").str.strip().ne("")
    counts = history["status"].isin([s.value for s in GestureStatus.against_budget()])
    return history[has_note & counts]


def daily_spend(db: Database, actor: Actor, employee_code: str, start: date, end: date) -> pd.DataFrame:
    """Money spent (or held) per day in [start, end), every day present, voided gestures excluded."""
    with db.read() as session:
        employee = _employee(session, actor, employee_code)
        tz = business_zone(session, employee)
        start_at, end_at = window_bounds_utc(start, end, tz)  # business days, stored in UTC
        rows = session.execute(
            select(Gesture.occurred_at, Gesture.cost_cents)
            .where(
                Gesture.employee_id == employee.id,
                Gesture.occurred_at >= start_at,
                Gesture.occurred_at < end_at,
                Gesture.status.in_(GestureStatus.against_budget()),
            )
        ).all()
    spent: dict[str, int] = {}
    for moment, cents in rows:  # one person's gestures in one period: a handful, summed by business day
        key = str(business_date(moment, tz))
        spent[key] = spent.get(key, 0) + int(cents or 0)
    days = [start + timedelta(days=i) for i in range((end - start).days)]
    frame = pd.DataFrame({"day": pd.to_datetime(days), "spent_cents": [spent.get(str(d), 0) for d in days]})
    frame["cumulative_cents"] = frame["spent_cents"].cumsum()
    return frame
