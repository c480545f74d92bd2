"""The statements behind the analytics frames (dialect-neutral Core)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Select, String, case, func, literal, select, type_coerce
from sqlalchemy.orm import aliased

from empowerment.models import (
    Customer,
    Employee,
    Gesture,
    GestureStatus,
    Incident,
    Location,
    Team,
    Transaction,
)
from empowerment.models.vocabulary import DEFAULT_STAFF_MINUTES

Stmt = Select[*tuple[Any, ...]]


def time_bounds(date_from: Any, date_to: Any) -> list[ColumnElement[bool]]:
    """A loose SQL pre-filter; `filter_incidents` applies the exact rule afterwards."""
    conditions: list[ColumnElement[bool]] = []
    if date_from is not None:
        conditions.append(Incident.occurred_at >= naive(pd.Timestamp(date_from)).to_pydatetime())
    if date_to is not None:
        end = naive(pd.Timestamp(date_to)) + pd.Timedelta(days=1)
        conditions.append(Incident.occurred_at < end.to_pydatetime())
    return conditions


def incidents_select(date_from: Any, date_to: Any) -> Stmt:
    recorder = aliased(Employee)
    recorder_team = aliased(Team)
    return (
        select(
            Incident.id.label("incident_id"),
            Incident.customer_id.label("customer_id"),
            Incident.occurred_at.label("occurred_at"),
            Incident.category.label("category"),
            Location.name.label("location"),
            recorder_team.name.label("team"),
        )
        .select_from(Incident)
        .outerjoin(Location, Location.id == Incident.location_id)
        .outerjoin(recorder, recorder.id == Incident.employee_id)
        .outerjoin(recorder_team, recorder_team.id == recorder.team_id)
        .where(*time_bounds(date_from, date_to))
    )


def gestures_select(date_from: Any, date_to: Any) -> Stmt:
    giver = aliased(Employee)
    giver_team = aliased(Team)
    # "voided" in the frames: anything that does not count as a recovery (pending, rejected, voided)
    not_logged = case((Gesture.status.in_([literal(s.value) for s in GestureStatus.recoveries()]), 0), else_=1)
    return (
        select(
            Gesture.id.label("gesture_id"),
            Gesture.incident_id.label("incident_id"),
            Gesture.customer_id.label("customer_id"),
            Gesture.employee_id.label("employee_id"),
            Gesture.occurred_at.label("occurred_at"),
            type_coerce(Gesture.type, String).label("type"),
            Gesture.cost_cents.label("cost_cents"),
            not_logged.label("voided"),
            giver_team.name.label("team"),
            Location.name.label("location"),
            # staff time logged before minutes were recorded took the typical 15
            func.coalesce(Gesture.staff_minutes, DEFAULT_STAFF_MINUTES).label("staff_minutes"),
        )
        .select_from(Gesture)
        .join(Incident, Incident.id == Gesture.incident_id)
        .outerjoin(Location, Location.id == Incident.location_id)
        .outerjoin(giver, giver.id == Gesture.employee_id)
        .outerjoin(giver_team, giver_team.id == giver.team_id)
        .where(*time_bounds(date_from, date_to))
    )


def customers_select(*in_scope: ColumnElement[bool], first_purchase: bool = True) -> Stmt:
    """Customers and their first-seen time (with `first_purchase`, else their first transaction)."""
    if not first_purchase:
        return select(Customer.id.label("customer_id"), Customer.first_seen_at.label("first_seen_at")).where(*in_scope)
    earliest = (
        select(func.min(Transaction.occurred_at))
        .where(Transaction.customer_id == Customer.id)
        .scalar_subquery()
    )
    return select(
        Customer.id.label("customer_id"),
        func.coalesce(Customer.first_seen_at, earliest).label("first_seen_at"),
    ).where(*in_scope)


def transactions_select(*conditions: ColumnElement[bool]) -> Stmt:
    return select(
        Transaction.customer_id.label("customer_id"),
        Transaction.occurred_at.label("occurred_at"),
        Transaction.amount_cents.label("amount_cents"),
    ).where(*conditions)


def transaction_window(since: pd.Timestamp | None, until: pd.Timestamp | None) -> list[Any]:
    conditions = []
    if since is not None:
        conditions.append(Transaction.occurred_at >= since.to_pydatetime())
    if until is not None:
        conditions.append(Transaction.occurred_at <= until.to_pydatetime())
    return conditions



def naive(stamp: pd.Timestamp) -> pd.Timestamp:
    return stamp.tz_convert(None) if stamp.tzinfo is not None else stamp

