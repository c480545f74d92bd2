"""SQLAlchemy 2 typed models: the schema. Alembic migrations in `migrations/` are generated from this.

Conventions: integer surrogate keys; `code` columns hold the organisation's own ids (the CSV ids);
money is integer cents; times are naive datetimes in UTC (business days: `periods`); enums are stored by
value as short strings; constraints are named so Alembic batch mode can alter SQLite tables.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated, ClassVar, Protocol, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from empowerment.models.enums import (
    GestureStatus,
    IncidentStatus,
    LedgerEntryType,
    Period,
    Role,
    Rollover,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Reusable column types.
IntPK = Annotated[int, mapped_column(Integer, primary_key=True, autoincrement=True)]
Cents = Annotated[int, mapped_column(BigInteger, nullable=False)]
Code = Annotated[str, mapped_column(String(64), nullable=False, unique=True)]
Timestamp = Annotated[datetime, mapped_column(DateTime, nullable=False)]
CreatedAt = Annotated[datetime, mapped_column(DateTime, nullable=False, server_default=func.now())]


def above(threshold_cents: int | None, cost_cents: int) -> bool:
    """A policy threshold ("review above", "approval above") applies when it is set, and only to a
    cost strictly above it."""
    return threshold_cents is not None and cost_cents > threshold_cents


class _HasThresholds(Protocol):
    @property
    def review_above_cents(self) -> int | None: ...

    @property
    def approval_above_cents(self) -> int | None: ...


class ThresholdRules:
    """What a policy's thresholds mean, wherever its amounts are held: the policy itself, its
    terms for one person (`lookups.PolicyTerms`, in their currency), the tablet's limits."""

    def needs_approval(self: _HasThresholds, cost_cents: int) -> bool:
        """Above "approval above": the money is held until a manager decides."""
        return above(self.approval_above_cents, cost_cents)

    def needs_review(self: _HasThresholds, cost_cents: int) -> bool:
        """Above "review above": logged at once, and a manager reads it afterwards."""
        return above(self.review_above_cents, cost_cents)

    def needs_note(self: _HasThresholds, cost_cents: int) -> bool:
        """A gesture a manager will review must say what happened: the review card has a story to read."""
        return above(self.review_above_cents, cost_cents)


class TermCode(str):
    """A vocabulary code read from the database (a gesture's type). It is a plain string; `.value`
    is kept so code written against the enum it replaced (`gesture.type.value`) still reads."""

    __slots__ = ()

    @property
    def value(self) -> str:
        return str(self)


class TermCodeType(TypeDecorator[str]):
    impl = String(64)
    cache_ok = True

    def process_bind_param(self, value: object, dialect: object) -> str | None:
        return None if value is None else str(getattr(value, "value", value))

    def process_result_value(self, value: str | None, dialect: object) -> str | None:
        return None if value is None else TermCode(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def table(model: type[Base]) -> Table:
    """A model's Core table, for the hot write paths that skip the ORM's bookkeeping."""
    return cast(Table, model.__table__)


def _enum(enum_cls: type[enum.Enum], name: str) -> Enum:
    # Stored by value, as VARCHAR + CHECK, so SQLite and PostgreSQL hold the same strings.
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
        length=32,
        create_constraint=True,
    )


class Location(Base):
    __tablename__ = "locations"
    id: Mapped[IntPK]
    code: Mapped[Code]
    name: Mapped[str] = mapped_column(String(200))
    # IANA zone of this property (None: the installation's, EMPOWERMENT_TIME_ZONE); see periods.
    time_zone: Mapped[str | None] = mapped_column(String(64))
    # ISO 4217 currency of every amount at this property (budgets, caps, gestures, its customers'
    # transactions), in that currency's minor units. Fixed when the location is created (the
    # installation's EMPOWERMENT_CURRENCY then), so changing the setting never re-reads stored money.
    currency: Mapped[str] = mapped_column(String(3), default=lambda: _installation_currency())
    # How people here type and read amounts (a Babel locale such as fr_FR; None: EMPOWERMENT_LOCALE).
    locale: Mapped[str | None] = mapped_column(String(16))


def _installation_currency() -> str:
    from empowerment import settings

    return settings.currency()


class ExchangeRate(Base):
    """One published rate: on `day`, one unit of `currency` was worth `rate` units of `quote`.
    `rate` is the exact decimal text as imported (never a float). `code` ("2026-03-04 JPY EUR")
    makes a re-import match the row it repeats. Imported as the "exchange_rates" kind."""

    __tablename__ = "exchange_rates"
    id: Mapped[IntPK]
    code: Mapped[Code]
    day: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    quote: Mapped[str] = mapped_column(String(3))
    rate: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[CreatedAt]
    __table_args__ = (Index("ix_exchange_rates_pair_day", "currency", "quote", "day"),)


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[IntPK]
    code: Mapped[Code]
    name: Mapped[str] = mapped_column(String(200))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    location: Mapped[Location | None] = relationship()


class TeamManager(Base):
    """A manager manages one or more teams."""

    __tablename__ = "team_managers"
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), primary_key=True)


class Employee(Base):
    __tablename__ = "employees"
    id: Mapped[IntPK]
    code: Mapped[Code]
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    username: Mapped[str | None] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    pin_failed_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pin_locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    # Work email, stored lower-case: where email notifications go, and how company sign-in (OIDC)
    # finds the person when the provider vouches for the address.
    email: Mapped[str | None] = mapped_column(String(200), unique=True, index=True)
    created_at: Mapped[CreatedAt]
    team: Mapped[Team | None] = relationship()


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[IntPK]
    code: Mapped[Code]
    name: Mapped[str] = mapped_column(String(200))
    segment: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50), index=True)
    room: Mapped[str | None] = mapped_column(String(50), index=True)
    first_seen_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[CreatedAt]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    # Where the desk first met them (the creator's team's location): shown in search results, and
    # half of the walk-in duplicate rule ("same name at the same location within 30 days").
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    # A duplicate merged into another customer keeps its row (its old id still explains itself)
    # and is never offered again; see services.customers.merge_customers.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    merged_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Set when an admin erased the personal data on request (services.erasure); the row stays.
    erased_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The name as the tablet's search compares it (`search_key`: Python's casefold, any script, on
    # SQLite and PostgreSQL alike). Kept by every writer: the ORM (below), Core inserts (the column
    # default), the import's bulk paths and the demo (explicitly). Indexed with the phone, so the
    # search reads one small index instead of every customer row (queries.customers).
    search_name: Mapped[str | None] = mapped_column(
        String(200), default=lambda context: search_key(context.get_current_parameters().get("name")))
    __table_args__ = (Index("ix_customers_name", "name"), Index("ix_customers_search", "search_name", "phone", "name"))


def search_key(name: str | None) -> str | None:
    """What a customer's name is searched by: case folded in any script (SQLite's lower() knows
    only ASCII; PostgreSQL's follows its locale)."""
    return name.casefold() if isinstance(name, str) else None


@event.listens_for(Customer, "before_insert")
@event.listens_for(Customer, "before_update")
def _keep_search_name(_mapper: object, _connection: object, customer: Customer) -> None:
    customer.search_name = search_key(customer.name)


class Incident(Base):
    __tablename__ = "incidents"
    id: Mapped[IntPK]
    code: Mapped[Code]
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    occurred_at: Mapped[Timestamp]
    category: Mapped[str] = mapped_column(String(100))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    description: Mapped[str | None] = mapped_column(Text)
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    created_at: Mapped[CreatedAt]
    # Its life (rules on IncidentStatus): who looks after it, who acknowledged it at the
    # hand-over, when someone checked back with the guest, and why it was closed.
    status: Mapped[IncidentStatus] = mapped_column(
        _enum(IncidentStatus, "incident_status"), default=IncidentStatus.OPEN, server_default="open")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    followed_up_at: Mapped[datetime | None] = mapped_column(DateTime)
    followed_up_by_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    follow_up_note: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    close_note: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (
        Index("ix_incidents_customer_time", "customer_id", "occurred_at"),
        Index("ix_incidents_time", "occurred_at"),
        Index("ix_incidents_status_time", "status", "occurred_at"),
    )


class Gesture(Base):
    __tablename__ = "gestures"
    id: Mapped[IntPK]
    code: Mapped[Code]
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    budget_id: Mapped[int | None] = mapped_column(ForeignKey("budgets.id"))
    occurred_at: Mapped[Timestamp]
    # The organisation's gesture type code (models.vocabulary): a plain string, so admins can add
    # types; GestureType holds the codes the app ships with.
    type: Mapped[str] = mapped_column(TermCodeType())
    cost_cents: Mapped[Cents]
    # Staff time (a gesture type valued hourly): the minutes it took; NULL for other types and for
    # staff time logged before minutes were recorded (read as DEFAULT_STAFF_MINUTES).
    staff_minutes: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[GestureStatus] = mapped_column(
        _enum(GestureStatus, "gesture_status"), default=GestureStatus.LOGGED
    )
    source: Mapped[str] = mapped_column(String(16), default="app")  # app | cli | import
    idempotency_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    review_comment: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)  # approval or rejection
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    voided_at: Mapped[datetime | None] = mapped_column(DateTime)
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    void_reason: Mapped[str | None] = mapped_column(Text)
    featured: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[CreatedAt]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    __table_args__ = (
        CheckConstraint("cost_cents >= 0", name="cost_not_negative"),
        Index("ix_gestures_incident", "incident_id"),
        Index("ix_gestures_customer_time", "customer_id", "occurred_at"),
        Index("ix_gestures_employee_time", "employee_id", "occurred_at"),
        Index("ix_gestures_status", "status"),
    )


class BudgetPolicy(Base, ThresholdRules):
    """An allowance rule. Rows are versions: a change inserts a new row with a later
    `effective_from`; the newest version in force on a date wins for its scope.

    Scope precedence: employee > team > role > organisation default (all scope columns null).
    """

    __tablename__ = "budget_policies"
    id: Mapped[IntPK]
    name: Mapped[str] = mapped_column(String(100), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    role: Mapped[Role | None] = mapped_column(_enum(Role, "policy_role"))
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    allowance_cents: Mapped[Cents]
    period: Mapped[Period] = mapped_column(_enum(Period, "period"))
    rollover: Mapped[Rollover] = mapped_column(_enum(Rollover, "rollover"), default=Rollover.NONE)
    customer_daily_cap_cents: Mapped[int] = mapped_column(BigInteger, default=200_000)
    review_above_cents: Mapped[int | None] = mapped_column(BigInteger)
    approval_above_cents: Mapped[int | None] = mapped_column(BigInteger)
    effective_from: Mapped[date] = mapped_column(Date)
    created_at: Mapped[CreatedAt]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    __table_args__ = (
        CheckConstraint("allowance_cents >= 0", name="allowance_not_negative"),
        CheckConstraint("customer_daily_cap_cents >= 0", name="cap_not_negative"),
    )

    @property
    def scope_rank(self) -> int:
        """Precedence: an employee's own policy (0) beats a team's (1), a role's (2), everyone's (3)."""
        if self.employee_id is not None:
            return 0
        if self.team_id is not None:
            return 1
        return 2 if self.role is not None else 3

    def applies_to(self, employee_id: int, team_id: int | None, role: Role) -> bool:
        if self.employee_id is not None:
            return self.employee_id == employee_id
        if self.team_id is not None:
            return self.team_id == team_id
        return self.role is None or self.role == role


class Budget(Base):
    """One employee's budget for one period. `remaining_cents` is a running total of the ledger,
    kept in the same transaction as every entry so a conditional update can refuse an overdraw
    atomically; `tests/` check it always equals the ledger sum."""

    __tablename__ = "budgets"
    id: Mapped[IntPK]
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    policy_id: Mapped[int] = mapped_column(ForeignKey("budget_policies.id"))
    period: Mapped[Period] = mapped_column(_enum(Period, "budget_period"))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)  # exclusive
    remaining_cents: Mapped[Cents]
    created_at: Mapped[CreatedAt]
    __table_args__ = (
        UniqueConstraint("employee_id", "period_start", name="uq_budgets_employee_period"),
        CheckConstraint("remaining_cents >= 0", name="never_overdrawn"),
    )


class LedgerEntry(Base):
    """Append-only. Database triggers (see migrations) refuse UPDATE and DELETE."""

    __tablename__ = "ledger_entries"
    id: Mapped[IntPK]
    budget_id: Mapped[int] = mapped_column(ForeignKey("budgets.id"), index=True)
    entry_type: Mapped[LedgerEntryType] = mapped_column(_enum(LedgerEntryType, "ledger_entry_type"))
    amount_cents: Mapped[Cents]  # stored signed (+ into the budget): the balance is the plain sum
    gesture_id: Mapped[int | None] = mapped_column(ForeignKey("gestures.id"), index=True)
    reverses_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[CreatedAt]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))


class Transaction(Base):
    __tablename__ = "transactions"
    id: Mapped[IntPK]
    # unique: uq_transactions_code below; compared bytewise on PostgreSQL (migration 0019)
    code: Mapped[str] = mapped_column(String(64).with_variant(String(64, collation="C"), "postgresql"),
                                      nullable=False)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    occurred_at: Mapped[Timestamp]
    amount_cents: Mapped[Cents]
    __table_args__ = (
        # A unique index, not a table constraint: a big import drops it and builds it again in
        # its own transaction, one sort instead of millions of B-tree inserts (migration 0013).
        Index("uq_transactions_code", "code", unique=True),
        # the amount too, so the payoff reads transactions in (customer, time) order off the index
        Index("ix_transactions_customer_time_amount", "customer_id", "occurred_at", "amount_cents"),
    )


class AuditEvent(Base):
    __tablename__ = "audit_events"
    id: Mapped[IntPK]
    occurred_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now(), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    actor_label: Mapped[str] = mapped_column(String(200))  # name at the time, or "cli"/"system"
    action: Mapped[str] = mapped_column(String(64), index=True)  # e.g. gesture.logged
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)  # JSON; never a password, PIN or hash
    # The hash chain (empowerment.audit.row_digest): the previous row's hash and this row's.
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    row_hash: Mapped[str | None] = mapped_column(String(64))


class SignInFailure(Base):
    """A failed password sign-in, by a hash of the typed user name (never the name itself, which
    may be a mistyped password). Rows throttle guessing; they are pruned after a day."""

    __tablename__ = "sign_in_failures"
    id: Mapped[IntPK]
    name_key: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (Index("ix_sign_in_failures_name_time", "name_key", "failed_at"),)


class BrowserSession(Base):
    """A signed-in browser session's last activity, by a digest of its id (as the audit log names
    it), so the idle timeout holds on whichever replica the browser reconnects to. Sign-out
    revocation stays in the audit log; rows of sessions idle for a day are pruned."""

    __tablename__ = "browser_sessions"
    session_ref: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (Index("ix_browser_sessions_last_seen", "last_seen_at"),)


class AppSetting(Base):
    """Organisation-wide editable settings: the empowerment guideline, column mappings, ..."""

    __tablename__ = "app_settings"
    GUIDELINE: ClassVar[str] = "guideline"  # the empowerment guideline (Markdown)
    COLUMN_MAPPING: ClassVar[str] = "column_mapping."  # + kind: {canonical column: file header}, JSON
    AUDIT_SEAL: ClassVar[str] = "audit.seal"  # the audit log's row count and head, HMAC-ed (audit.py)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))


# --- connected: the API, inbound webhooks, notifications ------------------------------------------

class ApiToken(Base):
    """A bearer token for the JSON API. Only a SHA-256 digest of the token is stored (it is 256
    random bits, so a slow hash adds nothing); the token itself is shown once, when created. It
    acts with the rights of `employee_id` (re-read on every call), narrowed by its scopes."""

    __tablename__ = "api_tokens"
    id: Mapped[IntPK]
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # the first characters, to tell tokens apart
    scopes: Mapped[str] = mapped_column(String(100))  # space-separated: ingest log read
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    rate_limit_per_minute: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[CreatedAt]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))


class ApiRateWindow(Base):
    """Calls per token per minute, counted in the database so a limit holds across replicas."""

    __tablename__ = "api_rate_windows"
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id"), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # epoch minute
    calls: Mapped[int] = mapped_column(Integer)


class WebhookSource(Base):
    """A system that pushes signed data to `/api/v1/webhooks/<name>`. The secret must be
    readable to check signatures, so it is stored encrypted with a key derived from the
    installation's secret, never in clear."""

    __tablename__ = "webhook_sources"
    id: Mapped[IntPK]
    name: Mapped[str] = mapped_column(String(64), unique=True)
    secret_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[CreatedAt]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    last_received_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class OutboxEvent(Base):
    """Something people should hear about, written in the same transaction as the change itself
    (a transactional outbox); the notification worker fans it out to deliveries."""

    __tablename__ = "outbox_events"
    id: Mapped[IntPK]
    kind: Mapped[str] = mapped_column(String(32))  # services.notifications.EventKind
    payload: Mapped[str] = mapped_column(Text)  # JSON: codes and figures, never secrets
    dedupe_key: Mapped[str | None] = mapped_column(String(100), unique=True)  # a digest's week
    created_at: Mapped[datetime] = mapped_column(DateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime)
    __table_args__ = (Index("ix_outbox_events_undispatched", "dispatched_at", "id"),)


class NotificationPreference(Base):
    """One person's choice of one channel, with where it goes."""

    __tablename__ = "notification_preferences"
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)  # email slack teams webhook
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    target: Mapped[str | None] = mapped_column(String(500))  # webhook URL; email: the address
    secret_encrypted: Mapped[str | None] = mapped_column(Text)  # generic webhooks sign with it
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class NotificationDelivery(Base):
    """One event to one person on one channel: at most one row, so at most one send."""

    __tablename__ = "notification_deliveries"
    id: Mapped[IntPK]
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_events.id"))
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # services.notifications.DeliveryStatus
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (
        UniqueConstraint("event_id", "employee_id", "channel", name="uq_notification_deliveries_once"),
        Index("ix_notification_deliveries_due", "status", "next_attempt_at"),
    )


# --- the organisation's words, values on gestures, follow-ups (issue 13) ----------------------------

class VocabularyTerm(Base):
    """One word of the organisation's vocabulary: a gesture type, an incident category or a
    service value. `code` is stable (what records store); everything else may be edited. A term
    is retired, never deleted, so old records keep their meaning. The app's defaults
    (`models.vocabulary.DEFAULTS`) apply until a row with the same kind and code overrides them."""

    __tablename__ = "vocabulary_terms"
    id: Mapped[IntPK]
    kind: Mapped[str] = mapped_column(String(32))  # gesture_type | incident_category | service_value
    code: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(300))
    costs_money: Mapped[bool | None] = mapped_column(Boolean)  # gesture types
    valuation: Mapped[str | None] = mapped_column(String(32))  # gesture types: rate_difference | hourly
    hourly_rate_cents: Mapped[int | None] = mapped_column(BigInteger)  # valuation "hourly"
    severity: Mapped[int | None] = mapped_column(Integer)  # incident categories: 1-3
    touchpoint: Mapped[str | None] = mapped_column(String(32))  # incident categories
    synonyms: Mapped[str | None] = mapped_column(Text)  # JSON list of other words for it (imports)
    sort_order: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    retired_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    __table_args__ = (UniqueConstraint("kind", "code", name="uq_vocabulary_terms_kind_code"),)


class GestureValue(Base):
    """A service value a gesture lived (one or two per gesture, chosen by the person who gave it)."""

    __tablename__ = "gesture_values"
    gesture_id: Mapped[int] = mapped_column(ForeignKey("gestures.id"), primary_key=True)
    value_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    __table_args__ = (Index("ix_gesture_values_value", "value_code"),)


class Recognition(Base):
    """A manager's thanks for a gesture (its story featured on the location's recognition feed)."""

    __tablename__ = "recognitions"
    id: Mapped[IntPK]
    gesture_id: Mapped[int] = mapped_column(ForeignKey("gestures.id"), index=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)  # who is thanked
    thanked_by_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class FollowUp(Base):
    """A step after an incident: the customer was called, checked in on or written to (or cared
    for from the proactive care list). Who and when; append-only."""

    __tablename__ = "follow_ups"
    id: Mapped[IntPK]
    code: Mapped[Code]
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(16))  # enums.FollowUpKind
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    occurred_at: Mapped[Timestamp]
    note: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16), default="app")  # app | care | cli | import
    created_at: Mapped[CreatedAt]
    __table_args__ = (Index("ix_follow_ups_customer_time", "customer_id", "occurred_at"),)


OUTCOME_HORIZONS = (30, 90, 180, 365)  # analytics.linking.OUTCOME_HORIZONS (test_outcomes keeps them equal)


class IncidentOutcome(Base):
    """What the transactions say about one incident (`analytics.linking.outcome_columns`), kept
    current by the writers of transactions and incidents (`services.outcomes`) so the payoff
    reads one row per incident instead of every transaction."""

    __tablename__ = "incident_outcomes"
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True,
                                             autoincrement=False)
    customer_id: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[Timestamp]
    first_return_at: Mapped[datetime | None] = mapped_column(DateTime)
    first_transaction_at: Mapped[datetime | None] = mapped_column(DateTime)
    prior_txn_count_365: Mapped[Cents]
    prior_revenue_cents_365: Mapped[Cents]
    revenue_after_30_cents: Mapped[Cents]
    revenue_after_90_cents: Mapped[Cents]
    revenue_after_180_cents: Mapped[Cents]
    revenue_after_365_cents: Mapped[Cents]
    revenue_before_30_cents: Mapped[Cents]
    revenue_before_90_cents: Mapped[Cents]
    revenue_before_180_cents: Mapped[Cents]
    revenue_before_365_cents: Mapped[Cents]
    __table_args__ = (Index("ix_incident_outcomes_customer", "customer_id"),)


class OutcomesState(Base):
    """One row (id 1) once the outcomes were built: for which recovery window, and the count and
    highest id of the transactions they reflect (a writer that bypassed `services.outcomes` shows
    as a mismatch, and the payoff then links from the transactions)."""

    __tablename__ = "outcomes_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    recovery_window_hours: Mapped[int] = mapped_column(Integer)
    transactions_count: Mapped[Cents]
    transactions_max_id: Mapped[Cents]
    built_at: Mapped[datetime] = mapped_column(DateTime)
    # the latest transaction time they reflect (None: not known; the payoff then asks the table)
    transactions_latest_at: Mapped[datetime | None] = mapped_column(DateTime)


class EvidenceRow(Base):
    """The tablet's "what tends to work": for each incident category and first gesture type, the
    payoff's adjusted breakdown (`analytics.what_works.by_category`), as the last evidence refresh
    computed it (`reports.evidence.refresh`: the notification worker, hourly, and
    `python -m empowerment evidence-refresh`). The tablet only reads it."""

    __tablename__ = "evidence_rows"
    id: Mapped[IntPK]
    category: Mapped[str] = mapped_column(String(100))
    gesture_type: Mapped[str] = mapped_column(String(100))
    cases: Mapped[int] = mapped_column(Integer)
    estimate: Mapped[float | None] = mapped_column(Float)
    low: Mapped[float | None] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)
    p_value: Mapped[float | None] = mapped_column(Float)
    p_holm: Mapped[float | None] = mapped_column(Float)
    reliable: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text, default="")
    __table_args__ = (Index("ix_evidence_rows_category", "category"),)


class EvidenceState(Base):
    """One row (id 1) once the evidence was computed: when, on which data (`queries.frames.data_version`),
    how many rows and how long it took. Its `computed_at` is the tablet's cache key."""

    __tablename__ = "evidence_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    computed_at: Mapped[datetime] = mapped_column(DateTime)
    data_version: Mapped[str] = mapped_column(String(400))
    rows: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)


class ComputedResult(Base):
    """A figure worked out once and read by every process (`reports.computed`): the Payoff page's
    view of a scope, its "what works" breakdowns. `key` names what was asked (a hash of the kind
    and its parameters), `data_version` the data it was worked out on
    (`queries.frames.data_version`); `document` is `analytics.codec` JSON. A row for older data
    is replaced, never read: a reader asks for the current version. `parameters` is the request
    as JSON text and `read_at` the last read, so the worker can work out again, without the
    reader, what was read lately (`reports.computed.refresh_recently_read`)."""

    __tablename__ = "computed_results"
    id: Mapped[IntPK]
    key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(50))
    data_version: Mapped[str] = mapped_column(String(400))
    computed_at: Mapped[datetime] = mapped_column(DateTime)
    seconds: Mapped[float] = mapped_column(Float)
    document: Mapped[str] = mapped_column(Text)
    parameters: Mapped[str | None] = mapped_column(Text)  # None: stored before migration 0018
    read_at: Mapped[datetime | None] = mapped_column(DateTime)  # None: never read (only worked out ahead)
