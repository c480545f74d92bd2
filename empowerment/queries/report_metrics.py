"""Read-side SQL for the joint report's empowerment figures: who acted, how much of their budget
they used, how fast managers reviewed and decided, and the stories worth telling.

Every function takes an open read session and a `Scope` and returns a small DataFrame; the
arithmetic that turns those into report tables lives in `assemble.py`. Times are compared as
naive local datetimes, like the rest of the schema.

Definitions (stated once, shown in the report's captions):
- front-line staff: active employees with the staff or manager role, plus anyone who logged a
  gesture in the period (so people who left since still count);
- a person "used their budget" when they logged at least one gesture that happened in the period
  and counts (status logged: what the payoff counts as a recovery); gestures waiting for approval,
  rejected or voided do not count yet;
- money spent: the cost of those gestures, the same figure the payoff calls spend;
- budget use: money spent over money allocated (allowance, rollover and adjustments) in the budget
  periods that overlap the report period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Select, and_, case, false, func, or_, select, true
from sqlalchemy.orm import Session

from empowerment.db import Database
from empowerment.errors import InvalidInput
from empowerment.models import (
    Budget,
    Customer,
    Employee,
    Gesture,
    GestureStatus,
    LedgerEntry,
    LedgerEntryType,
    Location,
    Role,
    Team,
)
from empowerment.periods import window_bounds_utc
from empowerment.queries.frames.currency import convert_by_employee, needs_conversion

Stmt = Select[*tuple[Any, ...]]
FRONT_LINE_ROLES = (Role.STAFF, Role.MANAGER)
ALLOCATION_TYPES = (LedgerEntryType.ALLOCATION, LedgerEntryType.ROLLOVER, LedgerEntryType.ADJUSTMENT)


@dataclass(frozen=True)
class Scope:
    """The report's window [start, end) as dates, and an optional location (code or name)."""

    start: date
    end: date  # exclusive
    location: str | None = None

    @property
    def start_at(self) -> datetime:
        return window_bounds_utc(self.start, self.end)[0]  # business days, stored times in UTC

    @property
    def end_at(self) -> datetime:
        return window_bounds_utc(self.start, self.end)[1]


def _location_match(scope: Scope) -> ColumnElement[bool]:
    if scope.location is None:
        return true()
    return or_(Location.code == scope.location, Location.name == scope.location)


def _gestures_in(scope: Scope) -> ColumnElement[bool]:
    return and_(Gesture.occurred_at >= scope.start_at, Gesture.occurred_at < scope.end_at)


def _frame(session: Session, query: Stmt, columns: list[str]) -> pd.DataFrame:
    rows = session.execute(query).all()
    return pd.DataFrame([tuple(row) for row in rows], columns=columns)


def _with_team_and_location(query: Stmt) -> Stmt:
    return query.outerjoin(Team, Team.id == Employee.team_id).outerjoin(
        Location, Location.id == Team.location_id
    )


def staff_activity(session: Session, scope: Scope) -> pd.DataFrame:
    """One row per front-line person in scope: employee_id, code, name, team, location, gestures,
    gesture_spend_cents, allocated_cents, budget_spent_cents."""
    counted = and_(_gestures_in(scope), Gesture.status.in_(GestureStatus.recoveries()))
    gestures = (
        select(
            Gesture.employee_id.label("employee_id"),
            func.count().label("gestures"),
            func.coalesce(func.sum(Gesture.cost_cents), 0).label("spend"),
        )
        .where(counted)
        .group_by(Gesture.employee_id)
        .subquery()
    )
    query = _with_team_and_location(
        select(
            Employee.id, Employee.code, Employee.name, Team.name, Location.name,
            func.coalesce(gestures.c.gestures, 0), func.coalesce(gestures.c.spend, 0),
        )
        .select_from(Employee)
        .outerjoin(gestures, gestures.c.employee_id == Employee.id)
    ).where(
        _location_match(scope),
        or_(
            and_(Employee.active.is_(True), Employee.role.in_(FRONT_LINE_ROLES)),
            gestures.c.gestures > 0,
        ),
    )
    staff = _frame(session, query, ["employee_id", "code", "name", "team", "location",
                                    "gestures", "gesture_spend_cents"])
    ledger = budget_ledger(session, scope)
    staff = staff.merge(ledger, on="employee_id", how="left")
    for column in ("gestures", "gesture_spend_cents", "allocated_cents", "budget_spent_cents"):
        staff[column] = staff[column].fillna(0).astype("int64")
    staff = _in_reporting_currency(session, scope, staff)
    return staff.sort_values(["team", "name"], na_position="last", ignore_index=True)


def _ledger_sums() -> tuple[Any, Any]:
    """Allocated (allocations, and reversals of them) and spent (spends net of their reversals;
    holds are not spent yet) as two SUM columns over ledger entries."""
    is_allocation = or_(
        LedgerEntry.entry_type.in_(ALLOCATION_TYPES),
        and_(LedgerEntry.entry_type == LedgerEntryType.REVERSAL, LedgerEntry.gesture_id.is_(None)),
    )
    is_spend = or_(
        LedgerEntry.entry_type == LedgerEntryType.SPEND,
        and_(LedgerEntry.entry_type == LedgerEntryType.REVERSAL, LedgerEntry.gesture_id.is_not(None)),
    )
    return (func.coalesce(func.sum(case((is_allocation, LedgerEntry.amount_cents), else_=0)), 0),
            func.coalesce(func.sum(case((is_spend, -LedgerEntry.amount_cents), else_=0)), 0))


def budget_ledger(session: Session, scope: Scope) -> pd.DataFrame:
    """Per employee, over budget periods overlapping the window: allocated_cents and
    budget_spent_cents (spends net of their reversals; holds are not spent yet)."""
    query = (
        select(Budget.employee_id, *_ledger_sums())
        .select_from(Budget)
        .join(LedgerEntry, LedgerEntry.budget_id == Budget.id)
        .where(Budget.period_start < scope.end, Budget.period_end > scope.start)
        .group_by(Budget.employee_id)
    )
    return _frame(session, query, ["employee_id", "allocated_cents", "budget_spent_cents"])


def _in_reporting_currency(session: Session, scope: Scope, staff: pd.DataFrame) -> pd.DataFrame:
    """Across locations with other currencies, the money columns in the reporting currency at
    each day's rate (gestures by their day, ledger entries by the day they were written)."""
    conn = session.connection()
    if staff.empty or not needs_conversion(conn):
        return staff
    day = func.date(Gesture.occurred_at)
    counted = and_(_gestures_in(scope), Gesture.status.in_(GestureStatus.recoveries()))
    spend = _frame(session, select(Gesture.employee_id, day, func.sum(Gesture.cost_cents)).where(counted)
                   .group_by(Gesture.employee_id, day), ["employee_id", "day", "gesture_spend_cents"])
    written = func.date(LedgerEntry.created_at)
    ledger = _frame(session, select(Budget.employee_id, written, *_ledger_sums()).select_from(Budget)
                    .join(LedgerEntry, LedgerEntry.budget_id == Budget.id)
                    .where(Budget.period_start < scope.end, Budget.period_end > scope.start)
                    .group_by(Budget.employee_id, written),
                    ["employee_id", "day", "allocated_cents", "budget_spent_cents"])
    totals = [convert_by_employee(conn, spend, ["gesture_spend_cents"], "gesture"),
              convert_by_employee(conn, ledger, ["allocated_cents", "budget_spent_cents"], "budget entry")]
    for frame in totals:
        sums = frame.drop(columns="day").groupby("employee_id").sum()
        for column in sums.columns:
            staff[column] = staff["employee_id"].map(sums[column]).fillna(0).astype("int64")
    return staff


def turnaround_rows(session: Session, scope: Scope) -> pd.DataFrame:
    """Gestures in the window that needed a review after the fact or an approval first:
    occurred_at, needs_review, reviewed_at, needs_approval, decided_at, status."""
    needs_approval = or_(Gesture.decided_at.is_not(None), Gesture.status == GestureStatus.PENDING_APPROVAL)
    query = _with_team_and_location(
        select(
            Gesture.occurred_at, Gesture.needs_review, Gesture.reviewed_at,
            case((needs_approval, true()), else_=false()), Gesture.decided_at, Gesture.status,
        )
        .select_from(Gesture)
        .join(Employee, Employee.id == Gesture.employee_id)
    ).where(_gestures_in(scope), _location_match(scope), or_(Gesture.needs_review.is_(True), needs_approval))
    frame = _frame(session, query, ["occurred_at", "needs_review", "reviewed_at", "needs_approval",
                                    "decided_at", "status"])
    frame["needs_review"] = frame["needs_review"].astype(bool)
    frame["needs_approval"] = frame["needs_approval"].astype(bool)
    return frame


def story_rows(session: Session, scope: Scope, limit: int = 10) -> pd.DataFrame:
    """Recovery stories: featured gestures first (chosen by managers), then notable ones (with a
    note; the larger gestures first). Logged gestures only. Customer code and name are both
    returned; the caller decides which one may be shown."""
    columns = [
        Gesture.occurred_at, Gesture.type, Gesture.cost_cents, Gesture.note, Gesture.featured,
        Employee.name, Team.name, Customer.code, Customer.name,
    ]
    base = _with_team_and_location(
        select(*columns)
        .select_from(Gesture)
        .join(Employee, Employee.id == Gesture.employee_id)
        .join(Customer, Customer.id == Gesture.customer_id)
    ).where(_gestures_in(scope), _location_match(scope), Gesture.status.in_(GestureStatus.recoveries()))
    featured = base.where(Gesture.featured.is_(True)).order_by(
        Gesture.occurred_at.desc(), Gesture.id.desc()
    ).limit(limit)
    notable = base.where(
        Gesture.featured.is_(False), Gesture.note.is_not(None), func.length(Gesture.note) > 0
    ).order_by(Gesture.cost_cents.desc(), Gesture.occurred_at.desc(), Gesture.id.desc()).limit(limit)
    names = ["occurred_at", "type", "cost_cents", "note", "featured", "employee", "team",
             "customer_code", "customer_name"]
    frame = pd.concat(
        [_frame(session, featured, names), _frame(session, notable, names)], ignore_index=True
    ).head(limit)
    frame["featured"] = frame["featured"].astype(bool)
    frame["type"] = [getattr(value, "value", value) for value in frame["type"]]
    return frame


def customer_labels(session: Session, customer_ids: list[int], with_names: bool = False) -> pd.DataFrame:
    """customer_id, code (and name when asked) for the given surrogate ids, indexed by id.
    Built column by column: a year of a large hotel group is ~100k customers."""
    columns = [Customer.id, Customer.code, *([Customer.name] if with_names else [])]
    labels = ["customer_id", "code", *(["name"] if with_names else [])]
    wanted = pd.Index(customer_ids)
    if len(customer_ids) > 20_000:  # one scan beats many IN lists
        rows = session.execute(select(*columns)).all()
    else:
        rows = [row for start in range(0, len(customer_ids), 5000) for row in session.execute(
            select(*columns).where(Customer.id.in_(customer_ids[start : start + 5000])))]
    values = list(zip(*rows, strict=True)) if rows else [()] * len(labels)
    frame = pd.DataFrame({label: list(column) for label, column in zip(labels, values, strict=True)},
                         columns=labels)
    frame["customer_id"] = frame["customer_id"].astype("int64")
    frame = frame.set_index("customer_id", drop=False)
    return frame[frame.index.isin(wanted)]


def location_names(session: Session) -> list[str]:
    return list(session.scalars(select(Location.name).distinct().order_by(Location.name)))


def location_name(session: Session, location: str | None) -> str | None:
    """A location given by code or name -> its name (what the analysis frames carry)."""
    if location is None or not str(location).strip():
        return None
    text = str(location).strip()
    name = session.scalar(select(Location.name).where(or_(Location.code == text, Location.name == text)).limit(1))
    if name is None:
        known = ", ".join(location_names(session)) or "none yet"
        raise InvalidInput(f"No location '{text}'; the locations are: {known}.")
    return str(name)


def incident_span(session: Session) -> tuple[date, date] | None:
    """First and last incident day in the database (None when there are none): the period picker's
    range."""
    from empowerment.models import Incident

    first, last = session.execute(select(func.min(Incident.occurred_at), func.max(Incident.occurred_at))).one()
    if first is None or last is None:
        return None
    return _day(first), _day(last)


def _day(value: object) -> date:
    stamp = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return stamp.date()


@dataclass(frozen=True)
class PickerOptions:
    span: tuple[date, date] | None  # first and last incident day
    locations: list[str]


def picker_options(db: Database) -> PickerOptions:
    """What the joint report's pickers offer."""
    with db.read() as session:
        return PickerOptions(incident_span(session), location_names(session))
