"""Logging a recovery gesture, and undoing it. One write unit each.

A spend is atomic: inside one write unit (SQLite: `BEGIN IMMEDIATE`, one writer at a time;
PostgreSQL: the budget row, locked by the conditional UPDATE that takes the money) we take the
money, check the per-customer daily cap, and append the gesture and its ledger entry. A refusal
rolls all of it back. An idempotency key makes a double tap or a retried request log once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from empowerment import audit
from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.errors import (
    BudgetExceeded,
    CustomerDailyCapExceeded,
    InvalidInput,
    InvalidState,
    NoBudgetPolicy,
    UnknownCustomer,
    UnknownGesture,
    UnknownIncident,
)
from empowerment.models import (
    Budget,
    BudgetPolicy,
    Customer,
    Employee,
    Gesture,
    GestureStatus,
    GestureType,
    Incident,
    LedgerEntryType,
    Team,
    table,
)
from empowerment.money import cents_to_decimal, format_cents, parse_cents
from empowerment.services.ledger import (
    append_ledger_entry,
    budget_status,
    current_budget,
    ensure_budget,
    find_employee,
    resolve_policy,
    take_from_budget,
    try_take_cents,
)

MAX_NOTE_CHARS = 2000
MAX_CATEGORY_CHARS = 100
ACTIVE_STATUSES = (GestureStatus.LOGGED, GestureStatus.PENDING_APPROVAL)

INCIDENT_CATEGORIES = (
    "Room not ready",
    "Noise",
    "Billing error",
    "Long wait",
    "Food & drink",
    "Cleanliness",
    "Staff attitude",
    "Broken promise",
    "Lost item",
    "Other",
)


@dataclass(frozen=True)
class LogRequest:
    employee_code: str
    customer_code: str
    gesture_type: str
    amount: str | int  # text as typed, or cents as int
    incident_code: str | None = None
    category: str | None = None
    note: str | None = None
    idempotency_key: str | None = None
    source: str = "app"


@dataclass(frozen=True)
class LogResult:
    gesture_id: int
    gesture_code: str
    incident_code: str
    cost_cents: int
    status: GestureStatus
    needs_review: bool
    remaining_cents: int
    already_logged: bool

    @property
    def message(self) -> str:
        if self.already_logged:
            return "This gesture was already logged; nothing was added."
        if self.status == GestureStatus.PENDING_APPROVAL:
            return (
                f"Logged {format_cents(self.cost_cents)}, waiting for a manager's approval; "
                f"the money is held. {format_cents(self.remaining_cents)} left."
            )
        flag = " A manager will review it afterwards." if self.needs_review else ""
        return f"Logged {format_cents(self.cost_cents)}. {format_cents(self.remaining_cents)} left.{flag}"


@dataclass(frozen=True)
class _Validated:
    gesture_type: GestureType
    cost_cents: int
    note: str | None
    category: str | None


def _validate(request: LogRequest) -> _Validated:
    try:
        gesture_type = GestureType(str(request.gesture_type).strip().lower())
    except ValueError:
        allowed = ", ".join(t.value for t in GestureType)
        raise InvalidInput(f"'{request.gesture_type}' is not a gesture type; use one of: {allowed}.") from None
    if isinstance(request.amount, int) and not isinstance(request.amount, bool):
        cost_cents = parse_cents(cents_to_decimal(request.amount))  # same limits as typed text
    else:
        cost_cents = parse_cents(str(request.amount))
    note = (request.note or "").strip() or None
    if note and len(note) > MAX_NOTE_CHARS:
        raise InvalidInput(
            f"The note is {len(note):,} characters long; keep it under {MAX_NOTE_CHARS:,}."
        )
    category = (request.category or "").strip() or None
    if category and len(category) > MAX_CATEGORY_CHARS:
        raise InvalidInput(f"The category is too long; keep it under {MAX_CATEGORY_CHARS} characters.")
    if not request.incident_code and not category:
        raise InvalidInput("Say what went wrong: pick a category or an open incident.")
    return _Validated(gesture_type, cost_cents, note, category)


def _find_customer(session: Session, customer_code: str) -> Customer:
    customer = session.scalar(select(Customer).where(Customer.code == str(customer_code).strip()))
    if customer is None:
        raise UnknownCustomer(f"No customer with id '{customer_code}'.")
    return customer


def _spent_today_cents(session: Session, employee_id: int, customer_id: int, day: date) -> int:
    start = datetime.combine(day, datetime.min.time())
    gestures = table(Gesture)  # Core: this runs inside the writers' critical section
    spent = session.connection().execute(
        select(func.coalesce(func.sum(gestures.c.cost_cents), 0)).where(
            gestures.c.employee_id == employee_id,
            gestures.c.customer_id == customer_id,
            gestures.c.occurred_at >= start,
            gestures.c.occurred_at < start + timedelta(days=1),
            gestures.c.status.in_(ACTIVE_STATUSES),
        )
    ).scalar()
    return int(spent or 0)


@dataclass(frozen=True)
class _Context:
    """What a spend needs that does not change under it, read before taking the write lock so the
    critical section stays short."""

    employee: Employee
    customer: Customer
    policy: BudgetPolicy
    incident: Incident | None
    location_id: int | None
    budget_id: int | None  # this period's budget, if it is open yet


def _prepare(session: Session, actor: Actor, request: LogRequest, at: datetime) -> _Context:
    employee = find_employee(session, request.employee_code)
    actor.require(actor.may_act_for(employee.id, employee.team_id), "log a gesture for someone else")
    customer = _find_customer(session, request.customer_code)
    # Limits follow the policy in force today (an immediate change bites at once).
    policy = resolve_policy(session, employee, at.date())
    if policy is None:
        raise NoBudgetPolicy(
            f"{employee.name} has no budget policy yet; an admin can set one on the Policies page."
        )
    incident = None
    if request.incident_code:
        incident = session.scalar(select(Incident).where(Incident.code == request.incident_code))
        if incident is None or incident.customer_id != customer.id:
            raise UnknownIncident(f"No incident '{request.incident_code}' for this customer.")
    team = session.get(Team, employee.team_id) if employee.team_id else None
    budget_id = session.scalar(select(Budget.id).where(
        Budget.employee_id == employee.id, Budget.period_start <= at.date(), Budget.period_end > at.date()))
    return _Context(employee, customer, policy, incident, team.location_id if team else None, budget_id)


def _new_incident(session: Session, ctx: _Context, category: str | None, at: datetime) -> tuple[int, str]:
    code = f"I-{uuid.uuid4().hex[:12]}"
    incidents = table(Incident)
    incident_id = session.connection().execute(
        insert(incidents).values(
            code=code, customer_id=ctx.customer.id, occurred_at=at, category=category or "Other",
            location_id=ctx.location_id, employee_id=ctx.employee.id,
        ).returning(incidents.c.id)
    ).scalar_one()
    return incident_id, code


def _existing(session: Session, key: str | None) -> Gesture | None:
    if not key:
        return None
    return session.scalar(select(Gesture).where(Gesture.idempotency_key == key))


def _result_for(session: Session, gesture: Gesture, already: bool) -> LogResult:
    budget = session.get(Budget, gesture.budget_id) if gesture.budget_id else None
    incident = session.get(Incident, gesture.incident_id)
    assert incident is not None
    return LogResult(
        gesture_id=gesture.id,
        gesture_code=gesture.code,
        incident_code=incident.code,
        cost_cents=gesture.cost_cents,
        status=gesture.status,
        needs_review=gesture.needs_review,
        remaining_cents=budget.remaining_cents if budget else 0,
        already_logged=already,
    )


def log_gesture(db: Database, actor: Actor, request: LogRequest, at: datetime | None = None) -> LogResult:
    """Log one gesture, or refuse with a message saying exactly why and what is left."""
    valid = _validate(request)
    at = at or datetime.now().replace(microsecond=0)
    with db.read() as session:
        previous = _existing(session, request.idempotency_key)
        if previous is not None:
            return _result_for(session, previous, already=True)
        ctx = _prepare(session, actor, request, at)
    try:
        with db.write() as session:
            return _spend(session, actor, request, valid, ctx, at)
    except IntegrityError:
        # A concurrent request with the same idempotency key won the race: report its gesture.
        with db.read() as session:
            gesture = _existing(session, request.idempotency_key)
            if gesture is None:
                raise
            return _result_for(session, gesture, already=True)


def _check_cap(session: Session, valid: _Validated, ctx: _Context, at: datetime) -> None:
    policy = ctx.policy
    cap_left = policy.customer_daily_cap_cents - _spent_today_cents(
        session, ctx.employee.id, ctx.customer.id, at.date()
    )
    if valid.cost_cents > cap_left:
        raise CustomerDailyCapExceeded(
            f"{format_cents(valid.cost_cents)} is over the limit of "
            f"{format_cents(policy.customer_daily_cap_cents)} per customer per day; "
            f"{format_cents(max(cap_left, 0))} is left for {ctx.customer.name} today."
        )


def _over_budget(session: Session, budget_id: int, cost_cents: int) -> BudgetExceeded:
    budgets = table(Budget)
    remaining_cents, period_end = session.connection().execute(
        select(budgets.c.remaining_cents, budgets.c.period_end).where(budgets.c.id == budget_id)
    ).one()
    return BudgetExceeded(
        f"{format_cents(cost_cents)} is more than your remaining budget; "
        f"{format_cents(remaining_cents)} is left until {period_end - timedelta(days=1):%d %b %Y}."
    )


def _spend(
    session: Session, actor: Actor, request: LogRequest, valid: _Validated, ctx: _Context, at: datetime
) -> LogResult:
    """The critical section (SQLite: the single writer; PostgreSQL: the budget row's lock), kept
    to the statements that must see the latest data, all Core (the ORM's bookkeeping costs more
    than SQLite's work here):

    1. take the money with a conditional UPDATE, which never overdraws and, on PostgreSQL, locks
       the budget row, so the same employee's tablets queue here;
    2. check the day's cap for this customer under that lock (refusing rolls the UPDATE back);
    3. insert the incident (if new), the gesture, the ledger entry and the audit row.

    A repeated idempotency key fails the gesture insert on its unique index; `log_gesture` then
    reports the first gesture (the common double tap is caught before the lock)."""
    policy = ctx.policy
    budget_id = ctx.budget_id
    if budget_id is None:  # the first gesture of a new period opens its budget
        budget_id = ensure_budget(session, ctx.employee, at.date(), lock=True, policy=policy).id
    remaining = try_take_cents(session, budget_id, valid.cost_cents)
    _check_cap(session, valid, ctx, at)
    if remaining is None:
        raise _over_budget(session, budget_id, valid.cost_cents)
    if ctx.incident is not None:
        incident_id, incident_code = ctx.incident.id, ctx.incident.code
    else:
        incident_id, incident_code = _new_incident(session, ctx, valid.category, at)
    needs_approval = (
        policy.approval_above_cents is not None and valid.cost_cents > policy.approval_above_cents
    )
    needs_review = policy.review_above_cents is not None and valid.cost_cents > policy.review_above_cents
    status = GestureStatus.PENDING_APPROVAL if needs_approval else GestureStatus.LOGGED
    code = f"G-{uuid.uuid4().hex[:12]}"
    gestures = table(Gesture)
    gesture_id = session.connection().execute(
        insert(gestures).values(
            code=code, incident_id=incident_id, customer_id=ctx.customer.id,
            employee_id=ctx.employee.id, budget_id=budget_id, occurred_at=at,
            type=valid.gesture_type, cost_cents=valid.cost_cents, note=valid.note, status=status,
            source=request.source, idempotency_key=request.idempotency_key or None,
            needs_review=needs_review, created_by_id=actor.employee_id,
        ).returning(gestures.c.id)
    ).scalar_one()
    if valid.cost_cents:
        append_ledger_entry(
            session, budget_id, -valid.cost_cents,
            LedgerEntryType.HOLD if needs_approval else LedgerEntryType.SPEND,
            actor=actor, gesture_id=gesture_id, reason=valid.gesture_type.value,
        )
    audit.record(
        session, actor, "gesture.logged", "gesture", code,
        dict(employee=ctx.employee.code, customer=ctx.customer.code, cost_cents=valid.cost_cents,
             type=valid.gesture_type.value, status=status.value),
        at=at,
    )
    return LogResult(
        gesture_id=gesture_id, gesture_code=code, incident_code=incident_code,
        cost_cents=valid.cost_cents, status=status, needs_review=needs_review,
        remaining_cents=remaining, already_logged=False,
    )


def _gesture_for_update(session: Session, gesture_code: str) -> Gesture:
    gesture = session.scalar(select(Gesture).where(Gesture.code == gesture_code).with_for_update())
    if gesture is None:
        raise UnknownGesture(f"No gesture '{gesture_code}'.")
    return gesture


def _give_back(session: Session, actor: Actor, gesture: Gesture, entry_type: LedgerEntryType, reason: str) -> int:
    """Return a gesture's money to its budget with one opposite entry."""
    if not gesture.budget_id or not gesture.cost_cents:
        return 0
    budget = session.scalar(select(Budget).where(Budget.id == gesture.budget_id).with_for_update())
    assert budget is not None
    return take_from_budget(
        session, budget, -gesture.cost_cents, entry_type,
        actor=actor, gesture_id=gesture.id, reason=reason,
    )


def void_gesture(db: Database, actor: Actor, gesture_code: str, reason: str) -> int:
    """Undo by reversal: the gesture is marked voided and its money comes back with a reversing
    ledger entry. Returns the budget's new remaining balance."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the gesture is voided.")
    with db.write() as session:
        gesture = _gesture_for_update(session, gesture_code)
        employee = session.get(Employee, gesture.employee_id)
        assert employee is not None
        actor.require(actor.may_act_for(employee.id, employee.team_id), "void this gesture")
        if gesture.status not in ACTIVE_STATUSES:
            raise InvalidState(f"This gesture is already {gesture.status.value}; nothing changed.")
        entry = LedgerEntryType.RELEASE if gesture.status == GestureStatus.PENDING_APPROVAL else LedgerEntryType.REVERSAL
        remaining = _give_back(session, actor, gesture, entry, f"Voided: {reason}")
        gesture.status = GestureStatus.VOIDED
        gesture.voided_at = datetime.now()
        gesture.voided_by_id = actor.employee_id
        gesture.void_reason = reason
        audit.record(session, actor, "gesture.voided", "gesture", gesture.code,
                     dict(reason=reason, cost_cents=gesture.cost_cents))
        return remaining


def decide_gesture(db: Database, actor: Actor, gesture_code: str, approve: bool, reason: str = "") -> None:
    """A manager approves (hold becomes spend) or rejects (hold released) a pending gesture."""
    with db.write() as session:
        gesture = _gesture_for_update(session, gesture_code)
        employee = session.get(Employee, gesture.employee_id)
        assert employee is not None
        actor.require(
            actor.role.value == "admin" or (
                actor.role.value == "manager" and employee.team_id in actor.managed_team_ids
            ),
            "approve gestures outside your teams",
        )
        if gesture.status != GestureStatus.PENDING_APPROVAL:
            raise InvalidState(f"This gesture is {gesture.status.value}, not waiting for approval.")
        if not approve and not reason.strip():
            raise InvalidInput("Say why the gesture is rejected.")
        _give_back(session, actor, gesture, LedgerEntryType.RELEASE, "Approval decided")
        if approve and gesture.cost_cents:
            budget = session.get(Budget, gesture.budget_id)
            assert budget is not None
            take_from_budget(session, budget, gesture.cost_cents, LedgerEntryType.SPEND,
                             actor=actor, gesture_id=gesture.id, reason="Approved")
        gesture.status = GestureStatus.LOGGED if approve else GestureStatus.REJECTED
        gesture.decided_at = datetime.now()
        gesture.decided_by_id = actor.employee_id
        gesture.decision_reason = reason.strip() or None
        audit.record(session, actor, "gesture.approved" if approve else "gesture.rejected",
                     "gesture", gesture.code, dict(reason=reason))


def limits_for(db: Database, actor: Actor, employee_code: str, customer_code: str | None) -> dict[str, int]:
    """What the tablet shows before submitting: remaining budget and what is left of the
    per-customer daily cap. One read unit per page rerun; the write lock only on the first use
    of a new period, to open its budget."""
    today = date.today()
    with db.read() as session:
        employee = find_employee(session, employee_code)
        actor.require(actor.may_act_for(employee.id, employee.team_id), "see another person's budget")
        budget = current_budget(session, employee, today)
        if budget is not None:
            return _limits(session, employee, budget, customer_code, today)
    budget_status(db, actor, employee_code, today)  # opens this period's budget
    return limits_for(db, actor, employee_code, customer_code)


def _limits(
    session: Session, employee: Employee, budget: Budget, customer_code: str | None, today: date
) -> dict[str, int]:
    policy = resolve_policy(session, employee, today) or session.get(BudgetPolicy, budget.policy_id)
    assert policy is not None
    cap_left = policy.customer_daily_cap_cents
    if customer_code:
        customer = _find_customer(session, customer_code)
        cap_left -= _spent_today_cents(session, employee.id, customer.id, today)
    return {
        "remaining_cents": budget.remaining_cents,
        "customer_cap_cents": policy.customer_daily_cap_cents,
        "customer_cap_left_cents": max(cap_left, 0),
        "spendable_now_cents": max(min(cap_left, budget.remaining_cents), 0),
    }
