"""Budget policies: create one, or a new version of one, and apply a change at once if asked.

Rows are versions: a change inserts a new row; the newest version in force on a day wins for its
scope (`models.lookups.policy_in_force`). A change to an existing policy applies from the next
period unless `immediate`; a brand-new policy is in force from today. "Immediate" also moves the
allowance of the budgets already open this period, to exactly the new allowance: the change is
worked out from what the ledger says those budgets were allocated, so saving the same change
twice (a double tap) changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from empowerment import access, audit, clock
from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.errors import InvalidAmount, InvalidInput
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
)
from empowerment.models.lookups import MoneyHere, choose_policy, policy_money, policy_terms
from empowerment.money import MAX_AMOUNT_CENTS, AmbiguousAmount, check_minor, format_money, parse_amount
from empowerment.periods import next_period_start
from empowerment.services.ledger import post

DEFAULT_CUSTOMER_DAILY_CAP_CENTS = 200_000  # the Ritz rule: 2,000.00 per guest per day
MAX_NAME_CHARS = 100


@dataclass(frozen=True)
class PolicyRequest:
    """What an admin asks for. At most one of `team_code`, `role`, `employee_code`: none means
    the policy is for everyone."""

    name: str
    # Amounts: an int is minor units of the policy's currency; text (what a person typed) is read
    # in the currency and locale of whom the policy is for (`policy_money`): "12,50" at a French
    # desk, "1250" yen at a Tokyo one.
    allowance_cents: int | str
    period: Period
    team_code: str | None = None
    role: Role | None = None
    employee_code: str | None = None
    customer_daily_cap_cents: int | str = DEFAULT_CUSTOMER_DAILY_CAP_CENTS
    review_above_cents: int | str | None = None
    approval_above_cents: int | str | None = None
    rollover: Rollover = Rollover.NONE
    immediate: bool = False
    today: date | None = None

    @property
    def scope_label(self) -> str:
        return self.team_code or (self.role.value if self.role else None) or self.employee_code or "everyone"


def _validate(request: PolicyRequest) -> str:
    name = (request.name or "").strip()
    if not name:
        raise InvalidInput("A policy needs a name.")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidInput(f"Keep the policy name under {MAX_NAME_CHARS} characters.")
    if sum(x is not None for x in (request.team_code, request.role, request.employee_code)) > 1:
        raise InvalidInput("A policy applies to one team, one role or one employee, not several.")
    return name


@dataclass(frozen=True)
class _Amounts:
    allowance: int
    cap: int
    review: int | None
    approval: int | None


def _amounts(request: PolicyRequest, money: MoneyHere) -> _Amounts:
    """The request's amounts in minor units of `money`'s currency, each checked, with the field's
    name in the sentence when it is refused."""
    def read(label: str, value: int | str | None) -> int | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            amount = (check_minor(value, money.currency) if isinstance(value, int) and not isinstance(value, bool)
                      else parse_amount(str(value), money.locale, currency=money.currency))
        except AmbiguousAmount as exc:  # the sentence asks which was meant; the form is typed again
            raise AmbiguousAmount(f"{label}: {exc}", exc.choices) from exc
        except InvalidAmount as exc:
            raise InvalidAmount(f"{label}: {exc}") from exc
        if not 0 <= amount <= MAX_AMOUNT_CENTS:
            low, high = (format_money(x, money.currency, money.locale) for x in (0, MAX_AMOUNT_CENTS))
            raise InvalidInput(f"{label} must be between {low} and {high}.")
        return amount

    allowance = read("The allowance", request.allowance_cents)
    if allowance is None:
        raise InvalidInput("Enter the allowance, for example 500.")
    cap = read("The limit per customer per day", request.customer_daily_cap_cents)
    amounts = _Amounts(allowance, DEFAULT_CUSTOMER_DAILY_CAP_CENTS if cap is None else cap,
                       read("'Review above'", request.review_above_cents),
                       read("'Approval above'", request.approval_above_cents))
    if amounts.approval is not None and amounts.review is not None and amounts.approval < amounts.review:
        raise InvalidInput("'Approval above' must not be lower than 'review above'.")
    return amounts


def set_policy(db: Database, actor: Actor, request: PolicyRequest) -> BudgetPolicy:
    """Create a policy, or a new version of one (same name)."""
    access.require(actor, "policy.set")
    name = _validate(request)
    today = request.today or clock.business_today()
    with db.write() as session:
        team_id = employee_id = None
        team = employee = None
        if request.team_code:
            team = session.scalar(select(Team).where(Team.code == request.team_code))
            if team is None:
                raise InvalidInput(f"No team with id '{request.team_code}'.")
            team_id = team.id
        if request.employee_code:
            employee = access.employee(session, actor, "policy.set", request.employee_code)
            employee_id = employee.id
        amounts = _amounts(request, policy_money(session, team, employee))
        exists = session.scalar(select(func.count()).where(BudgetPolicy.name == name))
        effective_from = today if (request.immediate or not exists) else next_period_start(request.period, today)
        policy = BudgetPolicy(
            name=name, team_id=team_id, role=request.role, employee_id=employee_id,
            allowance_cents=amounts.allowance, period=request.period, rollover=request.rollover,
            customer_daily_cap_cents=amounts.cap, review_above_cents=amounts.review,
            approval_above_cents=amounts.approval,
            effective_from=effective_from, created_by_id=actor.employee_id,
        )
        session.add(policy)
        session.flush()
        if request.immediate:
            _apply_allowance_now(session, actor, policy, today)
        audit.record(session, actor, "policy.set", "budget_policy", policy.id, dict(
            name=name, allowance_cents=amounts.allowance, period=request.period.value,
            scope=request.scope_label, customer_daily_cap_cents=amounts.cap,
            review_above_cents=amounts.review, approval_above_cents=amounts.approval,
            rollover=request.rollover.value, effective_from=effective_from, immediate=request.immediate,
        ))
        return policy


def _allowance_cents(session: Session, budget_ids: list[int]) -> dict[int, int]:
    """What each budget's allowance is now, by its ledger (allocations net of reductions)."""
    if not budget_ids:
        return {}
    rows = session.execute(
        select(LedgerEntry.budget_id, func.sum(LedgerEntry.amount_cents))
        .where(LedgerEntry.budget_id.in_(budget_ids),
               LedgerEntry.entry_type.in_([t for t in LedgerEntryType if t.counts_as_allowance]))
        .group_by(LedgerEntry.budget_id)).all()
    return {budget_id: int(total or 0) for budget_id, total in rows}


def _apply_allowance_now(session: Session, actor: Actor, policy: BudgetPolicy, today: date) -> None:
    """Bring every open budget this policy now governs to the new allowance: one allocation (or
    allocation reduction) entry for the difference, never taking more than is left."""
    open_budgets = session.execute(
        select(Budget, Employee).join(Employee, Employee.id == Budget.employee_id)
        .where(Budget.period_start <= today, Budget.period_end > today).with_for_update(of=Budget)
    ).all()
    in_force = session.scalars(select(BudgetPolicy).where(BudgetPolicy.effective_from <= today)).all()
    governed = [(budget, employee) for budget, employee in open_budgets
                if choose_policy(in_force, employee.id, employee.team_id, employee.role) is policy]
    allowances = _allowance_cents(session, [budget.id for budget, _ in governed])
    reason = f"Policy '{policy.name}' changed with immediate effect"
    for budget, employee in governed:
        # in the person's currency, at the rate of their period's first day (as it opened)
        delta = policy_terms(session, policy, employee, budget.period_start).allowance_cents - allowances.get(budget.id, 0)
        if delta > 0:
            post(session, budget.id, LedgerEntryType.ALLOCATION, delta, actor=actor, reason=reason)
        elif delta < 0 and budget.remaining_cents > 0:
            post(session, budget.id, LedgerEntryType.ALLOCATION_REDUCTION,
                 min(-delta, budget.remaining_cents), actor=actor, reason=reason)
