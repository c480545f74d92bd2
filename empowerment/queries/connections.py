"""Read side of the connected features: API tokens, webhook sources, notification deliveries, and a
person's own channel choices."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import aliased

from empowerment import access
from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.models import (
    ApiToken,
    Employee,
    NotificationChannel,
    NotificationDelivery,
    NotificationPreference,
    OutboxEvent,
    WebhookSource,
)

TOKEN_COLUMNS = ["token_id", "name", "prefix", "scopes", "acts_as", "rate_limit_per_minute", "created_at",
                 "last_used_at", "revoked_at"]
DELIVERY_COLUMNS = ["delivery_id", "created_at", "event", "recipient", "channel", "status", "attempts",
                    "next_attempt_at", "sent_at", "last_error"]


def api_tokens(db: Database, actor: Actor) -> pd.DataFrame:
    access.require(actor, "api.manage")
    with db.read() as session:
        rows = session.execute(
            select(ApiToken.id, ApiToken.name, ApiToken.prefix, ApiToken.scopes, Employee.name,
                   ApiToken.rate_limit_per_minute, ApiToken.created_at, ApiToken.last_used_at, ApiToken.revoked_at)
            .join(Employee, Employee.id == ApiToken.employee_id).order_by(ApiToken.id.desc())).all()
    return pd.DataFrame(rows, columns=TOKEN_COLUMNS)


def webhook_sources(db: Database, actor: Actor) -> pd.DataFrame:
    access.require(actor, "api.manage")
    with db.read() as session:
        rows = session.execute(select(WebhookSource.name, WebhookSource.created_at, WebhookSource.last_received_at,
                                      WebhookSource.revoked_at).order_by(WebhookSource.name)).all()
    return pd.DataFrame(rows, columns=["name", "created_at", "last_received_at", "revoked_at"])


def deliveries(db: Database, actor: Actor, status: str | None = None, limit: int = 500) -> pd.DataFrame:
    """The newest deliveries first, with the event's kind and the recipient's name."""
    access.require(actor, "notification.log")
    recipient = aliased(Employee)
    query = (select(NotificationDelivery.id, NotificationDelivery.created_at, OutboxEvent.kind, recipient.name,
                    NotificationDelivery.channel, NotificationDelivery.status, NotificationDelivery.attempts,
                    NotificationDelivery.next_attempt_at, NotificationDelivery.sent_at, NotificationDelivery.last_error)
             .join(OutboxEvent, OutboxEvent.id == NotificationDelivery.event_id)
             .join(recipient, recipient.id == NotificationDelivery.employee_id)
             .order_by(NotificationDelivery.id.desc()).limit(limit))
    if status:
        query = query.where(NotificationDelivery.status == status)
    with db.read() as session:
        rows = session.execute(query).all()
    return pd.DataFrame(rows, columns=DELIVERY_COLUMNS)


def waiting_events(db: Database, actor: Actor) -> int:
    """Events the worker has not fanned out yet (a worker that is not running shows here)."""
    access.require(actor, "notification.log")
    with db.read() as session:
        return len(session.scalars(select(OutboxEvent.id).where(OutboxEvent.dispatched_at.is_(None)).limit(10_000)).all())


@dataclass(frozen=True)
class ChannelState:
    channel: str
    enabled: bool
    target: str | None
    has_secret: bool


def my_channels(db: Database, actor: Actor, employee_code: str) -> tuple[str | None, list[ChannelState]]:
    """(the person's work email, their choice per channel; email on by default when they have one)."""
    with db.read() as session:
        employee = access.employee(session, actor, "notification.preferences", employee_code)
        stored = {row.channel: row for row in session.scalars(
            select(NotificationPreference).where(NotificationPreference.employee_id == employee.id))}
        email = employee.email
    states = []
    for channel in (c.value for c in NotificationChannel):
        row = stored.get(channel)
        if row is None:
            states.append(ChannelState(channel, channel == "email" and bool(email), None, False))
        else:
            states.append(ChannelState(channel, row.enabled, row.target, bool(row.secret_encrypted)))
    return email, states
