"""Writes for proactive care (issue 13): a follow-up after a recovery (called, checked in,
wrote), acting on a care-list entry (a follow-up or a gesture, which takes the customer off the
list, with the reason they were on it kept in the audit log), and a manager's thanks for a story.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from empowerment import access, audit
from empowerment.actor import Actor
from empowerment.clock import utc_now
from empowerment.db import Database
from empowerment.errors import InvalidInput, UnknownGesture, UnknownIncident
from empowerment.models import Employee, FollowUp, FollowUpKind, Gesture, Incident, Recognition, table
from empowerment.services.gestures import LogRequest, LogResult, log_gesture

CARE_SOURCE = "care"
MAX_NOTE_CHARS = 2000
MAX_THANKS_CHARS = 1000


@dataclass(frozen=True)
class FollowUpRequest:
    employee_code: str  # who followed up
    incident_code: str
    kind: str  # FollowUpKind value or label
    note: str | None = None
    source: str = "app"  # app | care | cli | import


@dataclass(frozen=True)
class CareReason:
    """Why the customer was on the care list when someone acted (kept in the audit log)."""

    customer_code: str
    reason: str
    rank: int
    value_at_risk_cents: int
    chance_not_returning: float

    def detail(self) -> dict[str, Any]:
        return dict(customer=self.customer_code, reason=self.reason, rank=self.rank,
                    value_at_risk_cents=self.value_at_risk_cents,
                    chance_not_returning=round(float(self.chance_not_returning), 4))


def _kind(text: str) -> FollowUpKind:
    wanted = str(text or "").strip().lower().replace(" ", "_").replace("-", "_")
    for kind in FollowUpKind:
        if wanted in (kind.value, kind.label.lower().replace(" ", "_")):
            return kind
    raise InvalidInput(f"'{text}' is not a follow-up; use one of: {', '.join(k.label for k in FollowUpKind)}.")


def record_follow_up(db: Database, actor: Actor, request: FollowUpRequest, *, at: datetime | None = None,
                     care: CareReason | None = None) -> str:
    """Record that someone called, checked in on or wrote to the customer of an incident. Returns
    the follow-up's code. From the care list, `care` says why the customer was there."""
    kind = _kind(request.kind)
    note = (request.note or "").strip() or None
    if note and len(note) > MAX_NOTE_CHARS:
        raise InvalidInput(f"Keep the note under {MAX_NOTE_CHARS:,} characters.")
    at = (at or utc_now())
    code = f"F-{uuid.uuid4().hex[:12]}"
    with db.write() as session:
        employee = access.employee(session, actor, "followup.log", request.employee_code)
        incident = session.scalar(select(Incident).where(Incident.code == str(request.incident_code).strip()))
        if incident is None:
            raise UnknownIncident(f"No incident '{request.incident_code}'.")
        if at < incident.occurred_at:
            raise InvalidInput("A follow-up comes after the incident; check the time.")
        session.connection().execute(insert(table(FollowUp)).values(
            code=code, incident_id=incident.id, customer_id=incident.customer_id, kind=kind.value,
            employee_id=employee.id, occurred_at=at, note=note, source=request.source or "app"))
        audit.record(session, actor, "followup.recorded", "incident", incident.code,
                     dict(kind=kind.value, by=employee.code, follow_up=code), at=at)
        if care is not None:
            audit.record(session, actor, "care.acted", "customer", care.customer_code,
                         dict(**care.detail(), action="follow_up", kind=kind.value, follow_up=code), at=at)
    return code


def act_with_gesture(db: Database, actor: Actor, request: LogRequest, care: CareReason) -> LogResult:
    """A gesture logged from the care list (source "care": it takes the customer off the list),
    and the audit row saying why the customer was on it."""
    result = log_gesture(db, actor, LogRequest(**{**request.__dict__, "source": CARE_SOURCE}))
    if not result.already_logged:
        with db.write() as session:
            audit.record(session, actor, "care.acted", "customer", care.customer_code,
                         dict(**care.detail(), action="gesture", gesture=result.gesture_code))
    return result


def thank(db: Database, actor: Actor, gesture_code: str, message: str, *, feature: bool = True) -> None:
    """A manager thanks the person behind a gesture (and features its story on the feed)."""
    message = (message or "").strip()
    if not message:
        raise InvalidInput("Write a word of thanks.")
    if len(message) > MAX_THANKS_CHARS:
        raise InvalidInput(f"Keep the thanks under {MAX_THANKS_CHARS:,} characters.")
    with db.write() as session:
        row = session.execute(select(Gesture, Employee).join(Employee, Employee.id == Gesture.employee_id)
                              .where(Gesture.code == gesture_code)).first()
        if row is None:
            raise UnknownGesture(f"No gesture '{gesture_code}'.")
        gesture, employee = row
        access.require(actor, "recognition.give", team_id=employee.team_id)
        if feature and (gesture.note or "").strip():
            gesture.featured = True
        session.add(Recognition(gesture_id=gesture.id, employee_id=employee.id, thanked_by_id=actor.employee_id,
                                message=message, created_at=utc_now()))
        audit.record(session, actor, "recognition.given", "gesture", gesture.code, dict(to=employee.code))
