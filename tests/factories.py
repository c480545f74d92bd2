"""Test factories: plain functions that create rows in one write unit and return codes."""

from __future__ import annotations

import itertools
from datetime import date

from sqlalchemy import select

from empowerment.actor import Actor, actor_for
from empowerment.db import Database
from empowerment.models import Customer, Employee, Location, Period, Role, Team
from empowerment.services.policies import PolicyRequest, set_policy

_counter = itertools.count(1)
SYSTEM = Actor.system("test")  # the command line and background jobs: may do everything


def make_team(db: Database, code: str = "FD", location: str = "Harbour") -> int:
    with db.write() as session:
        loc = Location(code=f"{location}-{next(_counter)}", name=location)
        session.add(loc)
        session.flush()
        team = Team(code=code, name=code, location_id=loc.id)
        session.add(team)
        session.flush()
        return team.id


def make_employee(db: Database, code: str | None = None, *, role: Role = Role.STAFF,
                  team_id: int | None = None, name: str = "Ana Staff") -> str:
    code = code or f"E{next(_counter):04d}"
    with db.write() as session:
        session.add(Employee(code=code, name=name, role=role, team_id=team_id))
    return code


def make_customer(db: Database, code: str | None = None, name: str = "Guest") -> str:
    code = code or f"C{next(_counter):05d}"
    with db.write() as session:
        session.add(Customer(code=code, name=name))
    return code


def make_policy(db: Database, allowance_cents: int = 50_000, **kwargs: object) -> None:
    kwargs.setdefault("name", "Default")
    kwargs.setdefault("period", Period.MONTH)
    kwargs.setdefault("today", date.today())
    set_policy(db, SYSTEM, PolicyRequest(allowance_cents=allowance_cents, **kwargs))  # type: ignore[arg-type]


def actor_of(db: Database, employee_code: str) -> Actor:
    """The signed-in `Actor` for an employee, with the teams they manage (as sign-in builds it)."""
    with db.read() as session:
        employee = session.scalars(select(Employee).where(Employee.code == employee_code)).one()
        return actor_for(employee, session)


def code_of(db: Database, actor: Actor) -> str:
    """The organisation's id of the employee behind an actor."""
    with db.read() as session:
        return session.scalars(select(Employee.code).where(Employee.id == actor.employee_id)).one()
