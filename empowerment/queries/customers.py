"""Customers at the desk, read side: find one fast, and see their history so they never have to
repeat themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from empowerment import access
from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.errors import PermissionDenied
from empowerment.models import Customer, Employee, Gesture, Incident, Location, Team, Transaction
from empowerment.models.lookups import customer_by_code


@dataclass(frozen=True)
class CustomerCard:
    id: int
    code: str
    name: str
    phone: str | None
    room: str | None
    email: str | None
    segment: str | None

    @property
    def label(self) -> str:
        extras = " · ".join(x for x in (self.code, self.room and f"room {self.room}", self.phone) if x)
        return f"{self.name} ({extras})"


def _card(customer: Customer) -> CustomerCard:
    return CustomerCard(
        customer.id, customer.code, customer.name, customer.phone, customer.room,
        customer.email, customer.segment,
    )


def _in_reach(locations: list[int] | None) -> ColumnElement[bool]:
    """Customers of these locations (None: every location): seen at one of them (an incident
    there), or added by someone working there, or not seen anywhere yet (a guest arriving for
    the first time, imported from the booking system, must be found at any desk). Erased
    customers are never listed."""
    not_erased = Customer.erased_at.is_(None)
    if locations is None:
        return not_erased
    creator = aliased(Employee)
    seen_here = exists().where(Incident.customer_id == Customer.id, Incident.location_id.in_(locations))
    seen_anywhere = exists().where(Incident.customer_id == Customer.id)
    added_here = exists().where(creator.id == Customer.created_by_id, creator.team_id == Team.id,
                                Team.location_id.in_(locations))
    return not_erased & or_(seen_here, added_here, ~seen_anywhere & Customer.created_by_id.is_(None))


def search_customers(db: Database, actor: Actor, query: str, limit: int = 12) -> list[CustomerCard]:
    """By id, name (any part), phone or room, among the customers of the locations the actor
    works at (`access` "customer.read"). Exact id/room/phone matches come first."""
    text = (query or "").strip()
    if len(text) < 2:
        access.require(actor, "customer.read", anywhere=True)
        return []
    with db.read() as session:
        reach = _in_reach(access.location_ids(session, actor, "customer.read"))
        exact = session.scalars(
            select(Customer).where(
                or_(Customer.code == text, Customer.room == text, Customer.phone == text), reach
            ).limit(limit)
        ).all()
        fuzzy = session.scalars(
            select(Customer)
            .where(or_(_name_contains(session, text), Customer.phone.like(_anywhere(text), escape="\\")), reach)
            .order_by(Customer.name)
            .limit(limit)
        ).all()
    seen: dict[int, Customer] = {}
    for customer in [*exact, *fuzzy]:
        seen.setdefault(customer.id, customer)
    return [_card(c) for c in list(seen.values())[:limit]]


def _anywhere(text: str) -> str:
    """A LIKE pattern for `text` anywhere, its own % and _ taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _name_contains(session: Session, text: str) -> ColumnElement[bool]:
    """Case-insensitive, in any script. PostgreSQL's lower() follows Unicode; SQLite's knows only
    ASCII, so a non-ASCII search there goes through Python's casefold (registered per connection
    in db.py; a function call per customer, so only when the text needs it)."""
    if session.get_bind().dialect.name == "sqlite" and not text.isascii():
        return func.casefold(Customer.name).like(_anywhere(text.casefold()), escape="\\")
    return func.lower(Customer.name).like(_anywhere(text.lower()), escape="\\")


@dataclass(frozen=True)
class CustomerHistory:
    customer: CustomerCard
    events: pd.DataFrame  # when, what, category, gesture, cost_cents, status, by, note
    visits: int
    lifetime_spend_cents: int
    last_visit_at: datetime | None
    open_incidents: int


def _events(session: Session, customer_id: int, limit: int) -> pd.DataFrame:
    rows = session.execute(
        select(
            Incident.occurred_at.label("incident_at"),
            Incident.code.label("incident"),
            Incident.category,
            Incident.description,
            Location.name.label("location"),
            Gesture.occurred_at.label("gesture_at"),
            Gesture.type.label("gesture"),
            Gesture.cost_cents,
            Gesture.status,
            Gesture.note,
            Employee.name.label("by"),
        )
        .select_from(Incident)
        .outerjoin(Gesture, Gesture.incident_id == Incident.id)
        .outerjoin(Employee, Employee.id == Gesture.employee_id)
        .outerjoin(Location, Location.id == Incident.location_id)
        .where(Incident.customer_id == customer_id)
        .order_by(Incident.occurred_at.desc(), Gesture.occurred_at.desc())
        .limit(limit)
    ).all()
    frame = pd.DataFrame(rows, columns=[
        "incident_at", "incident", "category", "description", "location", "gesture_at",
        "gesture", "cost_cents", "status", "note", "by",
    ])
    for column in ("gesture", "status"):
        frame[column] = frame[column].map(lambda v: getattr(v, "value", v))
    return frame


def customer_history(db: Database, actor: Actor, customer_code: str, limit: int = 50) -> CustomerHistory:
    with db.read() as session:
        locations = access.location_ids(session, actor, "customer.read")
        customer = customer_by_code(session, customer_code)
        if locations is not None and session.scalar(
                select(Customer.id).where(Customer.id == customer.id, _in_reach(locations))) is None:
            raise PermissionDenied(access.action("customer.read").out_of_reach or "")
        visits, spend, last = session.execute(
            select(
                func.count(Transaction.id),
                func.coalesce(func.sum(Transaction.amount_cents), 0),
                func.max(Transaction.occurred_at),
            ).where(Transaction.customer_id == customer.id)
        ).one()
        events = _events(session, customer.id, limit)
    open_incidents = int(events.groupby("incident")["gesture"].count().eq(0).sum()) if len(events) else 0
    return CustomerHistory(
        customer=_card(customer),
        events=events,
        visits=int(visits),
        lifetime_spend_cents=int(spend),
        last_visit_at=last,
        open_incidents=open_incidents,
    )
