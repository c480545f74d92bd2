"""Reading existing records by code, fast enough for a million-row file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import DateTime, Enum, String, Table, func, select, type_coerce
from sqlalchemy.orm import Session

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
    """`values` (a Series or array) found in `wanted`, as a bool array: a hash lookup, where
    pandas' isin on its Arrow strings converts every wanted value in Python (seconds at 1M)."""
    index = pd.Index(pd.unique(np.asarray(wanted, dtype=object)))
    return np.asarray(index.get_indexer(np.asarray(values, dtype=object)) >= 0)


def _frame(rows: Sequence[Any], names: list[str]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in names})
    columns = list(zip(*rows, strict=True))
    return pd.DataFrame({name: pd.Series(col, dtype=object) for name, col in zip(names, columns, strict=True)})


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
    positions, distinct = factorized if factorized is not None else pd.factorize(codes)
    where = pd.Index(found["code"].astype(object)).get_indexer(pd.Index(distinct).astype(object))
    ids = pd.to_numeric(found["id"]).to_numpy(dtype="float64")
    per_distinct = np.append(np.where(where >= 0, ids[where], np.nan), np.nan)  # -1 -> NaN
    return pd.Series(per_distinct[positions], index=codes.index, dtype="float64")
