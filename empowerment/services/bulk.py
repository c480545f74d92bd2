"""PostgreSQL binary COPY from Arrow, shared by the bulk writers (the import, the outcomes table).

Binary COPY sends each value in the column's own binary form (pgpq encodes Arrow arrays in
Rust), so the server parses no text: timestamps above all, whose text parsing is most of a CSV
COPY's server time (5M transactions: 15.2 s as CSV, 9.7 s binary). Binary input must match the
column's type exactly, so the types come from the table as the database has it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyarrow as pa
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
