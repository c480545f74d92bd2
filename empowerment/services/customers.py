"""Customers at the desk, write side: add a walk-in on the spot without creating a duplicate, and
(admins) merge two records of the same person.

The duplicate rule lives here, once (`likely_duplicates`): the same name (ignoring case and
spacing) with the same phone, e-mail or room; or the same name met at the same location within
the last 30 days. `create_customer` refuses with `LikelyDuplicate` (carrying the candidates) until
the person says it is somebody else (`not_a_duplicate=True`).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from empowerment import access, audit
from empowerment.actor import Actor
from empowerment.clock import utc_now
from empowerment.db import Database
from empowerment.errors import InvalidInput, InvalidState
from empowerment.models import Customer, Gesture, Incident, Location, Team, Transaction, search_key, table
from empowerment.models.lookups import customer_by_code
from empowerment.services import outcomes

MAX_NAME_CHARS = 200
DUPLICATE_WINDOW_DAYS = 30
MAX_CANDIDATES = 5
MAX_REASON_CHARS = 500


@dataclass(frozen=True)
class Candidate:
    """A customer the new one may be: what the desk needs to recognise them."""

    code: str
    name: str
    phone: str | None
    room: str | None
    email: str | None
    location: str | None
    why: str  # "same phone", "same room", "met at Harbour in the last 30 days"


class LikelyDuplicate(InvalidInput):
    def __init__(self, message: str, candidates: tuple[Candidate, ...]) -> None:
        super().__init__(message)
        self.candidates = candidates


def _clean(value: str | None, field: str, max_chars: int = 200) -> str | None:
    value = " ".join((value or "").split())
    if len(value) > max_chars:
        raise InvalidInput(f"The {field} is too long; keep it under {max_chars} characters.")
    return value or None


def _digits(phone: str | None) -> str:
    return re.sub(r"\D", "", phone or "")


def _same_name(session: Session, name: str) -> ColumnElement[bool]:
    """Case-insensitive in any script: the stored case-folded name (`models.search_key`, an index
    lookup), or for a row written around the app without one, the name itself (SQLite's lower()
    knows only ASCII; db.py registers casefold)."""
    if session.get_bind().dialect.name == "sqlite" and not name.isascii():
        by_name = func.casefold(Customer.name) == name.casefold()
    else:
        by_name = func.lower(Customer.name) == name.lower()
    return or_(Customer.search_name == search_key(name), Customer.search_name.is_(None) & by_name)


def _location_of(session: Session, actor: Actor) -> int | None:
    """Where the desk is: the actor's team's location."""
    if actor.team_id is None:
        return None
    return session.scalar(select(Team.location_id).where(Team.id == actor.team_id))


def likely_duplicates(session: Session, name: str, *, phone: str | None = None, email: str | None = None,
                      room: str | None = None, location_id: int | None = None,
                      now: datetime | None = None) -> tuple[Candidate, ...]:
    """The customers a new walk-in called `name` probably is (the one rule; see the module)."""
    clean = _clean(name, "name", MAX_NAME_CHARS)
    if not clean:
        return ()
    since = (now or utc_now()) - timedelta(days=DUPLICATE_WINDOW_DAYS)
    rows = session.execute(
        select(Customer, Location.name)
        .outerjoin(Location, Location.id == Customer.location_id)
        .where(_same_name(session, clean), Customer.merged_into_id.is_(None))
        .order_by(Customer.created_at.desc()).limit(50)
    ).all()
    recent_here: set[int] = set()
    if location_id is not None and rows:
        ids = [c.id for c, _ in rows]
        recent_here = set(session.scalars(
            select(Incident.customer_id).where(Incident.customer_id.in_(ids), Incident.location_id == location_id,
                                               Incident.occurred_at >= since)))
        recent_here |= {c.id for c, _ in rows if c.location_id == location_id
                        and max(c.first_seen_at or c.created_at, c.created_at) >= since}
    found: list[Candidate] = []
    for customer, location in rows:
        reasons = []
        if phone and _digits(phone) and _digits(customer.phone) == _digits(phone):
            reasons.append("same phone")
        if email and (customer.email or "").lower() == email.strip().lower():
            reasons.append("same e-mail")
        if room and (customer.room or "").strip().lower() == room.strip().lower():
            reasons.append("same room")
        if customer.id in recent_here:
            reasons.append(f"met at {location or 'this location'} in the last {DUPLICATE_WINDOW_DAYS} days")
        if reasons:
            found.append(Candidate(customer.code, customer.name, customer.phone, customer.room, customer.email,
                                   location, ", ".join(reasons)))
    return tuple(found[:MAX_CANDIDATES])


def create_customer(
    db: Database, actor: Actor, name: str, *, phone: str | None = None, room: str | None = None,
    email: str | None = None, segment: str | None = None, not_a_duplicate: bool = False,
    now: datetime | None = None,
) -> str:
    """Add a walk-in customer on the spot; returns the generated id. Raises LikelyDuplicate with the
    candidates unless `not_a_duplicate` (the person looked at them and said "someone else")."""
    access.require(actor, "customer.create", anywhere=True)
    clean_name = _clean(name, "name", MAX_NAME_CHARS)
    if not clean_name:
        raise InvalidInput("Enter the customer's name.")
    clean_email = _clean(email, "e-mail")
    if clean_email and "@" not in clean_email:
        raise InvalidInput(f"'{clean_email}' does not look like an e-mail address.")
    clean_phone, clean_room = _clean(phone, "phone", 50), _clean(room, "room", 50)
    at = (now or utc_now()).replace(microsecond=0)
    with db.write() as session:
        location_id = _location_of(session, actor)
        if not not_a_duplicate:
            candidates = likely_duplicates(session, clean_name, phone=clean_phone, email=clean_email,
                                           room=clean_room, location_id=location_id, now=at)
            if candidates:
                raise LikelyDuplicate(
                    f"{clean_name} may already be a customer: is it one of these?", candidates)
        customer = Customer(
            code=f"C-{uuid.uuid4().hex[:8].upper()}",
            name=clean_name,
            phone=clean_phone,
            room=clean_room,
            email=clean_email,
            segment=_clean(segment, "segment", 100),
            first_seen_at=at,
            created_by_id=actor.employee_id,
            location_id=location_id,
        )
        session.add(customer)
        session.flush()
        audit.record(session, actor, "customer.created", "customer", customer.code,
                     dict(confirmed_not_a_duplicate=True) if not_a_duplicate else None)
        return customer.code


@dataclass(frozen=True)
class MergeResult:
    kept_code: str
    merged_code: str
    incidents: int
    gestures: int
    transactions: int
    filled: tuple[str, ...]  # the kept customer's empty fields filled from the duplicate

    @property
    def message(self) -> str:
        moved = f"{self.incidents:,} incident(s), {self.gestures:,} gesture(s) and {self.transactions:,} purchase(s)"
        filled = f"; filled in {', '.join(self.filled)}" if self.filled else ""
        return (f"{self.merged_code} is now part of {self.kept_code}: moved {moved}{filled}. "
                "No money record changed.")


def merge_customers(db: Database, actor: Actor, keep_code: str, duplicate_code: str, reason: str,
                    now: datetime | None = None) -> MergeResult:
    """Two records of the same person become one. The duplicate's incidents, gestures and purchases
    move to the kept customer (their amounts, statuses and the budget ledger are untouched: only
    whose they are changes); the duplicate's row stays, marked merged, so its old id still finds the
    person and the audit row explains what happened."""
    clean_reason = _clean(reason, "reason", MAX_REASON_CHARS)
    if not clean_reason:
        raise InvalidInput("Say why these are the same person (for the audit log).")
    with db.write() as session:
        access.require(actor, "customer.merge", anywhere=True)
        keep = _customer_for_update(session, keep_code)
        duplicate = _customer_for_update(session, duplicate_code)
        if keep.id == duplicate.id:
            raise InvalidInput("Pick two different customers to merge.")
        for customer in (keep, duplicate):
            if customer.merged_into_id is not None:
                raise InvalidState(f"{customer.code} was already merged into another customer.")
        at = (now or utc_now()).replace(microsecond=0)
        moved = {}
        for model in (Incident, Gesture, Transaction):
            changed = session.execute(
                update(table(model)).where(table(model).c.customer_id == duplicate.id)
                .values(customer_id=keep.id))
            moved[model.__tablename__] = int(getattr(changed, "rowcount", 0) or 0)
        # earlier merges into the duplicate now point at the kept customer (one hop, always)
        session.execute(update(Customer).where(Customer.merged_into_id == duplicate.id)
                        .values(merged_into_id=keep.id))
        filled = []
        for field in ("phone", "email", "room", "segment", "location_id"):
            if getattr(keep, field) is None and getattr(duplicate, field) is not None:
                setattr(keep, field, getattr(duplicate, field))
                filled.append(field.removesuffix("_id").replace("email", "e-mail"))
        if duplicate.first_seen_at and (keep.first_seen_at is None or duplicate.first_seen_at < keep.first_seen_at):
            keep.first_seen_at = duplicate.first_seen_at
        duplicate.merged_into_id, duplicate.merged_at = keep.id, at
        outcomes.refresh(session, [keep.id, duplicate.id], transactions_changed=moved["transactions"] > 0)
        merged = MergeResult(keep.code, duplicate.code, moved["incidents"], moved["gestures"],
                             moved["transactions"], tuple(filled))
        audit.record(session, actor, "customer.merged", "customer", duplicate.code, dict(
            into=keep.code, reason=clean_reason, incidents=merged.incidents, gestures=merged.gestures,
            transactions=merged.transactions, filled=list(filled)), at=at)  # ids and counts, no personal data
        return merged


def _customer_for_update(session: Session, code: str) -> Customer:
    customer = session.scalars(select(Customer).where(Customer.code == str(code).strip()).with_for_update()).first()
    if customer is None:
        customer_by_code(session, code)  # raises UnknownCustomer with its sentence
        raise AssertionError  # pragma: no cover
    return customer


def locate_customers(connection: Connection | Session) -> None:
    """Bulk writers (the demo): a customer without a location gets that of their latest incident."""
    customers, incidents = table(Customer), table(Incident)
    latest = (select(incidents.c.location_id)
              .where(and_(incidents.c.customer_id == customers.c.id, incidents.c.location_id.is_not(None)))
              .order_by(incidents.c.occurred_at.desc()).limit(1).scalar_subquery())
    connection.execute(update(customers).where(customers.c.location_id.is_(None)).values(location_id=latest))


__all__ = ["Candidate", "LikelyDuplicate", "MergeResult", "create_customer", "likely_duplicates",
           "locate_customers", "merge_customers"]
