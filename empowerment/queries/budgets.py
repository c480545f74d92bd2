"""A person's budget as the tablet and My budget show it: the balance of the current period, and
what they may still spend on one customer today.

Reads only. A period nobody has opened yet (no gesture so far this month) is shown as it would open:
the policy's allowance plus any rollover, nothing spent; the first gesture, or
`services.ledger.open_period`, opens it for real.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from empowerment import access
from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.models import Employee, LedgerEntry, LedgerEntryType, Period, TeamManager
from empowerment.models.lookups import (
    budget_covering,
    business_money,
    business_zone,
    customer_by_code,
    given_to_customer_on,
    policy_terms,
    require_policy,
    rollover_cents,
)
from empowerment.models.tables import ThresholdRules
from empowerment.periods import business_today, period_bounds, period_label


@dataclass(frozen=True)
class LedgerTotals:
    allocated_cents: int  # allowance + rollover + corrections
    spent_cents: int  # spends net of reversals
    held_cents: int  # waiting for approval


def ledger_totals(sums_by_type: Mapping[LedgerEntryType, int]) -> LedgerTotals:
    """Pure: a budget's entry sums by type (signed, as stored) -> what was given, spent, held."""
    def total(rule: str) -> int:
        return int(sum(v or 0 for kind, v in sums_by_type.items() if getattr(LedgerEntryType(kind), rule)))

    return LedgerTotals(total("counts_as_allocation"), -total("counts_as_spend"), -total("counts_as_hold"))


@dataclass(frozen=True)
class BudgetStatus:
    employee_code: str
    employee_name: str
    policy_name: str
    period: Period
    period_start: date
    period_end: date  # exclusive
    period_label: str
    allocated_cents: int
    spent_cents: int
    held_cents: int
    remaining_cents: int
    customer_daily_cap_cents: int
    review_above_cents: int | None
    approval_above_cents: int | None
    opened: bool  # False: nobody has used this period yet; shown as it would open
    currency: str | None = None  # every amount above is in it: the person's location's
    locale: str | None = None

    @property
    def used_share(self) -> float:
        return self.spent_cents / self.allocated_cents if self.allocated_cents else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "employee_id": self.employee_code, "employee_name": self.employee_name,
            "policy": self.policy_name, "period": self.period.value, "period_label": self.period_label,
            "period_start": self.period_start.isoformat(), "period_end": self.period_end.isoformat(),
            "allocated_cents": self.allocated_cents, "spent_cents": self.spent_cents,
            "held_cents": self.held_cents, "remaining_cents": self.remaining_cents,
            "customer_daily_cap_cents": self.customer_daily_cap_cents,
            "review_above_cents": self.review_above_cents, "approval_above_cents": self.approval_above_cents,
        }


def status_in_session(session: Session, employee: Employee, on: date) -> BudgetStatus:
    policy = require_policy(session, employee, on)  # limits follow the policy in force today
    limits = policy_terms(session, policy, employee, on)  # in their currency, at today's rate
    budget = budget_covering(session, employee.id, on)
    if budget is None:  # as it would open: the allowance at the rate of the period's first day
        start, end = period_bounds(policy.period, on)
        carried = rollover_cents(session, employee.id, policy, start)
        allowance = policy_terms(session, policy, employee, start).allowance_cents
        totals = LedgerTotals(allowance + carried, 0, 0)
        period, remaining = policy.period, allowance + carried
    else:
        sums = dict(session.execute(
            select(LedgerEntry.entry_type, func.sum(LedgerEntry.amount_cents))
            .where(LedgerEntry.budget_id == budget.id).group_by(LedgerEntry.entry_type)).all())
        totals = ledger_totals(sums)
        period, start, end, remaining = budget.period, budget.period_start, budget.period_end, budget.remaining_cents
    return BudgetStatus(
        employee_code=employee.code, employee_name=employee.name, policy_name=policy.name, period=period,
        period_start=start, period_end=end, period_label=period_label(period, start),
        allocated_cents=totals.allocated_cents, spent_cents=totals.spent_cents, held_cents=totals.held_cents,
        remaining_cents=remaining, customer_daily_cap_cents=limits.customer_daily_cap_cents,
        review_above_cents=limits.review_above_cents, approval_above_cents=limits.approval_above_cents,
        opened=budget is not None, **vars(business_money(session, employee)),
    )


def budget_status(db: Database, actor: Actor, employee_code: str, on: date | None = None) -> BudgetStatus:
    """The person's balance for the period containing `on` (today by default)."""
    with db.read() as session:
        employee = access.employee(session, actor, "budget.read", employee_code)
        return status_in_session(session, employee, on or business_today(business_zone(session, employee)))


@dataclass(frozen=True)
class SpendingLimits(ThresholdRules):
    """What the tablet shows before a submit."""

    remaining_cents: int  # the person's budget left
    customer_cap_cents: int  # the daily limit per customer
    customer_cap_left_cents: int  # of which is left for this customer today
    review_above_cents: int | None
    approval_above_cents: int | None
    approvers: tuple[str, ...] = ()  # who decides this person's gestures: their team's managers
    currency: str | None = None  # every amount above is in it (the location's; None: the installation's)
    locale: str | None = None  # how people here type and read amounts

    @property
    def who_decides(self) -> str:
        """"Maria Lopez", "Maria Lopez or Tom Berg", or "an admin" when the team has no manager."""
        if not self.approvers:
            return "an admin"
        return " or ".join(self.approvers) if len(self.approvers) <= 2 else f"{self.approvers[0]} or another manager"

    @property
    def spendable_now_cents(self) -> int:
        return max(min(self.customer_cap_left_cents, self.remaining_cents), 0)


def spending_limits(db: Database, actor: Actor, employee_code: str, customer_code: str | None,
                    on: date | None = None) -> SpendingLimits:
    """Remaining budget and what is left of the per-customer daily cap; one read unit."""
    with db.read() as session:
        employee = access.employee(session, actor, "budget.read", employee_code)
        tz = business_zone(session, employee)
        here = business_money(session, employee)
        today = on or business_today(tz)
        status = status_in_session(session, employee, today)
        given = 0
        if customer_code:
            customer = customer_by_code(session, customer_code)
            given = given_to_customer_on(session, employee.id, customer.id, today, tz)
        approvers = tuple(session.scalars(
            select(Employee.name).join(TeamManager, TeamManager.employee_id == Employee.id)
            .where(TeamManager.team_id == employee.team_id, Employee.active.is_(True), Employee.id != employee.id)
            .order_by(Employee.name))) if employee.team_id is not None else ()
    return SpendingLimits(
        remaining_cents=status.remaining_cents, customer_cap_cents=status.customer_daily_cap_cents,
        customer_cap_left_cents=max(status.customer_daily_cap_cents - given, 0),
        review_above_cents=status.review_above_cents, approval_above_cents=status.approval_above_cents,
        approvers=approvers, currency=here.currency, locale=here.locale,
    )

