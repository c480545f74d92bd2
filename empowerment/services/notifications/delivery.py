"""The worker's steps, each its own short unit of work: fan events out to deliveries, claim the due
ones, send them (outside any transaction), write each outcome. See the package docstring."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from empowerment import access, audit, settings
from empowerment.actor import Actor
from empowerment.clock import utc_now
from empowerment.db import Database
from empowerment.errors import InvalidState, NotFound
from empowerment.models import (
    DeliveryStatus,
    Employee,
    EventKind,
    NotificationDelivery,
    NotificationPreference,
    OutboxEvent,
    Role,
    TeamManager,
    table,
)
from empowerment.services.notifications import channels
from empowerment.services.notifications.messages import render
from empowerment.services.sealing import unseal

BACKOFF = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1),
           timedelta(hours=6))
MAX_ATTEMPTS = len(BACKOFF) + 1
BATCH = 50
SEND_THREADS = 8  # a hanging receiver holds one thread, not the others' messages


def _insert_fn(session: Session) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


# --- fan-out --------------------------------------------------------------------------------------

def _active(session: Session, ids: list[int]) -> list[int]:
    return list(session.scalars(select(Employee.id).where(Employee.id.in_(ids), Employee.active.is_(True))))


def _approvers(session: Session, team_id: int | None, besides: int | None) -> list[int]:
    """The team's managers (not the person who logged it); if it has none, the admins."""
    managers = [] if team_id is None else list(session.scalars(
        select(TeamManager.employee_id).join(Employee, Employee.id == TeamManager.employee_id)
        .where(TeamManager.team_id == team_id, Employee.active.is_(True))))
    managers = [m for m in managers if m != besides]
    if managers:
        return managers
    admins = session.scalars(select(Employee.id).where(Employee.role == Role.ADMIN, Employee.active.is_(True)))
    return [a for a in admins if a != besides]


def recipients(session: Session, kind: EventKind, payload: dict[str, Any]) -> list[int]:
    if kind in (EventKind.APPROVAL_REQUESTED, EventKind.FLAGGED_FOR_REVIEW):
        return _approvers(session, payload.get("team_id"), payload.get("employee_id"))
    return _active(session, [int(payload["recipient_id"] if kind == EventKind.WEEKLY_DIGEST
                                 else payload["employee_id"])])


def chosen_channels(session: Session, employee_ids: list[int]) -> dict[int, list[str]]:
    """Each person's enabled channels; with no choice made, email when they have an address."""
    rows = session.execute(select(NotificationPreference.employee_id, NotificationPreference.channel,
                                  NotificationPreference.enabled)
                           .where(NotificationPreference.employee_id.in_(employee_ids))).all()
    chosen: dict[int, dict[str, bool]] = {}
    for employee_id, channel, enabled in rows:
        chosen.setdefault(employee_id, {})[channel] = enabled
    emails = dict(session.execute(select(Employee.id, Employee.email).where(Employee.id.in_(employee_ids))).all())
    out: dict[int, list[str]] = {}
    for employee_id in employee_ids:
        picks = chosen.get(employee_id, {})
        has_email = bool(emails.get(employee_id))
        out[employee_id] = [c for c in channels.SENDERS if picks.get(c, c == "email" and has_email)]
    return out


def dispatch(db: Database, now: datetime | None = None, limit: int = 200) -> int:
    """Turn undispatched events into deliveries; the number of deliveries created."""
    at = (now or utc_now())
    created = 0
    with db.write() as session:
        events = session.scalars(select(OutboxEvent).where(OutboxEvent.dispatched_at.is_(None))
                                 .order_by(OutboxEvent.id).limit(limit)).all()
        deliveries = table(NotificationDelivery)
        for event in events:
            payload = json.loads(event.payload)
            people = recipients(session, EventKind(event.kind), payload)
            for employee_id, picks in chosen_channels(session, people).items():
                for channel in picks:
                    result = session.connection().execute(
                        _insert_fn(session)(deliveries).values(
                            event_id=event.id, employee_id=employee_id, channel=channel,
                            status=DeliveryStatus.PENDING.value, attempts=0, next_attempt_at=at, created_at=at)
                        .on_conflict_do_nothing(index_elements=["event_id", "employee_id", "channel"])
                        .returning(deliveries.c.id))
                    created += len(result.all())
            event.dispatched_at = at
    return created


# --- delivery -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    channel: str
    attempts: int
    envelope: channels.Envelope | None  # None: nowhere to send it
    problem: str | None = None


def _envelope(session: Session, delivery: NotificationDelivery, event: OutboxEvent,
              config: settings.Settings) -> channels.Envelope:
    payload = json.loads(event.payload)
    message = render(EventKind(event.kind), payload, config.public_url)
    preference = session.get(NotificationPreference, (delivery.employee_id, delivery.channel))
    target = preference.target if preference is not None else None
    if delivery.channel == "email" and not target:
        target = session.scalar(select(Employee.email).where(Employee.id == delivery.employee_id))
    if not target:
        raise InvalidState("This person has no address for this channel.")
    secret = None
    if delivery.channel == "webhook" and preference is not None and preference.secret_encrypted:
        secret = unseal(preference.secret_encrypted)
    data = {k: v for k, v in payload.items() if k not in ("recipient_id",)}
    return channels.Envelope(delivery.id, event.kind, target, secret, message, data)


def _claim(db: Database, at: datetime, config: settings.Settings, limit: int) -> list[Claimed]:
    claimed: list[Claimed] = []
    deliveries = table(NotificationDelivery)
    with db.write() as session:
        due = session.execute(
            select(NotificationDelivery, OutboxEvent).join(OutboxEvent, OutboxEvent.id == NotificationDelivery.event_id)
            .where(NotificationDelivery.status == DeliveryStatus.PENDING.value,
                   NotificationDelivery.next_attempt_at <= at)
            .order_by(NotificationDelivery.next_attempt_at, NotificationDelivery.id).limit(limit)).all()
        for delivery, event in due:
            taken = session.connection().execute(
                update(deliveries).where(deliveries.c.id == delivery.id,
                                         deliveries.c.status == DeliveryStatus.PENDING.value)
                .values(status=DeliveryStatus.SENDING.value, claimed_at=at, attempts=deliveries.c.attempts + 1))
            if taken.rowcount != 1:  # another worker took it
                continue
            try:
                envelope: channels.Envelope | None = _envelope(session, delivery, event, config)
                problem = None
            except Exception as exc:  # noqa: BLE001 - a bad row must not stop the others
                envelope, problem = None, str(exc)
            claimed.append(Claimed(delivery.id, delivery.channel, delivery.attempts + 1, envelope, problem))
    return claimed


def _outcome(claim: Claimed, config: settings.Settings,
             sender: Callable[[str, channels.Envelope, settings.Settings], None]) -> tuple[str, str | None, bool]:
    """(status, error, retry) for one claimed delivery; runs outside any transaction."""
    if claim.envelope is None:
        return DeliveryStatus.FAILED.value, claim.problem, False
    try:
        sender(claim.channel, claim.envelope, config)
    except channels.SendFailed as exc:
        if exc.unknown:
            return DeliveryStatus.UNKNOWN.value, str(exc), False
        return (DeliveryStatus.PENDING.value if exc.retry and claim.attempts < MAX_ATTEMPTS
                else DeliveryStatus.FAILED.value), str(exc), exc.retry
    except Exception as exc:  # noqa: BLE001 - unexpected: keep the worker alive, do not resend
        return DeliveryStatus.UNKNOWN.value, f"{type(exc).__name__}: {exc}", False
    return DeliveryStatus.SENT.value, None, False


def deliver_due(db: Database, now: datetime | None = None, limit: int = BATCH,
                sender: Callable[[str, channels.Envelope, settings.Settings], None] = channels.send) -> int:
    """Claim, send and record due deliveries; the number handled."""
    config = settings.current()
    at = (now or utc_now())
    claimed = _claim(db, at, config, limit)
    if not claimed:
        return 0
    with ThreadPoolExecutor(max_workers=min(SEND_THREADS, len(claimed))) as pool:
        outcomes = list(pool.map(lambda c: _outcome(c, config, sender), claimed))
    finished = utc_now()
    deliveries = table(NotificationDelivery)
    with db.write() as session:
        for claim, (status, error, _retry) in zip(claimed, outcomes, strict=True):
            values: dict[str, Any] = dict(status=status, last_error=error)
            if status == DeliveryStatus.SENT.value:
                values["sent_at"] = finished
            elif status == DeliveryStatus.PENDING.value:
                values["next_attempt_at"] = finished + BACKOFF[min(claim.attempts, len(BACKOFF)) - 1]
            session.connection().execute(update(deliveries).where(
                deliveries.c.id == claim.delivery_id, deliveries.c.status == DeliveryStatus.SENDING.value)
                .values(**values))
    return len(claimed)


def sweep_stale(db: Database, now: datetime | None = None) -> int:
    """Deliveries a worker claimed and never finished (it was stopped mid-send): the message may
    have gone out, so they are marked unknown, never sent again on their own."""
    at = now or utc_now()
    cutoff = at - timedelta(seconds=settings.current().notify_timeout_seconds * 2 + 60)
    deliveries = table(NotificationDelivery)
    with db.write() as session:
        result = session.connection().execute(update(deliveries).where(
            deliveries.c.status == DeliveryStatus.SENDING.value, deliveries.c.claimed_at < cutoff)
            .values(status=DeliveryStatus.UNKNOWN.value,
                    last_error="The worker stopped while sending; not sent again on its own, so nobody "
                               "gets it twice. Send it again from the Delivery log if it did not arrive."))
        return result.rowcount or 0


def run_once(db: Database, now: datetime | None = None) -> int:
    """One round of the worker: sweep, fan out, deliver. The number of deliveries handled."""
    sweep_stale(db, now)
    dispatch(db, now)
    return deliver_due(db, now)


def send_again(db: Database, actor: Actor, delivery_id: int) -> None:
    """An admin asks for a failed or unknown delivery to be tried once more."""
    access.require(actor, "notification.log")
    with db.write() as session:
        delivery = session.get(NotificationDelivery, delivery_id)
        if delivery is None:
            raise NotFound(f"No delivery {delivery_id}.")
        if not DeliveryStatus(delivery.status).can_send_again:
            raise InvalidState(f"This delivery is {DeliveryStatus(delivery.status).label.lower()}; "
                               "only failed or unknown ones can be sent again.")
        delivery.status = DeliveryStatus.PENDING.value
        delivery.next_attempt_at = utc_now()
        delivery.attempts = 0
        audit.record(session, actor, "notification.sent_again", "notification_delivery", delivery.id)


def record_digest(db: Database, recipient_id: int, week: str, payload: dict[str, Any],
                  now: datetime | None = None) -> None:
    """This week's digest for one manager, once (a second call the same week is dropped)."""
    from empowerment.services.notifications.outbox import record_event

    with db.write() as session:
        record_event(session, EventKind.WEEKLY_DIGEST, {**payload, "recipient_id": recipient_id}, at=now,
                     dedupe_key=f"digest:{week}:{recipient_id}")
