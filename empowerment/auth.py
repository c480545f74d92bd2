"""Who may sign in, and how: user name + password, or a PIN on the shared tablet.

- Secrets are hashed with Argon2id (`empowerment.passwords`); nothing stores or logs one in clear.
- A failed password sign-in says the same thing, in about the same time, whether the user name
  exists or not (one Argon2 verification and one audit row either way).
- A PIN is 4-6 digits. 5 wrong tries lock it for 15 minutes; every failure, every lock and every
  refusal during a lock is written to the audit log. A correct PIN during a lock is refused.
- Browser sessions are signed tokens (`itsdangerous`, keyed by the installation's secret): a
  short-lived hand-off token the page gives its own `/api/session` route, which answers with the
  long-lived HttpOnly cookie. Signing out revokes the session id in the audit log, so a stale
  cookie cannot bring the person back even if the browser kept it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session, object_session

from empowerment import audit, settings
from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.errors import (
    AuthenticationFailed,
    InvalidInput,
    PinLocked,
    SignInThrottled,
    UnknownEmployee,
)
from empowerment.models import (
    AuditEvent,
    Employee,
    Location,
    Role,
    SignInFailure,
    Team,
    TeamManager,
    table,
)
from empowerment.passwords import hash_secret, verify_secret

PIN_PATTERN = re.compile(r"^[0-9]{4,6}$")
PIN_MAX_TRIES = 5
PIN_LOCK_MINUTES = 15  # the first lock; each further one before a sign-in doubles it ...
PIN_LOCK_MAX_MINUTES = 24 * 60  # ... up to a day
PASSWORD_MAX_FAILURES = 10  # per user name (known or not) ...
PASSWORD_WINDOW_MINUTES = 15  # ... within this many minutes
MIN_PASSWORD_CHARS = 10
MAX_SECRET_CHARS = 256
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9._@-]{2,100}$")
PIN_ROLES = frozenset({Role.STAFF, Role.MANAGER})  # who appears on the shared tablet

SIGN_IN_FAILED = "That user name and password do not match an active account."
PIN_FAILED = "That PIN is not right."

SESSION_COOKIE = "emp_session"
SESSION_MAX_AGE_SECONDS = 12 * 3600  # one long shift; the idle timeout ends it much sooner
HANDOFF_MAX_AGE_SECONDS = 120

# Recorded as the "actor" of events that happen before anyone is signed in. Never passed to a
# service: only to `audit.record`.
_SIGN_IN_SCREEN = Actor(employee_id=None, name="sign-in screen", role=Role.STAFF)
_SHARED_TABLET = Actor(employee_id=None, name="shared tablet", role=Role.STAFF)


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now()).replace(microsecond=0)


# --- actors ---------------------------------------------------------------------------------------

def actor_for(employee: Employee, session: Session | None = None) -> Actor:
    """The `Actor` for an employee, with the teams they manage."""
    session = session or object_session(employee)
    managed: frozenset[int] = frozenset()
    if session is not None and employee.role in (Role.MANAGER, Role.ADMIN):
        managed = frozenset(
            session.scalars(select(TeamManager.team_id).where(TeamManager.employee_id == employee.id))
        )
    return Actor(employee.id, employee.name, employee.role, employee.team_id, managed, employee.code)


def load_actor(db: Database, employee_id: int) -> Actor | None:
    """A fresh actor for a still-active employee (roles and teams re-read from the database)."""
    with db.read() as session:
        employee = session.get(Employee, employee_id)
        if employee is None or not employee.active:
            return None
        return actor_for(employee, session)


# --- password sign-in -----------------------------------------------------------------------------

def authenticate(db: Database, username: str, password: str, now: datetime | None = None) -> Actor:
    """The actor for a user name and password, or `AuthenticationFailed` with one message for
    every reason (unknown name, wrong password, no password set, inactive account).

    After PASSWORD_MAX_FAILURES failures with one user name within PASSWORD_WINDOW_MINUTES,
    that name is refused without checking the password (`SignInThrottled`) until the oldest
    failure leaves the window: online guessing slows to a few tries an hour. Names that match
    no account count and answer the same way, so the throttle does not reveal which exist."""
    at = _now(now)
    name = (username or "").strip()
    key = _name_key(name)
    with db.read() as session:
        recent = _recent_failures(session, key, at)
        if len(recent) >= PASSWORD_MAX_FAILURES:
            wait = recent[-PASSWORD_MAX_FAILURES] + timedelta(minutes=PASSWORD_WINDOW_MINUTES) - at
            throttled: Exception | None = SignInThrottled(_throttled_message(wait))
            employee, ok, actor, code = None, False, None, None
        else:
            throttled = None
            employee = session.scalar(select(Employee).where(Employee.username == name)) if name else None
            stored = employee.password_hash if employee is not None and employee.active else None
            ok = verify_secret(stored, (password or "")[:MAX_SECRET_CHARS])  # dummy verify when None
            actor = actor_for(employee, session) if ok and employee is not None else None
            code = employee.code if employee is not None else None
    with db.write() as session:
        failures = table(SignInFailure)
        if throttled is not None:
            audit.record(session, _SIGN_IN_SCREEN, "auth.sign_in_throttled", "employee", None,
                         dict(method="password"), at=at)
        elif actor is None:
            session.connection().execute(insert(failures).values(name_key=key, failed_at=at))
            # only the last day matters: also clears names tried once (a spray of random names)
            session.connection().execute(delete(failures).where(failures.c.failed_at < at - timedelta(days=1)))
            audit.record(session, _SIGN_IN_SCREEN, "auth.sign_in_failed", "employee", code,
                         dict(method="password"), at=at)
        else:
            session.connection().execute(delete(failures).where(failures.c.name_key == key))
            audit.record(session, actor, "auth.signed_in", "employee", code,
                         dict(method="password"), at=at)
    if throttled is not None:
        raise throttled
    if actor is None:
        raise AuthenticationFailed(SIGN_IN_FAILED)
    return actor


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


# --- PIN sign-in on the shared tablet -------------------------------------------------------------

@dataclass(frozen=True)
class RosterEntry:
    code: str
    name: str
    team: str | None
    location: str | None


def tablet_roster(db: Database, location_code: str | None = None,
                  team_code: str | None = None) -> list[RosterEntry]:
    """The people who can switch in on the shared tablet (active, with a PIN), by name."""
    query = (
        select(Employee.code, Employee.name, Team.name, Location.name)
        .outerjoin(Team, Team.id == Employee.team_id)
        .outerjoin(Location, Location.id == Team.location_id)
        .where(Employee.active.is_(True), Employee.pin_hash.is_not(None),
               Employee.role.in_(list(PIN_ROLES)))
        .order_by(Employee.name)
    )
    if location_code:
        query = query.where(Location.code == location_code)
    if team_code:
        query = query.where(Team.code == team_code)
    with db.read() as session:
        return [RosterEntry(*row) for row in session.execute(query).all()]


def roster_places(db: Database) -> tuple[list[tuple[str, str]], list[tuple[str, str, str | None]]]:
    """Locations (code, name) and teams (code, name, location code) for the tablet's filters."""
    with db.read() as session:
        locations = [tuple(r) for r in session.execute(
            select(Location.code, Location.name).order_by(Location.name)).all()]
        teams = [tuple(r) for r in session.execute(
            select(Team.code, Team.name, Location.code)
            .outerjoin(Location, Location.id == Team.location_id).order_by(Team.name)).all()]
    return locations, teams  # type: ignore[return-value]


def authenticate_pin(db: Database, employee_code: str, pin: str, now: datetime | None = None) -> Actor:
    """Sign in on the shared tablet. Wrong PIN: `AuthenticationFailed` saying how many tries are
    left; locked: `PinLocked` saying until when (even for the right PIN)."""
    at = _now(now)
    pin = (pin or "").strip()
    with db.read() as session:
        employee = session.scalar(select(Employee).where(Employee.code == employee_code))
        if employee is None or not employee.active or employee.role not in PIN_ROLES:
            verify_secret(None, pin)
            raise AuthenticationFailed(PIN_FAILED)
        locked_until = employee.pin_locked_until
        ok = (locked_until is None or locked_until <= at) and bool(PIN_PATTERN.match(pin)) \
            and verify_secret(employee.pin_hash, pin)
    outcome: Exception | None = None
    actor: Actor | None = None
    with db.write() as session:  # re-read under the write lock: concurrent tries count once each
        employee = session.scalar(
            select(Employee).where(Employee.code == employee_code).with_for_update())
        assert employee is not None
        if employee.pin_locked_until is not None and employee.pin_locked_until > at:
            audit.record(session, _SHARED_TABLET, "auth.pin_refused_locked", "employee",
                         employee.code, dict(locked_until=employee.pin_locked_until), at=at)
            outcome = PinLocked(_locked_message(employee.pin_locked_until, at))
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
    audit.record(session, _SHARED_TABLET, "auth.pin_failed", "employee", employee.code,
                 dict(attempt=attempts), at=at)
    if attempts >= PIN_MAX_TRIES:
        minutes = _pin_lock_minutes(session, employee, at)
        employee.pin_failed_attempts = 0
        employee.pin_locked_until = at + timedelta(minutes=minutes)
        audit.record(session, _SHARED_TABLET, "auth.pin_locked", "employee", employee.code,
                     dict(until=employee.pin_locked_until, minutes=minutes), at=at)
        return PinLocked(
            f"Wrong PIN {PIN_MAX_TRIES} times: it is locked for {_duration(minutes)}. "
            f"{_locked_message(employee.pin_locked_until, at)}")
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


def _locked_message(until: datetime, at: datetime) -> str:
    when = f"{until:%H:%M}" if until.date() == at.date() else f"{until:%a %d %b, %H:%M}"
    return (f"This PIN is locked until {when}. Ask a manager or an admin, "
            "or sign in with your user name and password.")


# --- accounts -------------------------------------------------------------------------------------

def _role_name(role: Role) -> str:
    return role.value.replace("_", " ")


def _check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_CHARS:
        raise InvalidInput(f"A password needs at least {MIN_PASSWORD_CHARS} characters.")
    if len(password) > MAX_SECRET_CHARS:
        raise InvalidInput(f"A password can have at most {MAX_SECRET_CHARS} characters.")
    return password


def _check_pin(pin: str) -> str:
    if not PIN_PATTERN.match(pin or ""):
        raise InvalidInput("A PIN is 4 to 6 digits.")
    return pin


def _employee(session: Session, employee_code: str) -> Employee:
    employee = session.scalar(
        select(Employee).where(Employee.code == str(employee_code).strip()).with_for_update())
    if employee is None:
        raise UnknownEmployee(f"No employee with id '{employee_code}'.")
    return employee


def create_user(db: Database, actor: Actor, *, username: str, name: str, role: Role,
                employee_code: str | None = None, team_code: str | None = None,
                password: str | None = None, pin: str | None = None) -> str:
    """Give a person a sign-in (admins and the command line only). With the id of an existing
    employee without a user name, the sign-in is added to that record; otherwise a new employee
    is created. A manager with a team also manages that team. Returns the employee id."""
    actor.require(actor.role == Role.ADMIN, "create users")
    username, name = (username or "").strip(), (name or "").strip()
    if not USERNAME_PATTERN.match(username):
        raise InvalidInput("A user name is 2-100 letters, digits or . _ @ - (no spaces).")
    if not name:
        raise InvalidInput("Give the person's name.")
    if password is None and pin is None:
        raise InvalidInput("Give a password, a PIN, or both; otherwise nobody can sign in.")
    if pin is not None and role not in PIN_ROLES:
        raise InvalidInput(f"PINs are for staff and managers on shared tablets; "
                           f"{_role_name(role)} accounts sign in with a password.")
    password_hash = hash_secret(_check_password(password)) if password is not None else None
    pin_hash = hash_secret(_check_pin(pin)) if pin is not None else None
    with db.write() as session:
        if session.scalar(select(Employee.id).where(Employee.username == username)) is not None:
            raise InvalidInput(f"The user name '{username}' is taken; choose another.")
        team = None
        if team_code:
            team = session.scalar(select(Team).where(Team.code == team_code))
            if team is None:
                raise InvalidInput(f"No team with id '{team_code}'.")
        employee = session.scalar(select(Employee).where(Employee.code == employee_code)) \
            if employee_code else None
        if employee is not None and employee.username:
            raise InvalidInput(f"Employee '{employee_code}' already has a sign-in "
                               f"('{employee.username}').")
        if employee is None:
            employee = Employee(code=employee_code or f"U-{secrets.token_hex(4)}", name=name)
            session.add(employee)
        previous_role = employee.role
        employee.name, employee.role, employee.username = name, role, username
        employee.password_hash, employee.pin_hash, employee.active = password_hash, pin_hash, True
        employee.team_id = team.id if team is not None else employee.team_id
        session.flush()
        if role == Role.MANAGER and team is not None:
            session.merge(TeamManager(team_id=team.id, employee_id=employee.id))
        audit.record(session, actor, "user.created", "employee", employee.code, dict(
            username=username, role=role.value, previous_role=getattr(previous_role, "value", None),
            team=team_code, password=password is not None, pin=pin is not None))
        return employee.code


def set_password(db: Database, actor: Actor, employee_code: str, new_password: str,
                 current_password: str | None = None) -> None:
    """An admin sets anyone's password; a person changes their own with the current one."""
    _check_password(new_password)
    with db.write() as session:
        employee = _employee(session, employee_code)
        own = employee.id == actor.employee_id
        actor.require(actor.role == Role.ADMIN or own, "set another person's password")
        if own and actor.role != Role.ADMIN and not verify_secret(employee.password_hash,
                                                                   current_password or ""):
            raise AuthenticationFailed("Your current password is not right; nothing changed.")
        employee.password_hash = hash_secret(new_password)
        if employee.username:  # a new password also lifts the sign-in throttle on the name
            failures = table(SignInFailure)
            session.connection().execute(
                delete(failures).where(failures.c.name_key == _name_key(employee.username)))
        audit.record(session, actor, "user.password_set", "employee", employee.code)


def set_pin(db: Database, actor: Actor, employee_code: str, new_pin: str) -> None:
    """An admin, or the person themselves, sets a PIN; this also lifts a lock."""
    _check_pin(new_pin)
    with db.write() as session:
        employee = _employee(session, employee_code)
        actor.require(actor.role == Role.ADMIN or employee.id == actor.employee_id,
                      "set another person's PIN")
        if employee.role not in PIN_ROLES:
            raise InvalidInput(f"PINs are for staff and managers; {_role_name(employee.role)} "
                               "accounts sign in with a password.")
        employee.pin_hash = hash_secret(new_pin)
        employee.pin_failed_attempts, employee.pin_locked_until = 0, None
        audit.record(session, actor, "user.pin_set", "employee", employee.code)


def unlock_pin(db: Database, actor: Actor, employee_code: str) -> None:
    """Lift a PIN lock early: an admin, or a manager of the person's team."""
    with db.write() as session:
        employee = _employee(session, employee_code)
        actor.require(actor.role == Role.ADMIN or (
            actor.role == Role.MANAGER and employee.team_id in actor.managed_team_ids),
            "unlock the PIN of someone outside your teams")
        session.execute(update(Employee).where(Employee.id == employee.id)
                        .values(pin_failed_attempts=0, pin_locked_until=None))
        audit.record(session, actor, "user.pin_unlocked", "employee", employee.code)


# --- browser sessions: signed tokens, idle time, revocation ---------------------------------------

@dataclass(frozen=True)
class SessionClaim:
    employee_id: int
    sid: str
    issued_at: datetime


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key(), salt=f"empowerment.{purpose}")


def _session_ref(sid: str) -> str:
    """How the audit log names a session: a digest, so the log never holds a live session id."""
    return hashlib.sha256(sid.encode()).hexdigest()[:32]


def new_session_id() -> str:
    return secrets.token_urlsafe(18)


def handoff_token(employee_id: int, sid: str) -> str:
    """Given to the browser right after sign-in; `/api/session` swaps it for the cookie."""
    return _serializer("handoff").dumps({"e": employee_id, "s": sid})


def cookie_from_handoff(token: str) -> str | None:
    """The session cookie's value for a fresh, genuine hand-off token; None otherwise."""
    try:
        data = _serializer("handoff").loads(token, max_age=HANDOFF_MAX_AGE_SECONDS)
    except (BadSignature, SignatureExpired, ValueError, TypeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("e"), int) or not data.get("s"):
        return None
    return _serializer("session").dumps({"e": data["e"], "s": str(data["s"])})


def read_cookie(value: str | None) -> SessionClaim | None:
    if not value:
        return None
    try:
        data, signed_at = _serializer("session").loads(
            value, max_age=SESSION_MAX_AGE_SECONDS, return_timestamp=True)
    except (BadSignature, SignatureExpired, ValueError, TypeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("e"), int) or not data.get("s"):
        return None
    issued = signed_at.astimezone().replace(tzinfo=None, microsecond=0)
    return SessionClaim(data["e"], str(data["s"]), issued)


_last_seen: dict[str, datetime] = {}
_last_seen_lock = threading.Lock()


def touch_session(sid: str, at: datetime) -> None:
    """Remember the session's last activity (process memory; a restart falls back to issue time)."""
    with _last_seen_lock:
        _last_seen[sid] = at
        if len(_last_seen) > 10_000:  # sessions that were never signed out: forget old ones
            for stale in [k for k, v in _last_seen.items() if at - v > timedelta(hours=24)]:
                del _last_seen[stale]


def idle_expired(last_activity: datetime | None, now: datetime, idle_minutes: int) -> bool:
    return last_activity is not None and now - last_activity > timedelta(minutes=idle_minutes)


def end_session(db: Database, actor: Actor | None, sid: str | None, reason: str) -> None:
    """Sign out: the session id is revoked (in the audit log, so every server process sees it)."""
    if not sid and actor is None:
        return
    with _last_seen_lock:
        _last_seen.pop(sid or "", None)
    with db.write() as session:
        audit.record(session, actor or _SIGN_IN_SCREEN, "auth.signed_out", "session",
                     _session_ref(sid) if sid else None, dict(reason=reason))


def restore_session(db: Database, claim: SessionClaim, now: datetime, idle_minutes: int) -> Actor | None:
    """The actor for a cookie's claim if the session is neither idle, revoked nor orphaned."""
    with _last_seen_lock:
        last = _last_seen.get(claim.sid, claim.issued_at)
    if idle_expired(last, now, idle_minutes):
        return None
    with db.read() as session:
        revoked = session.scalar(select(AuditEvent.id).where(
            AuditEvent.action == "auth.signed_out", AuditEvent.entity_id == _session_ref(claim.sid)
        ).limit(1))
    if revoked is not None:
        return None
    return load_actor(db, claim.employee_id)
