"""Who is calling a service. Services, not pages, decide what an actor may read or write."""

from __future__ import annotations

from dataclasses import dataclass, field

from empowerment.errors import PermissionDenied
from empowerment.models import Role


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

    def may_see_team(self, team_id: int | None) -> bool:
        if self.role in (Role.ADMIN, Role.HR, Role.CX_LEAD):
            return True
        if self.role == Role.MANAGER:
            return team_id is not None and (team_id in self.managed_team_ids or team_id == self.team_id)
        return False

    def may_act_for(self, employee_id: int, employee_team_id: int | None) -> bool:
        """Logging or reading a budget: yourself, or (managers) your team, or the system."""
        if self.is_system or employee_id == self.employee_id:
            return True
        return self.role == Role.MANAGER and employee_team_id in self.managed_team_ids

    def require(self, allowed: bool, what: str) -> None:
        if not allowed:
            raise PermissionDenied(f"Your role ({self.role.value}) may not {what}.")
