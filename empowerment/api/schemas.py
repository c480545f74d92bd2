"""The API's request and response bodies (pydantic models: the OpenAPI document is built from them).

Batch rows are deliberately loose (every field optional, text or number): a batch is checked by
the CSV import's own rules (`services.ingest`), so a wrong row gets the same message as a wrong
line in a file, per row, rather than a schema error for the whole call."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from empowerment.services.ingest import MAX_BATCH_ROWS

# Text never holds a NUL character (PostgreSQL cannot store one); numbers are finite.
Text = Annotated[str, Field(pattern=r"^[^\x00]*$")]
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00]*$")]
Number = Annotated[float, Field(allow_inf_nan=False)]
Cell = Text | int | Number | None


class _Row(BaseModel):
    model_config = ConfigDict(extra="allow")


class CustomerRow(_Row):
    customer_id: Cell = Field(None, description="Your id of the customer (at most 64 characters).")
    name: Cell = None
    segment: Cell = None
    email: Cell = None
    phone: Cell = None


class TransactionRow(_Row):
    transaction_id: Cell = Field(None, description="Your id of the transaction.")
    customer_id: Cell = Field(None, description="A customer not known yet is created as 'Customer <id>'.")
    occurred_at: Cell = Field(None, description="ISO 8601 date or time, e.g. 2024-03-31T14:05:00.")
    amount: Cell = Field(None, description="In currency units, e.g. \"25.50\"; negative for a return.")


class IncidentRow(_Row):
    incident_id: Cell = None
    customer_id: Cell = None
    occurred_at: Cell = None
    category: Cell = Field(None, description="What went wrong, e.g. \"Room not ready\".")
    location: Cell = None
    description: Cell = None
    employee_id: Cell = Field(None, description="Who took the incident (an existing employee id).")


def _batch(row: type[_Row], name: str) -> type[BaseModel]:
    fields = {
        "rows": (list[row], Field(min_length=1, max_length=MAX_BATCH_ROWS,  # type: ignore[valid-type]
                                  description=f"1 to {MAX_BATCH_ROWS:,} rows, matched by id.")),
        "valid_rows_only": (bool, Field(False, description="Write the valid rows and return the others "
                                                           "with their errors (default: all or nothing).")),
    }
    from pydantic import create_model

    return create_model(name, __config__=ConfigDict(extra="forbid"), **fields)  # type: ignore[call-overload, no-any-return]


CustomerBatch = _batch(CustomerRow, "CustomerBatch")
TransactionBatch = _batch(TransactionRow, "TransactionBatch")
IncidentBatch = _batch(IncidentRow, "IncidentBatch")


class RowErrorOut(BaseModel):
    row: int = Field(description="The row's position in the batch, from 0.")
    id: str | None
    field: str | None
    value: str | None
    message: str


class BatchOut(BaseModel):
    kind: str
    rows: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int = Field(description="Rows not written (valid_rows_only), listed in errors.")
    customers_created: int
    locations_created: int
    errors: list[RowErrorOut]
    warnings: list[str]


class GestureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    employee_id: Id = Field(description="Whose budget pays: the token's person, or a member of their teams.")
    customer_id: Id
    type: Text = Field(max_length=32, description="refund, comp, upgrade, gift, voucher, personal_note, "
                                                  "time or other.")
    amount: Annotated[str, Field(max_length=32, pattern=r"^[^\x00]*$")] | int | Number = Field(
        description="In currency units: \"25\" or \"25.50\" (a string keeps exact cents).")
    incident_id: Id | None = Field(None, description="An open incident of this customer; or give a category.")
    category: Annotated[str, Field(max_length=100, pattern=r"^[^\x00]*$")] | None = Field(
        None, description="What went wrong (a new incident is opened).")
    note: Annotated[str, Field(max_length=2000, pattern=r"^[^\x00]*$")] | None = None
    staff_minutes: Annotated[int, Field(ge=1, le=480)] | None = Field(
        None, description="Staff time only (type time): the minutes it took; 15 when not given.")


class GestureOut(BaseModel):
    gesture_id: str
    incident_id: str
    status: str = Field(description="logged, pending_approval, rejected or voided.")
    status_label: str
    cost_cents: int
    needs_review: bool
    remaining_cents: int = Field(description="What is left of the budget afterwards.")
    already_logged: bool = Field(description="True when this Idempotency-Key logged it before.")
    message: str


class VoidIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Field(max_length=500, pattern=r"^[^\x00]*$")]


class VoidOut(BaseModel):
    gesture_id: str
    status: str
    remaining_cents: int
    message: str


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    approve: bool
    reason: Annotated[str, Field(max_length=1000, pattern=r"^[^\x00]*$")] = ""


class DecisionOut(BaseModel):
    gesture_id: str
    status: str
    message: str


class CustomerOut(BaseModel):
    customer_id: str
    name: str
    segment: str | None
    email: str | None
    phone: str | None
    room: str | None


class HistoryEvent(BaseModel):
    incident_at: datetime | None
    incident_id: str | None
    category: str | None
    description: str | None
    location: str | None
    gesture_at: datetime | None
    gesture: str | None
    cost_cents: int | None
    status: str | None
    note: str | None
    by: str | None


class HistoryOut(BaseModel):
    customer: CustomerOut
    visits: int
    lifetime_spend_cents: int
    last_visit_at: datetime | None
    open_incidents: int
    events: list[HistoryEvent]


class BalanceOut(BaseModel):
    employee_id: str
    employee_name: str
    policy: str
    period: str
    period_label: str
    period_start: date
    period_end: date = Field(description="Exclusive.")
    allocated_cents: int
    spent_cents: int
    held_cents: int
    remaining_cents: int
    customer_daily_cap_cents: int
    review_above_cents: int | None
    approval_above_cents: int | None


class PushIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Annotated[str, Field(pattern=r"^(customers|transactions|incidents)$")]
    rows: list[dict[str, Cell]] = Field(min_length=1, max_length=MAX_BATCH_ROWS)
    valid_rows_only: bool = False


class TokenOut(BaseModel):
    token_name: str
    scopes: list[str]
    acts_as: str = Field(description="The name of the person whose rights the token carries.")
