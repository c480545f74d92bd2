"""The budget ledger: the one way money moves (`post`), opening a period's budget, and an admin's
correction.

The ledger (`LedgerEntry`) is the truth and is append-only (database triggers refuse UPDATE and
DELETE). `Budget.remaining_cents` is its running total, changed only by `post`, in the same
statement pair as the entry, inside the caller's write unit. Amounts are posted positive; the entry
type gives the direction (`LedgerEntryType.direction`), in the manner of django-hordak's
`Account.transfer_to()`: no caller ever chooses a sign.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import BigInteger, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from empowerment import access, audit
from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.errors import BudgetExceeded, InvalidAmount, InvalidInput
from empowerment.models import Budget, BudgetPolicy, Employee, LedgerEntry, LedgerEntryType, table
from empowerment.models.lookups import (
    budget_covering,
    business_zone,
    policy_terms,
    require_policy,
    rollover_cents,
)
from empowerment.money import MAX_AMOUNT_CENTS, format_cents
from empowerment.periods import business_today, period_bounds, period_label

MAX_REASON_CHARS = 500
# The most one budget may hold: a thousand of the largest entries (ten billion dollars).
MAX_BALANCE_CENTS = 1_000 * MAX_AMOUNT_CENTS


_BUDGETS = table(Budget)
# Built once: a Core statement built per call costs more than SQLite takes to run it.
_APPEND_ENTRY = insert(table(LedgerEntry))
_MOVE = (update(_BUDGETS).where(_BUDGETS.c.id == bindparam("budget"))
         .values(remaining_cents=_BUDGETS.c.remaining_cents + bindparam("signed", type_=BigInteger))
         .returning(_BUDGETS.c.remaining_cents))
# money out never overdraws; money in stays under a ceiling far below int64, so no sum of
# entries can overflow (SQLite would make a REAL)
_TAKE = _MOVE.where(_BUDGETS.c.remaining_cents >= bindparam("amount", type_=BigInteger))
_GIVE = _MOVE.where(_BUDGETS.c.remaining_cents <= bindparam("ceiling", type_=BigInteger))


def post(session: Session, budget_id: int, entry_type: LedgerEntryType, amount_cents: int, *,
         actor: Actor, gesture_id: int | None = None, reverses_entry_id: int | None = None,
         reason: str | None = None) -> int:
    """Move `amount_cents` (> 0) into or out of a budget, as `entry_type` says, and append the
    entry. Returns the new remaining balance.

    Money out is one conditional UPDATE (`... WHERE remaining_cents >= amount`): it never
    overdraws, and on PostgreSQL it also locks the budget row until the unit ends, so concurrent
    spends of one budget queue here. A refusal raises `BudgetExceeded` and the caller's unit rolls
    everything back. Core, not ORM: this runs inside the writers' critical section."""
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool) or amount_cents <= 0:
        raise InvalidAmount(f"A ledger entry moves a positive amount, not {amount_cents!r}.")
    if amount_cents > MAX_AMOUNT_CENTS:
        raise InvalidAmount(f"{format_cents(amount_cents)} is more than the most one entry may move "
                            f"({format_cents(MAX_AMOUNT_CENTS)}).")
    signed = entry_type.direction * amount_cents
    # The entry first: the database holds `remaining_cents` to the ledger's sum (a trigger), so
    # the balance may only move once its entry exists. A refusal below rolls both back.
    connection = session.connection()
    connection.execute(_APPEND_ENTRY, dict(
        budget_id=budget_id, entry_type=entry_type, amount_cents=signed, gesture_id=gesture_id,
        reverses_entry_id=reverses_entry_id, reason=reason, created_by_id=actor.employee_id,
    ))
    if signed < 0:
        remaining = connection.execute(_TAKE, dict(budget=budget_id, amount=amount_cents, signed=signed)).scalar()
    else:
        remaining = connection.execute(_GIVE, dict(budget=budget_id, ceiling=MAX_BALANCE_CENTS - amount_cents,
                                                   signed=signed)).scalar()
    if remaining is None:
        if signed > 0:
            raise InvalidAmount(f"{format_cents(amount_cents)} would take the budget above the most "
                                f"one budget may hold ({format_cents(MAX_BALANCE_CENTS)}).")
        raise _over_budget(session, actor, budget_id, amount_cents, for_a_gesture=gesture_id is not None)
    return int(remaining)


def _over_budget(session: Session, actor: Actor, budget_id: int, amount_cents: int, *,
                 for_a_gesture: bool) -> BudgetExceeded:
    budgets = table(Budget)
    remaining, period_end, employee_id = session.connection().execute(
        select(budgets.c.remaining_cents, budgets.c.period_end, budgets.c.employee_id)
        .where(budgets.c.id == budget_id)
    ).one()
    # a gesture's refusal is read by the person whose budget it is (at the tablet, or told by the CLI)
    whose = "your" if for_a_gesture or employee_id == actor.employee_id else "the"
    return BudgetExceeded(
        f"{format_cents(amount_cents)} is more than {whose} remaining budget; "
        f"{format_cents(remaining)} is left until {period_end - timedelta(days=1):%d %b %Y}.")


def open_budget(session: Session, actor: Actor, employee: Employee, on: date,
                policy: BudgetPolicy | None = None) -> int:
    """The id of the person's budget for the period containing `on`, opening it (its allowance
    and any rollover posted) if nobody has yet. Runs inside the caller's write unit; two tablets
    opening the same period create one row (INSERT ... ON CONFLICT DO NOTHING)."""
    existing = budget_covering(session, employee.id, on)
    if existing is not None:
        return existing.id
    policy = policy or require_policy(session, employee, on)
    start, end = period_bounds(policy.period, on)
    carried = rollover_cents(session, employee.id, policy, start)
    terms = policy_terms(session, policy, employee, start)  # in their currency at the first day's rate
    insert_fn = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    new_id = session.scalar(
        insert_fn(Budget).values(employee_id=employee.id, policy_id=policy.id, period=policy.period,
                                 period_start=start, period_end=end, remaining_cents=0)
        .on_conflict_do_nothing(index_elements=["employee_id", "period_start"]).returning(Budget.id))
    if new_id is None:  # another unit opened it first
        budget = budget_covering(session, employee.id, on)
        assert budget is not None
        return budget.id
    if terms.allowance_cents:
        converted = f" ({terms.conversion_note})" if terms.conversion_note else ""
        post(session, new_id, LedgerEntryType.ALLOCATION, terms.allowance_cents, actor=actor,
             reason=f"{policy.name}: {period_label(policy.period, start)} allowance{converted}")
    if carried:
        post(session, new_id, LedgerEntryType.ROLLOVER, carried, actor=actor,
             reason="Carried over from the previous period")
    return new_id


def open_period(db: Database, actor: Actor, employee_code: str, on: date | None = None) -> int:
    """Open the person's budget for the period containing `on` (today by default), explicitly;
    returns its id. Reads never open a period: they show a period nobody opened yet as it would
    open. The first gesture of a period opens it too."""
    with db.write() as session:
        employee = access.employee(session, actor, "budget.read", employee_code)
        return open_budget(session, actor, employee, on or business_today(business_zone(session, employee)))


@dataclass(frozen=True)
class Adjustment:
    """An admin's correction of a person's current budget: `amount_cents` > 0 adds money,
    < 0 takes it away; always with a reason."""

    employee_code: str
    amount_cents: int
    reason: str
    on: date | None = None


def adjust_budget(db: Database, actor: Actor, adjustment: Adjustment) -> int:
    """Post an adjustment (or deduction) entry with its reason. Returns the new balance."""
    access.require(actor, "budget.adjust")
    reason = (adjustment.reason or "").strip()
    if not reason:
        raise InvalidInput("An adjustment needs a reason.")
    if len(reason) > MAX_REASON_CHARS:
        raise InvalidInput(f"Keep the reason under {MAX_REASON_CHARS} characters.")
    if not adjustment.amount_cents:
        raise InvalidInput("An adjustment of zero changes nothing; enter an amount.")
    kind = LedgerEntryType.ADJUSTMENT if adjustment.amount_cents > 0 else LedgerEntryType.DEDUCTION
    with db.write() as session:
        employee = access.employee(session, actor, "budget.adjust", adjustment.employee_code)
        on = adjustment.on or business_today(business_zone(session, employee))
        budget_id = open_budget(session, actor, employee, on)
        remaining = post(session, budget_id, kind, abs(adjustment.amount_cents), actor=actor, reason=reason)
        audit.record(session, actor, "budget.adjusted", "budget", budget_id,
                     dict(employee=employee.code, amount_cents=adjustment.amount_cents, reason=reason))
        return remaining
