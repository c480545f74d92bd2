"""Reading a SELECT as one joined string per column (a few rows instead of millions).

Python builds one object per fetched value, about a microsecond each, so rows are never fetched
one by one: each column comes back as ONE string per chunk (SQLite `group_concat`, PostgreSQL
`string_agg`) that `parsing` turns into numpy arrays. Transaction chunks are read on a few
connections at once.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    Connection,
    String,
    any_,
    bindparam,
    cast,
    func,
    literal,
    literal_column,
    select,
    type_coerce,
)

from empowerment.db import Database
from empowerment.models import Customer, Incident, Transaction
from empowerment.queries.frames.parsing import (
    CUSTOMER_KINDS,
    NAT,
    NULL_STAMP,
    NULL_US,
    TRANSACTION_KINDS,
    UNIT_SEPARATOR,
    Kinds,
    as_frame,
    empty_columns,
    isin,
    parse,
    sorted_transactions,
)
from empowerment.queries.frames.statements import (
    Stmt,
    customers_select,
    transaction_window,
    transactions_select,
)

CHUNK_ROWS = 500_000  # transactions per query: ~14 MB of text per column
READ_THREADS = min(4, os.cpu_count() or 1)  # chunks read at once, one connection each
INDEX_PATH_SHARE = 0.10  # below this share of all customers, transactions are read through the index


def _few_customers(conn: Connection, scope: np.ndarray) -> bool:
    """Few enough customers in scope to read their transactions through the (customer, time)
    index; otherwise one scan of the table is cheaper than that many random reads."""
    customers = conn.execute(select(func.max(Customer.id))).scalar() or 0
    return scope.size < INDEX_PATH_SHARE * customers


def _separate_connections_allowed(conn: Connection) -> bool:
    """Other connections see the same data unless the database lives in this connection's memory."""
    database = conn.engine.url.database
    return bool(database) and database != ":memory:" and "mode=memory" not in str(conn.engine.url)


def latest_incident(conn: Connection) -> pd.Timestamp | None:
    latest = conn.execute(select(func.max(Incident.occurred_at))).scalar()
    return None if latest is None else pd.Timestamp(latest)



class Snapshot:
    """One connection and one read transaction, so every frame sees the same data."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def __enter__(self) -> Connection:
        conn = self.db.engine.connect()
        if self.db.dialect == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        self.conn = conn
        conn.begin()
        return conn

    def __exit__(self, *exc: object) -> None:
        self.conn.rollback()
        self.conn.close()


class Reader:
    """Reads a SELECT as one joined string per column (a few rows instead of millions), which numpy
    parses: one Python object per column instead of one per value.

    SQLite: `group_concat`, times as their stored fixed-width text. PostgreSQL: `string_agg`,
    times as exact epoch microseconds. Every aggregate of one query steps through the same rows in
    the same order, so the strings line up row for row.
    """

    def __init__(self, conn: Connection) -> None:
        if conn.dialect.name not in ("sqlite", "postgresql"):
            raise NotImplementedError(f"No analytics reader for {conn.dialect.name}.")
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"

    def ids_clause(self, column: Any, ids: np.ndarray) -> ColumnElement[bool]:
        if self.sqlite:
            listed: Any = select(literal_column("value")).select_from(
                func.json_each(literal(json.dumps(ids.tolist()), String)))
            return column.in_(listed)  # type: ignore[no-any-return]
        # A real array parameter: a constant PostgreSQL hashes for "= ANY" (a text literal cast to
        # an array would be parsed again for every row).
        return column == any_(bindparam("scope_ids", ids.tolist(), type_=ARRAY(BigInteger)))  # type: ignore[no-any-return]

    def frame(self, stmt: Stmt, kinds: Kinds) -> pd.DataFrame:
        return as_frame(self._columns(self.conn, stmt, kinds)[0], kinds)

    def customers(self, scope: np.ndarray, first_purchase: bool = True) -> pd.DataFrame:
        """The scope's customers. A few are picked by id; for many, reading every customer and
        keeping the scope here is cheaper than sending the database 200k ids to match.
        `first_purchase`: an unknown first-seen time falls back to the first transaction (one
        index probe per customer); without it, it stays unknown (the caller knows it otherwise)."""
        if _few_customers(self.conn, scope):
            return self.frame(customers_select(self.ids_clause(Customer.id, scope), first_purchase=first_purchase),
                              CUSTOMER_KINDS)
        columns, _ = self._columns(self.conn, customers_select(first_purchase=first_purchase), CUSTOMER_KINDS)
        keep = isin(columns["customer_id"], scope)
        return as_frame({name: values[keep] for name, values in columns.items()}, CUSTOMER_KINDS)

    def _columns(self, conn: Connection, stmt: Stmt, kinds: Kinds,
                 latest_of: str | None = None) -> tuple[dict[str, Any], Any]:
        """Parsed columns; `latest_of` also returns that column's maximum over the same rows."""
        inner = stmt.subquery()
        aggregates: list[Any] = [func.count()]
        aggregates += [self._joined(inner.c[name], kind) for name, kind in kinds.items()]
        if latest_of is not None:
            aggregates.append(func.max(inner.c[latest_of]))
        row = conn.execute(select(*aggregates)).one()
        count = int(row[0])
        columns = {name: self._parse_column(row[i + 1], kind, count) for i, (name, kind) in enumerate(kinds.items())}
        return columns, row[-1] if latest_of is not None else None

    def _joined(self, column: Any, kind: str) -> Any:
        text: Any
        if kind == "int":
            text = cast(column, String)
        elif kind == "time" and self.sqlite:
            text = func.coalesce(type_coerce(column, String), _constant(NULL_STAMP))
        elif kind == "time":
            text = cast(func.coalesce(_epoch_us(column), literal_column(str(NULL_US), BigInteger)), String)
        else:
            text = func.coalesce(cast(column, String), _constant(""))
        separator = _constant(UNIT_SEPARATOR if kind == "text" else ",")
        return (func.group_concat if self.sqlite else func.string_agg)(text, separator)

    def _parse_column(self, joined: str | None, kind: str, count: int) -> Any:
        if kind == "time" and not self.sqlite:
            micros = parse(joined, "int", count)
            return np.where(micros == NULL_US, NAT, micros * 1000)
        return parse(joined, kind, count)

    def transactions(
        self, scope: np.ndarray, since: pd.Timestamp | None, until: pd.Timestamp | None,
    ) -> tuple[pd.DataFrame, pd.Timestamp | None]:
        """The scope's transactions in the window, sorted, and the latest transaction time."""
        window = transaction_window(since, until)
        if scope.size and _few_customers(self.conn, scope):  # walk the (customer, time) index
            stmt = transactions_select(self.ids_clause(Transaction.customer_id, scope), *window)
            columns, _ = self._columns(self.conn, stmt, TRANSACTION_KINDS)
            return sorted_transactions(columns), self._latest_transaction() if until is None else None
        parts, latest = self._scan_transactions(scope, window)
        merged = {name: np.concatenate([part[name] for part in parts]) for name in TRANSACTION_KINDS}
        if latest is None:  # nothing since the window start: the latest of all
            latest = self._latest_transaction()
        return sorted_transactions(merged), None if latest is None else pd.Timestamp(latest)

    def _scan_transactions(self, scope: np.ndarray, window: list[Any]) -> tuple[list[dict[str, Any]], Any]:
        """Every transaction in the window, in chunks (each a range read), on up to READ_THREADS
        connections at once (the drivers release the GIL while the database works), filtered to
        the scope here; also the latest time read.

        SQLite: customer-id ranges walked along the (customer, time, amount) index, so the rows
        arrive in the order the analytics needs and are not sorted again. PostgreSQL: id ranges
        (sequential reads of the heap), sorted afterwards. Either way each row is read once."""
        column = Transaction.customer_id if self.sqlite else Transaction.id
        ranges = self._chunk_ranges(column)
        if not ranges:
            return [empty_columns(TRANSACTION_KINDS)], None
        threads = min(READ_THREADS, len(ranges)) if _separate_connections_allowed(self.conn) else 1

        def chunk(bounds: tuple[int, int]) -> tuple[dict[str, Any], Any]:
            # No ORDER BY: SQLite would run the subquery as a co-routine (twice as slow); the
            # index walk gives the order anyway, and `sorted_transactions` checks it.
            stmt = transactions_select(column > bounds[0], column <= bounds[1], *window)
            if threads == 1:
                columns, latest = self._columns(self.conn, stmt, TRANSACTION_KINDS, "occurred_at")
            else:
                with self.conn.engine.connect() as conn:
                    columns, latest = self._columns(conn, stmt, TRANSACTION_KINDS, "occurred_at")
            keep = isin(columns["customer_id"], scope)
            return {name: values[keep] for name, values in columns.items()}, latest

        if threads == 1:
            results = [chunk(bounds) for bounds in ranges]
        else:
            with ThreadPoolExecutor(threads, thread_name_prefix="payoff-read") as pool:
                results = list(pool.map(chunk, ranges))
        found = [pd.Timestamp(latest) for _, latest in results if latest is not None]
        return [part for part, _ in results], max(found, default=None)

    def _chunk_ranges(self, column: Any) -> list[tuple[int, int]]:
        """(after, up to) ranges of `column` with about CHUNK_ROWS transactions each, judged from
        the id span (customer ranges assume transactions spread evenly over customers)."""
        def ends(of: Any) -> tuple[int | None, int | None]:  # a lone min() or max() is read off
            return (self.conn.execute(select(func.min(of))).scalar(),  # an end of an index
                    self.conn.execute(select(func.max(of))).scalar())

        low_id, high_id = ends(Transaction.id)
        low, high = ends(column)
        if low_id is None or high_id is None or low is None or high is None:
            return []
        pieces = max(1, -(-(high_id - low_id + 1) // CHUNK_ROWS))
        edges = np.unique(np.linspace(low - 1, high, pieces + 1).round().astype(np.int64))
        return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]

    def _latest_transaction(self) -> pd.Timestamp | None:
        latest = self.conn.execute(select(func.max(Transaction.occurred_at))).scalar()
        return None if latest is None else pd.Timestamp(latest)


def _constant(text: str) -> Any:
    """A string written into the SQL, not bound: SQLite's group_concat reads a bound separator
    again for every row (60% slower over 500k rows). Only for the module's own constants."""
    assert "'" not in text
    return literal_column(f"'{text}'", String)


def _epoch_us(column: Any) -> Any:
    """PostgreSQL: a timestamp as exact integer microseconds since 1970 (whole seconds and the
    microseconds field separately: one double for both would round at about half a microsecond)."""
    seconds = cast(func.date_part("epoch", func.date_trunc("second", column)), BigInteger)
    micros = cast(func.date_part("microseconds", column), BigInteger)
    return seconds * 1_000_000 + micros % 1_000_000

