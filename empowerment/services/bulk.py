"""Bulk verbs: PostgreSQL binary COPY from Arrow, shared by the bulk writers (the import, the
outcomes table), and reading a query's rows as Arrow columns (`read_arrow`, the import's lookups).

Binary COPY sends each value in the column's own binary form (pgpq encodes Arrow arrays in
Rust), so the server parses no text: timestamps above all, whose text parsing is most of a CSV
COPY's server time (5M transactions: 15.2 s as CSV, 9.7 s binary). Binary input must match the
column's type exactly, so the types come from the table as the database has it.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy.engine import Connection

# information_schema's type names -> the Arrow type that column is sent as
BINARY_COPY_TYPES: dict[str, pa.DataType] = {
    "integer": pa.int32(), "bigint": pa.int64(), "smallint": pa.int16(), "boolean": pa.bool_(),
    "timestamp without time zone": pa.timestamp("us"), "date": pa.date32(),
    "character varying": pa.string(), "text": pa.string(),
}


def binary_copy_schema(conn: Connection, table_name: str, names: list[str]) -> pa.Schema | None:
    """The Arrow schema `names` are sent as in binary COPY into `table_name`; None when a column
    has a type not listed (send CSV then, which the server converts)."""
    found: dict[str, str] = dict(conn.exec_driver_sql(  # type: ignore[arg-type]
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = %(t)s", {"t": table_name}).all())
    types = [BINARY_COPY_TYPES.get(found.get(name, "")) for name in names]
    if any(t is None for t in types):
        return None
    return pa.schema([pa.field(name, t) for name, t in zip(names, types, strict=True)])


def copy_binary(conn: Connection, table_name: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> None:
    """One COPY of `batches` (of `schema`) into `table_name`, on the connection's transaction."""
    from pgpq import ArrowToPostgresBinaryEncoder

    encoder = ArrowToPostgresBinaryEncoder(schema)
    raw: Any = conn.connection.driver_connection  # a psycopg.Connection
    with raw.cursor() as cursor, cursor.copy(
            f"COPY {table_name} ({', '.join(schema.names)}) FROM STDIN (FORMAT binary)") as copy:
        copy.write(encoder.write_header())
        for batch in batches:
            copy.write(encoder.write_batch(batch))
        copy.write(encoder.finish())


READ_BATCH = 100_000  # SQLite rows per Arrow parse
READ_RANGE = 16_384  # SQLite: values of `ranges_of` per query when rows are read in ranges


def read_arrow(conn: Connection, sql: str, schema: pa.Schema, *, ranges_of: str | None = None) -> pa.Table:
    """The rows of `sql` (a SELECT whose output columns are `schema`'s names) as an Arrow table
    of `schema` (int64, string and timestamp("us") columns), with no Python object per value.

    SQLite: one CSV line per row, written by SQLite's printf: text as SQL quotes it (%Q: 'it''s',
    line breaks and all; NULL as an unquoted NULL), integers as digits (NULL as nothing), so
    Arrow's CSV reader, quoting with ', tells NULL from "" and from 'NULL'. The stored text of a
    timestamp (SQLAlchemy's "2024-03-31 14:05:00.000000") is parsed by Arrow's ISO 8601 cast.
    With `ranges_of` (an integer output column, the table's rowid best: "id"), the rows come a
    range of its values at a time, each range's lines joined by SQLite into one text (a fifth
    faster than a Python string per row); rows whose value is NULL are then left out.
    PostgreSQL: COPY ... TO STDOUT as CSV, where NULL is an empty unquoted cell and "" a quoted
    one (`ranges_of` is not needed). Raises pyarrow.ArrowInvalid when a value does not parse as its
    type (a stored time that is not ISO 8601, a real in an integer column): the caller reads such
    rows another way."""
    driver: Any = conn.connection.driver_connection
    names = [f'q."{name}"' for name in schema.names]
    if conn.dialect.name == "postgresql":
        return _read_copy_csv(driver, f"SELECT {', '.join(names)} FROM ({sql}) q", schema)
    as_read = pa.schema([pa.field(f.name, pa.string() if pa.types.is_timestamp(f.type) else f.type)
                         for f in schema])
    formats = ",".join("%Q" if pa.types.is_string(t) else "%s" for t in as_read.types)
    line = f"printf('{formats}', {', '.join(names)})"
    options = (
        pa_csv.ReadOptions(column_names=schema.names),
        pa_csv.ParseOptions(quote_char="'", double_quote=True, escape_char=False, newlines_in_values=True,
                            ignore_empty_lines=False),  # a row of one NULL integer is an empty line
        pa_csv.ConvertOptions(column_types=as_read, null_values=["", "NULL"], strings_can_be_null=True,
                              quoted_strings_can_be_null=False),
    )
    texts = _sqlite_ranges(driver, sql, line, ranges_of) if ranges_of else _sqlite_rows(driver, sql, line)
    # every line ended, the last too: else a last row of one NULL integer would be no line at all
    parts = [pa_csv.read_csv(io.BytesIO((text + "\n").encode("utf-8")), read_options=options[0],
                             parse_options=options[1], convert_options=options[2]) for text in texts]
    table = pa.concat_tables(parts) if parts else as_read.empty_table()
    return table.cast(schema)  # the times: text -> timestamp (ArrowInvalid when one is not ISO 8601)


def _sqlite_rows(driver: Any, sql: str, line: str) -> Iterator[str]:
    cursor = driver.execute(f"SELECT {line} FROM ({sql}) q")
    try:
        while batch := cursor.fetchmany(READ_BATCH):
            yield "\n".join([row[0] for row in batch])
    finally:
        cursor.close()


def _sqlite_ranges(driver: Any, sql: str, line: str, key: str) -> Iterator[str]:
    # one aggregate a query: SQLite answers each of these from the rowid or an index alone
    low, high, count = (driver.execute(f'SELECT {aggregate} FROM ({sql}) q').fetchone()[0]
                        for aggregate in (f'min(q."{key}")', f'max(q."{key}")', "count(*)"))
    if low is None:
        return
    if high - low + 1 > 4 * count + READ_RANGE:  # sparse values: most ranges would be empty
        yield from _sqlite_rows(driver, f'SELECT * FROM ({sql}) q WHERE q."{key}" IS NOT NULL', line)
        return
    query = f"SELECT group_concat({line}, char(10)) FROM ({sql}) q WHERE q.\"{key}\" >= ? AND q.\"{key}\" < ?"
    for start in range(low, high + 1, READ_RANGE):
        (text,) = driver.execute(query, (start, start + READ_RANGE)).fetchone()
        if text is not None:
            yield text


def _read_copy_csv(driver: Any, sql: str, schema: pa.Schema) -> pa.Table:
    buffer = bytearray()
    with driver.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy:
        for block in copy:
            buffer += block
    if not buffer:
        return schema.empty_table()
    return pa_csv.read_csv(
        pa.py_buffer(buffer),
        read_options=pa_csv.ReadOptions(column_names=schema.names),
        parse_options=pa_csv.ParseOptions(
            quote_char='"', double_quote=True, escape_char=False,
            # a value with a line break is quoted: without any quote, Arrow may split the text
            # anywhere and parse its parts on both cores
            newlines_in_values=b'"' in buffer, ignore_empty_lines=False),
        convert_options=pa_csv.ConvertOptions(
            column_types=schema, null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=False),
    )


def read_frame(conn: Connection, sql: str, schema: pa.Schema, *, ranges_of: str | None = None) -> pd.DataFrame:
    """`read_arrow` as a DataFrame: int64 (float64 where a column has NULLs), pandas' Arrow
    strings (NaN for NULL) and datetime64[us] columns."""
    frame = read_arrow(conn, sql, schema, ranges_of=ranges_of).to_pandas()
    for field in schema:
        if pa.types.is_timestamp(field.type):
            frame[field.name] = frame[field.name].astype("datetime64[us]")
    return frame
