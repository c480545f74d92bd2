"""Gestures: log one, undo it, decide an approval, mark it reviewed, feature its story. One write
unit each.

A spend is atomic: inside one write unit (SQLite: `BEGIN IMMEDIATE`, one writer at a time;
PostgreSQL: the budget row, locked by the conditional UPDATE that takes the money) we record the
gesture, take its money through the ledger's one verb, and check the per-customer daily cap under
that lock. A refusal rolls all of it back. An idempotency key makes a double tap or a retried
request log once.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from empowerment import access, audit
from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.errors import (
    BudgetExceeded,
    CustomerDailyCapExceeded,
    InvalidInput,
    InvalidState,
    UnknownGesture,
    UnknownIncident,
)
from empowerment.models import (
    Budget,
    Customer,
    Employee,
    Gesture,
    GestureStatus,
    GestureValue,
    Incident,
    IncidentStatus,
    LedgerEntryType,
    Team,
    table,
)
from empowerment.models.lookups import (
    MoneyHere,
    PolicyTerms,
    budget_covering,
    business_zone,
    customer_by_code,
    given_to_customer_on,
    location_money,
    policy_terms,
    require_policy,
)
from empowerment.models.vocabulary import (
    DEFAULT_STAFF_MINUTES,
    GESTURE_TYPE,
    MAX_VALUES_PER_GESTURE,
    SERVICE_VALUE,
    Vocabulary,
    load_vocabulary,
)
from empowerment.money import cents_to_decimal, check_minor, format_money, parse_cents
from empowerment.periods import as_utc, business_date, business_today, period_closed, utc_now
from empowerment.services import outcomes
from empowerment.services.ledger import open_budget, post
from empowerment.services.notifications import EventKind, record_event

MAX_NOTE_CHARS = 2000
MAX_CATEGORY_CHARS = 100
MAX_COMMENT_CHARS = 1000
MAX_STAFF_MINUTES = 480  # staff time on one gesture: at most a working day

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
    values: tuple[str, ...] = ()  # service value codes the gesture lived (at most two)
    # Staff time (a gesture type valued hourly): the minutes it took; None: the typical 15.
    # Refused for other types.
    staff_minutes: int | None = None


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
    currency: str | None = None  # the location's (None: the installation's)
    locale: str | None = None

    def show(self, amount: int) -> str:
        return format_money(amount, self.currency, self.locale)

    @property
    def message(self) -> str:
        if self.already_logged:
            return "This gesture was already logged; nothing was added."
        if self.status == GestureStatus.PENDING_APPROVAL:
            return (
                f"Logged {self.show(self.cost_cents)}, waiting for a manager's approval; "
                f"the money is held. {self.show(self.remaining_cents)} left."
            )
        flag = " A manager will review it afterwards." if self.needs_review else ""
        return f"Logged {self.show(self.cost_cents)}. {self.show(self.remaining_cents)} left.{flag}"


@dataclass(frozen=True)
class _Validated:
    gesture_type: str  # the typed word; `_Context.gesture_type` is the code it means
    cost_cents: int
    note: str | None
    category: str | None
    staff_minutes: int | None = None


def amount_in(amount: str | int, currency: str | None) -> int | None:
    """The request's amount in minor units of `currency`: an int is already minor units (yen for
    JPY), text is read by the same rules as the import ("12.5" yen is refused: the yen has no
    decimals; "12.345" dinars are 12345 fils). Before the location is known (`currency` None) an
    int is checked against the limits and text waits (None): how many decimals it may have is its
    currency's (`money.minor_digits`), never an assumed 2."""
    if isinstance(amount, int) and not isinstance(amount, bool):
        if currency is None:
            return parse_cents(cents_to_decimal(amount))  # same limits as typed text
        return check_minor(amount, currency)
    if currency is None:
        return None
    return parse_cents(str(amount), currency=currency)


def _validate(request: LogRequest, currency: str | None = None) -> _Validated:
    gesture_type = str(request.gesture_type or "").strip()
    if not gesture_type:
        raise InvalidInput("Pick a gesture type.")
    if len(request.values) > MAX_VALUES_PER_GESTURE:
        raise InvalidInput(f"Tag a gesture with at most {MAX_VALUES_PER_GESTURE} values.")
    amount = amount_in(request.amount, currency)
    cost_cents = 0 if amount is None else amount  # None: text, read once the location is known
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
    return _Validated(gesture_type, cost_cents, note, category, _minutes(request.staff_minutes))


def _minutes(value: object) -> int | None:
    """Staff minutes as given: a whole number from 1 to MAX_STAFF_MINUTES, or None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise InvalidInput("Give the staff time in whole minutes, for example 20.")
    try:
        minutes = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise InvalidInput(f"'{value}' is not a number of minutes; give whole minutes, for example 20.") from None
    if not 1 <= minutes <= MAX_STAFF_MINUTES:
        raise InvalidInput(f"Staff time is from 1 to {MAX_STAFF_MINUTES} minutes (a working day); "
                           f"{minutes} is outside that.")
    return minutes


def staff_minutes_for(valid: _Validated, staff_time: bool, label: str) -> int | None:
    """The minutes recorded with the gesture: those given (or the typical 15) for staff time; None
    for other types, which refuse minutes."""
    if not staff_time:
        if valid.staff_minutes is not None:
            raise InvalidInput(f"Minutes are recorded only for staff-time gestures; a {label} has none.")
        return None
    return DEFAULT_STAFF_MINUTES if valid.staff_minutes is None else valid.staff_minutes


@dataclass(frozen=True)
class _Context:
    """What a spend needs that does not change under it, read before taking the write lock so the
    critical section stays short."""

    employee: Employee
    customer: Customer
    policy: PolicyTerms  # in the giver's currency
    incident: Incident | None
    location_id: int | None
    budget_id: int | None  # this period's budget, if it is open yet
    day: date  # the business day of the gesture, in its location's time zone
    tz: ZoneInfo
    gesture_type: str = ""  # the organisation's code for the type
    values: tuple[str, ...] = ()
    money: MoneyHere = MoneyHere("USD", "en_US")  # the location's currency: budget, caps, gesture
    staff_time: bool = False  # the type is valued at staff time (hourly): minutes are recorded
    type_label: str = ""
    new_outcome: outcomes.Prepared | None = None  # a new incident's outcome row, worked out before the lock

    def show(self, amount: int | None) -> str:
        return format_money(amount, self.money.currency, self.money.locale)


def _words(vocab: Vocabulary, request: LogRequest) -> tuple[str, tuple[str, ...]]:
    """The gesture type's code and the value codes, from the words the caller used (codes, labels
    or synonyms); retired terms cannot be chosen for a new gesture."""
    code = vocab.match(GESTURE_TYPE, request.gesture_type)
    if code is None or not vocab.is_active(GESTURE_TYPE, code):
        allowed = ", ".join(vocab.codes(GESTURE_TYPE))
        raise InvalidInput(f"'{request.gesture_type}' is not a gesture type; use one of: {allowed}.")
    values: list[str] = []
    for word in request.values:
        value = vocab.match(SERVICE_VALUE, word)
        if value is None or not vocab.is_active(SERVICE_VALUE, value):
            raise InvalidInput(f"'{word}' is not one of the organisation's service values.")
        if value not in values:
            values.append(value)
    return code, tuple(values)


def _prepare(session: Session, actor: Actor, request: LogRequest, at: datetime) -> _Context:
    vocab = load_vocabulary(session)
    gesture_type, values = _words(vocab, request)
    term = vocab.term(GESTURE_TYPE, gesture_type)
    employee = access.employee(session, actor, "gesture.log", request.employee_code)
    customer = customer_by_code(session, request.customer_code)
    tz = business_zone(session, employee)
    day = business_date(at, tz)  # `at` is UTC; the cap's day and the period follow the business
    team = session.get(Team, employee.team_id) if employee.team_id else None
    money = location_money(session, team.location_id if team else None)  # the giver's
    # an immediate change bites at once; its amounts in the giver's currency at the day's rate
    policy = policy_terms(session, require_policy(session, employee, day), employee, day, currency=money.currency)
    incident = None
    if request.incident_code:
        incident = session.scalar(select(Incident).where(Incident.code == request.incident_code))
        if incident is None or incident.customer_id != customer.id:
            raise UnknownIncident(f"No incident '{request.incident_code}' for this customer.")
        if incident.status == IncidentStatus.CLOSED:
            raise InvalidState("That incident was closed with a note; pick what went wrong instead.")
    budget = budget_covering(session, employee.id, day)
    return _Context(employee, customer, policy, incident, team.location_id if team else None,
                    budget.id if budget else None, day, tz, gesture_type, values, money,
                    staff_time=term is not None and term.valuation == "hourly",
                    type_label=vocab.label(GESTURE_TYPE, gesture_type).lower())


_INCIDENTS = table(Incident)
_GESTURES = table(Gesture)
# The write unit's statements, built once: building a Core statement per call (`.values(...)`)
# costs several times what SQLite takes to run it, and these run under the writers' lock.
_NEW_INCIDENT = insert(_INCIDENTS).returning(_INCIDENTS.c.id)
_RESOLVE_INCIDENT = (update(_INCIDENTS).where(_INCIDENTS.c.id == bindparam("incident"),
                                              _INCIDENTS.c.status == IncidentStatus.OPEN)
                     .values(status=IncidentStatus.RESOLVED))
_NEW_GESTURE = insert(_GESTURES).returning(_GESTURES.c.id)
_TAG_VALUES = insert(table(GestureValue))


def _new_incident(session: Session, ctx: _Context, category: str | None, at: datetime) -> tuple[int, str]:
    code = f"I-{uuid.uuid4().hex[:12]}"
    incident_id = session.connection().execute(_NEW_INCIDENT, dict(
        code=code, customer_id=ctx.customer.id, occurred_at=at, category=category or "Other",
        location_id=ctx.location_id, employee_id=ctx.employee.id, owner_id=ctx.employee.id,
        status=IncidentStatus.RESOLVED,  # written with its gesture, which always counts
    )).scalar_one()
    return incident_id, code


_BY_KEY = select(_GESTURES.c.id).where(_GESTURES.c.idempotency_key == bindparam("key"))


def _existing(session: Session, key: str | None) -> Gesture | None:
    """The gesture already logged with this idempotency key, if any: a prebuilt Core look-up
    first (almost always nothing), the ORM object only for a repeat."""
    if not key:
        return None
    gesture_id = session.connection().execute(_BY_KEY, {"key": key}).scalar()
    return None if gesture_id is None else session.get(Gesture, gesture_id)


def _result_for(session: Session, gesture: Gesture, already: bool) -> LogResult:
    budget = session.get(Budget, gesture.budget_id) if gesture.budget_id else None
    incident = session.get(Incident, gesture.incident_id)
    assert incident is not None
    return LogResult(
        gesture_id=gesture.id, gesture_code=gesture.code, incident_code=incident.code,
        cost_cents=gesture.cost_cents, status=gesture.status, needs_review=gesture.needs_review,
        remaining_cents=budget.remaining_cents if budget else 0, already_logged=already,
    )


def log_gesture(db: Database, actor: Actor, request: LogRequest, at: datetime | None = None) -> LogResult:
    """Log one gesture, or refuse with a message saying exactly why and what is left."""
    valid = _validate(request)
    at = as_utc(at) if at is not None else utc_now()  # stored in UTC
    with db.read() as session:
        previous = _existing(session, request.idempotency_key)
        if previous is not None:
            return _result_for(session, previous, already=True)
        ctx = _prepare(session, actor, request, at)
        if ctx.incident is None:  # a new incident: its outcome row is worked out here, not in the lock
            ctx = dataclasses.replace(ctx, new_outcome=outcomes.prepare_new_incident(session, ctx.customer.id, at))
    valid = _validate(request, ctx.money.currency)  # in the location's minor units
    valid = dataclasses.replace(valid, staff_minutes=staff_minutes_for(valid, ctx.staff_time, ctx.type_label))
    if ctx.policy.needs_note(valid.cost_cents) and not valid.note:
        raise InvalidInput(
            f"Above {ctx.show(ctx.policy.review_above_cents)} a manager reviews the gesture "
            "afterwards: add a note saying what happened and what you did.")
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
    """The Ritz rule, counted with this gesture already written (so under the budget row's lock
    on PostgreSQL every concurrent gesture for this customer is seen)."""
    cap = ctx.policy.customer_daily_cap_cents
    given = given_to_customer_on(session, ctx.employee.id, ctx.customer.id, ctx.day, ctx.tz)
    if given > cap:
        left = max(cap - (given - valid.cost_cents), 0)
        raise CustomerDailyCapExceeded(
            f"{ctx.show(valid.cost_cents)} is over the limit of {ctx.show(cap)} per customer "
            f"per day; {ctx.show(left)} is left for {ctx.customer.name} today.")


def _spend(
    session: Session, actor: Actor, request: LogRequest, valid: _Validated, ctx: _Context, at: datetime
) -> LogResult:
    """The critical section, all Core (the ORM's bookkeeping costs more than SQLite's work here):

    1. open this period's budget if this is its first gesture;
    2. insert the incident (if new) and the gesture;
    3. take the money through the ledger's one verb, a conditional UPDATE that never overdraws
       and, on PostgreSQL, locks the budget row, so the same employee's tablets queue here;
    4. check the day's cap for this customer under that lock (a refusal rolls everything back);
    5. the audit row.

    A repeated idempotency key fails the gesture insert on its unique index; `log_gesture` then
    reports the first gesture (the common double tap is caught before the lock)."""
    policy = ctx.policy
    budget_id = ctx.budget_id or open_budget(session, actor, ctx.employee, ctx.day, policy.policy)
    if ctx.incident is not None:
        incident_id, incident_code = ctx.incident.id, ctx.incident.code
        session.connection().execute(_RESOLVE_INCIDENT, dict(incident=incident_id))
    else:
        incident_id, incident_code = _new_incident(session, ctx, valid.category, at)
        # Its own row in the outcomes table (a row depends on its incident and the customer's
        # purchases only): prepared before the lock, checked and inserted here.
        outcomes.add_new_incident(session, incident_id, ctx.customer.id, ctx.new_outcome)
    needs_approval = policy.needs_approval(valid.cost_cents)
    needs_review = policy.needs_review(valid.cost_cents)
    status = GestureStatus.PENDING_APPROVAL if needs_approval else GestureStatus.LOGGED
    code = f"G-{uuid.uuid4().hex[:12]}"
    gesture_id = session.connection().execute(_NEW_GESTURE, dict(
        code=code, incident_id=incident_id, customer_id=ctx.customer.id,
        employee_id=ctx.employee.id, budget_id=budget_id, occurred_at=at,
        type=ctx.gesture_type, cost_cents=valid.cost_cents, staff_minutes=valid.staff_minutes,
        note=valid.note, status=status,
        source=request.source, idempotency_key=request.idempotency_key or None,
        needs_review=needs_review, created_by_id=actor.employee_id,
    )).scalar_one()
    if ctx.values:
        session.connection().execute(_TAG_VALUES, [dict(gesture_id=gesture_id, value_code=v) for v in ctx.values])
    remaining = _take(session, actor, valid, ctx, at, budget_id, gesture_id, needs_approval)
    _check_cap(session, valid, ctx, at)
    audit.record(
        session, actor, "gesture.logged", "gesture", code,
        dict(employee=ctx.employee.code, customer=ctx.customer.code, cost_cents=valid.cost_cents,
             type=ctx.gesture_type, status=status.value, values=list(ctx.values),
             **({"staff_minutes": valid.staff_minutes} if valid.staff_minutes is not None else {})),
        at=at,
    )
    if needs_approval or needs_review:  # the outbox row commits (or not) with the gesture
        record_event(session, EventKind.APPROVAL_REQUESTED if needs_approval else EventKind.FLAGGED_FOR_REVIEW,
                     dict(gesture_code=code, employee_id=ctx.employee.id, employee_name=ctx.employee.name,
                          team_id=ctx.employee.team_id, cost_cents=valid.cost_cents, type=ctx.gesture_type,
                          category=ctx.incident.category if ctx.incident else (valid.category or "Other")),
                     at=at)
    return LogResult(
        gesture_id=gesture_id, gesture_code=code, incident_code=incident_code,
        cost_cents=valid.cost_cents, status=status, needs_review=needs_review,
        remaining_cents=remaining, already_logged=False,
        currency=ctx.money.currency, locale=ctx.money.locale,
    )


def _take(session: Session, actor: Actor, valid: _Validated, ctx: _Context, at: datetime,
          budget_id: int, gesture_id: int, needs_approval: bool) -> int:
    """Spend (or hold, when it waits for approval) the gesture's cost; the remaining balance."""
    if not valid.cost_cents:
        budget = session.get(Budget, budget_id)
        return budget.remaining_cents if budget else 0
    try:
        return post(session, budget_id, LedgerEntryType.HOLD if needs_approval else LedgerEntryType.SPEND,
                    valid.cost_cents, actor=actor, gesture_id=gesture_id, reason=ctx.gesture_type)
    except BudgetExceeded:
        _check_cap(session, valid, ctx, at)  # over both limits: the cap is the one to name
        raise


# --- acting on a logged gesture -------------------------------------------------------------------

def _gesture_for_update(session: Session, gesture_code: str) -> tuple[Gesture, Employee]:
    row = session.execute(
        select(Gesture, Employee).join(Employee, Employee.id == Gesture.employee_id)
        .where(Gesture.code == gesture_code).with_for_update(of=Gesture)).first()
    if row is None:
        raise UnknownGesture(f"No gesture '{gesture_code}'.")
    return row[0], row[1]


def _give_back(session: Session, actor: Actor, gesture: Gesture, employee: Employee,
               entry_type: LedgerEntryType, reason: str, *, to_current_period: bool = True) -> int:
    """Return a gesture's money with one entry; the new remaining balance of the budget it went
    to. Once the gesture's period is closed (`periods.period_closed`, on the business day) the
    money goes to the current period's budget, never back into the closed one."""
    if not gesture.budget_id:
        return 0
    budget_id = gesture.budget_id
    if to_current_period:
        budget = session.get(Budget, budget_id)
        today = business_today(business_zone(session, employee))
        if budget is not None and period_closed(budget.period_end, today):
            budget_id = open_budget(session, actor, employee, today)
            reason = f"{reason} (after its period closed)"
    if not gesture.cost_cents:
        budget = session.get(Budget, budget_id)
        return budget.remaining_cents if budget else 0
    return post(session, budget_id, entry_type, gesture.cost_cents, actor=actor,
                gesture_id=gesture.id, reason=reason)


def _reopen_if_unresolved(session: Session, incident_id: int) -> None:
    """A gesture stopped counting (undone, rejected): its incident is open again unless another
    gesture still resolves it."""
    still = exists().where(Gesture.incident_id == incident_id,
                           Gesture.status.in_(GestureStatus.against_budget()))
    session.execute(update(Incident).where(Incident.id == incident_id,
                                           Incident.status == IncidentStatus.RESOLVED, ~still)
                    .values(status=IncidentStatus.OPEN))


def void_gesture(db: Database, actor: Actor, gesture_code: str, reason: str) -> int:
    """Undo by reversal: the gesture is marked voided and its money comes back with a reversing
    ledger entry (a release, for a hold). Returns the budget's new remaining balance."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the gesture is voided.")
    with db.write() as session:
        gesture, employee = _gesture_for_update(session, gesture_code)
        access.require(actor, "gesture.void", team_id=employee.team_id, employee_id=employee.id)
        if not gesture.status.counts_against_budget:
            raise InvalidState(f"This gesture is already {gesture.status.label.lower()}; nothing changed.")
        entry = (LedgerEntryType.RELEASE if gesture.status == GestureStatus.PENDING_APPROVAL
                 else LedgerEntryType.REVERSAL)
        # Free text stays on the gesture, where erasure can reach it; the append-only ledger and
        # audit log never copy it (services.erasure).
        remaining = _give_back(session, actor, gesture, employee, entry, "Voided")
        gesture.status = GestureStatus.VOIDED
        gesture.voided_at = utc_now()
        gesture.voided_by_id = actor.employee_id
        gesture.void_reason = reason
        session.flush()
        _reopen_if_unresolved(session, gesture.incident_id)
        audit.record(session, actor, "gesture.voided", "gesture", gesture.code,
                     dict(cost_cents=gesture.cost_cents))
        return remaining


def decide_gesture(db: Database, actor: Actor, gesture_code: str, approve: bool, reason: str = "") -> None:
    """A manager approves (hold becomes spend) or rejects (hold released) a pending gesture."""
    with db.write() as session:
        gesture, employee = _gesture_for_update(session, gesture_code)
        access.require(actor, "gesture.decide", team_id=employee.team_id, employee_id=employee.id,
                       logged_by_id=gesture.created_by_id)
        if gesture.status != GestureStatus.PENDING_APPROVAL:
            raise InvalidState(f"This gesture is {gesture.status.label.lower()}, not waiting for approval.")
        if not approve and not reason.strip():
            raise InvalidInput("Say why the gesture is rejected.")
        # approved: the hold becomes a spend in its own period; rejected: the money is freed
        _give_back(session, actor, gesture, employee, LedgerEntryType.RELEASE, "Approval decided",
                   to_current_period=not approve)
        if approve and gesture.cost_cents and gesture.budget_id:
            post(session, gesture.budget_id, LedgerEntryType.SPEND, gesture.cost_cents, actor=actor,
                 gesture_id=gesture.id, reason="Approved")
        gesture.status = GestureStatus.LOGGED if approve else GestureStatus.REJECTED
        gesture.decided_at = utc_now()
        gesture.decided_by_id = actor.employee_id
        gesture.decision_reason = reason.strip() or None
        if not approve:
            session.flush()
            _reopen_if_unresolved(session, gesture.incident_id)
        audit.record(session, actor, "gesture.approved" if approve else "gesture.rejected",
                     "gesture", gesture.code)
        record_event(session, EventKind.APPROVAL_DECIDED, dict(
            gesture_code=gesture.code, employee_id=employee.id, employee_name=employee.name,
            cost_cents=gesture.cost_cents, type=str(gesture.type), approved=approve,
            reason=reason.strip() or None, decided_by=actor.name))


def mark_reviewed(db: Database, actor: Actor, gesture_code: str, comment: str,
                  now: datetime | None = None) -> None:
    """A manager (of the gesture's team) or an admin confirms a flagged gesture, with a comment."""
    comment = (comment or "").strip()
    if not comment:
        raise InvalidInput("Add a short comment to mark the gesture reviewed.")
    if len(comment) > MAX_COMMENT_CHARS:
        raise InvalidInput(f"Keep the comment under {MAX_COMMENT_CHARS:,} characters.")
    with db.write() as session:
        gesture, employee = _gesture_for_update(session, gesture_code)
        access.require(actor, "gesture.review", team_id=employee.team_id, employee_id=employee.id,
                       logged_by_id=gesture.created_by_id)
        if not gesture.needs_review:
            raise InvalidState("This gesture was not flagged for review.")
        if gesture.reviewed_at is not None:
            raise InvalidState("This gesture was already reviewed; nothing changed.")
        gesture.reviewed_at = as_utc(now).replace(microsecond=0) if now else utc_now()
        gesture.reviewed_by_id = actor.employee_id
        gesture.review_comment = comment
        audit.record(session, actor, "gesture.reviewed", "gesture", gesture.code,
                     at=gesture.reviewed_at)


def set_featured(db: Database, actor: Actor, gesture_code: str, featured: bool = True) -> None:
    """Feature (or un-feature) a recovery story for the joint report. No money moves."""
    with db.write() as session:
        gesture, employee = _gesture_for_update(session, gesture_code)
        access.require(actor, "story.feature", team_id=employee.team_id)
        if not (gesture.note or "").strip():
            raise InvalidInput("Only a gesture with a note tells a story.")
        if gesture.featured == featured:
            return
        gesture.featured = featured
        audit.record(session, actor, "story.featured" if featured else "story.unfeatured",
                     "gesture", gesture.code)
