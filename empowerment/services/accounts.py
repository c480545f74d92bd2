"""Accounts: give a person a sign-in, set or reset passwords and PINs, lift a PIN lock.

Every change is audit-logged; secrets are hashed with Argon2id and never stored or logged in clear.
"""

from __future__ import annotations

import re
import secrets

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from empowerment import access, audit
from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.errors import AuthenticationFailed, InvalidInput
from empowerment.models import Employee, Role, Team, TeamManager
from empowerment.models.lookups import employee_by_code
from empowerment.services.passwords import hash_secret, verify_secret
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


# --- people admin: add, change, deactivate ---------------------------------------------------------

MAX_NAME_CHARS = 200


def _team(session: Session, team_code: str | None) -> Team | None:
    if not team_code:
        return None
    team = session.scalar(select(Team).where(Team.code == team_code))
    if team is None:
        raise InvalidInput(f"No team with id '{team_code}'.")
    return team


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("Give the person's name.")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidInput(f"Keep the name under {MAX_NAME_CHARS} characters.")
    return name


def _manage_team(session: Session, employee: Employee, team: Team | None) -> None:
    """A manager manages the team they belong to; someone who stops being a manager manages none."""
    if employee.role == Role.MANAGER and team is not None:
        session.merge(TeamManager(team_id=team.id, employee_id=employee.id))
    elif employee.role != Role.MANAGER:
        session.execute(delete(TeamManager).where(TeamManager.employee_id == employee.id))


def add_employee(db: Database, actor: Actor, *, name: str, role: Role, team_code: str | None = None,
                 pin: str | None = None, username: str | None = None, password: str | None = None) -> str:
    """Add a person (admins). Staff usually get only a PIN for the shared tablet; a user name and
    password are for those who sign in elsewhere. A manager with a team also manages it. The
    same hashing and rules as every other secret. Returns the new employee id."""
    access.require(actor, "user.create")
    name = _clean_name(name)
    username = (username or "").strip() or None
    if username is not None and not USERNAME_PATTERN.match(username):
        raise InvalidInput("A user name is 2-100 letters, digits or . _ @ - (no spaces).")
    if (username is None) != (not password):
        raise InvalidInput("A user name and a password go together: give both, or neither.")
    if pin and not role.signs_in_with_pin:
        raise InvalidInput(f"PINs are for staff and managers on shared tablets; "
                           f"{role.label} accounts sign in with a password.")
    if not pin and not password:
        raise InvalidInput("Give a PIN or a user name and password; otherwise they cannot sign in.")
    pin_hash = hash_secret(_check_pin(pin)) if pin else None
    password_hash = hash_secret(_check_password(password)) if password else None
    with db.write() as session:
        if username and session.scalar(select(Employee.id).where(Employee.username == username)) is not None:
            raise InvalidInput(f"The user name '{username}' is taken; choose another.")
        team = _team(session, team_code)
        employee = Employee(code=f"E-{secrets.token_hex(4).upper()}", name=name, role=role,
                            team_id=team.id if team else None, username=username,
                            password_hash=password_hash, pin_hash=pin_hash, active=True)
        session.add(employee)
        session.flush()
        _manage_team(session, employee, team)
        audit.record(session, actor, "user.created", "employee", employee.code, dict(
            name=name, role=role.value, team=team_code, username=username,
            password=password_hash is not None, pin=pin_hash is not None))
        return employee.code


def update_employee(db: Database, actor: Actor, employee_code: str, *, name: str, role: Role,
                    team_code: str | None) -> list[str]:
    """Change a person's name, role or team (admins). A role without PINs loses its PIN. Returns
    what changed, in words, for the page to say (nothing changed: an empty list, no audit row)."""
    name = _clean_name(name)
    with db.write() as session:
        employee = access.employee(session, actor, "user.edit", employee_code, for_update=True,
                                   active_only=False)
        team = _team(session, team_code)
        if employee.id == actor.employee_id and role != employee.role:
            raise InvalidInput("You cannot change your own role; ask another admin.")
        before = dict(name=employee.name, role=employee.role.value,
                      team=employee.team.code if employee.team else None)
        after = dict(name=name, role=role.value, team=team.code if team else None)
        changed = [key for key in before if before[key] != after[key]]
        if not changed:
            return []
        employee.name, employee.role, employee.team_id = name, role, team.id if team else None
        if not role.signs_in_with_pin and employee.pin_hash is not None:
            employee.pin_hash, employee.pin_failed_attempts, employee.pin_locked_until = None, 0, None
            changed.append("pin removed")
        session.flush()
        _manage_team(session, employee, team)
        audit.record(session, actor, "employee.updated", "employee", employee.code,
                     {key: after[key] for key in after if before[key] != after[key]}
                     | {f"previous_{key}": before[key] for key in before if before[key] != after[key]})
        return changed


def set_active(db: Database, actor: Actor, employee_code: str, active: bool, reason: str = "") -> None:
    """Deactivate a person (they can no longer sign in, nor appear on the tablet; their records
    stay) or bring them back. Admins; never oneself; with a reason when deactivating."""
    reason = " ".join((reason or "").split())
    if not active and not reason:
        raise InvalidInput("Say why the person is deactivated (e.g. left the company).")
    with db.write() as session:
        employee = access.employee(session, actor, "user.edit", employee_code, for_update=True,
                                   active_only=False)
        if employee.id == actor.employee_id:
            raise InvalidInput("You cannot deactivate yourself; ask another admin.")
        if employee.active == active:
            raise InvalidInput(f"{employee.name} is already {'active' if active else 'deactivated'}.")
        employee.active = active
        audit.record(session, actor, "employee.reactivated" if active else "employee.deactivated",
                     "employee", employee.code, dict(reason=reason) if reason else None)
