"""Who is calling a service. Services, not pages, decide what an actor may read or write."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from empowerment.errors import PermissionDenied
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

    @classmethod
    def system(cls, label: str = "cli") -> Actor:
        """The command line and background jobs: full rights, recorded as `label`."""
        return cls(employee_id=None, name=label, role=Role.ADMIN)

    @property
    def is_system(self) -> bool:
        return self.employee_id is None

    def may_act_for(self, employee_id: int, employee_team_id: int | None) -> bool:
        """Logging or reading a budget: yourself, or (managers) your team, or the system."""
        if self.is_system or employee_id == self.employee_id:
            return True
        return self.role == Role.MANAGER and employee_team_id in self.managed_team_ids

    def require(self, allowed: bool, what: str) -> None:
        if not allowed:
            raise PermissionDenied(f"Your role ({self.role.value}) may not {what}.")


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
