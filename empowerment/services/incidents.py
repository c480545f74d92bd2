"""Incidents have a life: open until a gesture resolves them or someone closes them with a note;
on the hand-over a colleague acknowledges one, takes it over (becomes its owner) or closes it, and
anyone may record that they followed up with the guest. One write unit per action, audited.

The rules (what may be closed, followed up, change hands) are properties of `IncidentStatus`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from empowerment import access, audit
from empowerment.actor import Actor
from empowerment.clock import utc_now
from empowerment.db import Database
from empowerment.errors import InvalidInput, InvalidState, PermissionDenied, UnknownIncident
from empowerment.models import Gesture, GestureStatus, Incident, IncidentStatus, table

MAX_NOTE_CHARS = 1000


def resolve_where_gestures(connection: Connection | Session) -> int:
    """Bulk writers (imports, the demo) insert incidents and gestures separately: mark every open
    incident that has a gesture which counts as resolved. Returns how many changed."""
    incidents = table(Incident)
    counts = exists().where(Gesture.incident_id == incidents.c.id,
                            Gesture.status.in_(GestureStatus.against_budget()))
    result = connection.execute(
        update(incidents).where(incidents.c.status == IncidentStatus.OPEN, counts)
        .values(status=IncidentStatus.RESOLVED))
    return int(getattr(result, "rowcount", 0) or 0)


def _incident_for_update(session: Session, actor: Actor, code: str) -> Incident:
    incident = session.scalars(select(Incident).where(Incident.code == code).with_for_update()).first()
    if incident is None:
        raise UnknownIncident(f"No incident '{code}'.")
    # Reach: the locations of the actor's team (and managed teams); everywhere for admins. An
    # incident recorded without a location is anybody's at the desk.
    scope = access.location_ids(session, actor, "incident.handle")
    if scope is not None and incident.location_id is not None and incident.location_id not in scope:
        raise PermissionDenied(access.action("incident.handle").out_of_reach or "")
    return incident


def _note(text: str | None, required: str | None) -> str | None:
    note = " ".join((text or "").split()) or None
    if note is None and required:
        raise InvalidInput(required)
    if note and len(note) > MAX_NOTE_CHARS:
        raise InvalidInput(f"Keep the note under {MAX_NOTE_CHARS:,} characters.")
    return note


def _now(now: datetime | None) -> datetime:
    return (now or utc_now()).replace(microsecond=0)


def acknowledge(db: Database, actor: Actor, incident_code: str, now: datetime | None = None) -> None:
    """"I have read it" at the hand-over: the card shows who knows about it."""
    with db.write() as session:
        incident = _incident_for_update(session, actor, incident_code)
        if not incident.status.can_change_hands:
            raise InvalidState(f"This incident is {incident.status.label.lower()}; nothing to acknowledge.")
        incident.acknowledged_at, incident.acknowledged_by_id = _now(now), actor.employee_id
        audit.record(session, actor, "incident.acknowledged", "incident", incident.code, at=incident.acknowledged_at)


def take_over(db: Database, actor: Actor, incident_code: str, now: datetime | None = None) -> None:
    """The actor becomes the incident's owner (and has, by that, acknowledged it)."""
    with db.write() as session:
        incident = _incident_for_update(session, actor, incident_code)
        if not incident.status.can_change_hands:
            raise InvalidState(f"This incident is {incident.status.label.lower()}; nobody needs to take it over.")
        if actor.employee_id is None:
            raise InvalidInput("Only a person can take an incident over.")
        previous = incident.owner_id
        at = _now(now)
        incident.owner_id = actor.employee_id
        incident.acknowledged_at, incident.acknowledged_by_id = at, actor.employee_id
        audit.record(session, actor, "incident.taken_over", "incident", incident.code,
                     dict(previous_owner_id=previous), at=at)


def close(db: Database, actor: Actor, incident_code: str, note: str, now: datetime | None = None) -> None:
    """Closed with a note: nothing (more) to give, and the note says why."""
    clean = _note(note, "Say in a few words why the incident is closed.")
    with db.write() as session:
        incident = _incident_for_update(session, actor, incident_code)
        if not incident.status.can_be_closed:
            raise InvalidState(f"This incident is already {incident.status.label.lower()}; nothing changed.")
        at = _now(now)
        incident.status = IncidentStatus.CLOSED
        incident.closed_at, incident.closed_by_id, incident.close_note = at, actor.employee_id, clean
        audit.record(session, actor, "incident.closed", "incident", incident.code, at=at)  # the note stays on the row


def follow_up(db: Database, actor: Actor, incident_code: str, note: str | None = None,
              now: datetime | None = None) -> None:
    """Someone checked back with the guest. The latest follow-up is kept on the incident (every one
    is in the audit log); a later kind of follow-up ("called", "checked in", "wrote") extends this."""
    clean = _note(note, None)
    with db.write() as session:
        incident = _incident_for_update(session, actor, incident_code)
        if not incident.status.can_be_followed_up:
            raise InvalidState(f"This incident is {incident.status.label.lower()}; there is nothing to follow up.")
        at = _now(now)
        incident.followed_up_at, incident.followed_up_by_id, incident.follow_up_note = at, actor.employee_id, clean
        audit.record(session, actor, "incident.followed_up", "incident", incident.code,
                     dict(with_note=clean is not None), at=at)
