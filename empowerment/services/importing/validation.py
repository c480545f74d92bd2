"""Checking every cell of a file at once: typed values out, every problem collected."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from empowerment import clock
from empowerment.csvformat import ESCAPED_TYPES, Column, CsvKind, FileFormat, unescape_formulas
from empowerment.money import MAX_AMOUNT_CENTS
from empowerment.services.importing.problems import Problems
from empowerment.services.importing.values import (
    SCALE,
    detect_decimal_mark,
    parse_money,
    parse_times,
    scaled_name,
)

MIN_YEAR, MAX_YEAR = 1900, 2100
MONEY_TYPES = ("money", "signed_money")
NUL_REASON = (
    "contains a NUL character (byte 0), which cannot be stored; remove it (a file full of them "
    "is usually saved as UTF-16: save it as CSV UTF-8)"
)


def validate(
    raw: pd.DataFrame,
    lines: np.ndarray,
    spec: CsvKind,
    problems: Problems,
    notes: list[str],
    file_format: FileFormat | None = None,
    *,
    nul_bytes: bool = True,
    check_ids: bool = True,
) -> tuple[pd.DataFrame, str]:
    """-> typed values by CSV column name (None/NaN/NaT where empty or invalid) plus "line", and
    the decimal mark the amounts were read with. `nul_bytes=False` (the file has none) skips
    looking for them cell by cell; `check_ids=False` leaves the ids' duplicates to the importer
    (`check_duplicate_ids`, see `kinds.import_transactions`)."""
    file_format = file_format or FileFormat()
    money = [raw[c.name].str.strip() for c in spec.columns if c.type in MONEY_TYPES and c.name in raw]
    decimal_mark = file_format.decimal_mark or detect_decimal_mark(money)
    out = pd.DataFrame({"line": lines})
    for col in spec.columns:
        if col.name in raw.columns:
            _check_column(
                out, raw[col.name], col, problems, notes, file_format.date_format, decimal_mark, nul_bytes
            )
    if check_ids:
        check_duplicate_ids(out, spec, problems)
    return out, decimal_mark


def check_duplicate_ids(out: pd.DataFrame, spec: CsvKind, problems: Problems) -> None:
    """Later rows with an id already seen are problems (kinds without an id column check their own keys)."""
    if spec.columns[0].type == "id":
        _check_duplicate_ids(out, spec.columns[0].name, problems, ignore_case=spec.name == "customers")


def _check_column(
    out: pd.DataFrame,
    cells: pd.Series,
    col: Column,
    problems: Problems,
    notes: list[str],
    date_format: str = "iso",
    decimal_mark: str = ".",
    nul_bytes: bool = True,
) -> None:
    """Adds `col.name` to `out`: the typed values of `cells` (the column as written)."""
    has_nul = np.zeros(len(cells), dtype=bool)
    if nul_bytes:
        has_nul = cells.str.contains("\x00", regex=False).to_numpy(dtype=bool)
    if has_nul.any():
        problems.add_mask(out, has_nul, col.name, cells.str.replace("\x00", "\\0", regex=False), NUL_REASON)
        cells = cells.str.replace("\x00", "", regex=False)  # one problem per cell, not two
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
        # Read at SCALE decimals: the row's currency (so its minor unit) is known only once its
        # customer or employee is looked up; `amounts.in_minor_units` finishes the job.
        scaled, bad, reasons = parse_money(
            value, filled, signed=col.type == "signed_money", decimal_mark=decimal_mark,
            digits=SCALE, limit=MAX_AMOUNT_CENTS * 10**SCALE,
        )
        problems.add_mask(out, bad & ~has_nul, col.name, cells, reasons)
        out[scaled_name(col.name)] = scaled
        out[col.name] = pd.Series(pd.NA, index=out.index, dtype="Int64")  # not minor units yet
    elif col.type == "time":
        out[col.name] = _times(out, value, cells, filled & ~has_nul, col, problems, notes, date_format)
    elif col.type == "date":
        times = _times(out, value, cells, filled & ~has_nul, col, problems, notes, date_format)
        timed = (times.notna() & (times != times.dt.normalize())).to_numpy(dtype=bool)
        problems.add_mask(out, timed, col.name, cells, "is a date with a time of day; give the day only, "
                          "for example 2024-03-31")
        out[col.name] = times.dt.normalize().where(~timed)
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
    date_format: str = "iso",
) -> pd.Series:
    zone_name = clock.zone().key  # the installation's business time: an import spans locations
    times, converted = parse_times(value.where(filled, None), date_format, zone_name)
    invalid = filled & times.isna().to_numpy()
    problems.add_mask(out, invalid, col.name, cells, _TIME_HELP[date_format])
    years = times.dt.year.to_numpy(dtype="float64", na_value=np.nan)
    outside = filled & ~invalid & ((years < MIN_YEAR) | (years > MAX_YEAR))
    problems.add_mask(out, outside, col.name, cells, f"is outside the years {MIN_YEAR}-{MAX_YEAR}")
    if converted:
        notes.append(
            f"{converted:,} {col.name} value{'s' if converted > 1 else ''} had a time zone "
            f"offset; {'they were' if converted > 1 else 'it was'} read with it."
        )
    if zone_name != "UTC" and int(filled.sum()) > converted:
        notes.append(f"{col.name} values without an offset were read as {zone_name.replace('_', ' ')} time.")
    return times


_TIME_HELP = {
    "iso": "is not a date or time; use ISO 8601, for example 2024-03-31 or 2024-03-31T14:05:00 "
    "(or choose the file's date format)",
    "dmy": "is not a date or time written day/month/year, for example 31/03/2024 or "
    "31/03/2024 14:05 (ISO 8601 dates like 2024-03-31 are read too)",
    "mdy": "is not a date or time written month/day/year, for example 03/31/2024 or "
    "03/31/2024 14:05 (ISO 8601 dates like 2024-03-31 are read too)",
}


def _check_duplicate_ids(out: pd.DataFrame, id_col: str, problems: Problems, *, ignore_case: bool = False) -> None:
    """Later rows with an id already seen are problems (customer ids ignoring case: C1 is c1)."""
    codes = out[id_col].str.lower() if ignore_case else out[id_col]
    ids = pa.array(codes, type=pa.string(), from_pandas=True).drop_null()
    if len(pc.unique(ids)) == len(ids):
        return  # most files: no id twice (one hash pass in Arrow; 3x cheaper than count_distinct)
    dup = (codes.duplicated(keep=False) & codes.notna()).to_numpy()
    if not dup.any():
        return
    sub = out.loc[dup, [id_col, "line"]].assign(_key=codes[dup])
    first = sub.groupby("_key")["line"].transform("min")
    later = (sub["line"] != first).to_numpy()
    problems.add(
        sub["line"].to_numpy()[later],
        id_col,
        sub[id_col].to_numpy(dtype=object)[later],
        ("duplicate id; it first appears on line " + first.astype(str)).to_numpy()[later],
    )
