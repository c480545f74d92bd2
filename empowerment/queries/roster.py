"""Who can switch in on the shared tablet: the roster and its location and team filters."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from empowerment.db import Database
from empowerment.models import Employee, Location, Role, Team


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
               Employee.role.in_(Role.pin_roles()))
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
