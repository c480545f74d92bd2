"""Signing in: user name + password, or a PIN on the shared tablet.

- Secrets are hashed with Argon2id (`empowerment.services.passwords`); nothing stores or logs one in clear.
- A failed password sign-in says the same thing, in about the same time, whether the user name
  exists or not (one Argon2 verification and one audit row either way).
- A PIN is 4-6 digits. 5 wrong tries lock it for 15 minutes; every failure, every lock and every
  refusal during a lock is written to the audit log. A correct PIN during a lock is refused.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from empowerment import audit
from empowerment.actor import Actor, actor_for
from empowerment.clock import utc_now
from empowerment.db import Database
from empowerment.errors import AuthenticationFailed, PinLocked, SignInThrottled
from empowerment.models import AuditEvent, Employee, Role, SignInFailure, table
from empowerment.models.lookups import employee_by_code
from empowerment.services.passwords import verify_secret

PIN_PATTERN = re.compile(r"^[0-9]{4,6}$")
PIN_MAX_TRIES = 5
PIN_LOCK_MINUTES = 15  # the first lock; each further one before a sign-in doubles it ...
PIN_LOCK_MAX_MINUTES = 24 * 60  # ... up to a day
PASSWORD_MAX_FAILURES = 10  # per user name (known or not) ...
PASSWORD_WINDOW_MINUTES = 15  # ... within this many minutes
MAX_SECRET_CHARS = 256

SIGN_IN_FAILED = "That user name and password do not match an active account."
PIN_FAILED = "That PIN is not right."

# Recorded as the "actor" of events that happen before anyone is signed in. Never passed to a
# service: only to `audit.record`.
SIGN_IN_SCREEN = Actor(employee_id=None, name="sign-in screen", role=Role.STAFF)
SHARED_TABLET = Actor(employee_id=None, name="shared tablet", role=Role.STAFF)


def _now(now: datetime | None) -> datetime:
    return (now or utc_now()).replace(microsecond=0)



# --- password sign-in -----------------------------------------------------------------------------

def authenticate(db: Database, username: str, password: str, now: datetime | None = None) -> Actor:
    """The actor for a user name and password, or `AuthenticationFailed` with one message for
    every reason (unknown name, wrong password, no password set, inactive account).

    After PASSWORD_MAX_FAILURES failures with one user name within PASSWORD_WINDOW_MINUTES,
    that name is refused without checking the password (`SignInThrottled`) until the oldest
    failure leaves the window: online guessing slows to a few tries an hour. Names that match
    no account count and answer the same way, so the throttle does not reveal which exist.

    Parallel guesses cannot slip past the count: each attempt first reserves its place (a failure
    row, written under a per-name lock in the database, so it holds across replicas), and only
    then runs the slow hash; a correct password removes the reservations again."""
    at = _now(now)
    name = (username or "").strip()
    key = _name_key(name)
    failures = table(SignInFailure)
    with db.write() as session:
        _lock_name(session, key)
        recent = _recent_failures(session, key, at)
        if len(recent) >= PASSWORD_MAX_FAILURES:
            audit.record(session, SIGN_IN_SCREEN, "auth.sign_in_throttled", "employee", None,
                         dict(method="password"), at=at)
            wait = recent[-PASSWORD_MAX_FAILURES] + timedelta(minutes=PASSWORD_WINDOW_MINUTES) - at
            throttled: Exception | None = SignInThrottled(_throttled_message(wait))
        else:
            throttled = None
            session.connection().execute(insert(failures).values(name_key=key, failed_at=at))
        employee = session.scalar(select(Employee).where(Employee.username == name)) if name else None
        stored = employee.password_hash if employee is not None and employee.active else None
        employee_id = employee.id if employee is not None else None
        code = employee.code if employee is not None else None
    if throttled is not None:
        raise throttled
    ok = verify_secret(stored, (password or "")[:MAX_SECRET_CHARS])  # dummy verify when None
    actor = None
    with db.write() as session:
        if ok and employee_id is not None:
            employee = session.get(Employee, employee_id)
            if employee is not None and employee.active and employee.password_hash == stored:
                actor = actor_for(employee, session)
        if actor is None:
            # the reservation stays as the failure; only the last day matters: also clears names
            # tried once (a spray of random names)
            session.connection().execute(delete(failures).where(failures.c.failed_at < at - timedelta(days=1)))
            audit.record(session, SIGN_IN_SCREEN, "auth.sign_in_failed", "employee", code,
                         dict(method="password"), at=at)
        else:
            session.connection().execute(delete(failures).where(failures.c.name_key == key))
            audit.record(session, actor, "auth.signed_in", "employee", code,
                         dict(method="password"), at=at)
    if actor is None:
        raise AuthenticationFailed(SIGN_IN_FAILED)
    return actor


def _lock_name(session: Session, key: str) -> None:
    """Serialise attempts for one name until the unit ends. SQLite's write unit already holds the
    single writer lock; PostgreSQL takes a transaction-level advisory lock on the name's digest
    (released at commit, so it also works behind PgBouncer in transaction mode)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                        dict(k=int.from_bytes(bytes.fromhex(key[:16]), "big", signed=True)))


def _name_key(name: str) -> str:
    return hashlib.sha256(name.casefold().encode("utf-8")).hexdigest()


def _recent_failures(session: Session, key: str, at: datetime) -> list[datetime]:
    """This name's failures within the window, oldest first."""
    return list(session.scalars(
        select(SignInFailure.failed_at)
        .where(SignInFailure.name_key == key,
               SignInFailure.failed_at > at - timedelta(minutes=PASSWORD_WINDOW_MINUTES))
        .order_by(SignInFailure.failed_at)
    ))


def _throttled_message(wait: timedelta) -> str:
    minutes = max(1, -(-int(wait.total_seconds()) // 60))
    return (f"Too many failed sign-ins with this user name. Try again in {minutes} minute"
            f"{'' if minutes == 1 else 's'}, or ask an admin to set a new password.")


def authenticate_pin(db: Database, employee_code: str, pin: str, now: datetime | None = None) -> Actor:
    """Sign in on the shared tablet. Wrong PIN: `AuthenticationFailed` saying how many tries are
    left; locked: `PinLocked` saying until when (even for the right PIN)."""
    at = _now(now)
    pin = (pin or "").strip()
    with db.read() as session:
        employee = employee_by_code(session, employee_code)
        if employee is None or not employee.active or not employee.role.signs_in_with_pin:
            verify_secret(None, pin)
            raise AuthenticationFailed(PIN_FAILED)
        locked_until = employee.pin_locked_until
        ok = (locked_until is None or locked_until <= at) and bool(PIN_PATTERN.match(pin)) \
            and verify_secret(employee.pin_hash, pin)
    outcome: Exception | None = None
    actor: Actor | None = None
    with db.write() as session:  # re-read under the write lock: concurrent tries count once each
        employee = employee_by_code(session, employee_code, for_update=True)
        assert employee is not None
        if employee.pin_locked_until is not None and employee.pin_locked_until > at:
            audit.record(session, SHARED_TABLET, "auth.pin_refused_locked", "employee",
                         employee.code, dict(locked_until=employee.pin_locked_until), at=at)
            outcome = PinLocked(_locked_message(employee.pin_locked_until, at, employee))
        elif not ok:
            outcome = _count_failure(session, employee, at)
        else:
            employee.pin_failed_attempts = 0
            employee.pin_locked_until = None
            actor = actor_for(employee, session)
            audit.record(session, actor, "auth.signed_in", "employee", employee.code,
                         dict(method="pin"), at=at)
    if outcome is not None:
        raise outcome
    assert actor is not None
    return actor


def _count_failure(session: Session, employee: Employee, at: datetime) -> Exception:
    attempts = (employee.pin_failed_attempts or 0) + 1
    audit.record(session, SHARED_TABLET, "auth.pin_failed", "employee", employee.code,
                 dict(attempt=attempts), at=at)
    if attempts >= PIN_MAX_TRIES:
        minutes = _pin_lock_minutes(session, employee, at)
        employee.pin_failed_attempts = 0
        employee.pin_locked_until = at + timedelta(minutes=minutes)
        audit.record(session, SHARED_TABLET, "auth.pin_locked", "employee", employee.code,
                     dict(until=employee.pin_locked_until, minutes=minutes), at=at)
        return PinLocked(
            f"Wrong PIN {PIN_MAX_TRIES} times: it is locked for {_duration(minutes)}. "
            f"{_locked_message(employee.pin_locked_until, at, employee)}")
    employee.pin_failed_attempts = attempts
    left = PIN_MAX_TRIES - attempts
    return AuthenticationFailed(
        f"{PIN_FAILED} {left} {'try' if left == 1 else 'tries'} left before it locks for a while.")


def _pin_lock_minutes(session: Session, employee: Employee, at: datetime) -> int:
    """15 minutes, doubling with each earlier lock since this person last signed in (within a
    week), up to a day: a 4-digit PIN then allows a handful of guesses a day, not 480."""
    last_sign_in = select(func.max(AuditEvent.occurred_at)).where(
        AuditEvent.action == "auth.signed_in", AuditEvent.entity_id == employee.code
    ).scalar_subquery()
    earlier_locks = session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "auth.pin_locked", AuditEvent.entity_id == employee.code,
        AuditEvent.occurred_at > at - timedelta(days=7),
        AuditEvent.occurred_at > func.coalesce(last_sign_in, at - timedelta(days=7)),
    )) or 0
    return min(PIN_LOCK_MINUTES * 2 ** min(earlier_locks, 10), PIN_LOCK_MAX_MINUTES)


def _duration(minutes: int) -> str:
    if minutes < 120:
        return f"{minutes} minutes"
    return f"{minutes // 60} hours" if minutes % 60 == 0 else f"{minutes / 60:.1f} hours"


def _locked_message(until: datetime, at: datetime, employee: Employee) -> str:
    """Until when, and what to do: a password is offered only to someone who has one (most staff
    only have their PIN)."""
    when = f"{until:%H:%M}" if until.date() == at.date() else f"{until:%a %d %b, %H:%M}"
    if employee.password_hash and employee.username:
        return (f"This PIN is locked until {when}. Ask a manager or an admin to unlock it, "
                "or sign in with your user name and password.")
    return f"This PIN is locked until {when}. Ask a manager or an admin to unlock it."


def lift_throttle(session: Session, username: str) -> None:
    """Forget a name's failed sign-ins (an admin set a new password for it)."""
    failures = table(SignInFailure)
    session.connection().execute(delete(failures).where(failures.c.name_key == _name_key(username)))
