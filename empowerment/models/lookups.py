"""Session-level reads that both the write side (`services`) and the read side (`queries`) need, so
each rule is written once: which policy is in force for a person on a day, which budget covers a
day, what a new period carries over, and how much a person already gave a customer today.

They take an open session and never commit; the caller's unit of work decides the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session

from empowerment.clock import day_bounds_utc, zone
from empowerment.errors import MissingExchangeRate, NoBudgetPolicy, UnknownCustomer
from empowerment.models.enums import GestureStatus, Rollover
from empowerment.models.tables import (
    Budget,
    BudgetPolicy,
    Customer,
    Employee,
    ExchangeRate,
    Gesture,
    Location,
    Team,
    ThresholdRules,
    Transaction,
    table,
)
from empowerment.money import RATE_LOOKBACK_DAYS, convert_minor, format_rate


def choose_policy(candidates: Iterable[BudgetPolicy], employee_id: int, team_id: int | None,
                  role: object) -> BudgetPolicy | None:
    """Pure: among policy versions already in force, the one for this person. The most specific
    scope wins (employee > team > role > everyone); within a scope, the newest version."""
    applicable = [p for p in candidates if p.applies_to(employee_id, team_id, role)]  # type: ignore[arg-type]
    if not applicable:
        return None
    return min(applicable, key=lambda p: (p.scope_rank, -p.effective_from.toordinal(), -(p.id or 0)))


def policy_in_force(session: Session, employee: Employee, on: date) -> BudgetPolicy | None:
    candidates = session.scalars(
        select(BudgetPolicy)
        .where(BudgetPolicy.effective_from <= on)
        .where(or_(
            BudgetPolicy.employee_id == employee.id,
            BudgetPolicy.team_id == (employee.team_id if employee.team_id is not None else -1),
            BudgetPolicy.role == employee.role,
            BudgetPolicy.employee_id.is_(None) & BudgetPolicy.team_id.is_(None) & BudgetPolicy.role.is_(None),
        ))
    ).all()
    return choose_policy(candidates, employee.id, employee.team_id, employee.role)


def require_policy(session: Session, employee: Employee, on: date) -> BudgetPolicy:
    policy = policy_in_force(session, employee, on)
    if policy is None:
        raise NoBudgetPolicy(
            f"{employee.name} has no budget policy yet; an admin can set one on the Policies page.")
    return policy


@dataclass(frozen=True)
class PolicyTerms(ThresholdRules):
    """A budget policy's amounts as they apply to one person, in minor units of their currency
    (their team's location's). A policy for a team or a person is kept in that currency already;
    one for a role or for everyone is kept in the installation's, and for a person at a location
    in another currency its amounts are converted at the rate of the day they apply to (the
    period's first day for the allowance, the gesture's day for the limits): "2,000 per guest
    per day" holds at every property of a chain."""

    policy: BudgetPolicy
    currency: str | None  # None: the policy's own (kept in the person's currency already)
    allowance_cents: int
    customer_daily_cap_cents: int
    review_above_cents: int | None
    approval_above_cents: int | None
    converted_from: str | None = None  # the policy's own currency, when converted
    rate: Decimal | None = None  # one unit of it in `currency`

    @property
    def conversion_note(self) -> str:
        """Words for a ledger entry or a screen ("" when not converted)."""
        if self.converted_from is None or self.rate is None:
            return ""
        return f"converted from {self.converted_from} at {format_rate(self.rate)} {self.currency} per {self.converted_from}"


def policy_terms(session: Session, policy: BudgetPolicy, employee: Employee, on: date, *,
                 currency: str | None = None) -> PolicyTerms:
    """`policy`'s amounts for `employee` on `on` (see `PolicyTerms`; `currency`: theirs, when the
    caller has read it already); raises MissingExchangeRate when they need converting and the
    rate table has no rate for that day (nor the RATE_LOOKBACK_DAYS before): never a made-up 1.0."""
    from empowerment import settings

    own_currency = settings.currency()
    if policy.team_id is not None or policy.employee_id is not None:
        return _terms(policy, None)  # kept in the currency of whom it is for: this person or their team
    currency = currency or business_money(session, employee).currency
    if currency == own_currency:
        return _terms(policy, currency)
    rate = exchange_rate_on(session, own_currency, currency, on)
    if rate is None:
        raise MissingExchangeRate(
            f"The budget policy '{policy.name}' is in {own_currency} and {employee.name}'s budget is in "
            f"{currency}, but no exchange rate from {own_currency} to {currency} is known for {on:%d %b %Y} "
            f"(nor in the {RATE_LOOKBACK_DAYS} days before). An admin can import exchange rates on the Data "
            f"page, or give {employee.name}'s team a policy of its own in {currency}.")

    def converted(amount: int | None) -> int | None:
        return None if amount is None else convert_minor(int(amount), rate, own_currency, currency)

    return PolicyTerms(policy, currency, converted(policy.allowance_cents) or 0,
                       converted(policy.customer_daily_cap_cents) or 0, converted(policy.review_above_cents),
                       converted(policy.approval_above_cents), converted_from=own_currency, rate=rate)


def _terms(policy: BudgetPolicy, currency: str | None) -> PolicyTerms:
    return PolicyTerms(policy, currency, int(policy.allowance_cents), int(policy.customer_daily_cap_cents),
                       policy.review_above_cents, policy.approval_above_cents)


def exchange_rate_on(session: Session, currency: str, quote: str, on: date) -> Decimal | None:
    """One unit of `currency` in `quote` on `on`: that day's published rate, else the latest of the
    RATE_LOOKBACK_DAYS before; a rate published the other way round is inverted (a direct one wins
    on the same day). None when there is none."""
    rows = session.execute(
        select(ExchangeRate.day, ExchangeRate.currency, ExchangeRate.rate)
        .where(or_((ExchangeRate.currency == currency) & (ExchangeRate.quote == quote),
                   (ExchangeRate.currency == quote) & (ExchangeRate.quote == currency)))
        .where(ExchangeRate.day <= on, ExchangeRate.day >= on - timedelta(days=RATE_LOOKBACK_DAYS))
    ).all()
    if not rows:
        return None
    day, direct, rate = max(rows, key=lambda row: (row[0], row[1] == currency))
    return Decimal(rate) if direct == currency else 1 / Decimal(rate)


def budget_covering(session: Session, employee_id: int, on: date, *, lock: bool = False) -> Budget | None:
    """The person's budget for the period containing `on`, if that period has been opened."""
    query = select(Budget).where(Budget.employee_id == employee_id, Budget.period_start <= on,
                                 Budget.period_end > on)
    return session.scalar(query.with_for_update() if lock else query)


def rollover_cents(session: Session, employee_id: int, policy: BudgetPolicy, start: date) -> int:
    """What a new period starting on `start` carries over from the last one (policy "full")."""
    if policy.rollover != Rollover.FULL:
        return 0
    previous = session.scalar(
        select(Budget.remaining_cents)
        .where(Budget.employee_id == employee_id, Budget.period_end <= start)
        .order_by(Budget.period_end.desc()).limit(1))
    return int(previous or 0)


def business_zone(session: Session, employee: Employee) -> ZoneInfo:
    """The time zone a person's business days follow: their team's location's, else the
    installation's (`periods.zone`)."""
    name = None
    if employee.team_id is not None:
        name = session.execute(
            select(Location.time_zone).join(Team, Team.location_id == Location.id)
            .where(Team.id == employee.team_id)).scalar()
    return zone(name)


@dataclass(frozen=True)
class MoneyHere:
    """The currency amounts are in at a place, and the locale people there type and read them in."""

    currency: str
    locale: str


def location_money(session: Session, location_id: int | None) -> MoneyHere:
    """A location's currency and locale; with no location (or no locale set), the installation's
    (EMPOWERMENT_CURRENCY, EMPOWERMENT_LOCALE)."""
    from empowerment import settings

    row = None
    if location_id is not None:
        row = session.execute(select(Location.currency, Location.locale).where(Location.id == location_id)).first()
    currency = row[0] if row is not None else settings.currency()
    return MoneyHere(currency, (row[1] if row is not None else None) or settings.locale())


def money_recorded_at(session: Session, location_id: int) -> str | None:
    """What amounts are stored in the location's currency, in words ("budgets", "gestures",
    "purchases", "budget policies"), or None when there are none: a currency can change only then
    (stored amounts are minor units of it and would be misread)."""
    people = select(Employee.id).join(Team, Team.id == Employee.team_id).where(Team.location_id == location_id)
    teams = select(Team.id).where(Team.location_id == location_id)
    customers = select(Customer.id).where(Customer.location_id == location_id)
    for words, query in (("budgets", select(Budget.id).where(Budget.employee_id.in_(people))),
                         ("gestures", select(Gesture.id).where(Gesture.employee_id.in_(people))),
                         ("purchases", select(Transaction.id).where(Transaction.customer_id.in_(customers))),
                         ("budget policies", select(BudgetPolicy.id).where(
                             or_(BudgetPolicy.team_id.in_(teams), BudgetPolicy.employee_id.in_(people))))):
        if session.scalar(query.limit(1)) is not None:
            return words
    return None


def business_money(session: Session, employee: Employee) -> MoneyHere:
    """The currency a person's budget, caps and gestures are in: their team's location's."""
    location_id = None
    if employee.team_id is not None:
        location_id = session.execute(select(Team.location_id).where(Team.id == employee.team_id)).scalar()
    return location_money(session, location_id)


def policy_money(session: Session, team: Team | None, employee: Employee | None) -> MoneyHere:
    """The currency (and locale) a budget policy's amounts are in: its team's location's, its
    person's, else the installation's (a policy for a role or for everyone)."""
    if team is not None:
        return location_money(session, team.location_id)
    if employee is not None:
        return business_money(session, employee)
    return location_money(session, None)


_GESTURES = table(Gesture)
# Built once (a statement built per call costs more than SQLite takes to run it).
_GIVEN_ON = select(func.coalesce(func.sum(_GESTURES.c.cost_cents), 0)).where(
    _GESTURES.c.employee_id == bindparam("employee"),
    _GESTURES.c.customer_id == bindparam("customer"),
    _GESTURES.c.occurred_at >= bindparam("start", type_=_GESTURES.c.occurred_at.type),
    _GESTURES.c.occurred_at < bindparam("end", type_=_GESTURES.c.occurred_at.type),
    _GESTURES.c.status.in_(GestureStatus.against_budget()),
)


def given_to_customer_on(session: Session, employee_id: int, customer_id: int, day: date,
                         tz: ZoneInfo | None = None) -> int:
    """Cents this person's gestures for this customer on business day `day` (in `tz`, by default
    the installation's zone) spend or hold: what the Ritz rule's daily cap counts. Core, not ORM:
    it runs inside the writers' critical section."""
    start, end = day_bounds_utc(day, tz)
    spent = session.connection().execute(
        _GIVEN_ON, dict(employee=employee_id, customer=customer_id, start=start, end=end)).scalar()
    return int(spent or 0)


def employee_by_code(session: Session, employee_code: str, *, for_update: bool = False) -> Employee | None:
    """The employee with this organisation id (surrounding spaces ignored), or None. The one
    lookup; services and queries reach it through `access.employee`, which also checks the
    caller's right, and sign-in (before anyone is signed in) directly."""
    query = select(Employee).where(Employee.code == str(employee_code).strip())
    return session.scalar(query.with_for_update() if for_update else query)


def customer_by_code(session: Session, customer_code: str) -> Customer:
    """The one customer lookup by the organisation's id. Customer ids are matched ignoring case
    ("c00002" is C00002: people type them): the exact id first (indexed), else the one customer
    whose id differs only in case."""
    code = str(customer_code).strip()
    customer = session.scalar(select(Customer).where(Customer.code == code))
    if customer is None and code:
        matches = session.scalars(
            select(Customer).where(func.lower(Customer.code) == code.lower()).order_by(Customer.id).limit(2)
        ).all()
        customer = matches[0] if len(matches) == 1 else None
    if customer is None:
        raise UnknownCustomer(f"No customer with id '{customer_code}'.")
    if customer.merged_into_id is not None:  # a merged duplicate: its old id still finds the person
        survivor = session.get(Customer, customer.merged_into_id)
        if survivor is not None:
            return survivor
    return customer
