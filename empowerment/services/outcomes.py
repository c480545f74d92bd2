"""The outcomes table (`models.IncidentOutcome`), kept equal to a rebuild as data arrives.

Every writer of transactions or incidents calls `refresh(session, customer_ids, ...)` inside its
own unit of work, after its writes: the outcome rows of those customers' incidents are computed
again from their incidents and transactions (`analytics.linking.outcome_columns`, vectorised:
two reads, one computation, one delete and one bulk insert, whatever the number of customers) and
replaced. Writers: the import (transactions, incidents), the tablet and API (`gestures.log_gesture`
creating an incident), a customer merge (its incidents and purchases move) and the demo. Gestures
change no stored column (the payoff times them from the gestures themselves), so gesture writers
need not call it. `rebuild(db)` (`python -m empowerment outcomes-rebuild`) computes every row.

Until the first rebuild there is no `outcomes_state` row and `refresh` does nothing; the payoff
then links from the transactions as before (`queries.frames.outcomes_current`).

Concurrency. SQLite has one writer at a time, so a refresh reads everything committed before it.
On PostgreSQL two writers could each miss the other's uncommitted rows (a new incident for a
customer whose purchases are being imported); a transaction-level advisory lock orders them:
writers of transactions take it exclusively, writers of a few incidents take it shared plus one
lock per customer, so the second to come reads after the first has committed (READ COMMITTED
takes a new snapshot per statement).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import String, bindparam, delete, func, insert, select, type_coerce
from sqlalchemy.orm import Session

from empowerment import access, settings
from empowerment.actor import Actor
from empowerment.analytics.linking import outcome_columns
from empowerment.clock import utc_now
from empowerment.db import Database
from empowerment.models import Incident, IncidentOutcome, OutcomesState, Transaction
from empowerment.models import table as table_of

IN_CHUNK = 5_000  # ids per "IN (...)" list
INSERT_CHUNK = 50_000
_LOCK = 715_001  # advisory lock key of the outcomes (any constant; PostgreSQL only)


def refresh(session: Session, customer_ids: Iterable[int] | np.ndarray, *, transactions_changed: bool = False,
            incident_ids: Iterable[int] | np.ndarray = ()) -> None:
    """Inside the caller's write unit, after its writes: the outcome rows of the incidents of
    `customer_ids` (and of `incident_ids`, wherever they now belong) computed again. Say
    `transactions_changed` when transactions were written, so the state records them."""
    state = session.get(OutcomesState, 1)
    if state is None:
        return  # never built: nothing to keep current (the payoff reads the transactions)
    customers = _ids(customer_ids)
    incidents_moved = _ids(incident_ids)
    _lock(session, customers, exclusive=transactions_changed or customers.size > 100)
    if customers.size or incidents_moved.size:
        _replace(session, customers, incidents_moved, state.recovery_window_hours)
    if transactions_changed:
        _record_transactions(session, state)


def rebuild(db: Database, actor: Actor, recovery_window_hours: int | None = None) -> int:
    """Every outcome row computed from scratch, in one write unit (for the installation's recovery
    window unless given): -> the number of rows. Data work: the right to import data."""
    access.require(actor, "data.import")
    with db.write() as session:
        return rebuild_in(session, recovery_window_hours)


def rebuild_in(session: Session, recovery_window_hours: int | None = None) -> int:
    """`rebuild` inside the caller's write unit (the demo writes everything in one)."""
    hours = settings.current().recovery_window_hours if recovery_window_hours is None else recovery_window_hours
    _lock(session, np.zeros(0, dtype=np.int64), exclusive=True)
    session.execute(delete(table_of(IncidentOutcome)))
    state = session.get(OutcomesState, 1)
    if state is None:
        state = OutcomesState(id=1, recovery_window_hours=hours, transactions_count=0, transactions_max_id=0,
                              built_at=utc_now())
        session.add(state)
    state.recovery_window_hours, state.built_at = hours, utc_now()
    session.flush()
    incidents = _incidents(session, None, None)
    rows = _write(session, incidents, hours, every=True)
    _record_transactions(session, state)
    return rows


def is_built(db: Database) -> bool:
    with db.read() as session:
        return session.get(OutcomesState, 1) is not None


def _ids(values: Iterable[int] | np.ndarray) -> np.ndarray:
    array = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype="float64")
    return np.unique(array[~np.isnan(array)]).astype(np.int64)


def _lock(session: Session, customers: np.ndarray, *, exclusive: bool) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: the writer lock already orders every write unit
    conn = session.connection()
    if exclusive:
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK})")
        return
    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock_shared({_LOCK})")
    for customer in customers.tolist():  # sorted (np.unique): no two writers wait on each other
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK}, {int(customer) % 2_000_000_000})")


def _replace(session: Session, customers: np.ndarray, moved: np.ndarray, hours: int) -> None:
    outcomes = table_of(IncidentOutcome)
    incidents = _incidents(session, customers, moved)
    for chunk in _chunks(customers):
        session.execute(delete(outcomes).where(outcomes.c.customer_id.in_(chunk)))
    for chunk in _chunks(np.unique(np.concatenate([moved, incidents["incident_id"].to_numpy(dtype=np.int64)]))):
        session.execute(delete(outcomes).where(outcomes.c.incident_id.in_(chunk)))
    _write(session, incidents, hours)


def _chunks(ids: np.ndarray) -> Iterable[list[int]]:
    for start in range(0, ids.size, IN_CHUNK):
        yield ids[start:start + IN_CHUNK].tolist()


def _selected(session: Session, columns: tuple[Any, ...], column: Any, ids: np.ndarray | None) -> list[tuple]:
    """Rows of `columns` whose `column` is in `ids` (every row with None), in IN-list chunks."""
    if ids is None:
        return [tuple(r) for r in session.execute(select(*columns))]
    rows: list[tuple] = []
    for chunk in _chunks(ids):
        rows += [tuple(r) for r in session.execute(select(*columns).where(column.in_(chunk)))]
    return rows


def _incidents(session: Session, customers: np.ndarray | None, moved: np.ndarray | None) -> pd.DataFrame:
    """incident_id, customer_id, occurred_at of the customers' incidents and of `moved` ones
    (every incident with None)."""
    incidents = table_of(Incident)
    columns = (incidents.c.id, incidents.c.customer_id, _time(session, incidents.c.occurred_at))
    rows = _selected(session, columns, incidents.c.customer_id, customers)
    if customers is not None and moved is not None and moved.size:
        rows += _selected(session, columns, incidents.c.id, moved)
    frame = _frame(rows, ["incident_id", "customer_id", "occurred_at"])
    return frame.drop_duplicates("incident_id").reset_index(drop=True)


def _transactions(session: Session, customers: np.ndarray | None) -> pd.DataFrame:
    transactions = table_of(Transaction)
    columns = (transactions.c.customer_id, _time(session, transactions.c.occurred_at), transactions.c.amount_cents)
    return _frame(_selected(session, columns, transactions.c.customer_id, customers),
                  ["customer_id", "occurred_at", "amount_cents"])


def _time(session: Session, column: Any) -> Any:
    """SQLite: the stored text, parsed by pandas at once (not one datetime per row in Python)."""
    return type_coerce(column, String) if session.get_bind().dialect.name == "sqlite" else column


def _frame(rows: list[tuple], names: list[str]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame({name: pd.Series(dtype="datetime64[us]" if name == "occurred_at" else "int64")
                             for name in names})
    columns = list(zip(*rows, strict=True))
    frame = pd.DataFrame({name: list(values) for name, values in zip(names, columns, strict=True)})
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], format="ISO8601")
    return frame


def _write(session: Session, incidents: pd.DataFrame, hours: int, *, every: bool = False) -> int:
    """Insert the outcome rows of `incidents` (`every`: all incidents, so all transactions are read)."""
    if incidents.empty:
        return 0
    customers = np.unique(incidents["customer_id"].to_numpy(dtype=np.int64))
    transactions = _transactions(session, None if every else customers)
    frame = outcome_columns(incidents, transactions, hours)
    records = _records(frame)
    outcomes = table_of(IncidentOutcome)
    for start in range(0, len(records), INSERT_CHUNK):
        session.execute(insert(outcomes), records[start:start + INSERT_CHUNK])
    return len(records)


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    columns: dict[str, list[object]] = {}
    for name in frame.columns:
        values = frame[name]
        if values.dtype.kind == "M":
            stamps = values.astype("datetime64[us]")
            columns[name] = [None if pd.isna(t) else t for t in stamps.dt.to_pydatetime()]
        else:
            columns[name] = values.to_numpy(dtype="int64").tolist()
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def _record_transactions(session: Session, state: OutcomesState) -> None:
    transactions = table_of(Transaction)
    count, highest = session.execute(select(func.count(), func.coalesce(func.max(transactions.c.id), 0))).one()
    state.transactions_count, state.transactions_max_id = int(count), int(highest)
    session.flush()


@dataclass(frozen=True)
class Prepared:
    """A new incident's outcome row, worked out before the write lock from the customer's
    purchases as they were then (`purchases`), so the lock holds only a check and an insert."""

    customer_id: int
    recovery_window_hours: int
    purchases: tuple[tuple[object, ...], ...]
    row: dict[str, object]


def prepare_new_incident(session: Session, customer_id: int, occurred_at: datetime) -> Prepared | None:
    """In a read unit before the write: the outcome row a new incident of `customer_id` at
    `occurred_at` will have (None when the table was never built)."""
    found = _state_and_purchases_of(session, customer_id)
    if found is None:
        return None
    hours, purchases = found
    incident = pd.DataFrame({"incident_id": [0], "customer_id": [customer_id],
                             "occurred_at": pd.Series([occurred_at], dtype="datetime64[us]")})
    transactions = _frame(list(purchases), ["customer_id", "occurred_at", "amount_cents"])
    row = _first_record(outcome_columns(incident, transactions, hours))
    return Prepared(customer_id, hours, purchases, row)


def _first_record(frame: pd.DataFrame) -> dict[str, object]:
    """`_records(frame)[0]`, without a pandas conversion per column (a one-row frame: the
    tablet's new incident, worked out on every gesture that opens one)."""
    row: dict[str, object] = {}
    for name in frame.columns:
        value = frame[name].to_numpy()[0]
        if isinstance(value, np.datetime64):
            row[name] = None if np.isnat(value) else value.astype("datetime64[us]").item()
        else:
            row[name] = int(value)
    return row


def add_new_incident(session: Session, incident_id: int, customer_id: int, prepared: Prepared | None) -> None:
    """Inside the write unit that created the incident: insert the prepared row when the
    customer's purchases and the window are still what it was worked out from; else refresh.
    Two statements under the lock (PostgreSQL: after the customer's lock): the state and the
    purchases read together, the row."""
    _lock(session, np.array([customer_id], dtype=np.int64), exclusive=False)
    found = _state_and_purchases_of(session, customer_id)
    if found is None:
        return  # never built: nothing to keep current
    hours, purchases = found
    if (prepared is None or prepared.customer_id != customer_id
            or prepared.recovery_window_hours != hours or purchases != prepared.purchases):
        refresh(session, [], incident_ids=[incident_id])  # something changed since: work it out here
        return
    session.connection().execute(_NEW_ROW, {**prepared.row, "incident_id": incident_id})


_NEW_ROW = insert(table_of(IncidentOutcome))
_STATE_AND_PURCHASES: dict[str, Any] = {}


def _state_and_purchases_of(session: Session, customer_id: int) -> tuple[int, tuple[tuple[object, ...], ...]] | None:
    """The state's recovery window and the customer's purchases as stored (customer, time,
    amount, in id order: compared as they are, so any insert, change or removal shows), in one
    statement; None while the table was never built."""
    rows = session.connection().execute(_state_and_purchases(session), {"customer": customer_id}).all()
    if not rows:
        return None
    return int(rows[0][0]), tuple(tuple(row[1:]) for row in rows if row[1] is not None)


def _state_and_purchases(session: Session) -> Any:
    """Its query, one row per purchase (one row of NULLs with none; no row while the table was
    never built), built once per dialect."""
    dialect = session.get_bind().dialect.name
    query = _STATE_AND_PURCHASES.get(dialect)
    if query is None:
        state, transactions = table_of(OutcomesState), table_of(Transaction)
        query = _STATE_AND_PURCHASES[dialect] = (
            select(state.c.recovery_window_hours, transactions.c.customer_id,
                   type_coerce(transactions.c.occurred_at, String) if dialect == "sqlite" else transactions.c.occurred_at,
                   transactions.c.amount_cents)
            .select_from(state.outerjoin(transactions, transactions.c.customer_id == bindparam("customer")))
            .where(state.c.id == 1).order_by(transactions.c.id))
    return query


__all__ = ["Prepared", "add_new_incident", "is_built", "prepare_new_incident", "rebuild", "rebuild_in", "refresh"]
