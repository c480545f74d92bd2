"""Reads for the admin's configuration pages and a page's pickers: the guideline, remembered
column mappings, budget policy versions, the teams an actor may open, and the locations' money
settings."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import pandas as pd
from sqlalchemy import select

from empowerment import access, settings
from empowerment.actor import Actor
from empowerment.clock import business_today, utc_now
from empowerment.csvformat import import_kind
from empowerment.db import Database
from empowerment.errors import EmpowermentError
from empowerment.models import AppSetting, BudgetPolicy, Employee, Location, Team
from empowerment.models.lookups import exchange_rate_on, money_recorded_at, policy_money
from empowerment.queries.budgets import BudgetStatus, status_in_session

DEFAULT_GUIDELINE = """\
**You own the guest's problem the moment you hear it.**

- Listen to the whole story, apologise sincerely, and thank them for telling you.
- Put it right on the spot, with your own budget, without asking a manager first.
- Choose what fits the person: time and a personal note often mean more than money.
- Stay within your remaining budget and the daily limit per guest shown on this page.
- Log it here straight away, so no colleague ever makes the guest repeat themselves.
- Follow up before the guest leaves: check that it really is fixed.
"""


def get_guideline(db: Database) -> str:
    """The current guideline text (Markdown), or the default if none was written."""
    with db.read() as session:
        setting = session.get(AppSetting, AppSetting.GUIDELINE)
        text = (setting.value if setting else "").strip()
    return text or DEFAULT_GUIDELINE


def get_mapping(db: Database, kind: str) -> dict[str, str]:
    """The remembered column mapping for `kind` ({} when none, or when the stored value is
    unreadable)."""
    spec = import_kind(kind)
    with db.read() as session:
        row = session.get(AppSetting, AppSetting.COLUMN_MAPPING + spec.name)
        text = row.value if row is not None else None
    if not text:
        return {}
    try:
        stored = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(stored, dict):
        return {}
    columns = set(spec.names)
    return {str(k): str(v) for k, v in stored.items() if k in columns and isinstance(v, str) and v}



def teams_for(db: Database, actor: Actor) -> pd.DataFrame:
    """The teams the actor may open on the Team page: id, code, name."""
    with db.read() as session:
        ids = access.team_ids(session, actor, "team.read")
        rows = session.execute(select(Team.id, Team.code, Team.name).where(Team.id.in_(ids))
                               .order_by(Team.name)).all()
    return pd.DataFrame(rows, columns=["id", "code", "name"])


POLICY_COLUMNS = [
    "name", "scope", "allowance_cents", "period", "rollover", "customer_daily_cap_cents",
    "review_above_cents", "approval_above_cents", "effective_from", "created_at", "currency", "locale",
]


def policy_versions(db: Database, actor: Actor) -> pd.DataFrame:
    """Every version of every budget policy, newest first within each name (admins, hr), in
    words: whom it applies to ("Team: Front desk"), its period and rollover by their labels, and
    the currency and locale its amounts are in (`models.lookups.policy_money`)."""
    access.require(actor, "policy.read")
    with db.read() as session:
        rows = session.execute(
            select(BudgetPolicy, Team.name, Employee.name)
            .outerjoin(Team, Team.id == BudgetPolicy.team_id)
            .outerjoin(Employee, Employee.id == BudgetPolicy.employee_id)
            .order_by(BudgetPolicy.name, BudgetPolicy.effective_from.desc(), BudgetPolicy.id.desc())
        ).all()
        records = []
        for policy, team_name, employee_name in rows:
            scope = (f"Team: {team_name}" if team_name else f"Employee: {employee_name}" if employee_name
                     else f"Role: {policy.role.heading}" if policy.role else "Everyone")
            team = session.get(Team, policy.team_id) if policy.team_id else None
            employee = session.get(Employee, policy.employee_id) if policy.employee_id else None
            money = policy_money(session, team, employee)  # the amounts are in its currency
            records.append([
                policy.name, scope, policy.allowance_cents, policy.period.label, policy.rollover.label,
                policy.customer_daily_cap_cents, policy.review_above_cents, policy.approval_above_cents,
                policy.effective_from, policy.created_at, money.currency, money.locale,
            ])
    return pd.DataFrame(records, columns=POLICY_COLUMNS)


@dataclass(frozen=True)
class ForeignCurrency:
    """A currency some locations keep other than the installation's, and today's rate: what a
    policy for a role or for everyone (kept in the installation's currency) comes to there."""

    currency: str
    locations: tuple[str, ...]  # their names
    rate: Decimal | None  # one unit of the installation's currency in this one today; None: no rate


def foreign_currencies_today(db: Database, actor: Actor) -> tuple[str, list[ForeignCurrency]]:
    """(the installation's currency, the other currencies locations keep with today's rate), for
    the Policies page: without a rate, people there cannot log under a role's or everyone's policy."""
    access.require(actor, "policy.read")
    own = settings.currency()
    today = business_today()
    with db.read() as session:
        rows = session.execute(select(Location.currency, Location.name).where(Location.currency != own)
                               .order_by(Location.currency, Location.name)).all()
        places: dict[str, list[str]] = {}
        for currency, name in rows:
            places.setdefault(str(currency), []).append(str(name))
        return own, [ForeignCurrency(currency, tuple(names), exchange_rate_on(session, own, currency, today))
                     for currency, names in places.items()]


def team_names_in_reach(db: Database, actor: Actor, action: str) -> list[str] | None:
    """The names of the teams `actor` may `action` (for a filter); None when that is every team."""
    with db.read() as session:
        if access.reaches_all(actor, action):
            access.require(actor, action)
            return None
        ids = access.team_ids(session, actor, action)
        return sorted(set(session.scalars(select(Team.name).where(Team.id.in_(ids)))))


# --- people admin ----------------------------------------------------------------------------------

PEOPLE_COLUMNS = ["code", "name", "role", "team_code", "team", "location", "active", "username",
                  "has_pin", "has_password", "pin_locked"]


def people(db: Database, actor: Actor, now: datetime | None = None) -> pd.DataFrame:
    """Everyone, active or not, by name, for the People page's picker and list (admins): how
    they sign in (PIN, password), never a secret. `role` holds the role's value."""
    access.require(actor, "user.edit")
    now = now or utc_now()
    with db.read() as session:
        rows = session.execute(
            select(Employee, Team.code, Team.name, Location.name)
            .outerjoin(Team, Team.id == Employee.team_id)
            .outerjoin(Location, Location.id == Team.location_id)
            .order_by(Employee.active.desc(), Employee.name, Employee.id)).all()
        records = [[e.code, e.name, e.role.value, team_code, team_name, location, bool(e.active), e.username,
                    e.pin_hash is not None, e.password_hash is not None,
                    e.pin_locked_until is not None and e.pin_locked_until > now]
                   for e, team_code, team_name, location in rows]
    return pd.DataFrame(records, columns=PEOPLE_COLUMNS)


def person_budget(db: Database, actor: Actor, employee_code: str, on: date | None = None) -> BudgetStatus | None:
    """The person's current budget, for an admin about to adjust it; None when they hold none
    (their role holds no budget, or no policy gives them one)."""
    with db.read() as session:
        try:
            employee = access.employee(session, actor, "budget.adjust", employee_code)
            return status_in_session(session, employee, on or business_today())
        except EmpowermentError:
            return None


@dataclass(frozen=True)
class LocationMoneyRow:
    """A location's money settings for the admin's screen: its currency, the locale its people
    type amounts in (None: the installation's), and what amounts already fix its currency."""

    code: str
    name: str
    currency: str
    locale: str | None
    recorded: str | None  # "budgets", "gestures", "purchases", "budget policies", or None: may change

    @property
    def currency_fixed(self) -> bool:
        return self.recorded is not None


def locations_money(db: Database, actor: Actor) -> list[LocationMoneyRow]:
    """Every location's currency and locale, by name (admins: `location.money`)."""
    access.require(actor, "location.money")
    with db.read() as session:
        places = session.scalars(select(Location).order_by(Location.name, Location.id)).all()
        return [LocationMoneyRow(p.code, p.name, p.currency, p.locale, money_recorded_at(session, p.id))
                for p in places]
