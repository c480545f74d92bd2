"""Each person's channels: which are on, and where they go."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select

from empowerment import access, audit
from empowerment.actor import Actor
from empowerment.clock import utc_now
from empowerment.db import Database
from empowerment.errors import InvalidInput
from empowerment.models import Employee, NotificationChannel, NotificationPreference
from empowerment.services.sealing import seal

CHANNELS: dict[str, str] = {channel.value: channel.label for channel in NotificationChannel}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class ChannelChoice:
    channel: str
    enabled: bool
    target: str | None = None  # email address or webhook URL
    secret: str | None = None  # generic webhooks: the signing secret (None keeps the stored one)


def check_target(channel: str, target: str | None) -> str | None:
    """The address, normalised, or InvalidInput saying what a channel needs."""
    value = (target or "").strip()
    if channel == "email":
        if value and not _EMAIL.match(value):
            raise InvalidInput(f"'{value}' is not an email address.")
        return value.lower() or None
    if not value:
        raise InvalidInput(f"{CHANNELS[channel]} needs the webhook address to post to.")
    parts = urlsplit(value)
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in _LOCAL_HOSTS):
        raise InvalidInput("A webhook address must start with https:// (http:// only for this machine).")
    if len(value) > 500:
        raise InvalidInput("The webhook address is too long (500 characters at most).")
    return value


def set_channels(db: Database, actor: Actor, employee_code: str, choices: list[ChannelChoice],
                 now: datetime | None = None) -> None:
    """Save a person's channel choices (one write unit); the person themselves only."""
    for choice in choices:
        if choice.channel not in CHANNELS:
            raise InvalidInput(f"'{choice.channel}' is not a channel; choose one of: {', '.join(CHANNELS)}.")
    at = (now or utc_now())
    with db.write() as session:
        employee = access.employee(session, actor, "notification.preferences", employee_code)
        for choice in choices:
            target = check_target(choice.channel, choice.target) if choice.enabled or choice.target else None
            row = session.get(NotificationPreference, (employee.id, choice.channel))
            if row is None:
                row = NotificationPreference(employee_id=employee.id, channel=choice.channel)
                session.add(row)
            row.enabled, row.target, row.updated_at = choice.enabled, target, at
            if choice.channel == "webhook" and choice.secret:
                row.secret_encrypted = seal(choice.secret)
            if choice.channel == "webhook" and choice.enabled and not (row.secret_encrypted or choice.secret):
                raise InvalidInput("A signed webhook needs a secret to sign with (at least 16 characters).")
            if choice.secret and len(choice.secret) < 16:
                raise InvalidInput("Use a signing secret of at least 16 characters.")
        audit.record(session, actor, "notifications.preferences_set", "employee", employee.code,
                     {c.channel: c.enabled for c in choices})


def set_email(db: Database, actor: Actor, employee_code: str, email: str | None) -> None:
    """An admin records a person's work email (notifications, company sign-in)."""
    address = check_target("email", email)
    with db.write() as session:
        employee = access.employee(session, actor, "user.create", employee_code, active_only=False)
        taken = session.scalar(select(Employee.code).where(Employee.email == address,
                                                           Employee.id != employee.id)) if address else None
        if taken is not None:
            raise InvalidInput(f"{address} is already the email of another person.")
        employee.email = address
        audit.record(session, actor, "employee.email_set", "employee", employee.code)
