"""Who is calling a service: the signed-in person (or the system), with the teams they manage.
What an actor may do is `empowerment.access`'s to say."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from empowerment.models import Employee, Role, TeamManager

if TYPE_CHECKING:
    from empowerment.db import Database


@dataclass(frozen=True)
class Actor:
    employee_id: int | None
    name: str
    role: Role
    team_id: int | None = None
    managed_team_ids: frozenset[int] = field(default_factory=frozenset)
    code: str | None = None  # the employee's organisation id, when signed in as one
    is_system: bool = False  # the command line or a background job, not a person

    @classmethod
    def system(cls, label: str = "cli") -> Actor:
        """The command line and background jobs: full rights, recorded as `label`."""
        return cls(employee_id=None, name=label, role=Role.ADMIN, is_system=True)


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
