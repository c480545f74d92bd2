"""Customers at the desk: find one fast, add one on the spot, and see their history so they never
have to repeat themselves."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from empowerment import audit
from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.errors import InvalidInput, UnknownCustomer
from empowerment.models import Customer, Employee, Gesture, Incident, Location, Transaction

MAX_NAME_CHARS = 200


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


def search_customers(db: Database, actor: Actor, query: str, limit: int = 12) -> list[CustomerCard]:
    """By id, name (any part), phone or room. Exact id/room/phone matches come first."""
    text = (query or "").strip()
    if len(text) < 2:
        return []
    with db.read() as session:
        exact = session.scalars(
            select(Customer).where(
                or_(Customer.code == text, Customer.room == text, Customer.phone == text)
            ).limit(limit)
        ).all()
        fuzzy = session.scalars(
            select(Customer)
            .where(or_(_name_contains(session, text), Customer.phone.like(_anywhere(text), escape="\\")))
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


def get_customer(db: Database, actor: Actor, customer_code: str) -> CustomerCard:
    with db.read() as session:
        customer = session.scalar(select(Customer).where(Customer.code == customer_code))
        if customer is None:
            raise UnknownCustomer(f"No customer with id '{customer_code}'.")
        return _card(customer)


def _clean(value: str | None, field: str, max_chars: int = 200) -> str | None:
    value = (value or "").strip()
    if len(value) > max_chars:
        raise InvalidInput(f"The {field} is too long; keep it under {max_chars} characters.")
    return value or None


def create_customer(
    db: Database, actor: Actor, name: str, *, phone: str | None = None, room: str | None = None,
    email: str | None = None, segment: str | None = None,
) -> CustomerCard:
    """Add a walk-in customer on the spot; the id is generated."""
    clean_name = _clean(name, "name", MAX_NAME_CHARS)
    if not clean_name:
        raise InvalidInput("Enter the customer's name.")
    if email and "@" not in email:
        raise InvalidInput(f"'{email}' does not look like an e-mail address.")
    with db.write() as session:
        customer = Customer(
            code=f"C-{uuid.uuid4().hex[:8].upper()}",
            name=clean_name,
            phone=_clean(phone, "phone", 50),
            room=_clean(room, "room", 50),
            email=_clean(email, "e-mail"),
            segment=_clean(segment, "segment", 100),
            first_seen_at=datetime.now().replace(microsecond=0),
            created_by_id=actor.employee_id,
        )
        session.add(customer)
        session.flush()
        audit.record(session, actor, "customer.created", "customer", customer.code)
        return _card(customer)


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
        customer = session.scalar(select(Customer).where(Customer.code == customer_code))
        if customer is None:
            raise UnknownCustomer(f"No customer with id '{customer_code}'.")
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
