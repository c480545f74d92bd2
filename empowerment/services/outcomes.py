"""The outcomes table (`models.IncidentOutcome`), kept equal to a rebuild as data arrives.

Every writer of transactions or incidents calls `refresh(session, customer_ids, ...)` inside its
own unit of work, after its writes: the outcome rows of those customers' incidents are computed
again from their incidents and transactions (`analytics.linking.outcome_columns`, vectorised) and
replaced, set-based whatever the number of customers: the ids go into a temporary table, then
two reads joined to it (SQLite's rows as CSV lines that Arrow parses, PostgreSQL's as binary
COPY read straight into arrays), one computation, one delete and one bulk insert (executemany / COPY). Writers: the import (transactions, incidents), the tablet and API (`gestures.log_gesture`
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

import io
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import Connection, String, bindparam, delete, func, insert, select, type_coerce
from sqlalchemy.orm import Session

from empowerment import access, settings
from empowerment.actor import Actor
from empowerment.analytics.linking import outcome_columns, outcome_row
from empowerment.clock import utc_now
from empowerment.db import Database
from empowerment.models import IncidentOutcome, OutcomesState, Transaction
from empowerment.models import table as table_of
from empowerment.services import bulk

INSERT_CHUNK = 50_000  # outcome rows per SQLite executemany
READ_BATCH = 500_000  # SQLite rows per parsed batch
CHECK_KEYS_AFTER_ROWS = 20_000  # PostgreSQL: from this many outcome rows, foreign keys are checked once
ANALYZE_IDS_FROM = 10_000  # PostgreSQL: ids in the temporary table from which it is analysed
_LOCK = 715_001  # advisory lock key of the outcomes (any constant; PostgreSQL only)


@dataclass(frozen=True)
class Inserted:
    """Transactions a writer inserts (and none it updates), still in its memory: a refresh around
    them reads from the database only the transactions before them (ids up to `before_id`) and
    takes these as they are, instead of reading back what was just written (a 5M-row import:
    seconds and a GB saved)."""

    before_id: int
    rows: pd.DataFrame  # customer_id, occurred_at, amount_cents: exactly as written


@contextmanager
def refreshed_around_insert(session: Session, customer_ids: Iterable[int] | np.ndarray,
                            rows: pd.DataFrame) -> Iterator[None]:
    """Inside a write unit, around the body that inserts transactions `rows` (customer_id,
    occurred_at, amount_cents, exactly as written; the writer updates none): the outcome rows of
    `customer_ids`' incidents, worked out on a second thread while the body inserts (everything
    they need is read first: the incidents and the transactions before these), then written.
    Takes the outcomes' exclusive lock first (PostgreSQL; held to commit, so no other writer of
    transactions commits in between). A failing body writes no outcome row."""
    state = session.get(OutcomesState, 1)
    if state is None:
        yield  # never built: nothing to keep current
        return
    _lock(session, np.zeros(0, dtype=np.int64), exclusive=True)
    before = _transactions_now(session)
    customers = _ids(customer_ids)
    conn = session.connection()
    incidents = _incidents_of(conn, customers, np.zeros(0, dtype=np.int64))
    if incidents.empty:  # none of these customers had an incident: no outcome row changes
        yield
    else:
        transactions = _transactions_of(conn, incidents, Inserted(before[1], rows))
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="outcomes") as pool:
            # numpy and Arrow release the GIL for most of this; the insert runs in SQLite / the server
            computed = pool.submit(outcome_columns, incidents, transactions, state.recovery_window_hours)
            yield
        _delete_replaced(conn)
        _insert_rows(conn, computed.result())
    latest = rows["occurred_at"].max() if len(rows) else None
    _record_transactions(session, state, after_insert=(before, len(rows), latest))


def _transactions_now(session: Session) -> tuple[int, int, datetime | None]:
    """(count, highest id, latest time) of the transactions table."""
    transactions = table_of(Transaction)
    count, highest, latest = session.execute(select(func.count(), func.coalesce(func.max(transactions.c.id), 0),
                                                    func.max(transactions.c.occurred_at))).one()
    return int(count), int(highest), latest


def refresh(session: Session, customer_ids: Iterable[int] | np.ndarray, *, transactions_changed: bool = False,
            incident_ids: Iterable[int] | np.ndarray = ()) -> None:
    """Inside the caller's write unit, after its writes: the outcome rows of the incidents of
    `customer_ids` (and of `incident_ids`, wherever they now belong) computed again. Say
    `transactions_changed` when transactions were written, so the state records them. (A writer
    that only inserts transactions it holds in memory: `refreshed_around_insert`.)"""
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
    incidents = _read(session.connection(), "SELECT i.id, i.customer_id, i.occurred_at FROM incidents i",
                      _INCIDENT_COLUMNS)
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
    """The outcome rows of the customers' incidents and of `moved` ones, replaced: the ids go into
    a temporary table once, and every read and delete after is one statement joined to it."""
    conn = session.connection()
    incidents = _incidents_of(conn, customers, moved)
    _delete_replaced(conn)
    _write(session, incidents, hours)


def _incidents_of(conn: Connection, customers: np.ndarray, moved: np.ndarray) -> pd.DataFrame:
    """The incidents of `customers` and the `moved` ones; their ids are left in the temporary
    table for `_delete_replaced`."""
    _fill_ids(conn, _CUSTOMERS, customers)
    _fill_ids(conn, _MOVED, moved)
    incidents = _read(conn, (
        "SELECT i.id, i.customer_id, i.occurred_at FROM incidents i "
        f"WHERE i.customer_id IN (SELECT id FROM {_IDS} WHERE kind = {_CUSTOMERS}) "
        f"OR i.id IN (SELECT id FROM {_IDS} WHERE kind = {_MOVED})"), _INCIDENT_COLUMNS)
    _fill_ids(conn, _INCIDENTS, incidents["incident_id"].to_numpy(dtype=np.int64))
    return incidents


def _delete_replaced(conn: Connection) -> None:
    """The stored outcome rows `_incidents_of` listed (and any other of those customers)."""
    conn.exec_driver_sql(
        f"DELETE FROM incident_outcomes WHERE customer_id IN (SELECT id FROM {_IDS} WHERE kind = {_CUSTOMERS})")
    conn.exec_driver_sql(
        f"DELETE FROM incident_outcomes WHERE incident_id IN (SELECT id FROM {_IDS} WHERE kind IN ({_MOVED}, {_INCIDENTS}))")


_IDS = "_outcome_ids"  # a temporary table: (kind, id) of the ids a refresh works on
_CUSTOMERS, _MOVED, _INCIDENTS, _OF_INCIDENTS = 1, 2, 3, 4
_INCIDENT_COLUMNS = ("incident_id", "customer_id", "occurred_at")
_TRANSACTION_COLUMNS = ("customer_id", "occurred_at", "amount_cents")


def _fill_ids(conn: Connection, kind: int, ids: np.ndarray) -> None:
    """The temporary id table holds exactly `ids` under `kind` (made on first use, per connection;
    PostgreSQL drops it at commit)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"CREATE TEMP TABLE IF NOT EXISTS {_IDS} (kind INTEGER NOT NULL, id BIGINT NOT NULL, "
                             "PRIMARY KEY (kind, id)) ON COMMIT DROP")
    else:
        conn.exec_driver_sql(f"CREATE TEMP TABLE IF NOT EXISTS {_IDS} (kind INTEGER NOT NULL, id INTEGER NOT NULL, "
                             "PRIMARY KEY (kind, id))")
    conn.exec_driver_sql(f"DELETE FROM {_IDS} WHERE kind = {kind}")
    values = np.unique(ids.astype(np.int64))
    if values.size == 0:
        return
    driver: Any = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        with driver.cursor() as cursor, cursor.copy(f"COPY {_IDS} (kind, id) FROM STDIN") as copy:
            copy.write("".join(f"{kind}\t{v}\n" for v in values.tolist()))
        if values.size >= ANALYZE_IDS_FROM:  # a temporary table has no statistics: joins to it are planned blind
            conn.exec_driver_sql(f"ANALYZE {_IDS}")
    else:
        driver.executemany(f"INSERT INTO {_IDS} (kind, id) VALUES ({kind}, ?)", [(v,) for v in values.tolist()])


def _read(conn: Connection, sql: str, names: tuple[str, ...]) -> pd.DataFrame:
    """The rows of `sql` (integer columns and one `occurred_at`) as a frame, without making
    Python objects of every value: SQLite makes one CSV line per row that Arrow parses a batch at
    a time; PostgreSQL sends binary COPY (`_read_binary`)."""
    driver: Any = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        return _read_binary(driver, sql, names)
    types = {name: pa.timestamp("us") if name == "occurred_at" else pa.int64() for name in names}
    options = (pa_csv.ReadOptions(column_names=list(names)), pa_csv.ConvertOptions(column_types=types))
    parts: list[pa.Table] = []
    fields = " || ',' || ".join(f"q.{n}" for n in _select_names(sql))
    cursor = driver.execute(f"SELECT {fields} FROM ({sql}) q")
    while batch := cursor.fetchmany(READ_BATCH):
        data = "\n".join([row[0] for row in batch]).encode("utf-8")
        parts.append(pa_csv.read_csv(io.BytesIO(data), read_options=options[0], convert_options=options[1]))
    cursor.close()
    if not parts:
        return _frame([], list(names))
    frame = pa.concat_tables(parts).to_pandas()
    frame["occurred_at"] = frame["occurred_at"].astype("datetime64[us]")
    return frame


_PG_EPOCH_US = int((np.datetime64("2000-01-01T00:00:00", "us") - np.datetime64(0, "us")).astype(np.int64))


def _read_binary(driver: Any, sql: str, names: tuple[str, ...]) -> pd.DataFrame:
    """PostgreSQL: COPY's binary format, read straight into arrays. The columns are fixed width
    and never NULL (integer ids, a bigint amount, a timestamp as microseconds since 2000), so
    every row is the same few bytes: no text is written by the server or parsed here."""
    widths = [8 if n in ("occurred_at", "amount_cents") else 4 for n in names]
    buffer = bytearray()
    with driver.cursor() as cursor:
        # ids as int4 whatever their column type, so the widths hold
        listed = [f"q.{n}" if w == 8 else f"q.{n}::int4" for n, w in zip(_select_names(sql), widths, strict=True)]
        with cursor.copy(f"COPY (SELECT {', '.join(listed)} FROM ({sql}) q) TO STDOUT (FORMAT binary)") as copy:
            for block in copy:
                buffer += block
    header = 11 + 4 + 4 + int.from_bytes(buffer[15:19], "big")  # signature, flags, extension
    fields: list[tuple[str, str]] = [("count", ">i2")]
    for i, width in enumerate(widths):
        fields += [(f"len{i}", ">i4"), (f"v{i}", f">i{width}")]
    row = np.dtype(fields)
    body = memoryview(buffer)[header : len(buffer) - 2]  # the trailer is a count of -1
    rows = np.frombuffer(body, dtype=row)
    if rows.size and not ((rows["count"] == len(names)).all()
                          and all((rows[f"len{i}"] == w).all() for i, w in enumerate(widths))):
        raise AssertionError("unexpected COPY row layout")  # pragma: no cover - NOT NULL columns
    frame = pd.DataFrame({n: rows[f"v{i}"].astype(np.int64) for i, n in enumerate(names)})
    frame["occurred_at"] = (frame["occurred_at"].to_numpy() + _PG_EPOCH_US).astype("datetime64[us]")
    return frame


def _select_names(sql: str) -> list[str]:
    """The output names of "SELECT a.x, b.y FROM ..." (x, y): the subquery's columns."""
    listed = sql[len("SELECT "):sql.index(" FROM ")]
    return [part.strip().split(".")[-1] for part in listed.split(",")]


def _time(session: Session, column: Any) -> Any:
    """SQLite: the stored text, compared as stored (not one datetime per row in Python)."""
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
    """Insert the outcome rows of `incidents` (`every`: all incidents, so all transactions are
    read): one read of their customers' transactions, one vectorised computation, one bulk insert."""
    if incidents.empty:
        return 0
    conn = session.connection()
    frame = outcome_columns(incidents, _transactions_of(conn, incidents, every=every), hours)
    _insert_rows(conn, frame)
    return len(frame)


def _transactions_of(conn: Connection, incidents: pd.DataFrame, inserted: Inserted | None = None, *,
                     every: bool = False) -> pd.DataFrame:
    """The transactions of the incidents' customers (`every`: all of them) in one read, off the
    (customer, time) index; with `inserted`, only those before them, and those from memory."""
    if every:
        return _read(conn, "SELECT t.customer_id, t.occurred_at, t.amount_cents FROM transactions t",
                     _TRANSACTION_COLUMNS)
    _fill_ids(conn, _OF_INCIDENTS, incidents["customer_id"].to_numpy(dtype=np.int64))
    earlier = "" if inserted is None else f" AND t.id <= {int(inserted.before_id)}"
    transactions = _read(conn, (
        "SELECT t.customer_id, t.occurred_at, t.amount_cents FROM transactions t "
        f"WHERE t.customer_id IN (SELECT id FROM {_IDS} WHERE kind = {_OF_INCIDENTS}){earlier}"),
        _TRANSACTION_COLUMNS)
    if inserted is not None:
        transactions = _with_inserted(transactions, inserted.rows, incidents["customer_id"])
    return transactions


def _with_inserted(read: pd.DataFrame, inserted: pd.DataFrame, customers: pd.Series) -> pd.DataFrame:
    """The transactions read, and the inserted ones of the same customers (any order: the
    linkage sorts), in the read's column types."""
    rows = inserted.loc[inserted["customer_id"].isin(customers.to_numpy(dtype="int64")).to_numpy(),
                        list(_TRANSACTION_COLUMNS)]
    rows = pd.DataFrame({"customer_id": rows["customer_id"].to_numpy(dtype="int64"),
                         "occurred_at": rows["occurred_at"].to_numpy(dtype="datetime64[us]"),
                         "amount_cents": rows["amount_cents"].to_numpy(dtype="int64")})
    return rows if read.empty else pd.concat([read, rows], ignore_index=True)


def _insert_rows(conn: Connection, frame: pd.DataFrame) -> None:
    """Outcome rows in bulk: SQLite executemany of tuples (times as SQLAlchemy stores them),
    PostgreSQL binary COPY (`services.bulk`). In incident order: each row then goes at the end of
    the primary key's B-tree (200k rows on SQLite: 2.3 s -> 1.2 s)."""
    frame = frame.take(np.argsort(frame["incident_id"].to_numpy(), kind="stable"))
    names = list(frame.columns)
    arrays = [pa.array(frame[n].astype("datetime64[us]").to_numpy(), type=pa.timestamp("us"), from_pandas=True)
              if frame[n].dtype.kind == "M" else pa.array(frame[n].to_numpy(dtype="int64"), type=pa.int64())
              for n in names]
    driver: Any = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        schema = bulk.binary_copy_schema(conn, "incident_outcomes", names)
        assert schema is not None, "incident_outcomes holds integers and timestamps only"
        batch = pa.RecordBatch.from_arrays([a.cast(f.type) for a, f in zip(arrays, schema, strict=True)],
                                           schema=schema)
        with _foreign_keys_checked_at_the_end(conn, len(frame)):
            bulk.copy_binary(conn, "incident_outcomes", schema, [batch])
        return
    sql = f"INSERT INTO incident_outcomes ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
    for start in range(0, len(frame), INSERT_CHUNK):
        columns = [(a.slice(start, INSERT_CHUNK).cast(pa.string()) if pa.types.is_timestamp(a.type)
                    else a.slice(start, INSERT_CHUNK)).to_numpy(zero_copy_only=False).tolist() for a in arrays]
        driver.executemany(sql, list(zip(*columns, strict=True)))


@contextmanager
def _foreign_keys_checked_at_the_end(conn: Connection, rows: int) -> Iterator[None]:
    """PostgreSQL, many rows: the foreign key (each row's incident) is dropped and added again,
    one join over every row instead of one trigger query per row (200k rows: about 2 s saved).
    Inside the writer's transaction: a failure rolls the DDL back too; the table is locked to its
    readers until commit, as a big import locks the transactions anyway."""
    if rows < CHECK_KEYS_AFTER_ROWS:
        yield
        return
    keys = conn.exec_driver_sql(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'incident_outcomes'::regclass AND contype = 'f'").all()
    for name, _definition in keys:
        conn.exec_driver_sql(f'ALTER TABLE incident_outcomes DROP CONSTRAINT "{name}"')
    yield
    for name, definition in keys:
        conn.exec_driver_sql(f'ALTER TABLE incident_outcomes ADD CONSTRAINT "{name}" {definition}')


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


def _record_transactions(session: Session, state: OutcomesState,
                         after_insert: tuple[tuple[int, int, datetime | None], int, Any] | None = None) -> None:
    """The state's record of the transactions table; `after_insert` ((count, highest id, latest)
    before an insert of only new rows, their number, their latest time): counted from those
    instead of scanning the table again."""
    if after_insert is None:
        state.transactions_count, state.transactions_max_id, state.transactions_latest_at = _transactions_now(session)
    else:
        (count, _highest, latest), added, added_latest = after_insert
        highest = session.scalar(select(func.coalesce(func.max(table_of(Transaction).c.id), 0)))
        if added_latest is not None and not pd.isna(added_latest):
            added_latest = pd.Timestamp(added_latest).to_pydatetime()
            latest = added_latest if latest is None else max(latest, added_latest)
        state.transactions_count, state.transactions_max_id = count + added, int(highest or 0)
        state.transactions_latest_at = latest
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
    row = _new_row(customer_id, occurred_at, purchases, hours)
    if row is None:  # a stored time plain Python does not read: the general path's parsing
        incident = pd.DataFrame({"incident_id": [0], "customer_id": [customer_id],
                                 "occurred_at": pd.Series([occurred_at], dtype="datetime64[us]")})
        transactions = _frame(list(purchases), ["customer_id", "occurred_at", "amount_cents"])
        row = _first_record(outcome_columns(incident, transactions, hours))
    return Prepared(customer_id, hours, purchases, row)


_EPOCH = datetime(1970, 1, 1)
_MICROSECOND = timedelta(microseconds=1)


def _ns(value: object) -> int:
    """A stored time (SQLite: ISO text; PostgreSQL: a datetime) as int64 nanoseconds of naive UTC."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        raise ValueError(f"not a time: {value!r}")
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return ((moment - _EPOCH) // _MICROSECOND) * 1000


def _new_row(customer_id: int, occurred_at: datetime, purchases: tuple[tuple[object, ...], ...],
             hours: int) -> dict[str, object] | None:
    """The new incident's row by `outcome_row` (one incident: no pandas), as `_first_record` gives
    it; None when a stored time is not ISO text or a datetime."""
    try:
        times = [_ns(row[1]) for row in purchases]
        incident_ns = _ns(occurred_at)
    except (TypeError, ValueError):
        return None
    amounts = [int(row[2]) for row in purchases]  # type: ignore[call-overload]
    row: dict[str, object] = dict(outcome_row(0, customer_id, incident_ns, times, amounts, hours))
    for name in ("occurred_at", "first_return_at", "first_transaction_at"):
        value = row[name]
        row[name] = None if value is None else _EPOCH + timedelta(microseconds=int(value) // 1000)  # type: ignore[call-overload]
    return row


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
