"""Reading existing records by code, fast enough for a million-row file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import DateTime, Enum, Integer, String, Table, TypeDecorator, func, select, type_coerce
from sqlalchemy.orm import Session

from empowerment.models.tables import TermCodeType
from empowerment.services.bulk import read_frame

LOOKUP_CHUNK = 5_000  # ids per "code IN (...)" query (SQLite >= 3.32 allows 32,766 parameters)
FETCH_ALL_BELOW = 200_000  # tables up to this size, or up to FETCH_ALL_FACTOR x the file's ids,
FETCH_ALL_FACTOR = 4  # are read whole; bigger ones are searched by id in chunks


def _select_raw(session: Session, column: Any) -> Any:
    """Select a column without SQLAlchemy's per-row conversion where pandas can do it faster."""
    if isinstance(column.type, Enum):
        return type_coerce(column, String).label(column.name)
    if isinstance(column.type, DateTime) and session.get_bind().dialect.name == "sqlite":
        return type_coerce(column, String).label(column.name)
    return column


def isin(values: Any, wanted: Any) -> np.ndarray:
    """`values` (a Series or array) found in `wanted`, as a bool array: one hash lookup in Arrow
    when both are strings (no Python object per value), else in a pandas Index (pandas' own isin
    on its Arrow strings converts every wanted value in Python: seconds at 1M)."""
    strings, among = _strings(values), _strings(wanted)
    if strings is not None and among is not None:
        if strings.equals(among):  # the same codes in the same order (a file read again): no hashing
            return np.ones(len(strings), dtype=bool)
        return np.asarray(pc.is_in(strings, value_set=among, skip_nulls=False).to_numpy(zero_copy_only=False),
                          dtype=bool)
    index = pd.Index(pd.unique(np.asarray(wanted, dtype=object)))
    return np.asarray(index.get_indexer(np.asarray(values, dtype=object)) >= 0)


def positions(values: Any, codes: Any) -> np.ndarray:
    """Per value, the position of the equal code in `codes`, -1 where none. Codes are meant to be
    distinct; of repeated ones the first is taken (but where `values` are `codes`, each its own)."""
    strings, among = _strings(values), _strings(codes)
    if strings is not None and among is not None:
        if strings.equals(among) and strings.null_count == 0:
            # the same codes in the same order: a file imported again is written, and so read
            # back, in its rows' order; one comparison instead of hashing millions of strings
            return np.arange(len(strings), dtype=np.int64)
        found = pc.index_in(strings, value_set=among, skip_nulls=False)
        return np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    index = pd.Index(np.asarray(codes, dtype=object))
    first = np.flatnonzero(~index.duplicated(keep="first"))  # positions of the distinct codes
    where = index[first].get_indexer(np.asarray(values, dtype=object))
    return np.where(where >= 0, first[where], -1).astype(np.int64)


def _strings(values: Any) -> pa.Array | None:
    """`values` as one Arrow string array (missing -> null), or None when they are not all
    strings (then compared as Python objects, as before)."""
    if isinstance(values, pd.Series | pd.Index):
        values = values.array
    try:
        array = pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        return None
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_large_string(array.type):
        array = array.cast(pa.string())
    if not pa.types.is_string(array.type) and not (pa.types.is_null(array.type) and len(array) == 0):
        return None
    return array.cast(pa.string())


def _frame(rows: Sequence[Any], names: list[str]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in names})
    columns = list(zip(*rows, strict=True))
    return pd.DataFrame({name: pd.Series(col, dtype=object) for name, col in zip(names, columns, strict=True)})


def _arrow_type(column: Any) -> pa.DataType | None:
    """The Arrow type a column is read as by `read_frame`; None for types it does not read."""
    kind = column.type
    if isinstance(kind, TermCodeType):  # a str subclass over VARCHAR: the text is the value
        return pa.string()
    if isinstance(kind, TypeDecorator):
        return None  # its own conversion of what is read
    if isinstance(kind, Integer):
        return pa.int64()
    if isinstance(kind, String):  # VARCHAR, TEXT and the Enums (stored by value, as VARCHAR)
        return pa.string()
    if isinstance(kind, DateTime) and not kind.timezone:
        return pa.timestamp("us")
    return None


def _read_columns(session: Session, table: Table, names: list[str], *, by_id: bool = False) -> pd.DataFrame | None:
    """The whole table's `names` as columns (`bulk.read_frame`): no Python object per value;
    `by_id`: in the order of the rows' ids. None when a column's type is not one it reads, or a
    value does not parse as its type (a stored time that is not ISO 8601): read those as
    Python values, as before."""
    has_id = "id" in table.c  # then read in ranges of ids on SQLite (every table here has one)
    read = names if "id" in names or not has_id else [*names, "id"]
    types = [_arrow_type(table.c[name]) for name in read]
    if any(t is None for t in types):
        return None
    listed = ", ".join(f'"{name}"' for name in read)
    schema = pa.schema([pa.field(name, t) for name, t in zip(read, types, strict=True)])
    try:
        found = read_frame(session.connection(), f'SELECT {listed} FROM "{table.name}"', schema,
                           ranges_of="id" if has_id else None)
    except pa.ArrowInvalid:
        return None
    if by_id:
        found = found.sort_values("id", ignore_index=True)
    return found if read == names else found[names]


def fetch_all(session: Session, table: Table, columns: list[str]) -> pd.DataFrame:
    stmt = select(*[_select_raw(session, table.c[c]) for c in columns])
    return _frame(session.connection().execute(stmt).all(), columns)


def fetch_by_codes(
    session: Session, table: Table, codes: Iterable[Any], columns: list[str], *, ignore_case: bool = False
) -> pd.DataFrame:
    """Rows of `table` whose code is in `codes`: -> DataFrame of "code" + columns. With
    `ignore_case`, `codes` are lower-case keys and the rows' codes come back lower-cased too
    (customer ids: "c00002" is C00002); of two stored codes differing only in case, the older wins."""
    names = ["code", *columns]
    conn = session.connection()
    total = conn.execute(select(func.count()).select_from(table)).scalar_one()
    if total == 0:  # a first import: nothing to look up (and no need to list a million ids)
        return _frame([], names)
    wanted = pd.unique(pd.Series(list(codes) if not isinstance(codes, pd.Series) else codes).dropna())
    if ignore_case:
        return _fetch_ignoring_case(session, table, wanted, columns)
    if len(wanted) == 0:
        return _frame([], names)
    cols = [_select_raw(session, table.c[c]) for c in names]
    if total <= max(FETCH_ALL_FACTOR * len(wanted), FETCH_ALL_BELOW):
        # Reading the whole (small) table beats thousands of lookups.
        found = _read_columns(session, table, names)
        if found is None:
            found = _frame(conn.execute(select(*cols)).all(), names)
        return found[isin(found["code"], wanted)].reset_index(drop=True)
    step = LOOKUP_CHUNK
    if session.get_bind().dialect.name == "sqlite" and sqlite3.sqlite_version_info < (3, 32):
        step = min(step, 900)  # older SQLite: at most 999 parameters
    parts = []
    for start in range(0, len(wanted), step):
        chunk = [str(c) for c in wanted[start : start + step]]
        parts.append(_frame(conn.execute(select(*cols).where(table.c.code.in_(chunk))).all(), names))
    return pd.concat(parts, ignore_index=True)


def _fetch_ignoring_case(session: Session, table: Table, wanted: np.ndarray, columns: list[str]) -> pd.DataFrame:
    names = ["code", *columns]
    if len(wanted) == 0:
        return _frame([], names)
    conn = session.connection()
    cols = [_select_raw(session, table.c[c]) for c in names]
    total = conn.execute(select(func.count()).select_from(table)).scalar_one()
    if total <= max(FETCH_ALL_FACTOR * len(wanted), FETCH_ALL_BELOW):
        found = _read_columns(session, table, names, by_id=True)
        if found is None:
            found = _frame(conn.execute(select(*cols).order_by(table.c.id)).all(), names)
        found["code"] = found["code"].astype(str).str.lower()
        found = found[isin(found["code"], wanted)]
    else:
        parts = []
        for start in range(0, len(wanted), LOOKUP_CHUNK):
            chunk = [str(c) for c in wanted[start : start + LOOKUP_CHUNK]]
            query = select(*cols).where(func.lower(table.c.code).in_(chunk)).order_by(table.c.id)
            parts.append(_frame(conn.execute(query).all(), names))
        found = pd.concat(parts, ignore_index=True)
        found["code"] = found["code"].astype(str).str.lower()
    return found.drop_duplicates("code").reset_index(drop=True)


def ids_for(
    codes: pd.Series, found: pd.DataFrame, factorized: tuple[np.ndarray, Any] | None = None
) -> pd.Series:
    """code per row -> id per row (float, NaN where unknown). Factorizes once and looks up the
    distinct codes only: several times faster than Series.map on a million strings."""
    if found.empty:
        return pd.Series(np.nan, index=codes.index, dtype="float64")
    rows, distinct = factorized if factorized is not None else pd.factorize(codes)
    where = positions(distinct, found["code"])
    ids = pd.to_numeric(found["id"]).to_numpy(dtype="float64")
    per_distinct = np.append(np.where(where >= 0, ids[where], np.nan), np.nan)  # -1 -> NaN
    return pd.Series(per_distinct[rows], index=codes.index, dtype="float64")
