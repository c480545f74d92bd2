"""Accounts: give a person a sign-in, set or reset passwords and PINs, lift a PIN lock.

Every change is audit-logged; secrets are hashed with Argon2id and never stored or logged in clear.
"""

from __future__ import annotations

import re
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from empowerment import access, audit
from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.errors import AuthenticationFailed, InvalidInput
from empowerment.models import Employee, Role, Team, TeamManager
from empowerment.models.lookups import employee_by_code
from empowerment.passwords import hash_secret, verify_secret
from empowerment.services.signin import MAX_SECRET_CHARS, PIN_PATTERN, lift_throttle

MIN_PASSWORD_CHARS = 10
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9._@-]{2,100}$")


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


def _employee(session: Session, actor: Actor, action: str, employee_code: str) -> Employee:
    return access.employee(session, actor, action, employee_code, for_update=True, active_only=False)


def create_user(db: Database, actor: Actor, *, username: str, name: str, role: Role,
                employee_code: str | None = None, team_code: str | None = None,
                password: str | None = None, pin: str | None = None) -> str:
    """Give a person a sign-in (admins and the command line only). With the id of an existing
    employee without a user name, the sign-in is added to that record; otherwise a new employee
    is created. A manager with a team also manages that team. Returns the employee id."""
    access.require(actor, "user.create")
    username, name = (username or "").strip(), (name or "").strip()
    if not USERNAME_PATTERN.match(username):
        raise InvalidInput("A user name is 2-100 letters, digits or . _ @ - (no spaces).")
    if not name:
        raise InvalidInput("Give the person's name.")
    if password is None and pin is None:
        raise InvalidInput("Give a password, a PIN, or both; otherwise nobody can sign in.")
    if pin is not None and not role.signs_in_with_pin:
        raise InvalidInput(f"PINs are for staff and managers on shared tablets; "
                           f"{role.label} accounts sign in with a password.")
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
        employee = employee_by_code(session, employee_code) if employee_code else None
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
        employee = _employee(session, actor, "password.set", employee_code)
        # changing one's own password proves the current one, unless one may set anybody's
        if (employee.id == actor.employee_id and not access.reaches_all(actor, "password.set")
                and not verify_secret(employee.password_hash, current_password or "")):
            raise AuthenticationFailed("Your current password is not right; nothing changed.")
        employee.password_hash = hash_secret(new_password)
        if employee.username:  # a new password also lifts the sign-in throttle on the name
            lift_throttle(session, employee.username)
        audit.record(session, actor, "user.password_set", "employee", employee.code)


def set_pin(db: Database, actor: Actor, employee_code: str, new_pin: str) -> None:
    """An admin, or the person themselves, sets a PIN; this also lifts a lock."""
    _check_pin(new_pin)
    with db.write() as session:
        employee = _employee(session, actor, "pin.set", employee_code)
        if not employee.role.signs_in_with_pin:
            raise InvalidInput(f"PINs are for staff and managers; {employee.role.label} "
                               "accounts sign in with a password.")
        employee.pin_hash = hash_secret(new_pin)
        employee.pin_failed_attempts, employee.pin_locked_until = 0, None
        audit.record(session, actor, "user.pin_set", "employee", employee.code)


def unlock_pin(db: Database, actor: Actor, employee_code: str) -> None:
    """Lift a PIN lock early: an admin, or a manager of the person's team."""
    with db.write() as session:
        employee = _employee(session, actor, "pin.unlock", employee_code)
        session.execute(update(Employee).where(Employee.id == employee.id)
                        .values(pin_failed_attempts=0, pin_locked_until=None))
        audit.record(session, actor, "user.pin_unlocked", "employee", employee.code)
