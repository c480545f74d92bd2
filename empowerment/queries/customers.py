"""Customers at the desk, read side: find one fast, and see their history so they never have to
repeat themselves."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from empowerment import access
from empowerment.actor import Actor
from empowerment.clock import utc_now
from empowerment.db import Database
from empowerment.errors import PermissionDenied
from empowerment.models import (
    AuditEvent,
    Customer,
    Employee,
    Gesture,
    GestureStatus,
    Incident,
    IncidentStatus,
    Location,
    Team,
    Transaction,
)
from empowerment.models.lookups import customer_by_code
from empowerment.models.tables import search_key


@dataclass(frozen=True)
class CustomerCard:
    id: int
    code: str
    name: str
    phone: str | None
    room: str | None
    email: str | None
    segment: str | None
    location: str | None = None  # where the desk first met them

    @property
    def label(self) -> str:
        extras = " · ".join(x for x in (self.code, self.room and f"room {self.room}", self.phone) if x)
        return f"{self.name} ({extras})"


def _card(customer: Customer, location: str | None = None) -> CustomerCard:
    return CustomerCard(
        customer.id, customer.code, customer.name, customer.phone, customer.room,
        customer.email, customer.segment, location,
    )


def _in_reach(locations: list[int] | None) -> ColumnElement[bool]:
    """Customers of these locations (None: every location): seen at one of them (an incident
    there), or added at one of their desks, or met there first (`Customer.location_id`), or not
    seen anywhere yet and not added at another location's desk (a guest arriving for the first
    time, imported from the booking system, must be found at any desk; so is one whose incidents
    carry no location). Erased customers are never listed."""
    not_erased = Customer.erased_at.is_(None)
    if locations is None:
        return not_erased
    creator, team = aliased(Employee), aliased(Team)

    def added_at(where: ColumnElement[bool]) -> ColumnElement[bool]:
        return exists().where(creator.id == Customer.created_by_id, creator.team_id == team.id, where)

    seen_here = exists().where(Incident.customer_id == Customer.id, Incident.location_id.in_(locations))
    # an incident with no location (a single-site install, an import without one) places nobody
    seen_anywhere = exists().where(Incident.customer_id == Customer.id, Incident.location_id.is_not(None))
    added_here = added_at(team.location_id.in_(locations))
    added_elsewhere = added_at(team.location_id.is_not(None) & team.location_id.not_in(locations))
    met_here = Customer.location_id.in_(locations)  # where the desk first met them
    return not_erased & or_(seen_here, added_here, met_here, ~seen_anywhere & ~added_elsewhere)


PROBE_ROWS = 300  # matches looked for in the search index before choosing how to list them


def search_customers(db: Database, actor: Actor, query: str, limit: int = 12) -> list[CustomerCard]:
    """By id, name (any part, case folded in any script), phone (any part) or room, among the
    customers of the locations the actor works at (`access` "customer.read"). Exact id/room/phone
    matches come first, then the others by name.

    Speed (1M gestures, 100k customers): the name and phone are matched in `ix_customers_search`
    (the case-folded name and the phone) alone, without reading customer rows. A probe there
    finds at most `PROBE_ROWS` matching ids: when that is all of them (a rare name, a code, a
    walk-in with no match) only those rows are read, checked for reach and sorted; when there are
    more (a common name) the customers are walked in name order until `limit` are in reach,
    which ends early because matches are dense. Both give the same list."""
    text = (query or "").strip()
    if len(text) < 2:
        access.require(actor, "customer.read", anywhere=True)
        return []
    live = Customer.merged_into_id.is_(None)  # a merged duplicate is never offered again
    with db.read() as session:
        reach = _in_reach(access.location_ids(session, actor, "customer.read"))
        exact = session.execute(
            select(Customer, Location.name).outerjoin(Location, Location.id == Customer.location_id).where(
                or_(Customer.code == text, Customer.room == text, Customer.phone == text), reach, live
            ).limit(limit)
        ).all()
        matches = _name_or_phone(session, text)
        probe = session.scalars(select(Customer.id).where(matches).limit(PROBE_ROWS)).all()
        among = Customer.id.in_(probe) if len(probe) < PROBE_ROWS else matches
        fuzzy = session.execute(
            select(Customer, Location.name).outerjoin(Location, Location.id == Customer.location_id)
            .where(among, reach, live)
            .order_by(Customer.name)
            .limit(limit)
        ).all() if probe else []
    seen: dict[int, CustomerCard] = {}
    for customer, location in [*exact, *fuzzy]:
        seen.setdefault(customer.id, _card(customer, location))
    return list(seen.values())[:limit]


def _anywhere(text: str) -> str:
    """A LIKE pattern for `text` anywhere, its own % and _ taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _name_or_phone(session: Session, text: str) -> ColumnElement[bool]:
    """The name contains `text` case-insensitively in any script (the stored `search_name`, Python's
    casefold on both databases), or the phone contains it. A row written around the app (raw SQL)
    with no `search_name` is still found, by its name (slower: outside the index)."""
    phone = Customer.phone.like(_anywhere(text), escape="\\")
    return or_(Customer.search_name.like(_anywhere(search_key(text) or ""), escape="\\"), phone,
               Customer.search_name.is_(None) & _name_contains(session, text))


def _name_contains(session: Session, text: str) -> ColumnElement[bool]:
    """Case-insensitive, in any script. PostgreSQL's lower() follows Unicode; SQLite's knows only
    ASCII, so a non-ASCII search there goes through Python's casefold (registered per connection
    in db.py; a function call per customer, so only when the text needs it)."""
    if session.get_bind().dialect.name == "sqlite" and not text.isascii():
        return func.casefold(Customer.name).like(_anywhere(text.casefold()), escape="\\")
    return func.lower(Customer.name).like(_anywhere(text.lower()), escape="\\")


OFFERED_DAYS = 30  # open incidents older than this are not offered on the log form


@dataclass(frozen=True)
class OpenIncident:
    code: str
    category: str
    occurred_at: datetime
    owner: str | None


@dataclass(frozen=True)
class CustomerHistory:
    customer: CustomerCard
    events: pd.DataFrame  # when, what, category, gesture, cost_cents, status, by, note
    visits: int
    lifetime_spend_cents: int
    last_visit_at: datetime | None
    open_incidents: int  # open, of the last 30 days (what the log form offers)
    open_incident_list: tuple[OpenIncident, ...] = ()
    recent_visits: tuple[datetime, ...] = ()  # the latest few purchases
    earlier_gestures: int = 0  # gestures that count (logged or waiting), all time

    @property
    def summary(self) -> str:
        """One line for the collapsed history: visits, open incidents, earlier gestures."""
        visits = (f"{self.visits:,} visit{'s' * (self.visits != 1)}, last {self.last_visit_at:%d %b %Y}"
                  if self.last_visit_at else "no visits on record")
        opened = f"{self.open_incidents} open issue{'s' * (self.open_incidents != 1)}"
        given = f"{self.earlier_gestures} earlier gesture{'s' * (self.earlier_gestures != 1)}"
        return f"{visits} · {opened} · {given}"


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


def customer_history(db: Database, actor: Actor, customer_code: str, limit: int = 50,
                     now: datetime | None = None) -> CustomerHistory:
    since = (now or utc_now()) - timedelta(days=OFFERED_DAYS)  # incidents are stored in UTC
    with db.read() as session:
        locations = access.location_ids(session, actor, "customer.read")
        customer = customer_by_code(session, customer_code)
        if locations is not None and session.scalar(
                select(Customer.id).where(Customer.id == customer.id, _in_reach(locations))) is None:
            raise PermissionDenied(access.action("customer.read").out_of_reach or "")
        location = session.scalar(select(Location.name).where(Location.id == customer.location_id)) \
            if customer.location_id else None
        visits, spend, last = session.execute(
            select(
                func.count(Transaction.id),
                func.coalesce(func.sum(Transaction.amount_cents), 0),
                func.max(Transaction.occurred_at),
            ).where(Transaction.customer_id == customer.id)
        ).one()
        recent = tuple(session.scalars(
            select(Transaction.occurred_at).where(Transaction.customer_id == customer.id)
            .order_by(Transaction.occurred_at.desc()).limit(3)))
        owner = Employee.name
        open_rows = session.execute(
            select(Incident.code, Incident.category, Incident.occurred_at, owner)
            .outerjoin(Employee, Employee.id == func.coalesce(Incident.owner_id, Incident.employee_id))
            .where(Incident.customer_id == customer.id, Incident.occurred_at >= since,
                   Incident.status.in_(IncidentStatus.open_statuses()))
            .order_by(Incident.occurred_at.desc()).limit(10)
        ).all()
        given = session.scalar(
            select(func.count(Gesture.id)).where(Gesture.customer_id == customer.id,
                                                 Gesture.status.in_(GestureStatus.against_budget())))
        events = _events(session, customer.id, limit)
    opened = tuple(OpenIncident(code, category, at, who) for code, category, at, who in open_rows)
    return CustomerHistory(
        customer=_card(customer, location),
        events=events,
        visits=int(visits),
        lifetime_spend_cents=int(spend),
        last_visit_at=last,
        open_incidents=len(opened),
        open_incident_list=opened,
        recent_visits=recent,
        earlier_gestures=int(given or 0),
    )


def merge_explanation(db: Database, actor: Actor, customer_code: str) -> str | None:
    """Why a customer id leads to another person: the merge, in words, from its audit row."""
    access.require(actor, "customer.read", anywhere=True)
    with db.read() as session:
        row = session.execute(
            select(AuditEvent.occurred_at, AuditEvent.actor_label, AuditEvent.detail)
            .where(AuditEvent.action == "customer.merged", AuditEvent.entity_id == customer_code)
            .order_by(AuditEvent.id.desc()).limit(1)
        ).first()
    if row is None:
        return None
    at, who, detail = row
    facts = json.loads(detail or "{}")
    return (f"{customer_code} was merged into {facts.get('into', '?')} by {who} on {at:%d %b %Y}: "
            f"{facts.get('reason', '')} ({facts.get('incidents', 0)} incident(s), {facts.get('gestures', 0)} "
            f"gesture(s) and {facts.get('transactions', 0)} purchase(s) moved; no money record changed).")
