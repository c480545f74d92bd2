"""Bulk writes inside the import's transaction, one verb (`bulk_insert`) over three paths:
SQLite executemany of prepared tuples (on a second thread while the next chunk is made),
PostgreSQL COPY in binary format encoded from Arrow by pgpq (CSV made by Arrow for a table with a
column type binary COPY is not sent as), or portable SQLAlchemy Core (the same rows, slower;
tests compare them).

Big loads (at least `REBUILD_INDEXES_FROM_ROWS` rows and no fewer than the table holds) drop the
table's indexes, unique indexes included (transactions.code, migration 0013), and build them
again after the insert (one sort instead of millions of random B-tree inserts; a duplicate still
refuses the whole import when its unique index is built again); on PostgreSQL they also drop the
table's foreign keys and add them again, which checks every row in one join instead of one
trigger query per row (5x faster), and their unique constraints (built again by one sort).
Transactions arrive in (customer, time) order (`kinds._index_order`), so that index is built
from presorted rows. Everything is inside the import's one transaction: a failure rolls the DDL
back with the rows. On SQLite the writer lock is held anyway and readers keep their WAL snapshot;
on PostgreSQL the big load holds the table's lock until it commits, so readers of that table wait
for it (smaller imports never take it).
"""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import Boolean, Date, DateTime, Integer, Table, bindparam, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

from empowerment.services import bulk
from empowerment.services.importing.job import Job
from empowerment.services.importing.values import as_us

try:  # COPY runs on the raw psycopg connection, whose errors SQLAlchemy does not wrap
    from psycopg.errors import IntegrityError as _PsycopgIntegrityError

    INTEGRITY_ERRORS: tuple[type[Exception], ...] = (IntegrityError, _PsycopgIntegrityError)
except ImportError:  # pragma: no cover - psycopg is a requirement
    INTEGRITY_ERRORS = (IntegrityError,)

CHUNK_ROWS = 50_000  # rows per executemany / COPY chunk
SQLITE_IMPORT_CACHE_KIB = 256 * 1024  # page cache while inserting (allocated only as used)
# ...and while building indexes again: SQLite's sorter sorts runs of the page cache's size in
# memory, and runs that fit the CPU's caches, merged on two threads, sort 5M codes 2x faster
# (7.6 s -> 3.0 s; the (customer, time) index 5.3 s -> 2.5 s) than one run of 256 MB.
SQLITE_INDEX_CACHE_KIB = 8 * 1024
SQLITE_SORT_THREADS = 2
REBUILD_INDEXES_FROM_ROWS = 20_000  # see _bulk_mode
POSTGRES_INDEX_MEMORY = "512MB"  # maintenance_work_mem while a big load builds its indexes again
COPY_WRITE_BYTES = 1 << 20  # COPY data is sent in pieces of this size
# Tests turn this off to prove the portable SQLAlchemy Core path gives the same result as the
# SQLite executemany / PostgreSQL COPY fast paths.
USE_FAST_PATHS = True


def column_values(series: pd.Series, column_type: Any, as_text_times: bool) -> list[Any]:
    """One column as Python values for the driver (None for missing)."""
    if isinstance(column_type, DateTime):
        return _times(series, as_text_times)
    if isinstance(column_type, Date):
        return [None if pd.isna(d) else (d.date() if isinstance(d, datetime) else d) for d in series]
    if isinstance(column_type, Boolean):
        return [None if v is None else bool(v) for v in series.astype(object)]
    if isinstance(column_type, Integer):
        if series.dtype.kind in "iu":
            return series.to_numpy().tolist()
        if series.dtype.kind == "f" and not series.isna().any():
            return series.to_numpy().astype(np.int64).tolist()
        ints = pd.to_numeric(series, errors="coerce").astype("Int64")
        return ints.astype(object).where(ints.notna(), None).tolist()
    return list(series.to_numpy(dtype=object, na_value=None).tolist())


def _times(series: pd.Series, as_text: bool) -> list[Any]:
    times = as_us(series)
    if as_text:
        # SQLAlchemy's SQLite storage format ("2024-03-31 14:05:00.000000"), so rows written
        # here read back exactly like rows written through the ORM: Arrow's cast writes it.
        return _time_text(times).to_numpy(zero_copy_only=False).tolist()  # type: ignore[no-any-return]
    values: list[Any] = list(times.dt.to_pydatetime())
    missing = times.isna().to_numpy()
    if missing.any():
        for i in np.flatnonzero(missing):
            values[i] = None
    return values


def _time_text(times: pd.Series) -> pa.Array:
    """datetime64[us] -> Arrow strings "2024-03-31 14:05:00.000000" (null where missing)."""
    return pa.array(times.to_numpy(), type=pa.timestamp("us"), from_pandas=True).cast(pa.string())


def _rows(job: Job, table: Table, frame: pd.DataFrame, as_text_times: bool) -> list[tuple]:
    """A chunk as the driver's tuples (SQLite executemany, and the portable path)."""
    columns = [
        column_values(frame[name], table.c[name].type, as_text_times) for name in frame.columns
    ]
    return list(zip(*columns, strict=True))


def _copy_text(job: Job, table: Table, frame: pd.DataFrame) -> bytes:
    """A chunk as COPY's CSV (PostgreSQL): written by Arrow in C++, strings always quoted, so an
    empty string is "" and only a missing value is an empty field (NULL)."""
    arrays = [_arrow_column(frame[name], table.c[name].type) for name in frame.columns]
    buffer = io.BytesIO()
    pa_csv.write_csv(
        pa.Table.from_arrays(arrays, names=list(frame.columns)),
        buffer,
        pa_csv.WriteOptions(include_header=False, quoting_style="needed"),
    )
    return buffer.getvalue()


def _arrow_column(series: pd.Series, column_type: Any) -> pa.Array:
    if isinstance(column_type, DateTime):
        return pa.array(as_us(series).to_numpy(), type=pa.timestamp("us"), from_pandas=True)
    if isinstance(column_type, (Date, Boolean)):
        return pa.array(column_values(series, column_type, False))
    if isinstance(column_type, Integer):
        if series.dtype.kind in "iu":
            return pa.array(series.to_numpy(), type=pa.int64())
        ints = pd.to_numeric(series, errors="coerce").astype("Int64")
        return pa.array(ints, type=pa.int64(), from_pandas=True)
    return pa.array(series.to_numpy(dtype=object, na_value=None), type=pa.string())


def bulk_insert(
    job: Job, table: Table, frame: pd.DataFrame, *, span: tuple[float, float], label: str,
    row_order: np.ndarray | None = None,
) -> None:
    """Insert every row of `frame` (columns named as the table's; in `row_order`, positions of
    its rows, when given), reporting progress in `span`."""
    total = len(frame)
    if total == 0:
        return
    conn = job.session.connection()
    start, end = span
    with _bulk_mode(job, conn, table, total, end):
        if USE_FAST_PATHS and job.dialect == "sqlite":
            _insert_sqlite(job, conn, table, frame, row_order, span, label)
            return
        if USE_FAST_PATHS and job.dialect == "postgresql":
            schema = bulk.binary_copy_schema(conn, table.name, list(frame.columns))
            if schema is not None:
                _copy_binary(job, conn, table, frame, row_order, schema, span, label)
                return
        for offset in range(0, total, CHUNK_ROWS):
            _insert_chunk(job, conn, table, _chunk(frame, row_order, offset))
            done = min(offset + CHUNK_ROWS, total)
            job.progress(start + (end - start) * done / total, f"{label}: {done:,} of {total:,} rows")


def _chunk(frame: pd.DataFrame, row_order: np.ndarray | None, offset: int) -> pd.DataFrame:
    """The rows from `offset`, CHUNK_ROWS of them, in `row_order` when given."""
    if row_order is None:
        return frame.iloc[offset : offset + CHUNK_ROWS]
    return frame.take(row_order[offset : offset + CHUNK_ROWS])


def _insert_sqlite(job: Job, conn: Connection, table: Table, frame: pd.DataFrame, row_order: np.ndarray | None,
                   span: tuple[float, float], label: str) -> None:
    """SQLite: one prepared INSERT, executemany per chunk. The driver runs the chunk on a second
    thread (sqlite3 releases the GIL while SQLite steps) while this one makes the next chunk's
    tuples; at most one chunk is in flight and every chunk runs on the import's connection, in
    its transaction, in order. A failure of either side stops both and is raised here."""
    names = list(frame.columns)
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
    driver: Any = conn.connection.driver_connection  # a sqlite3.Connection
    cursor = driver.cursor()
    total, (start, end) = len(frame), span
    in_flight: Future[Any] | None = None
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-insert") as pool:
            for offset in range(0, total, CHUNK_ROWS):
                rows = _rows(job, table, _chunk(frame, row_order, offset), as_text_times=True)
                if in_flight is not None:
                    in_flight.result()
                in_flight = pool.submit(cursor.executemany, sql, rows)
                done = min(offset + CHUNK_ROWS, total)
                job.progress(start + (end - start) * done / total, f"{label}: {done:,} of {total:,} rows")
            if in_flight is not None:
                in_flight.result()
    except sqlite3.Error as exc:  # as SQLAlchemy would have raised it (IntegrityError, OperationalError...)
        raise DBAPIError.instance(sql, None, exc, sqlite3.Error) from exc
    finally:
        if in_flight is not None:
            wait([in_flight])  # never leave the connection busy on another thread
        cursor.close()


def _copy_binary(job: Job, conn: Connection, table: Table, frame: pd.DataFrame, row_order: np.ndarray | None,
                 schema: pa.Schema, span: tuple[float, float], label: str) -> None:
    """PostgreSQL: one binary COPY (`services.bulk`), a chunk at a time so memory stays one chunk's."""
    total, (start, end) = len(frame), span

    def batches() -> Iterator[pa.RecordBatch]:
        for offset in range(0, total, CHUNK_ROWS):
            yield _arrow_batch(table, _chunk(frame, row_order, offset), schema)
            done = min(offset + CHUNK_ROWS, total)
            job.progress(start + (end - start) * done / total, f"{label}: {done:,} of {total:,} rows")

    bulk.copy_binary(conn, table.name, schema, batches())


def _arrow_batch(table: Table, chunk: pd.DataFrame, schema: pa.Schema) -> pa.RecordBatch:
    """A chunk as Arrow arrays of the column types binary COPY sends."""
    arrays = [_arrow_column(chunk[field.name], table.c[field.name].type).cast(field.type) for field in schema]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _insert_chunk(job: Job, conn: Connection, table: Table, chunk: pd.DataFrame) -> None:
    names = list(chunk.columns)
    if USE_FAST_PATHS and job.dialect == "postgresql":
        data = _copy_text(job, table, chunk)
        raw: Any = conn.connection.driver_connection  # a psycopg.Connection
        with raw.cursor() as cursor:
            copy_sql = f"COPY {table.name} ({', '.join(names)}) FROM STDIN (FORMAT csv)"
            with cursor.copy(copy_sql) as copy:
                view = memoryview(data)
                for offset in range(0, len(data), COPY_WRITE_BYTES):
                    copy.write(view[offset : offset + COPY_WRITE_BYTES])
    else:
        records = [
            dict(zip(names, row, strict=True)) for row in _rows(job, table, chunk, as_text_times=False)
        ]
        conn.execute(insert(table), records)


@contextmanager
def _bulk_mode(job: Job, conn: Connection, table: Table, rows: int, at: float) -> Iterator[None]:
    """Inside the import's transaction, for the fast paths: SQLite gets a larger page cache for
    this connection; big loads (relative to the table) drop what can be built again faster
    afterwards (see the module's text) and build it again from its stored definition."""
    if not USE_FAST_PATHS or job.dialect not in ("sqlite", "postgresql"):
        yield
        return
    sqlite = job.dialect == "sqlite"
    old_cache = conn.exec_driver_sql("PRAGMA cache_size").scalar() if sqlite else None
    old_threads = conn.exec_driver_sql("PRAGMA threads").scalar() if sqlite else None
    if sqlite:
        conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_IMPORT_CACHE_KIB}")
    try:
        rebuild: list[str] = []
        if will_rebuild_indexes(conn, table, rows):
            rebuild = _drop_sqlite_indexes(conn, table) if sqlite else _drop_postgres_checks(conn, table)
        yield
        if rebuild and sqlite:
            conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_INDEX_CACHE_KIB}")
            conn.exec_driver_sql(f"PRAGMA threads={SQLITE_SORT_THREADS}")
        if rebuild:
            job.progress(at, f"Rebuilding {len(rebuild)} index{'es' if len(rebuild) > 1 else ''}")
        for sql in rebuild:
            conn.exec_driver_sql(sql)
    finally:
        if sqlite:  # the pooled connection as it was, whatever happened (a refused index too)
            conn.exec_driver_sql(f"PRAGMA cache_size={int(old_cache or -2000)}")
            conn.exec_driver_sql(f"PRAGMA threads={int(old_threads or 0)}")


def will_rebuild_indexes(conn: Connection, table: Table, rows: int) -> bool:
    """Whether inserting `rows` rows is a big load: the fast paths drop the table's indexes and
    build them again (their unique ones checking every row then)."""
    if not USE_FAST_PATHS or conn.dialect.name not in ("sqlite", "postgresql") or rows < REBUILD_INDEXES_FROM_ROWS:
        return False
    return rows >= conn.execute(select(func.count()).select_from(table)).scalar_one()


def _drop_sqlite_indexes(conn: Connection, table: Table) -> list[str]:
    """Drops the table's indexes (not those of its constraints): -> the SQL that creates them again."""
    dropped: list[str] = []
    indexes = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
        "AND sql IS NOT NULL",
        (table.name,),
    ).all()
    for name, sql in indexes:
        # Unique indexes too (transactions.code, migration 0013): built again by one sort, they
        # still refuse a duplicate, and the whole import with it. Table constraints' automatic
        # indexes (no sql) cannot be dropped and stay enforced row by row.
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
        dropped.append(sql)
    return dropped


def _drop_postgres_checks(conn: Connection, table: Table) -> list[str]:
    """Drops the table's indexes (unique ones too), unique constraints and foreign keys: -> the SQL that
    adds them again (indexes, then unique constraints, then foreign keys, which check every row as
    they are added)."""
    indexes = conn.exec_driver_sql(
        "SELECT c.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
        "JOIN pg_class c ON c.oid = x.indexrelid WHERE x.indrelid = %(t)s::regclass "
        "AND NOT x.indisprimary AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)",
        {"t": table.name},
    ).all()
    # Unique constraints too (not the primary key, whose new ids only grow): adding one back
    # builds its index with one sort instead of millions of random inserts into an index larger
    # than the buffer cache, and still refuses a duplicate (the whole import with it).
    keys = conn.exec_driver_sql(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %(t)s::regclass AND contype IN ('u', 'f') ORDER BY contype DESC",
        {"t": table.name},
    ).all()
    conn.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{POSTGRES_INDEX_MEMORY}'")
    again: list[str] = []
    for name, definition in indexes:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
        again.append(definition)
    for name, definition in keys:
        conn.exec_driver_sql(f'ALTER TABLE {table.name} DROP CONSTRAINT "{name}"')
        again.append(f'ALTER TABLE {table.name} ADD CONSTRAINT "{name}" {definition}')
    return again


def bulk_update(job: Job, table: Table, frame: pd.DataFrame, columns: list[str]) -> None:
    """Update `columns` of the rows whose ids are in frame["id"]."""
    if frame.empty:
        return
    stmt = (
        update(table)
        .where(table.c.id == bindparam("_id"))
        .values({name: bindparam(f"_v_{name}") for name in columns})
    )
    keys = ["_id", *[f"_v_{name}" for name in columns]]
    conn = job.session.connection()
    total = len(frame)
    for offset in range(0, total, CHUNK_ROWS):
        chunk = frame.iloc[offset : offset + CHUNK_ROWS]
        values = [
            column_values(chunk["id"], table.c.id.type, False),
            *[column_values(chunk[name], table.c[name].type, False) for name in columns],
        ]
        conn.execute(stmt, [dict(zip(keys, row, strict=True)) for row in zip(*values, strict=True)])
        done = min(offset + CHUNK_ROWS, total)
        job.progress(0.9 + 0.08 * done / total, f"Updating rows: {done:,} of {total:,}")
