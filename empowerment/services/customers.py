"""Customers at the desk, write side: add a walk-in on the spot."""

from __future__ import annotations

import uuid
from datetime import datetime

from empowerment import access, audit
from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.errors import InvalidInput
from empowerment.models import Customer

MAX_NAME_CHARS = 200


def _clean(value: str | None, field: str, max_chars: int = 200) -> str | None:
    value = (value or "").strip()
    if len(value) > max_chars:
        raise InvalidInput(f"The {field} is too long; keep it under {max_chars} characters.")
    return value or None


def create_customer(
    db: Database, actor: Actor, name: str, *, phone: str | None = None, room: str | None = None,
    email: str | None = None, segment: str | None = None,
) -> str:
    """Add a walk-in customer on the spot; returns the generated id."""
    access.require(actor, "customer.create", anywhere=True)
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
        return customer.code
