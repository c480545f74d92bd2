"""Budgets: which policy applies to whom, the period's budget row, and its ledger.

The ledger (`LedgerEntry`) is the truth and is append-only; `Budget.remaining_cents` is its running
total, changed only together with an entry, inside one write unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from empowerment import audit
from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.errors import (
    BudgetExceeded,
    InvalidInput,
    NoBudgetPolicy,
    UnknownEmployee,
)
from empowerment.models import (
    Budget,
    BudgetPolicy,
    Employee,
    LedgerEntry,
    LedgerEntryType,
    Period,
    Role,
    Rollover,
    Team,
    table,
)
from empowerment.money import format_cents
from empowerment.periods import next_period_start, period_bounds, period_label

DEFAULT_CUSTOMER_DAILY_CAP_CENTS = 200_000  # the Ritz rule: 2,000.00 per guest per day


def find_employee(session: Session, employee_code: str) -> Employee:
    employee = session.scalar(select(Employee).where(Employee.code == str(employee_code).strip()))
    if employee is None or not employee.active:
        raise UnknownEmployee(f"No active employee with id '{employee_code}'.")
    return employee


def resolve_policy(session: Session, employee: Employee, on: date) -> BudgetPolicy | None:
    """The newest version in force on `on`, most specific scope first."""
    candidates = session.scalars(
        select(BudgetPolicy)
        .where(BudgetPolicy.effective_from <= on)
        .where(
            or_(
                BudgetPolicy.employee_id == employee.id,
                BudgetPolicy.team_id == (employee.team_id if employee.team_id is not None else -1),
                BudgetPolicy.role == employee.role,
                (BudgetPolicy.employee_id.is_(None))
                & (BudgetPolicy.team_id.is_(None))
                & (BudgetPolicy.role.is_(None)),
            )
        )
        .order_by(BudgetPolicy.effective_from.desc(), BudgetPolicy.id.desc())
    ).all()

    def rank(policy: BudgetPolicy) -> int:
        if policy.employee_id is not None:
            return 0
        if policy.team_id is not None:
            return 1
        if policy.role is not None:
            return 2
        return 3

    return min(candidates, key=rank) if candidates else None


def _insert_budget_if_absent(session: Session, values: dict[str, object]) -> int | None:
    """INSERT ... ON CONFLICT DO NOTHING: two tablets opening the same period create one row."""
    dialect = session.get_bind().dialect.name
    insert_fn = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        insert_fn(Budget)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["employee_id", "period_start"])
        .returning(Budget.id)
    )
    return session.scalar(stmt)


def _rollover_cents(session: Session, employee: Employee, policy: BudgetPolicy, start: date) -> int:
    if policy.rollover != Rollover.FULL:
        return 0
    previous = session.scalar(
        select(Budget)
        .where(Budget.employee_id == employee.id, Budget.period_end <= start)
        .order_by(Budget.period_end.desc())
        .limit(1)
    )
    return previous.remaining_cents if previous is not None else 0


def ensure_budget(
    session: Session, employee: Employee, on: date, *, lock: bool = False,
    policy: BudgetPolicy | None = None,
) -> Budget:
    """The employee's budget for the period containing `on`, created with its allocation if new."""
    policy = policy or resolve_policy(session, employee, on)
    if policy is None:
        raise NoBudgetPolicy(
            f"{employee.name} has no budget policy yet; an admin can set one on the Policies page."
        )
    start, end = period_bounds(policy.period, on)
    existing_query = select(Budget).where(
        Budget.employee_id == employee.id, Budget.period_start <= on, Budget.period_end > on
    )
    if lock:
        existing_query = existing_query.with_for_update()
    budget = session.scalar(existing_query)
    if budget is not None:
        return budget
    rollover = _rollover_cents(session, employee, policy, start)
    new_id = _insert_budget_if_absent(
        session,
        dict(
            employee_id=employee.id,
            policy_id=policy.id,
            period=policy.period,
            period_start=start,
            period_end=end,
            remaining_cents=policy.allowance_cents + rollover,
        ),
    )
    if new_id is not None:
        session.add(
            LedgerEntry(
                budget_id=new_id,
                entry_type=LedgerEntryType.ALLOCATION,
                amount_cents=policy.allowance_cents,
                reason=f"{policy.name}: {period_label(policy.period, start)} allowance",
            )
        )
        if rollover:
            session.add(
                LedgerEntry(
                    budget_id=new_id,
                    entry_type=LedgerEntryType.ROLLOVER,
                    amount_cents=rollover,
                    reason="Carried over from the previous period",
                )
            )
        session.flush()
    budget = session.scalar(existing_query.execution_options(populate_existing=True))
    assert budget is not None
    return budget


def take_from_budget(
    session: Session,
    budget: Budget,
    amount_cents: int,
    entry_type: LedgerEntryType,
    *,
    actor: Actor,
    gesture_id: int | None = None,
    reason: str | None = None,
) -> int:
    """Atomically subtract (or, for a negative amount, add) and append the ledger entry.

    The conditional UPDATE refuses an overdraw even if a caller forgot the row lock.
    Returns the new remaining balance."""
    remaining = try_take_cents(session, budget.id, amount_cents)
    if remaining is None:
        raise BudgetExceeded(
            f"{format_cents(amount_cents)} is more than the remaining budget of "
            f"{format_cents(budget.remaining_cents)}."
        )
    append_ledger_entry(session, budget.id, -amount_cents, entry_type, actor=actor,
                        gesture_id=gesture_id, reason=reason)
    return remaining


def try_take_cents(session: Session, budget_id: int, amount_cents: int) -> int | None:
    """Subtract `amount_cents` unless that would take the budget below zero: the new balance, or
    None (and nothing changed). One conditional UPDATE: on PostgreSQL it also takes the row lock
    until the transaction ends. Core, not ORM: this runs inside the writers' critical section."""
    budgets = table(Budget)
    return session.connection().execute(
        update(budgets)
        .where(budgets.c.id == budget_id, budgets.c.remaining_cents >= amount_cents)
        .values(remaining_cents=budgets.c.remaining_cents - amount_cents)
        .returning(budgets.c.remaining_cents)
    ).scalar()


def append_ledger_entry(
    session: Session, budget_id: int, amount_cents: int, entry_type: LedgerEntryType, *,
    actor: Actor, gesture_id: int | None = None, reason: str | None = None,
) -> None:
    """One ledger row (signed: money into the budget is positive). The ledger is append-only."""
    session.connection().execute(
        insert(table(LedgerEntry)).values(
            budget_id=budget_id, entry_type=entry_type, amount_cents=amount_cents,
            gesture_id=gesture_id, reason=reason, created_by_id=actor.employee_id,
        )
    )


@dataclass(frozen=True)
class BudgetStatus:
    employee_code: str
    employee_name: str
    policy_name: str
    period: Period
    period_start: date
    period_end: date  # exclusive
    period_label: str
    allocated_cents: int  # allowance + rollover + adjustments
    spent_cents: int  # spends net of reversals
    held_cents: int  # waiting for approval
    remaining_cents: int
    customer_daily_cap_cents: int
    review_above_cents: int | None
    approval_above_cents: int | None

    @property
    def used_share(self) -> float:
        return self.spent_cents / self.allocated_cents if self.allocated_cents else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "employee_id": self.employee_code,
            "employee_name": self.employee_name,
            "policy": self.policy_name,
            "period": self.period.value,
            "period_label": self.period_label,
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "allocated_cents": self.allocated_cents,
            "spent_cents": self.spent_cents,
            "held_cents": self.held_cents,
            "remaining_cents": self.remaining_cents,
            "customer_daily_cap_cents": self.customer_daily_cap_cents,
            "review_above_cents": self.review_above_cents,
            "approval_above_cents": self.approval_above_cents,
        }


def current_budget(session: Session, employee: Employee, on: date) -> Budget | None:
    """The budget covering `on` if it exists; read-only."""
    return session.scalar(
        select(Budget).where(
            Budget.employee_id == employee.id, Budget.period_start <= on, Budget.period_end > on
        )
    )


def status_in_session(session: Session, employee: Employee, on: date) -> BudgetStatus:
    budget = current_budget(session, employee, on) or ensure_budget(session, employee, on)
    policy = resolve_policy(session, employee, on) or session.get(BudgetPolicy, budget.policy_id)
    assert policy is not None
    sums = dict(
        session.execute(
            select(LedgerEntry.entry_type, func.sum(LedgerEntry.amount_cents))
            .where(LedgerEntry.budget_id == budget.id)
            .group_by(LedgerEntry.entry_type)
        ).all()
    )

    def total(*kinds: LedgerEntryType) -> int:
        return int(sum(sums.get(kind, 0) or 0 for kind in kinds))

    allocated = total(LedgerEntryType.ALLOCATION, LedgerEntryType.ROLLOVER, LedgerEntryType.ADJUSTMENT)
    held = -total(LedgerEntryType.HOLD, LedgerEntryType.RELEASE)
    spent = -total(LedgerEntryType.SPEND, LedgerEntryType.REVERSAL)
    return BudgetStatus(
        employee_code=employee.code,
        employee_name=employee.name,
        policy_name=policy.name,
        period=budget.period,
        period_start=budget.period_start,
        period_end=budget.period_end,
        period_label=period_label(budget.period, budget.period_start),
        allocated_cents=allocated,
        spent_cents=spent,
        held_cents=held,
        remaining_cents=budget.remaining_cents,
        customer_daily_cap_cents=policy.customer_daily_cap_cents,
        review_above_cents=policy.review_above_cents,
        approval_above_cents=policy.approval_above_cents,
    )


def budget_status(db: Database, actor: Actor, employee_code: str, on: date | None = None) -> BudgetStatus:
    """The employee's balance for the current period (creating the period's budget if new).

    Read-only when the period's budget exists, so page reruns never queue for the write lock."""
    on = on or date.today()
    with db.read() as session:
        employee = find_employee(session, employee_code)
        actor.require(actor.may_act_for(employee.id, employee.team_id), "see another person's budget")
        if current_budget(session, employee, on) is not None:
            return status_in_session(session, employee, on)
    with db.write() as session:
        return status_in_session(session, find_employee(session, employee_code), on)


def set_policy(
    db: Database,
    actor: Actor,
    name: str,
    *,
    allowance_cents: int,
    period: Period,
    team_code: str | None = None,
    role: Role | None = None,
    employee_code: str | None = None,
    customer_daily_cap_cents: int = DEFAULT_CUSTOMER_DAILY_CAP_CENTS,
    review_above_cents: int | None = None,
    approval_above_cents: int | None = None,
    rollover: Rollover = Rollover.NONE,
    immediate: bool = False,
    today: date | None = None,
) -> BudgetPolicy:
    """Create a policy, or a new version of one. A change to an existing policy applies from the
    next period unless `immediate`; a brand-new policy applies at once."""
    actor.require(actor.role == Role.ADMIN, "change budget policies")
    name = name.strip()
    if not name:
        raise InvalidInput("A policy needs a name.")
    if sum(x is not None for x in (team_code, role, employee_code)) > 1:
        raise InvalidInput("A policy applies to one team, one role or one employee, not several.")
    if (approval_above_cents is not None and review_above_cents is not None
            and approval_above_cents < review_above_cents):
        raise InvalidInput("'Approval above' must not be lower than 'review above'.")
    today = today or date.today()
    with db.write() as session:
        team_id = employee_id = None
        if team_code:
            team = session.scalar(select(Team).where(Team.code == team_code))
            if team is None:
                raise InvalidInput(f"No team with id '{team_code}'.")
            team_id = team.id
        if employee_code:
            employee_id = find_employee(session, employee_code).id
        exists = session.scalar(select(func.count()).where(BudgetPolicy.name == name))
        effective_from = today if (immediate or not exists) else next_period_start(period, today)
        policy = BudgetPolicy(
            name=name,
            team_id=team_id,
            role=role,
            employee_id=employee_id,
            allowance_cents=allowance_cents,
            period=period,
            rollover=rollover,
            customer_daily_cap_cents=customer_daily_cap_cents,
            review_above_cents=review_above_cents,
            approval_above_cents=approval_above_cents,
            effective_from=effective_from,
            created_by_id=actor.employee_id,
        )
        session.add(policy)
        session.flush()
        if immediate and exists:
            _apply_allowance_change_now(session, actor, policy, today)
        audit.record(
            session,
            actor,
            "policy.set",
            "budget_policy",
            policy.id,
            dict(
                name=name,
                allowance_cents=allowance_cents,
                period=period.value,
                scope=team_code or (role.value if role else None) or employee_code or "everyone",
                customer_daily_cap_cents=customer_daily_cap_cents,
                review_above_cents=review_above_cents,
                approval_above_cents=approval_above_cents,
                rollover=rollover.value,
                effective_from=effective_from,
            ),
        )
        return policy


def _apply_allowance_change_now(session: Session, actor: Actor, policy: BudgetPolicy, today: date) -> None:
    """An immediate change also moves this period's allowance: one adjustment entry per budget
    now governed by the new version, for the difference (never below zero remaining)."""
    budgets = session.scalars(
        select(Budget).where(Budget.period_start <= today, Budget.period_end > today).with_for_update()
    ).all()
    for budget in budgets:
        employee = session.get(Employee, budget.employee_id)
        if employee is None or resolve_policy(session, employee, today) is not policy:
            continue
        old_policy = session.get(BudgetPolicy, budget.policy_id)
        delta = policy.allowance_cents - (old_policy.allowance_cents if old_policy else 0)
        delta = max(delta, -budget.remaining_cents)
        if delta:
            take_from_budget(
                session, budget, -delta, LedgerEntryType.ADJUSTMENT, actor=actor,
                reason=f"Policy '{policy.name}' changed with immediate effect",
            )


def adjust_budget(
    db: Database, actor: Actor, employee_code: str, amount_cents: int, reason: str
) -> int:
    """An admin's correction: a signed ledger entry with a reason. Returns the new balance."""
    actor.require(actor.role == Role.ADMIN, "adjust budgets")
    if not reason.strip():
        raise InvalidInput("An adjustment needs a reason.")
    with db.write() as session:
        employee = find_employee(session, employee_code)
        budget = ensure_budget(session, employee, date.today(), lock=True)
        remaining = take_from_budget(
            session, budget, -amount_cents, LedgerEntryType.ADJUSTMENT, actor=actor, reason=reason
        )
        audit.record(
            session, actor, "budget.adjusted", "budget", budget.id,
            dict(employee=employee.code, amount_cents=amount_cents, reason=reason),
        )
        return remaining


def now() -> datetime:
    return datetime.now().replace(microsecond=0)
