"""The Team page's read side: budget use per person, weekly activity, spend, the approval and review
queues, stories, under-use and locked PINs.

Every function takes the caller's `Actor` and checks scope through `empowerment.access`
("team.read"): managers see the teams they manage, HR, CX leads and admins every team, staff none.
Acting on a gesture (approve, reject, void, review, feature) is `empowerment.services.gestures`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from empowerment import access, settings
from empowerment.actor import Actor
from empowerment.clock import business_today, utc_now
from empowerment.db import Database
from empowerment.models import (
    Budget,
    Customer,
    Employee,
    Gesture,
    GestureStatus,
    Incident,
    LedgerEntry,
    LedgerEntryType,
    Location,
    Period,
    Team,
)
from empowerment.models.lookups import location_money, policy_in_force, policy_terms, rollover_cents
from empowerment.periods import period_bounds, period_label, window_bounds_utc
from empowerment.queries.budgets import LedgerTotals, ledger_totals
from empowerment.queries.frames.currency import convert_by_employee

BUDGET_COLUMNS = ["employee_code", "employee", "team", "period", "period_start", "period_end",
                  "allocated_cents", "spent_cents", "held_cents", "remaining_cents", "used_share",
                  "gestures"]
QUEUE_COLUMNS = ["code", "occurred_at", "employee", "team", "customer", "category", "type",
                 "cost_cents", "status", "note", "currency", "locale"]  # the gesture's own currency


@dataclass(frozen=True)
class TeamMoney:
    """The currency the Team page's figures are in. A reach within one currency is shown in it (a
    Tokyo team in yen); a reach across currencies is converted into the reporting currency
    (EMPOWERMENT_REPORTING_CURRENCY, else EMPOWERMENT_CURRENCY) at the rate of each amount's date,
    as the joint report does, and `note` says so. A missing rate raises MissingExchangeRate."""

    currency: str
    locale: str
    converted_from: tuple[str, ...] = ()

    @property
    def converts(self) -> bool:
        return bool(self.converted_from)

    @property
    def note(self) -> str:
        if not self.converted_from:
            return ""
        return (f"Amounts in {', '.join(self.converted_from)} converted to {self.currency} at daily rates "
                "(the rate of each gesture's and budget entry's date).")


def team_money(db: Database, actor: Actor, team_ids: Iterable[int] | None = None) -> TeamMoney:
    """The currency of the teams in reach, or the reporting currency when they span several."""
    with db.read() as session:
        return _team_money(session, access.team_ids(session, actor, "team.read", team_ids))


def _team_money(session: Session, ids: list[int]) -> TeamMoney:
    rows = session.execute(select(Team.location_id).where(Team.id.in_(ids))).scalars().all()
    places = {location_money(session, location_id) for location_id in set(rows)}
    currencies = sorted({p.currency for p in places})
    if len(currencies) <= 1:
        here = next(iter(places), location_money(session, None))
        locales = {p.locale for p in places}
        return TeamMoney(here.currency, here.locale if len(locales) <= 1 else settings.locale())
    reporting = settings.reporting_currency()
    return TeamMoney(reporting, settings.locale(), tuple(c for c in currencies if c != reporting))


def _converted_sums(session: Session, budget_ids: list[int]) -> dict[tuple[int, LedgerEntryType], int]:
    """Ledger sums by (budget, entry type) in the reporting currency: each day's entries at that
    day's rate (the day they were written), as the joint report converts them."""
    written = func.date(LedgerEntry.created_at)
    rows = session.execute(
        select(LedgerEntry.budget_id, Budget.employee_id, LedgerEntry.entry_type, written,
               func.sum(LedgerEntry.amount_cents))
        .join(Budget, Budget.id == LedgerEntry.budget_id)
        .where(LedgerEntry.budget_id.in_(budget_ids))
        .group_by(LedgerEntry.budget_id, Budget.employee_id, LedgerEntry.entry_type, written)).all()
    frame = pd.DataFrame([(b, e, LedgerEntryType(k), d, int(t or 0)) for b, e, k, d, t in rows],
                         columns=["budget_id", "employee_id", "kind", "day", "total"])
    frame = convert_by_employee(session.connection(), frame, ["total"], "budget entry")
    return {(int(b), k): int(t) for (b, k), t in frame.groupby(["budget_id", "kind"])["total"].sum().items()}


def _converted_today(session: Session, employee: Employee, amount: int, on: date) -> int:
    """An amount in the person's currency (a period not opened yet) at `on`'s rate."""
    frame = pd.DataFrame({"employee_id": [employee.id], "day": [on], "amount": [amount]})
    return int(convert_by_employee(session.connection(), frame, ["amount"], "budget")["amount"].iloc[0])


@dataclass(frozen=True)
class Window:
    start: date
    end: date  # exclusive

    @property
    def start_at(self) -> datetime:
        return window_bounds_utc(self.start, self.end)[0]  # business days, stored times in UTC

    @property
    def end_at(self) -> datetime:
        return window_bounds_utc(self.start, self.end)[1]


def _members(session: Session, team_ids: list[int]) -> list[tuple[Employee, str]]:
    rows = session.execute(
        select(Employee, Team.name).join(Team, Team.id == Employee.team_id)
        .where(Employee.team_id.in_(team_ids), Employee.active.is_(True))
        .order_by(Team.name, Employee.name)
    ).all()
    return [(employee, team_name) for employee, team_name in rows]


def locked_pins(db: Database, actor: Actor, team_ids: Iterable[int] | None = None,
                now: datetime | None = None) -> pd.DataFrame:
    """Team members whose tablet PIN is locked now (employee_code, name, team, locked_until):
    the manager can unlock it for someone standing in front of them."""
    now = now or utc_now()
    with db.read() as session:
        rows = [(employee.code, employee.name, team, employee.pin_locked_until)
                for employee, team in _members(session, access.team_ids(session, actor, "team.read", team_ids))
                if employee.pin_locked_until is not None and employee.pin_locked_until > now]
    return pd.DataFrame(rows, columns=["employee_code", "name", "team", "locked_until"])


# --- budget use -----------------------------------------------------------------------------------

def budget_use(db: Database, actor: Actor, team_ids: Iterable[int] | None = None,
               on: date | None = None, window: Window | None = None) -> pd.DataFrame:
    """One row per active team member: allocated, spent, held, remaining (allocated = spent +
    held + remaining), used share and number of gestures. Without `window`, the period containing
    `on`; with it, every budget period that overlaps the window, added up. Reads only: a period
    nobody opened yet (the current one) shows the policy's allowance and nothing spent. Amounts
    are in `team_money`'s currency: converted at each entry's date when the reach spans several."""
    on = on or business_today()
    with db.read() as session:
        ids = access.team_ids(session, actor, "team.read", team_ids)
        members = _members(session, ids)
        converts = _team_money(session, ids).converts
        overlap = ((Budget.period_start < window.end, Budget.period_end > window.start) if window
                   else (Budget.period_start <= on, Budget.period_end > on))
        by_employee: dict[int, list[Budget]] = {}
        for budget in session.scalars(select(Budget).where(
                Budget.employee_id.in_([e.id for e, _ in members]), *overlap)
                .order_by(Budget.period_start)):
            by_employee.setdefault(budget.employee_id, []).append(budget)
        sums: dict[tuple[int, LedgerEntryType], int] = {
            (budget_id, kind): int(total or 0) for budget_id, kind, total in session.execute(
                select(LedgerEntry.budget_id, LedgerEntry.entry_type, func.sum(LedgerEntry.amount_cents))
                .where(LedgerEntry.budget_id.in_([b.id for bs in by_employee.values() for b in bs]))
                .group_by(LedgerEntry.budget_id, LedgerEntry.entry_type))}
        if converts:
            sums = _converted_sums(session, [b.id for bs in by_employee.values() for b in bs])
        shows_today = window is None or window.start <= on < window.end
        rows = [_budget_rows(session, employee, team, by_employee.get(employee.id, []), sums, on,
                             shows_today, window, converts)
                for employee, team in members]
        counts = _gesture_counts(session, [e.id for e, _ in members], rows)
    frame = pd.DataFrame(rows, columns=BUDGET_COLUMNS[:-1])
    frame["gestures"] = [counts.get(code, 0) for code in frame["employee_code"]]
    return frame


def _budget_rows(session: Session, employee: Employee, team: str, budgets: list[Budget],
                 sums: dict[tuple[int, LedgerEntryType], int], on: date, shows_today: bool,
                 window: Window | None, converts: bool = False) -> list[object]:
    """One person's row: their one budget, or the window's budgets added up (plus the current
    period as it would open, when nobody opened it yet and the window contains today)."""
    covers_today = any(b.period_start <= on < b.period_end for b in budgets)
    parts = [_budget_row(session, employee, team, b, sums, on, converts) for b in budgets]
    if shows_today and not covers_today:
        parts.append(_budget_row(session, employee, team, None, sums, on, converts))
    if not parts:  # nothing in the window: zeros over the window
        assert window is not None
        return [employee.code, employee.name, team, "", window.start, window.end, 0, 0, 0, 0, 0.0]
    if len(parts) == 1 and window is None:
        return parts[0]
    allocated, spent, held, remaining = (sum(int(p[i]) for p in parts) for i in (6, 7, 8, 9))  # type: ignore[call-overload]
    share = (spent + held) / allocated if allocated else 0.0
    start = min(p[4] for p in parts)  # type: ignore[type-var]
    end = max(p[5] for p in parts)  # type: ignore[type-var]
    label = parts[0][3] if len(parts) == 1 else f"{len(parts)} periods"
    return [employee.code, employee.name, team, label, start, end, allocated, spent, held, remaining, share]


def _budget_row(session: Session, employee: Employee, team: str, budget: Budget | None,
                sums: dict[tuple[int, LedgerEntryType], int], on: date, converts: bool = False) -> list[object]:
    if budget is None:  # shown as it would open, as on My budget
        policy = policy_in_force(session, employee, on)
        period = policy.period if policy else Period.MONTH
        start, end = period_bounds(period, on)
        opening = (policy_terms(session, policy, employee, start).allowance_cents
                   + rollover_cents(session, employee.id, policy, start)) if policy else 0
        if converts and opening:
            opening = _converted_today(session, employee, opening, on)
        totals = LedgerTotals(opening, 0, 0)
        remaining = opening
    else:
        own = {kind: total for (budget_id, kind), total in sums.items() if budget_id == budget.id}
        period, start, end, remaining = budget.period, budget.period_start, budget.period_end, budget.remaining_cents
        if converts:  # the balance is its ledger's sum (a trigger holds it so): converted entry by entry
            remaining = sum(own.values())
        totals = ledger_totals(own)
    allocated, spent, held = totals.allocated_cents, totals.spent_cents, totals.held_cents
    share = (spent + held) / allocated if allocated else 0.0
    return [employee.code, employee.name, team, period_label(period, start), start, end,
            allocated, spent, held, remaining, share]


def _gesture_counts(session: Session, employee_ids: list[int], rows: list[list[object]]) -> dict[str, int]:
    if not rows:
        return {}
    start = min(r[4] for r in rows)  # type: ignore[type-var]
    end = max(r[5] for r in rows)  # type: ignore[type-var]
    window = Window(start, end)  # type: ignore[arg-type]
    return {code: int(n) for code, n in session.execute(
        select(Employee.code, func.count(Gesture.id)).join(Gesture, Gesture.employee_id == Employee.id)
        .where(Employee.id.in_(employee_ids), Gesture.status.in_(GestureStatus.against_budget()),
               Gesture.occurred_at >= window.start_at, Gesture.occurred_at < window.end_at)
        .group_by(Employee.code))}


def window_of(budgets: pd.DataFrame, on: date | None = None) -> Window:
    """The span the team's current periods cover (a month, unless some budgets are longer)."""
    if budgets.empty:
        return Window(*period_bounds(Period.MONTH, on or business_today()))
    return Window(min(budgets["period_start"]), max(budgets["period_end"]))


def weekly_activity(db: Database, actor: Actor, window: Window,
                    team_ids: Iterable[int] | None = None) -> pd.DataFrame:
    """Employees x weeks (Monday starts) of the window: gestures and spend, zeros included, so
    the people who never acted show up as empty rows."""
    week = func.date(Gesture.occurred_at)
    with db.read() as session:
        ids = access.team_ids(session, actor, "team.read", team_ids)
        members = _members(session, ids)
        rows = session.execute(
            select(Gesture.employee_id, week, func.count(Gesture.id), func.sum(Gesture.cost_cents))
            .where(Gesture.employee_id.in_([e.id for e, _ in members]), Gesture.status.in_(GestureStatus.against_budget()),
                   Gesture.occurred_at >= window.start_at, Gesture.occurred_at < window.end_at)
            .group_by(Gesture.employee_id, week)).all()
        if rows and _team_money(session, ids).converts:  # each day's spend at that day's rate
            daily = pd.DataFrame([tuple(r) for r in rows], columns=["employee_id", "day", "count", "spend"])
            daily["spend"] = daily["spend"].fillna(0).astype("int64")
            daily = convert_by_employee(session.connection(), daily, ["spend"], "gesture")
            rows = list(daily.itertuples(index=False, name=None))
    first = window.start - timedelta(days=window.start.weekday())
    weeks = [first + timedelta(weeks=i) for i in range((window.end - first).days // 7 + 1)
             if first + timedelta(weeks=i) < window.end]
    grid = {(e.id, w): [0, 0] for e, _ in members for w in weeks}
    for employee_id, day, count, spend in rows:
        day = day if isinstance(day, date) else date.fromisoformat(str(day))
        cell = grid[(employee_id, day - timedelta(days=day.weekday()))]
        cell[0] += int(count)
        cell[1] += int(spend or 0)
    taken = [e.name for e, _ in members]
    names = {e.id: e.name if taken.count(e.name) == 1 else f"{e.name} ({e.code})" for e, _ in members}
    return pd.DataFrame(
        [[names[e], w, c, s] for (e, w), (c, s) in grid.items()],
        columns=["employee", "week", "gestures", "spend_cents"])


def spend_breakdown(db: Database, actor: Actor, window: Window,
                    team_ids: Iterable[int] | None = None) -> pd.DataFrame:
    """Money actually spent (logged gestures) by gesture type and incident category."""
    day = func.date(Gesture.occurred_at)
    with db.read() as session:
        ids = access.team_ids(session, actor, "team.read", team_ids)
        # By giver and day too: across currencies each day's spend is converted at its rate.
        rows = session.execute(
            select(Gesture.type, Incident.category, Gesture.employee_id, day, func.count(Gesture.id),
                   func.sum(Gesture.cost_cents))
            .join(Incident, Incident.id == Gesture.incident_id)
            .join(Employee, Employee.id == Gesture.employee_id)
            .where(Employee.team_id.in_(ids), Gesture.status.in_(GestureStatus.recoveries()),
                   Gesture.occurred_at >= window.start_at, Gesture.occurred_at < window.end_at)
            .group_by(Gesture.type, Incident.category, Gesture.employee_id, day)).all()
        daily = pd.DataFrame([[str(t), c, e, d, int(n), int(s or 0)] for t, c, e, d, n, s in rows],
                             columns=["gesture_type", "category", "employee_id", "day", "gestures", "spend_cents"])
        if len(daily) and _team_money(session, ids).converts:
            daily = convert_by_employee(session.connection(), daily, ["spend_cents"], "gesture")
    frame = (daily.groupby(["gesture_type", "category"], as_index=False)[["gestures", "spend_cents"]].sum()
             if len(daily) else daily.drop(columns=["employee_id", "day"]))
    return frame.sort_values("spend_cents", ascending=False, ignore_index=True)


# --- queues and stories ---------------------------------------------------------------------------

def _gesture_rows(session: Session, ids: list[int], *conditions: object, limit: int = 200) -> list[list[object]]:
    rows = session.execute(
        select(Gesture.code, Gesture.occurred_at, Employee.name, Team.name, Customer.name,
               Incident.category, Gesture.type, Gesture.cost_cents, Gesture.status, Gesture.note,
               Location.currency, Location.locale)
        .join(Employee, Employee.id == Gesture.employee_id)
        .join(Team, Team.id == Employee.team_id)
        .outerjoin(Location, Location.id == Team.location_id)
        .join(Customer, Customer.id == Gesture.customer_id)
        .join(Incident, Incident.id == Gesture.incident_id)
        .where(Employee.team_id.in_(ids), *conditions)  # type: ignore[arg-type]
        .order_by(Gesture.occurred_at.desc(), Gesture.id.desc()).limit(limit)).all()
    return [[*r[:6], str(r[6]), r[7], r[8].value, r[9], r[10] or settings.currency(), r[11] or settings.locale()]
            for r in rows]


def _not_own(actor: Actor) -> list[object]:
    """Segregation of duties: nobody is offered a decision on, or a review of, a gesture they
    logged themselves (another manager of the team, or an admin, sees it instead)."""
    return [] if actor.employee_id is None else [Gesture.employee_id != actor.employee_id]


def review_queue(db: Database, actor: Actor, team_ids: Iterable[int] | None = None) -> pd.DataFrame:
    """Logged gestures flagged for review (above the policy's "review above") that nobody reviewed
    yet, except the actor's own. One waiting for approval is in the approval queue instead, and
    one a manager approved has been looked at already."""
    with db.read() as session:
        ids = access.team_ids(session, actor, "team.read", team_ids)
        rows = _gesture_rows(session, ids, Gesture.needs_review.is_(True), Gesture.reviewed_at.is_(None),
                             Gesture.decided_at.is_(None), Gesture.status.in_(GestureStatus.recoveries()),
                             *_not_own(actor))
    return pd.DataFrame(rows, columns=QUEUE_COLUMNS)


def approval_queue(db: Database, actor: Actor, team_ids: Iterable[int] | None = None) -> pd.DataFrame:
    """Gestures waiting for a manager's approval, newest first (their money is held), except the
    actor's own."""
    with db.read() as session:
        ids = access.team_ids(session, actor, "team.read", team_ids)
        rows = _gesture_rows(session, ids, Gesture.status == GestureStatus.PENDING_APPROVAL, *_not_own(actor))
    return pd.DataFrame(rows, columns=QUEUE_COLUMNS)


def own_waiting(db: Database, actor: Actor) -> int:
    """How many of the actor's own gestures wait for someone else's approval or review (the page
    says so, rather than leaving them out silently)."""
    if actor.employee_id is None:
        return 0
    with db.read() as session:
        return int(session.scalar(select(func.count(Gesture.id)).where(
            Gesture.employee_id == actor.employee_id,
            (Gesture.status == GestureStatus.PENDING_APPROVAL)
            | (Gesture.needs_review.is_(True) & Gesture.reviewed_at.is_(None) & Gesture.decided_at.is_(None)
               & Gesture.status.in_(GestureStatus.recoveries()))))  or 0)


def story_feed(db: Database, actor: Actor, team_ids: Iterable[int] | None = None,
               limit: int = 50) -> pd.DataFrame:
    """Recovery stories: counted gestures with a note, newest first, with the featured flag."""
    with db.read() as session:
        ids = access.team_ids(session, actor, "team.read", team_ids)
        rows = _gesture_rows(session, ids, Gesture.note.is_not(None), Gesture.note != "",
                             Gesture.status.in_(GestureStatus.recoveries()), limit=limit)
        featured = set(session.scalars(select(Gesture.code).where(
            Gesture.code.in_([r[0] for r in rows]), Gesture.featured.is_(True))))
    frame = pd.DataFrame(rows, columns=QUEUE_COLUMNS).drop(columns=["customer"])
    frame["featured"] = frame["code"].isin(featured)
    return frame


USE_COLUMNS = ["employee_code", "employee", "team", "incidents", "gestures", "gestures_per_incident"]


def _handled_and_logged(session: Session, ids: list[int],
                        window: Window) -> tuple[dict[int, int], dict[int, int]]:
    """Incidents each person handled and gestures they logged in the window, by employee id."""
    incidents = dict(session.execute(
        select(Incident.employee_id, func.count(Incident.id)).where(
            Incident.employee_id.in_(ids), Incident.occurred_at >= window.start_at,
            Incident.occurred_at < window.end_at).group_by(Incident.employee_id)).all())
    gestures = dict(session.execute(
        select(Gesture.employee_id, func.count(Gesture.id)).where(
            Gesture.employee_id.in_(ids), Gesture.status.in_(GestureStatus.against_budget()),
            Gesture.occurred_at >= window.start_at, Gesture.occurred_at < window.end_at)
        .group_by(Gesture.employee_id)).all())
    return incidents, gestures  # type: ignore[return-value]


def use_rates(db: Database, actor: Actor, window: Window,
              team_ids: Iterable[int] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """How much each person and team used their empowerment in the window: incidents they
    handled, gestures they logged and gestures per incident handled (None without incidents),
    lowest rate first: (people, teams)."""
    with db.read() as session:
        members = _members(session, access.team_ids(session, actor, "team.read", team_ids))
        ids = [e.id for e, _ in members]
        incidents, gestures = _handled_and_logged(session, ids, window)
    people = pd.DataFrame(
        [[e.code, e.name, team, int(incidents.get(e.id, 0)), int(gestures.get(e.id, 0))]
         for e, team in members], columns=USE_COLUMNS[:-1])
    teams = people.groupby("team", as_index=False)[["incidents", "gestures"]].sum()
    for frame in (people, teams):
        frame["gestures_per_incident"] = (frame["gestures"] / frame["incidents"]).where(frame["incidents"] > 0)
    order = ["gestures_per_incident", "incidents"]
    return (people.sort_values(order, ascending=[True, False], na_position="last", ignore_index=True),
            teams.sort_values(order, ascending=[True, False], na_position="last", ignore_index=True))


def under_use(db: Database, actor: Actor, window: Window,
              team_ids: Iterable[int] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Who had incidents in the window but logged no gesture: (staff, teams)."""
    with db.read() as session:
        members = _members(session, access.team_ids(session, actor, "team.read", team_ids))
        ids = [e.id for e, _ in members]
        incidents, gestures = _handled_and_logged(session, ids, window)
    people = pd.DataFrame(
        [[e.code, e.name, team, int(incidents.get(e.id, 0)), int(gestures.get(e.id, 0))]
         for e, team in members],
        columns=["employee_code", "employee", "team", "incidents", "gestures"])
    teams = people.groupby("team", as_index=False)[["incidents", "gestures"]].sum()
    staff_flags = people[(people["incidents"] > 0) & (people["gestures"] == 0)]
    team_flags = teams[(teams["incidents"] > 0) & (teams["gestures"] == 0)]
    return staff_flags.reset_index(drop=True), team_flags.reset_index(drop=True)
