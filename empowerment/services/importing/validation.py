"""Checking every cell of a file at once: typed values out, every problem collected."""

from __future__ import annotations

import numpy as np
import pandas as pd

from empowerment.csvformat import ESCAPED_TYPES, Column, CsvKind, unescape_formulas
from empowerment.services.importing.problems import Problems
from empowerment.services.importing.values import parse_money, parse_times

MIN_YEAR, MAX_YEAR = 1900, 2100


def validate(
    raw: pd.DataFrame, lines: np.ndarray, spec: CsvKind, problems: Problems, notes: list[str]
) -> pd.DataFrame:
    """-> typed values by CSV column name (None/NaN/NaT where empty or invalid) plus "line"."""
    out = pd.DataFrame({"line": lines})
    for col in spec.columns:
        if col.name in raw.columns:
            _check_column(out, raw[col.name], col, problems, notes)
    _check_duplicate_ids(out, spec.columns[0].name, problems)
    return out


def _check_column(
    out: pd.DataFrame, cells: pd.Series, col: Column, problems: Problems, notes: list[str]
) -> None:
    """Adds `col.name` to `out`: the typed values of `cells` (the column as written)."""
    value = cells.str.strip() if col.strip else cells
    if col.type in ESCAPED_TYPES:
        value = unescape_formulas(value)  # "'=SUM(A1)" as exported -> "=SUM(A1)" as stored
    empty = (value == "") if col.strip else (value.str.strip() == "")
    filled = ~empty.to_numpy(dtype=bool)
    if col.nonempty:
        problems.add_mask(out, ~filled, col.name, cells, "required; the cell is empty")
    if col.max_len:
        _check_length(out, value, cells, filled, col, problems)
    if col.type in ("id", "ref", "text"):
        out[col.name] = value.where(filled, None)
    elif col.type == "choice":
        out[col.name] = _choice(out, value, cells, filled, col, problems)
    elif col.type in ("money", "signed_money"):
        cents, bad, reasons = parse_money(value, filled, signed=col.type == "signed_money")
        problems.add_mask(out, bad, col.name, cells, reasons)
        out[col.name] = cents
    elif col.type == "time":
        out[col.name] = _times(out, value, cells, filled, col, problems, notes)
    else:  # pragma: no cover - export-only column types
        raise AssertionError(col.type)


def _check_length(
    out: pd.DataFrame,
    value: pd.Series,
    cells: pd.Series,
    filled: np.ndarray,
    col: Column,
    problems: Problems,
) -> None:
    assert col.max_len is not None
    length = value.str.len().to_numpy()
    too_long = filled & (length > col.max_len)
    if not too_long.any():
        return
    full = np.empty(len(out), dtype=object)
    full[too_long] = [
        f"is {n:,} characters long; the most is {col.max_len:,}" for n in length[too_long]
    ]
    problems.add_mask(out, too_long, col.name, cells, full)


def _choice(
    out: pd.DataFrame,
    value: pd.Series,
    cells: pd.Series,
    filled: np.ndarray,
    col: Column,
    problems: Problems,
) -> pd.Series:
    normal = value.str.lower().str.replace(r"[\s\-]+", "_", regex=True)
    known = normal.isin(col.choices).to_numpy(dtype=bool)
    problems.add_mask(
        out,
        filled & ~known,
        col.name,
        cells,
        f"is not a valid {col.name}; use one of: {', '.join(col.choices)}",
    )
    return normal.where(filled & known, None)


def _times(
    out: pd.DataFrame,
    value: pd.Series,
    cells: pd.Series,
    filled: np.ndarray,
    col: Column,
    problems: Problems,
    notes: list[str],
) -> pd.Series:
    times, converted = parse_times(value.where(filled, None))
    invalid = filled & times.isna().to_numpy()
    problems.add_mask(
        out,
        invalid,
        col.name,
        cells,
        "is not a date or time; use ISO 8601, for example 2024-03-31 or 2024-03-31T14:05:00",
    )
    years = times.dt.year.to_numpy(dtype="float64", na_value=np.nan)
    outside = filled & ~invalid & ((years < MIN_YEAR) | (years > MAX_YEAR))
    problems.add_mask(out, outside, col.name, cells, f"is outside the years {MIN_YEAR}-{MAX_YEAR}")
    if converted:
        notes.append(
            f"{converted:,} {col.name} value{'s' if converted > 1 else ''} had a time zone "
            f"offset; {'they were' if converted > 1 else 'it was'} converted to the "
            "server's local time."
        )
    return times


def _check_duplicate_ids(out: pd.DataFrame, id_col: str, problems: Problems) -> None:
    codes = out[id_col]
    dup = (codes.duplicated(keep=False) & codes.notna()).to_numpy()
    if not dup.any():
        return
    sub = out.loc[dup, [id_col, "line"]]
    first = sub.groupby(id_col)["line"].transform("min")
    later = (sub["line"] != first).to_numpy()
    problems.add(
        sub["line"].to_numpy()[later],
        id_col,
        sub[id_col].to_numpy(dtype=object)[later],
        ("duplicate id; it first appears on line " + first.astype(str)).to_numpy()[later],
    )
