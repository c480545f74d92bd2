"""Erasure on request: an admin removes a customer's personal data, and only that.

Removed: the name (replaced by the customer's pseudonym, the same kind of label reports use), the
organisation's id for them (replaced by a pseudonymous one, so a later import of the old id makes
a new, separate customer), e-mail, phone and room, and every free text written about their visits
(incident descriptions; gesture notes, review comments, decision and void reasons). Kept: every
amount, date, category, gesture type and status, the segment, and the rows themselves, so budgets,
the ledger, the reports and the payoff add up exactly as before. Exports read the same rows, so
they can never bring the data back.

The erasure is audited with the pseudonym, counts and the request's reference, never the erased
values; a reference that contains the customer's name is refused. The ledger (append-only) and
earlier audit rows never held names, contact details or rooms.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import select, update

from empowerment import access, audit, settings
from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.errors import InvalidInput, InvalidState
from empowerment.models import Gesture, Incident
from empowerment.models.lookups import customer_by_code
from empowerment.periods import utc_now

ERASED_TEXT = "Erased on request"
ERASED_CODE_PREFIX = "ERASED-"
MAX_REFERENCE_CHARS = 200
_PURPOSE = b"empowerment.erasure.customer.v1"


@dataclass(frozen=True)
class ErasureResult:
    pseudonym: str  # the customer's name from now on
    new_code: str
    incidents: int
    gestures: int

    def as_text(self) -> str:
        return (f"Erased: the customer is now {self.pseudonym} ({self.new_code}); free text removed from "
                f"{self.incidents:,} incidents and {self.gestures:,} gestures. Amounts, dates and "
                "categories are kept.")


def _pseudonym(code: str) -> tuple[str, str]:
    key = hmac.new(settings.secret_key().encode("utf-8"), _PURPOSE, hashlib.sha256).digest()
    chunk = hmac.digest(key, code.encode("utf-8"), "sha256").hex()[:12].upper()
    return "Erased customer " + "-".join(chunk[i:i + 4] for i in range(0, 12, 4)), ERASED_CODE_PREFIX + chunk


def erase_customer(db: Database, actor: Actor, customer_code: str, reference: str) -> ErasureResult:
    """Erase one customer's personal data (see the module's docstring). `reference` says on whose
    request (a ticket number, "guest's e-mail of 3 May"), without the customer's name."""
    access.require(actor, "customer.erase", anywhere=True)
    reference = " ".join((reference or "").split())
    if not reference:
        raise InvalidInput("Say on what request the customer is erased (a ticket or letter reference).")
    if len(reference) > MAX_REFERENCE_CHARS:
        raise InvalidInput(f"Keep the reference under {MAX_REFERENCE_CHARS} characters.")
    with db.write() as session:
        customer = customer_by_code(session, customer_code)
        if customer.erased_at is not None:
            raise InvalidState("This customer was already erased; nothing changed.")
        name = (customer.name or "").casefold().strip()
        if name and len(name) >= 3 and name in reference.casefold():
            raise InvalidInput("The reference contains the customer's name; the audit log must not. "
                               "Give a ticket or letter reference instead.")
        pseudonym, new_code = _pseudonym(customer.code)
        customer.name, customer.code = pseudonym, new_code
        customer.email = customer.phone = customer.room = None
        customer.erased_at = utc_now()
        incidents = len(list(session.scalars(
            update(Incident).where(Incident.customer_id == customer.id, Incident.description.is_not(None))
            .values(description=None).returning(Incident.id))))
        session.execute(update(Incident).where(Incident.customer_id == customer.id)  # the notes of its life
                        .values(close_note=None, follow_up_note=None))
        gesture_ids = list(session.scalars(select(Gesture.id).where(Gesture.customer_id == customer.id)))
        if gesture_ids:
            for column in ("review_comment", "decision_reason", "void_reason"):
                attribute = getattr(Gesture, column)
                session.execute(update(Gesture).where(Gesture.id.in_(gesture_ids), attribute.is_not(None))
                                .values({column: ERASED_TEXT}))
            session.execute(update(Gesture).where(Gesture.id.in_(gesture_ids))
                            .values(note=None, featured=False))
        audit.record(session, actor, "customer.erased", "customer", new_code,
                     dict(reference=reference, incidents=incidents, gestures=len(gesture_ids)))
        return ErasureResult(pseudonym, new_code, incidents, len(gesture_ids))
