"""The weekly digest managers receive: who in their teams leaves their budget unused, and who had
incidents but logged no gesture (an unused budget is an empowerment gap, not a saving).

`care_list` is the hook for the care list (customers to look after) once it exists: return its
entries for the manager's teams and they appear in the digest; until then it is empty."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from empowerment.actor import Actor, load_actor
from empowerment.clock import business_date, local_time, utc_now
from empowerment.db import Database
from empowerment.errors import EmpowermentError
from empowerment.models import Employee, Role
from empowerment.queries import team
from empowerment.services.notifications.delivery import record_digest

log = logging.getLogger("empowerment.digest")

LOW_USE_SHARE = 0.25  # under a quarter of the budget used by this point counts as under-use


def care_list(db: Database, manager: Actor) -> list[str]:
    """The care list's lines for this manager (hook: empty until the care list exists)."""
    return []


def digest_for(db: Database, manager: Actor, on: date) -> dict[str, Any]:
    """What one manager's digest says, from the same queries as the Team page."""
    budgets = team.budget_use(db, manager, on=on)
    window = team.Window(on - timedelta(days=7), on + timedelta(days=1))
    quiet, _teams = team.under_use(db, manager, window)
    low = budgets[(budgets["allocated_cents"] > 0) & (budgets["used_share"] < LOW_USE_SHARE)]
    return {
        "period": f"{window.start:%d %b} – {on:%d %b %Y}",
        "low_use": [{"name": r.employee, "team": r.team, "used_percent": round(float(r.used_share) * 100)}
                    for r in low.itertuples()],
        "no_gestures": [{"name": r.employee, "team": r.team, "incidents": int(r.incidents)}
                        for r in quiet.itertuples()],
        "care_list": care_list(db, manager),
    }


def week_of(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def due(now: datetime, at: tuple[int, int, int] | None) -> bool:
    """Whether this week's digest time (weekday, hour, minute) has come."""
    if at is None:
        return False
    weekday, hour, minute = at
    start = (now - timedelta(days=now.weekday())).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return now >= start + timedelta(days=weekday)


def send_digests(db: Database, now: datetime | None = None) -> int:
    """Record this week's digest for every active manager (once a week: a repeat is dropped)."""
    at = now or utc_now()
    with db.read() as session:
        managers = list(session.scalars(select(Employee.id).where(
            Employee.role == Role.MANAGER, Employee.active.is_(True))))
    count = 0
    for manager_id in managers:
        manager = load_actor(db, manager_id)
        if manager is None or not manager.managed_team_ids:
            continue
        try:
            digest = digest_for(db, manager, business_date(at))
        except EmpowermentError as exc:  # one team's missing exchange rate must not stop the others' digests
            log.warning("No weekly digest for manager %s this round: %s", manager_id, exc)
            continue
        record_digest(db, manager_id, week_of(local_time(at)), digest, now=at)
        count += 1
    return count
