"""Scope: which teams and locations an actor may read, and who may act on a team's gestures.

The rule of the app, in one place:
- staff: their own budget and the customers they serve (their team's location) - nothing here
  beyond the hand-over of their location;
- managers: the teams they manage (`Actor.managed_team_ids`);
- hr and cx_lead: everything, read-only where money is concerned;
- admin: everything, and the configuration.
Refusals raise `PermissionDenied` with a sentence the page can show as is.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.errors import PermissionDenied
from empowerment.models import BudgetPolicy, Employee, Role, Team

READ_ALL_ROLES = frozenset({Role.HR, Role.CX_LEAD, Role.ADMIN})


def require_role(actor: Actor, roles: Iterable[Role], what: str) -> None:
    allowed = frozenset(roles)
    if actor.role not in allowed:
        names = ", ".join(sorted(r.value.replace("_", " ") for r in allowed))
        raise PermissionDenied(f"Only {names} may {what}; you are signed in as {actor.role.value}.")


def team_scope(session: Session, actor: Actor, team_ids: Iterable[int] | None = None) -> list[int]:
    """The team ids the actor asked for (all they may see when None), refusing any outside scope."""
    if actor.role == Role.STAFF:
        raise PermissionDenied("Team views are for managers; your own budget is on My budget.")
    if actor.role in READ_ALL_ROLES or actor.is_system:
        visible = list(session.scalars(select(Team.id).order_by(Team.name)))
    else:
        visible = sorted(actor.managed_team_ids)
    if team_ids is None:
        return visible
    wanted = list(dict.fromkeys(team_ids))
    outside = [t for t in wanted if t not in visible]
    if outside:
        raise PermissionDenied("You can only see the teams you manage; ask an admin to add you as "
                               "a manager of that team.")
    return wanted


def require_team_action(actor: Actor, team_id: int | None, what: str) -> None:
    """Acting on a team's gestures (review, void, approve): its manager, or an admin."""
    if actor.role == Role.ADMIN or actor.is_system:
        return
    if actor.role == Role.MANAGER and team_id is not None and team_id in actor.managed_team_ids:
        return
    if actor.role in (Role.HR, Role.CX_LEAD):
        raise PermissionDenied(f"Your role ({actor.role.value}) reads team data but may not {what}.")
    raise PermissionDenied(f"You may only {what} for the teams you manage.")


def location_scope(session: Session, actor: Actor) -> list[int] | None:
    """Location ids the actor's hand-over covers; None means every location."""
    if actor.role in READ_ALL_ROLES or actor.is_system:
        return None
    team_ids = set(actor.managed_team_ids) | ({actor.team_id} if actor.team_id else set())
    if not team_ids:
        return []
    rows = session.scalars(select(Team.location_id).where(Team.id.in_(team_ids)))
    return sorted({r for r in rows if r is not None})


def teams_for(db: Database, actor: Actor) -> pd.DataFrame:
    """The teams the actor may open on the Team page: id, code, name."""
    with db.read() as session:
        ids = team_scope(session, actor)
        rows = session.execute(select(Team.id, Team.code, Team.name).where(Team.id.in_(ids))
                               .order_by(Team.name)).all()
    return pd.DataFrame(rows, columns=["id", "code", "name"])


# --- read views for the admin's configuration pages -----------------------------------------------

POLICY_COLUMNS = [
    "name", "scope", "allowance_cents", "period", "rollover", "customer_daily_cap_cents",
    "review_above_cents", "approval_above_cents", "effective_from", "created_at",
]


def policy_versions(db: Database, actor: Actor) -> pd.DataFrame:
    """Every version of every budget policy, newest first within each name (admins, hr)."""
    require_role(actor, (Role.ADMIN, Role.HR), "read the budget policies")
    with db.read() as session:
        rows = session.execute(
            select(BudgetPolicy, Team.code, Employee.code)
            .outerjoin(Team, Team.id == BudgetPolicy.team_id)
            .outerjoin(Employee, Employee.id == BudgetPolicy.employee_id)
            .order_by(BudgetPolicy.name, BudgetPolicy.effective_from.desc(), BudgetPolicy.id.desc())
        ).all()
    records = []
    for policy, team_code, employee_code in rows:
        scope = (f"team {team_code}" if team_code else f"employee {employee_code}" if employee_code
                 else f"role {policy.role.value}" if policy.role else "everyone")
        records.append([
            policy.name, scope, policy.allowance_cents, policy.period.value, policy.rollover.value,
            policy.customer_daily_cap_cents, policy.review_above_cents, policy.approval_above_cents,
            policy.effective_from, policy.created_at,
        ])
    return pd.DataFrame(records, columns=POLICY_COLUMNS)
