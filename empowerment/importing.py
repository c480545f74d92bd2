"""CSV import: a file lands whole, in one transaction, or not at all.

    summary = import_csv(db, "transactions", "pos_export.csv", column_mapping={"amount": "Total"})

How a file is handled:

1. Read as UTF-8 (a byte-order mark is accepted). Bytes that are not UTF-8 are reported with their
   line, asking for the file to be saved as UTF-8.
2. The header is checked: missing required columns, duplicated columns and a wrong separator are
   refused with one message; extra columns are ignored and named in `ImportSummary.warnings`.
   `column_mapping` ({canonical name: header in the file}) is applied first.
3. Every cell is checked with vectorised pandas operations and EVERY problem is collected as
   {"line", "column", "value", "reason"}; `line` is the physical line in the file (header = 1,
   quoted cells spanning lines are counted). References to records in the database (an incident's
   employee, a gesture's incident and employee) are checked next. Any problem raises
   `ImportFailed` before anything is written. The list holds at most `MAX_PROBLEMS` entries
   (the first by line); the message always gives the full count.
4. One write unit (`db.write()`) then inserts new rows and updates changed rows in bulk, matched by
   id (the `code` column): repeating an import changes nothing. Unknown customers referenced by
   transactions and incidents are created ("Customer <id>"), unknown teams and locations named by
   employees (and locations named by incidents) too; all are counted in the summary. One
   AuditEvent ("import.<kind>") records the counts, never row contents.

Values:
- Amounts: decimal currency units with at most 2 decimals -> integer cents, by the same rules as
  `money.parse_cents` (whose messages are used for bad values), with one stricter rule: a comma is
  accepted only as a thousands separator ("1,234.50"), never as a decimal comma ("12,50" is
  refused rather than read as 1,250.00). Only transaction amounts may be negative (returns).
- Times: ISO 8601 dates ("2024-03-31", midnight) or datetimes ("2024-03-31T14:05[:00[.ffffff]]",
  a space instead of "T" is fine). Times are stored naive, in the business's local time like the
  rest of the app: a time WITHOUT an offset is taken as written; a time WITH an offset ("Z",
  "+02:00") is converted to the server's local time zone (the zone `datetime.now()` uses for
  app-logged gestures) and the offset dropped. On a server running in UTC this is "convert to UTC
  and drop the zone". Sub-microsecond digits are truncated. Years outside 1900-2100 are refused.
- Ids are strings (surrounding spaces removed), at most 64 characters, matched exactly.
- Empty optional cells store NULL. An optional column that is absent from the file leaves that
  field of existing records as it is.

Gestures are history: they are recorded as they were (source "import", status "logged", no budget)
and budget limits are not applied; gestures above the customer daily cap are counted in a warning.
A gesture logged in the app (source other than "import") may be re-imported unchanged but not
changed by an import, because its ledger entries would no longer match.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import sqlite3
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, cast

import numpy as np
import pandas as pd
from dateutil import tz as dateutil_tz
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Enum,
    Integer,
    String,
    Table,
    bindparam,
    func,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from empowerment import audit
from empowerment.actor import Actor
from empowerment.csvschema import IMPORT_KINDS, KINDS, CsvKind, template
from empowerment.db import Database
from empowerment.errors import ImportFailed, InvalidAmount
from empowerment.models import (
    BudgetPolicy,
    Customer,
    Employee,
    Gesture,
    GestureStatus,
    Incident,
    Location,
    Role,
    Team,
    Transaction,
)
from empowerment.money import MAX_AMOUNT_CENTS, format_cents, parse_cents

__all__ = ["ImportSummary", "import_csv", "MAX_PROBLEMS"]

MAX_PROBLEMS = 10_000  # problems listed in ImportFailed.problems (the message gives the total)
CHUNK_ROWS = 50_000  # rows per executemany / COPY chunk
LOOKUP_CHUNK = 5_000  # ids per "code IN (...)" query (SQLite >= 3.32 allows 32,766 parameters)
FETCH_ALL_BELOW = 200_000  # tables up to this size, or up to FETCH_ALL_FACTOR x the file's ids,
FETCH_ALL_FACTOR = 4  # are read whole; bigger ones are searched by id in chunks
DEFAULT_CUSTOMER_DAILY_CAP_CENTS = 200_000  # models.BudgetPolicy.customer_daily_cap_cents default
MIN_YEAR, MAX_YEAR = 1900, 2100
SQLITE_IMPORT_CACHE_KIB = 256 * 1024  # page cache while importing (allocated only as used)
REBUILD_INDEXES_FROM_ROWS = 100_000  # see _sqlite_bulk_mode
# Tests turn this off to prove the portable SQLAlchemy Core path gives the same result as the
# SQLite executemany / PostgreSQL COPY fast paths.
USE_FAST_PATHS = True

try:  # COPY runs on the raw psycopg connection, whose errors SQLAlchemy does not wrap
    from psycopg.errors import IntegrityError as _PsycopgIntegrityError

    _INTEGRITY_ERRORS: tuple[type[Exception], ...] = (IntegrityError, _PsycopgIntegrityError)
except ImportError:  # pragma: no cover - psycopg is a requirement
    _INTEGRITY_ERRORS = (IntegrityError,)

ProgressCallback = Callable[[float, str], None]
Source = str | Path | bytes | bytearray | IO[bytes] | IO[str]

_TZ_SUFFIX = r"[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|z|[+-]\d{2}(?::?\d{2})?)$"
_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"  # ASCII digits only
_THOUSANDS = r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?"


@dataclass
class ImportSummary:
    kind: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    customers_created: int = 0
    teams_created: int = 0
    locations_created: int = 0
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "customers_created": self.customers_created,
            "teams_created": self.teams_created,
            "locations_created": self.locations_created,
        }

    def as_text(self) -> str:
        noun = KINDS[self.kind].noun
        plural = "" if self.rows == 1 else "s"
        head = "Checked" if self.dry_run else "Imported"
        verb = "would be " if self.dry_run else ""
        lines = [
            f"{head} {self.rows:,} {noun}{plural}: {self.inserted:,} {verb}added, "
            f"{self.updated:,} {verb}updated, {self.unchanged:,} unchanged."
        ]
        for count, what in (
            (self.customers_created, "customer"),
            (self.teams_created, "team"),
            (self.locations_created, "location"),
        ):
            if count:
                s = "" if count == 1 else "s"
                lines.append(f"{count:,} new {what}{s} {verb or ''}created for ids not yet known.")
        lines.extend(self.warnings)
        if self.dry_run:
            lines.append("Dry run: nothing was written.")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Entry point


def import_csv(
    db: Database,
    kind: str,
    source: Source,
    *,
    dry_run: bool = False,
    actor_label: str = "cli",
    actor_id: int | None = None,
    column_mapping: Mapping[str, str] | None = None,
    progress: ProgressCallback | None = None,
) -> ImportSummary:
    """Import one CSV file of `kind` (employees, customers, transactions, incidents, gestures).

    `source`: a path (str or Path), the file's bytes, or an open file / upload (binary or text).
    Raises `ImportFailed(message, problems)` and writes nothing when anything is wrong.
    """
    if kind == "ledger":
        raise ImportFailed(
            "The ledger cannot be imported: it is append-only and written only by the app "
            "(allocations, gestures, approvals, corrections). Export it to read it; record budget "
            "corrections as adjustments in the app."
        )
    if kind not in IMPORT_KINDS:
        raise ImportFailed(
            f"Unknown import '{kind}'. Choose one of: {', '.join(IMPORT_KINDS)}."
        )
    spec = KINDS[kind]
    report = _Progress(progress)
    filename, data = _read_source(source, kind)
    report(0.0, f"Reading {filename}")
    data, text = _decode(data, filename)
    summary = ImportSummary(kind=kind, dry_run=dry_run)
    raw, lines, problems = _parse(data, text, spec, column_mapping, filename, summary.warnings)
    del text
    summary.rows = len(raw)
    report(0.1, f"Checking {len(raw):,} rows")
    frame = _validate(raw, lines, spec, problems, summary.warnings)
    report(0.3, "Looking up existing records")

    job = _Job(
        spec=spec,
        filename=filename,
        frame=frame,
        raw=raw,
        problems=problems,
        summary=summary,
        dry_run=dry_run,
        actor_id=actor_id,
        now=datetime.now(),
        progress=report,
    )
    # With problems already found, only look things up (to report them all at once), then refuse.
    unit = db.read() if dry_run or problems else db.write()
    try:
        with unit as session:
            job.session = session
            _IMPORTERS[kind](job)
            if not dry_run:
                audit.record(
                    session,
                    # Only the id and the label are recorded; the role is not used.
                    Actor(employee_id=actor_id, name=actor_label, role=Role.ADMIN),
                    f"import.{kind}",
                    kind,
                    entity_id=filename[:64],
                    detail={"file": filename, **summary.counts(), "warnings": len(summary.warnings)},
                    at=job.now,
                )
                report(0.97, "Saving")
    except _INTEGRITY_ERRORS as exc:
        orig = getattr(exc, "orig", None) or exc
        first_line = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
        raise ImportFailed(
            f"{filename} could not be saved because the database refused a row "
            f"({first_line}). This can happen when someone else changed the same records at the "
            "same time; nothing was imported. Try again.",
        ) from exc
    report(1.0, "Checked, nothing written" if dry_run else "Done")
    return summary


# --------------------------------------------------------------------------------------------
# Plumbing: progress, problems, the job


class _Progress:
    """Calls the callback at most ~40 times, with a non-decreasing fraction."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self._callback = callback
        self._last = -1.0

    def __call__(self, fraction: float, message: str) -> None:
        if self._callback is None:
            return
        fraction = min(max(float(fraction), self._last, 0.0), 1.0)
        if fraction - self._last >= 0.025 or (fraction >= 1.0 > self._last):
            self._last = fraction
            self._callback(fraction, message)


class _Problems:
    """Collects problems as small DataFrames; keeps at most MAX_PROBLEMS of each batch."""

    def __init__(self, column_order: Sequence[str]) -> None:
        self._parts: list[pd.DataFrame] = []
        self._order = {name: i for i, name in enumerate(column_order)}
        self.count = 0

    def __bool__(self) -> bool:
        return self.count > 0

    def add(
        self,
        lines: Any,
        column: str | None,
        values: Any,
        reason: str | Any,
    ) -> None:
        lines = np.asarray(lines, dtype=np.int64).reshape(-1)
        n = len(lines)
        if n == 0:
            return
        self.count += n
        values = [None] * n if values is None else np.asarray(values, dtype=object).reshape(-1)
        reasons = np.asarray(reason, dtype=object).reshape(-1) if not isinstance(reason, str) else reason
        part = pd.DataFrame({"line": lines, "column": column, "value": values, "reason": reasons})
        if n > MAX_PROBLEMS:
            part = part.sort_values("line", kind="stable").head(MAX_PROBLEMS)
        self._parts.append(part)

    def add_mask(self, frame: pd.DataFrame, mask: Any, column: str, values: Any, reason: Any) -> None:
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        vals = None if values is None else np.asarray(values, dtype=object)[mask]
        if not isinstance(reason, str):
            reason = np.asarray(reason, dtype=object)[mask]
        self.add(frame["line"].to_numpy()[mask], column, vals, reason)

    def as_list(self) -> list[dict[str, object]]:
        if not self._parts:
            return []
        df = pd.concat(self._parts, ignore_index=True)
        df["_order"] = df["column"].map(self._order).fillna(-1)
        df = df.sort_values(["line", "_order"], kind="stable").head(MAX_PROBLEMS)
        out = []
        for line, column, value, reason in zip(
            df["line"].tolist(),
            df["column"].tolist(),
            df["value"].tolist(),
            df["reason"].tolist(),
            strict=True,
        ):
            out.append(
                {
                    "line": int(line),
                    "column": column,
                    "value": _shorten(value),
                    "reason": str(reason),
                }
            )
        return out

    def raise_if_any(self, filename: str) -> None:
        if not self.count:
            return
        n = self.count
        message = f"{n:,} problem{'' if n == 1 else 's'} in {filename}; nothing was imported."
        if n > MAX_PROBLEMS:
            message += f" The first {MAX_PROBLEMS:,} are listed."
        raise ImportFailed(message, self.as_list())


def _shorten(value: object, limit: int = 120) -> object:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value)
    if len(text) > limit:
        return f"{text[:100]}… ({len(text):,} characters)"
    return text


@dataclass
class _Job:
    spec: CsvKind
    filename: str
    frame: pd.DataFrame  # parsed values by CSV column name, plus "line"
    raw: pd.DataFrame  # the cells as written, same rows
    problems: _Problems
    summary: ImportSummary
    dry_run: bool
    actor_id: int | None
    now: datetime
    progress: _Progress
    session: Session = None  # type: ignore[assignment]

    def has(self, column: str) -> bool:
        return column in self.frame.columns

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name


# --------------------------------------------------------------------------------------------
# Reading: bytes -> text -> raw string frame with physical line numbers


def _read_source(source: Source, kind: str) -> tuple[str, bytes]:
    if isinstance(source, (str, Path)):
        path = Path(source)
        return path.name, path.read_bytes()
    if isinstance(source, (bytes, bytearray, memoryview)):
        return f"{kind}.csv", bytes(source)
    if hasattr(source, "read"):
        name = getattr(source, "name", None)
        filename = Path(name).name if isinstance(name, str) and name else f"{kind}.csv"
        # getvalue() (BytesIO, Streamlit's UploadedFile) gives the whole file wherever the
        # position is; otherwise read from the current position.
        data = source.getvalue() if hasattr(source, "getvalue") else source.read()
        if isinstance(data, str):
            data = data.encode("utf-8", errors="surrogatepass")
        return filename, bytes(data)
    raise TypeError(f"Cannot read a CSV from {type(source).__name__}; pass a path, bytes or a file.")


def _decode(data: bytes, filename: str) -> tuple[bytes, str]:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data, data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    save_as = (
        "Save the file as UTF-8 (in Excel: Save As > 'CSV UTF-8 (Comma delimited)') and import it "
        "again; nothing was imported."
    )
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        raise ImportFailed(
            f"{filename} is saved as UTF-16 ('Unicode text'). {save_as}",
            [{"line": 1, "column": None, "value": None, "reason": "UTF-16 file, not UTF-8"}],
        )
    problems = _Problems([])
    for number, raw_line in enumerate(data.split(b"\n"), start=1):
        try:
            raw_line.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad = raw_line[exc.start : exc.end]
            shown = raw_line[max(0, exc.start - 30) : exc.end + 30].decode("utf-8", "replace")
            problems.add(
                [number],
                None,
                [shown],
                f"byte {' '.join(f'0x{b:02X}' for b in bad)} at byte {exc.start + 1} of the line "
                "is not UTF-8",
            )
    listed = problems.as_list()
    first = listed[0]["line"] if listed else "?"
    n = problems.count
    raise ImportFailed(
        f"{filename} is not saved as UTF-8: {n:,} line{'' if n == 1 else 's'} contain{'s' if n == 1 else ''} "
        f"characters in another encoding (first on line {first}). {save_as}",
        listed,
    )


def _parse(
    data: bytes,
    text: str,
    spec: CsvKind,
    mapping: Mapping[str, str] | None,
    filename: str,
    notes: list[str],
) -> tuple[pd.DataFrame, np.ndarray, _Problems]:
    """-> raw string cells of the spec's columns (index 0..n-1), physical lines, problems so far."""
    if not text.strip():
        wanted = f"Its first line must be the header: {template(spec.name)}. Nothing was imported."
        raise ImportFailed(f"{filename} is empty. {wanted}")
    header_raw = next(csv.reader(io.StringIO(text[:1_000_000])), [])
    header = [h.strip() for h in header_raw]
    if not any(header):
        raise ImportFailed(
            f"{filename} has no header on line 1. Its first line must be the header: "
            f"{template(spec.name)}. Nothing was imported."
        )
    if len(header) == 1 and ";" in header[0]:
        raise ImportFailed(
            f"{filename} looks separated by semicolons (;). Save it as CSV with commas as "
            "separators and dots for decimals, then import it again; nothing was imported.",
            [{"line": 1, "column": None, "value": header_raw[0], "reason": "semicolon separated"}],
        )

    header_problems: list[dict[str, object]] = []

    def header_problem(column: str | None, value: object, reason: str) -> None:
        header_problems.append({"line": 1, "column": column, "value": value, "reason": reason})

    if mapping:
        rename: dict[str, str] = {}
        for canonical, in_file in mapping.items():
            in_file = str(in_file).strip()
            if canonical not in spec.names:
                header_problem(
                    canonical,
                    in_file,
                    f"column_mapping names '{canonical}', which is not a {spec.name} column "
                    f"(those are: {', '.join(spec.names)})",
                )
            elif in_file not in header:
                header_problem(
                    canonical,
                    in_file,
                    f"column_mapping takes {canonical} from '{in_file}', but the file has no "
                    "such column",
                )
            elif in_file in rename and rename[in_file] != canonical:
                header_problem(
                    canonical, in_file, f"column_mapping uses '{in_file}' for two columns"
                )
            else:
                rename[in_file] = canonical
        header = [rename.get(h, h) for h in header]

    positions: dict[str, list[int]] = {}
    for i, name in enumerate(header):
        positions.setdefault(name, []).append(i)
    for name in spec.names:
        where = positions.get(name, [])
        if len(where) > 1:
            header_problem(
                name,
                name,
                f"the column appears {len(where)} times (columns {', '.join(str(i + 1) for i in where)}); "
                "keep one",
            )
    missing = [name for name in spec.required if name not in positions]
    lowered = {h.lower(): h for h in header if h}
    for name in missing:
        near = lowered.get(name.lower())
        hint = (
            f" (the file has '{near}'; names must match exactly, or map it with column_mapping)"
            if near
            else ""
        )
        header_problem(name, near, f"missing required column{hint}")
    if header_problems:
        if missing:
            has = ", ".join(h for h in header_raw if h.strip()) or "(no names)"
            optional = f"; optional: {', '.join(spec.optional)}" if spec.optional else ""
            message = (
                f"{filename} is missing the required column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)}. The file has: {has}. A {spec.name} file needs: "
                f"{', '.join(spec.required)}{optional}. Nothing was imported."
            )
        else:
            n = len(header_problems)
            message = (
                f"{n} problem{'' if n == 1 else 's'} with the header of {filename}; "
                "nothing was imported."
            )
        raise ImportFailed(message, header_problems)

    extras = [h for h in header if h and h not in spec.names]
    if extras:
        notes.append(
            f"Ignored column{'s' if len(extras) > 1 else ''} not used for {spec.name}: "
            f"{', '.join(extras)}."
        )

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.ParserWarning)
        try:
            df = pd.read_csv(
                io.BytesIO(data),
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=False,
                on_bad_lines="warn",
                header=0,
                index_col=False,
                encoding="utf-8",
            )
        except pd.errors.ParserError as exc:
            raise ImportFailed(
                f"{filename} could not be read as CSV ({str(exc).strip()}). Look for a stray "
                'double quote (") on or before that line; nothing was imported.'
            ) from exc
        except pd.errors.EmptyDataError as exc:  # pragma: no cover - caught by the checks above
            raise ImportFailed(f"{filename} is empty; nothing was imported.") from exc

    skipped: list[tuple[int, int, int]] = []  # (record number, expected, saw)
    for warning in caught:
        for rec, expected, saw in re.findall(
            r"Skipping line (\d+): expected (\d+) fields, saw (\d+)", str(warning.message)
        ):
            skipped.append((int(rec), int(expected), int(saw)))
    skipped.sort()

    n = len(df)
    # pandas numbers records (header = 1). Records skipped for a wrong cell count are missing
    # from df: shift the kept rows past them.
    records = 2 + np.arange(n, dtype=np.int64)
    if skipped:
        s = np.array([r for r, _, _ in skipped], dtype=np.int64)
        records = records + np.searchsorted(s - np.arange(len(s)), records, side="right")
    # Quoted cells may span lines: a record's physical line adds the newlines of earlier records.
    extra = np.zeros(n, dtype=np.int64)
    if n and '"' in text:
        for name in df.columns:
            col = df[name]
            if col.str.contains("\n", regex=False).any():
                extra += col.str.count("\n").to_numpy(dtype=np.int64)
    before = np.concatenate([[0], np.cumsum(extra)])
    lines = records + before[:-1]

    problems = _Problems(spec.names)
    for rec, expected, saw in skipped:
        physical = rec + int(before[np.searchsorted(records, rec)])
        problems.add(
            [physical],
            None,
            None,
            f"the line has {saw} cells but the header has {expected}; a comma inside a value "
            'needs the value in double quotes ("...")',
        )

    # Use the (stripped, mapped) header names by position; keep the spec's columns only.
    df.columns = [f"__{i}" for i in range(df.shape[1])]
    keep = {name: f"__{positions[name][0]}" for name in spec.names if name in positions}
    blank = np.ones(n, dtype=bool)
    for name in df.columns:
        blank &= (df[name] == "").to_numpy()
    raw = pd.DataFrame({name: df[src] for name, src in keep.items()})
    if blank.any():
        raw = raw.loc[~blank].reset_index(drop=True)
        lines = lines[~blank]
    if len(raw) == 0 and not problems:
        raise ImportFailed(
            f"{filename} has a header but no data rows; nothing was imported."
        )
    return raw, lines, problems


# --------------------------------------------------------------------------------------------
# Validation: vectorised checks of every cell


def _validate(
    raw: pd.DataFrame, lines: np.ndarray, spec: CsvKind, problems: _Problems, notes: list[str]
) -> pd.DataFrame:
    """-> typed values by CSV column name (None/NaN/NaT where empty or invalid) plus "line"."""
    out = pd.DataFrame({"line": lines})
    for col in spec.columns:
        if col.name not in raw.columns:
            continue
        cells = raw[col.name]
        value = cells.str.strip() if col.strip else cells
        empty = (value == "") if col.strip else (value.str.strip() == "")
        empty_np = empty.to_numpy(dtype=bool)
        if col.nonempty:
            problems.add_mask(out, empty_np, col.name, cells, "required; the cell is empty")
        filled = ~empty_np
        if col.max_len:
            length = value.str.len().to_numpy()
            too_long = filled & (length > col.max_len)
            if too_long.any():
                reasons = np.array(
                    [
                        f"is {n:,} characters long; the most is {col.max_len:,}"
                        for n in length[too_long]
                    ],
                    dtype=object,
                )
                full = np.empty(len(out), dtype=object)
                full[too_long] = reasons
                problems.add_mask(out, too_long, col.name, cells, full)
        if col.type in ("id", "ref", "text"):
            out[col.name] = value.where(filled, None)
        elif col.type == "choice":
            normal = value.str.lower().str.replace(r"[\s\-]+", "_", regex=True)
            known = normal.isin(col.choices).to_numpy(dtype=bool)
            bad = filled & ~known
            problems.add_mask(
                out,
                bad,
                col.name,
                cells,
                f"is not a valid {col.name}; use one of: {', '.join(col.choices)}",
            )
            out[col.name] = normal.where(filled & known, None)
        elif col.type in ("money", "signed_money"):
            cents, bad, reasons = _parse_money(value, filled, signed=col.type == "signed_money")
            problems.add_mask(out, bad, col.name, cells, reasons)
            out[col.name] = cents
        elif col.type == "time":
            times, converted = _parse_times(value.where(filled, None))
            invalid = filled & times.isna().to_numpy()
            problems.add_mask(
                out,
                invalid,
                col.name,
                cells,
                "is not a date or time; use ISO 8601, for example 2024-03-31 or "
                "2024-03-31T14:05:00",
            )
            years = times.dt.year.to_numpy(dtype="float64", na_value=np.nan)
            outside = filled & ~invalid & ((years < MIN_YEAR) | (years > MAX_YEAR))
            problems.add_mask(
                out, outside, col.name, cells, f"is outside the years {MIN_YEAR}-{MAX_YEAR}"
            )
            out[col.name] = times
            if converted:
                notes.append(
                    f"{converted:,} {col.name} value{'s' if converted > 1 else ''} had a time zone "
                    f"offset; {'they were' if converted > 1 else 'it was'} converted to the "
                    "server's local time."
                )
        else:  # pragma: no cover - export-only column types
            raise AssertionError(col.type)

    id_col = spec.columns[0].name
    codes = out[id_col]
    dup = (codes.duplicated(keep=False) & codes.notna()).to_numpy()
    if dup.any():
        sub = out.loc[dup, [id_col, "line"]]
        first = sub.groupby(id_col)["line"].transform("min")
        later = (sub["line"] != first).to_numpy()
        problems.add(
            sub["line"].to_numpy()[later],
            id_col,
            sub[id_col].to_numpy(dtype=object)[later],
            ("duplicate id; it first appears on line " + first.astype(str)).to_numpy()[later],
        )
    return out


def _parse_money(
    value: pd.Series, filled: np.ndarray, *, signed: bool
) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Vectorised `parse_cents`: -> (cents as Int64, bad mask, reasons aligned to rows)."""
    cleaned = value.str.replace(r"[$€£]", "", regex=True).str.strip()
    has_comma = cleaned.str.contains(",", regex=False).to_numpy(dtype=bool)
    comma_ok = cleaned.str.fullmatch(_THOUSANDS).to_numpy(dtype=bool)
    plain = cleaned.str.replace(",", "", regex=False)
    numeric = plain.str.fullmatch(_NUMBER).to_numpy(dtype=bool) & filled
    dot = plain.str.find(".").to_numpy(dtype=np.int64)
    trimmed = plain.str.rstrip("0").str.len().to_numpy(dtype=np.int64)
    decimals = np.where(dot >= 0, trimmed - dot - 1, 0)
    number = pd.to_numeric(plain.where(numeric, None), errors="coerce").to_numpy(
        dtype="float64", na_value=np.nan
    )
    numeric &= ~np.isnan(number)  # belt and braces: anything pandas cannot read is refused
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = np.round(number * 100)
        too_big = np.abs(scaled) > MAX_AMOUNT_CENTS
    negative = scaled < 0
    bad = filled & (
        ~numeric
        | (has_comma & ~comma_ok)
        | (decimals > 2)
        | too_big
        | (negative if not signed else False)
    )
    good = filled & ~bad
    cents = pd.Series(np.where(good, scaled, np.nan)).astype("Int64")
    reasons = np.empty(len(value), dtype=object)
    if bad.any():
        bad_values = value.to_numpy(dtype=object)[bad]
        messages: dict[str, str] = {}
        for text in pd.unique(bad_values)[:MAX_PROBLEMS]:
            try:
                parse_cents(text, allow_negative=signed)
            except InvalidAmount as exc:
                messages[text] = str(exc)
            else:  # parse_cents reads "12,50" as 1250.00 (and accepts non-ASCII digits)
                messages[text] = (
                    f"'{text}' has a comma that is not a thousands separator; write amounts with "
                    "a dot for decimals, like 12.50"
                    if "," in text
                    else f"'{text}' is not a number written with the digits 0-9; write amounts "
                    "like 25 or 25.50"
                )
        reasons[bad] = [messages.get(t, "is not a valid amount") for t in bad_values]
    return cents, bad, reasons


_LOCAL_ZONE = dateutil_tz.tzlocal()


def _to_local_naive(aware: pd.Series) -> pd.Series:
    return aware.dt.tz_convert(_LOCAL_ZONE).dt.tz_localize(None)


def _parse_times(value: pd.Series) -> tuple[pd.Series, int]:
    """ISO 8601 strings -> naive datetime64[us] (NaT if invalid), count converted from offsets."""
    try:
        parsed = pd.to_datetime(value, errors="coerce", format="ISO8601")
        converted = 0
        if getattr(parsed.dt, "tz", None) is not None:
            converted = int(parsed.notna().sum())
            parsed = _to_local_naive(parsed)
    except (ValueError, TypeError):  # offsets that differ, or offsets mixed with local times
        has_zone = value.str.contains(_TZ_SUFFIX, regex=True, na=False)
        local = pd.to_datetime(value.where(~has_zone, None), errors="coerce", format="ISO8601")
        aware = pd.to_datetime(
            value.where(has_zone, None), errors="coerce", format="ISO8601", utc=True
        )
        aware = _to_local_naive(aware)
        converted = int((has_zone & aware.notna()).sum())
        parsed = _as_us(local).where(~has_zone, _as_us(aware))
    return _as_us(parsed), converted


def _as_us(times: pd.Series) -> pd.Series:
    times = pd.to_datetime(times)
    if times.dt.unit == "ns":
        times = times.dt.floor("us")
    return times.astype("datetime64[us]")


# --------------------------------------------------------------------------------------------
# Database helpers: fetch by code, plan, bulk insert / update


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


def _select_raw(session: Session, column: Any) -> Any:
    """Select a column without SQLAlchemy's per-row conversion where pandas can do it faster."""
    if isinstance(column.type, Enum):
        return type_coerce(column, String).label(column.name)
    if isinstance(column.type, DateTime) and session.get_bind().dialect.name == "sqlite":
        return type_coerce(column, String).label(column.name)
    return column


def _frame(rows: Sequence[Any], names: list[str]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in names})
    columns = list(zip(*rows, strict=True))
    return pd.DataFrame({name: pd.Series(col, dtype=object) for name, col in zip(names, columns, strict=True)})


def _fetch_all(session: Session, table: Table, columns: list[str]) -> pd.DataFrame:
    stmt = select(*[_select_raw(session, table.c[c]) for c in columns])
    return _frame(session.connection().execute(stmt).all(), columns)


def _fetch_by_codes(
    session: Session, table: Table, codes: Iterable[Any], columns: list[str]
) -> pd.DataFrame:
    """Rows of `table` whose code is in `codes`: -> DataFrame of "code" + columns."""
    wanted = pd.unique(pd.Series(list(codes) if not isinstance(codes, pd.Series) else codes).dropna())
    names = ["code", *columns]
    if len(wanted) == 0:
        return _frame([], names)
    conn = session.connection()
    total = conn.execute(select(func.count()).select_from(table)).scalar_one()
    if total == 0:
        return _frame([], names)
    cols = [_select_raw(session, table.c[c]) for c in names]
    if total <= max(FETCH_ALL_FACTOR * len(wanted), FETCH_ALL_BELOW):
        # Reading the whole (small) table beats thousands of lookups.
        found = _frame(conn.execute(select(*cols)).all(), names)
        return found[found["code"].isin(wanted)].reset_index(drop=True)
    step = LOOKUP_CHUNK
    if session.get_bind().dialect.name == "sqlite" and sqlite3.sqlite_version_info < (3, 32):
        step = min(step, 900)  # older SQLite: at most 999 parameters
    parts = []
    for start in range(0, len(wanted), step):
        chunk = [str(c) for c in wanted[start : start + step]]
        parts.append(_frame(conn.execute(select(*cols).where(table.c.code.in_(chunk))).all(), names))
    return pd.concat(parts, ignore_index=True)


@dataclass(frozen=True)
class _Field:
    column: str  # database column
    csv: str  # CSV column it comes from
    type: str  # "int", "str" or "time": how to compare


def _normal(values: pd.Series, kind: str) -> pd.Series:
    if kind == "int":
        return pd.to_numeric(values, errors="coerce").astype("float64")
    if kind == "time":
        if values.dtype == object:
            values = pd.to_datetime(values, errors="coerce", format="ISO8601")
        return _as_us(values)
    return values.astype(object).where(values.notna(), None)


def _same(a: pd.Series, b: pd.Series, kind: str) -> np.ndarray:
    a, b = _normal(a, kind), _normal(b, kind)
    both_missing = (a.isna() & b.isna()).to_numpy(dtype=bool)
    if kind == "str":
        equal = (a.fillna("\x00") == b.fillna("\x00")).to_numpy(dtype=bool)
    else:
        equal = (a == b).fillna(False).to_numpy(dtype=bool)
    return equal | both_missing


def _plan(
    job: _Job, table: Table, data: pd.DataFrame, fields: list[_Field], extra: Sequence[str] = ()
) -> pd.DataFrame:
    """Match `data` ("code" + field columns) to existing rows: adds "id", "action"
    (insert | update | same), "<column>__db" and "<column>__diff" columns; counts the summary."""
    existing = _fetch_by_codes(
        job.session, table, data["code"], ["id", *[f.column for f in fields], *extra]
    )
    if existing.empty:
        plan = data.copy()
        plan["id"] = np.nan
        for name in extra:
            plan[name] = None
        plan["action"] = "insert"
        for f in fields:
            plan[f"{f.column}__diff"] = False
    else:
        existing = existing.rename(columns={f.column: f"{f.column}__db" for f in fields})
        plan = data.merge(existing, on="code", how="left", validate="many_to_one")
        is_new = plan["id"].isna().to_numpy()
        changed = np.zeros(len(plan), dtype=bool)
        for f in fields:
            diff = ~_same(plan[f.column], plan[f"{f.column}__db"], f.type) & ~is_new
            plan[f"{f.column}__diff"] = diff
            changed |= diff
        plan["action"] = np.where(is_new, "insert", np.where(changed, "update", "same"))
    action = plan["action"].to_numpy()
    job.summary.inserted = int((action == "insert").sum())
    job.summary.updated = int((action == "update").sum())
    job.summary.unchanged = int((action == "same").sum())
    return plan


def _apply(
    job: _Job,
    table: Table,
    plan: pd.DataFrame,
    fields: list[_Field],
    insert_extra: Mapping[str, Any],
) -> None:
    if job.dry_run:
        return
    action = plan["action"].to_numpy()
    new = plan.loc[action == "insert", ["code", *[f.column for f in fields]]]
    for name, value in insert_extra.items():
        new[name] = value
    _bulk_insert(job, table, new, span=(0.4, 0.9), label="Adding")
    changed = plan.loc[action == "update", ["id", *[f.column for f in fields]]]
    _bulk_update(job, table, changed, [f.column for f in fields])


def _column_values(series: pd.Series, column_type: Any, as_text_times: bool) -> list[Any]:
    """One column as Python values for the driver (None for missing)."""
    if isinstance(column_type, DateTime):
        times = _as_us(series)
        missing = times.isna().to_numpy()
        if as_text_times:
            # SQLAlchemy's SQLite storage format ("2024-03-31 14:05:00.000000"), so rows written
            # here read back exactly like rows written through the ORM.
            text = np.datetime_as_string(times.to_numpy(), unit="us").tolist()
            values: list[Any] = [t.replace("T", " ", 1) for t in text]
        else:
            values = list(times.dt.to_pydatetime())
        if missing.any():
            for i in np.flatnonzero(missing):
                values[i] = None
        return values
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


def _rows(job: _Job, table: Table, frame: pd.DataFrame, as_text_times: bool) -> list[tuple]:
    columns = [
        _column_values(frame[name], table.c[name].type, as_text_times) for name in frame.columns
    ]
    return list(zip(*columns, strict=True))


def _bulk_insert(
    job: _Job, table: Table, frame: pd.DataFrame, *, span: tuple[float, float], label: str
) -> None:
    total = len(frame)
    if total == 0:
        return
    names = list(frame.columns)
    conn = job.session.connection()
    dialect = job.dialect
    start, end = span
    fast_sqlite = USE_FAST_PATHS and dialect == "sqlite"
    with _sqlite_bulk_mode(job, conn, table, total) if fast_sqlite else _nothing():
        for offset in range(0, total, CHUNK_ROWS):
            chunk = frame.iloc[offset : offset + CHUNK_ROWS]
            if USE_FAST_PATHS and dialect == "sqlite":
                sql = (
                    f"INSERT INTO {table.name} ({', '.join(names)}) "
                    f"VALUES ({', '.join('?' for _ in names)})"
                )
                conn.exec_driver_sql(sql, _rows(job, table, chunk, as_text_times=True))
            elif USE_FAST_PATHS and dialect == "postgresql":
                raw: Any = conn.connection.driver_connection  # a psycopg.Connection
                with raw.cursor() as cursor:
                    copy_sql = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
                    with cursor.copy(copy_sql) as copy:
                        for row in _rows(job, table, chunk, as_text_times=True):
                            copy.write_row(row)
            else:
                records = [
                    dict(zip(names, row, strict=True)) for row in _rows(job, table, chunk, as_text_times=False)
                ]
                conn.execute(insert(table), records)
            done = min(offset + CHUNK_ROWS, total)
            job.progress(start + (end - start) * done / total, f"{label}: {done:,} of {total:,} rows")


@contextmanager
def _nothing() -> Iterator[None]:
    yield


@contextmanager
def _sqlite_bulk_mode(job: _Job, conn: Connection, table: Table, rows: int) -> Iterator[None]:
    """SQLite only, inside the import's transaction: a larger page cache for this connection, and
    for big loads (relative to the table) the table's non-unique indexes are dropped and created
    again from their stored SQL after the insert: one sort instead of a million random B-tree
    inserts (3-4x faster). Readers keep their WAL snapshot; a failure rolls the DDL back."""
    old_cache = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_IMPORT_CACHE_KIB}")
    rebuild: list[str] = []
    try:
        if rows >= REBUILD_INDEXES_FROM_ROWS:
            existing = conn.execute(select(func.count()).select_from(table)).scalar_one()
            if rows >= existing:
                indexes = conn.exec_driver_sql(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                    "AND sql IS NOT NULL",
                    (table.name,),
                ).all()
                for name, sql in indexes:
                    if sql.lstrip().upper().startswith("CREATE UNIQUE"):
                        continue  # constraints stay enforced row by row
                    conn.exec_driver_sql(f'DROP INDEX "{name}"')
                    rebuild.append(sql)
        yield
        if rebuild:
            job.progress(0.93, f"Rebuilding {len(rebuild)} index{'es' if len(rebuild) > 1 else ''}")
        for sql in rebuild:
            conn.exec_driver_sql(sql)
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={int(old_cache or -2000)}")


def _bulk_update(job: _Job, table: Table, frame: pd.DataFrame, columns: list[str]) -> None:
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
            _column_values(chunk["id"], table.c.id.type, False),
            *[_column_values(chunk[name], table.c[name].type, False) for name in columns],
        ]
        conn.execute(stmt, [dict(zip(keys, row, strict=True)) for row in zip(*values, strict=True)])
        done = min(offset + CHUNK_ROWS, total)
        job.progress(0.9 + 0.08 * done / total, f"Updating rows: {done:,} of {total:,}")


def _ids_for(
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


# --------------------------------------------------------------------------------------------
# Referenced records: customers, locations, teams


def _ensure_customers(job: _Job, codes: pd.Series, times: pd.Series) -> pd.Series:
    """Customer id per row; unknown customers are created ("Customer <id>") and counted."""
    table = _table(Customer)
    positions, distinct = pd.factorize(codes)
    distinct = np.asarray(distinct, dtype=object)
    found = _fetch_by_codes(job.session, table, distinct, ["id"])
    unknown = ~pd.Index(distinct).isin(found["code"].astype(object))
    if unknown.any():
        # Earliest time per distinct code (position -1 marks empty cells: not a code).
        first = pd.Series(times.to_numpy()).groupby(positions).min().reindex(range(len(distinct)))
        first_seen = pd.Series(first.to_numpy()[unknown], index=pd.Index(distinct[unknown]))
        job.summary.customers_created = len(first_seen)
        if not job.dry_run:
            new = pd.DataFrame(
                {
                    "code": first_seen.index.astype(object),
                    "name": "Customer " + first_seen.index.astype(str),
                    "first_seen_at": first_seen.to_numpy(),
                    "created_at": job.now,
                    "created_by_id": job.actor_id,
                }
            )
            _bulk_insert(job, table, new, span=(0.3, 0.4), label="Creating customers")
            found = pd.concat(
                [found, _fetch_by_codes(job.session, table, new["code"], ["id"])],
                ignore_index=True,
            )
    return _ids_for(codes, found, (positions, distinct))


def _match_named(values: pd.Series, existing: pd.DataFrame) -> dict[str, float]:
    """Team/location cells -> id, matching the code first, else a unique name."""
    out: dict[str, float] = {}
    by_code = dict(zip(existing["code"], existing["id"], strict=True))
    names = existing["name"].value_counts()
    by_name = {n: i for n, i in zip(existing["name"], existing["id"], strict=True) if names.get(n, 0) == 1}
    for value in values.dropna().unique():
        if value in by_code:
            out[value] = float(by_code[value])
        elif value in by_name:
            out[value] = float(by_name[value])
    return out


def _ensure_locations(job: _Job, cells: pd.Series) -> pd.Series:
    """Location id per row (NaN where the cell is empty or, in a dry run, not yet created)."""
    table = _table(Location)
    existing = _fetch_all(job.session, table, ["id", "code", "name"])
    ids = _match_named(cells, existing)
    unknown = [v for v in cells.dropna().unique() if v not in ids]
    job.summary.locations_created += len(unknown)
    if unknown and not job.dry_run:
        new = pd.DataFrame({"code": unknown, "name": unknown})
        _bulk_insert(job, table, new, span=(0.3, 0.35), label="Creating locations")
        created = _fetch_by_codes(job.session, table, unknown, ["id"])
        ids.update(dict(zip(created["code"], created["id"].astype(float), strict=True)))
    return cells.map(ids).astype("float64")


# --------------------------------------------------------------------------------------------
# The kinds


def _import_customers(job: _Job) -> None:
    f = job.frame
    job.problems.raise_if_any(job.filename)
    data = pd.DataFrame({"code": f["customer_id"], "name": f["name"]})
    fields = [_Field("name", "name", "str")]
    for optional in ("segment", "email", "phone"):
        if job.has(optional):
            data[optional] = f[optional]
            fields.append(_Field(optional, optional, "str"))
    table = _table(Customer)
    plan = _plan(job, table, data, fields)
    _apply(job, table, plan, fields, {"created_at": job.now, "created_by_id": job.actor_id})


def _import_employees(job: _Job) -> None:
    f = job.frame
    job.problems.raise_if_any(job.filename)
    teams = _fetch_all(job.session, _table(Team), ["id", "code", "name", "location_id"])
    team_ids = _match_named(f["team"], teams)
    team_location = dict(zip(teams["id"].astype(float), teams["location_id"], strict=True))

    no_team_location = (f["team"].isna() & f["location"].notna()).sum()
    if no_team_location:
        job.summary.warnings.append(
            f"{no_team_location:,} row{'s' if no_team_location > 1 else ''} give a location but "
            "no team; an employee's location is their team's, so it was not recorded."
        )
    with_team = f[f["team"].notna()]
    location_ids = _ensure_locations(job, with_team["location"])
    # Existing teams stay as they are; note where the file disagrees about their location.
    known = with_team["team"].isin(team_ids.keys())
    file_location = location_ids[known]
    app_location = with_team.loc[known, "team"].map(team_ids).map(team_location)
    disagree = int(
        (file_location.notna() & (file_location.astype(float) != pd.to_numeric(app_location))).sum()
    )
    if disagree:
        job.summary.warnings.append(
            f"{disagree:,} row{'s' if disagree > 1 else ''} give a location other than their "
            "team's location in the app; teams were left as they are."
        )
    unknown = with_team[~known]
    if not unknown.empty:
        firsts = unknown.assign(location_id=location_ids[~known]).drop_duplicates("team")
        job.summary.teams_created = len(firsts)
        if not job.dry_run:
            new = pd.DataFrame(
                {
                    "code": firsts["team"].to_numpy(dtype=object),
                    "name": firsts["team"].to_numpy(dtype=object),
                    "location_id": firsts["location_id"].to_numpy(),
                }
            )
            _bulk_insert(job, _table(Team), new, span=(0.35, 0.4), label="Creating teams")
            created = _fetch_by_codes(job.session, _table(Team), new["code"], ["id"])
            team_ids.update(dict(zip(created["code"], created["id"].astype(float), strict=True)))

    data = pd.DataFrame(
        {
            "code": f["employee_id"],
            "name": f["name"],
            "role": f["role"],
            "team_id": f["team"].map(team_ids).astype("float64"),
        }
    )
    fields = [
        _Field("name", "name", "str"),
        _Field("role", "role", "str"),
        _Field("team_id", "team", "int"),
    ]
    table = _table(Employee)
    plan = _plan(job, table, data, fields)
    _apply(
        job,
        table,
        plan,
        fields,
        {"active": True, "pin_failed_attempts": 0, "created_at": job.now},
    )


def _import_transactions(job: _Job) -> None:
    f = job.frame
    job.problems.raise_if_any(job.filename)
    customer_ids = _ensure_customers(job, f["customer_id"], f["occurred_at"])
    data = pd.DataFrame(
        {
            "code": f["transaction_id"],
            "customer_id": customer_ids,
            "occurred_at": f["occurred_at"],
            "amount_cents": f["amount"],
        }
    )
    fields = [
        _Field("customer_id", "customer_id", "int"),
        _Field("occurred_at", "occurred_at", "time"),
        _Field("amount_cents", "amount", "int"),
    ]
    table = _table(Transaction)
    plan = _plan(job, table, data, fields)
    _apply(job, table, plan, fields, {})


def _check_employees(job: _Job, column: str) -> pd.Series:
    """Employee id per row for `column`; unknown ids are problems."""
    codes = job.frame[column]
    found = _fetch_by_codes(job.session, _table(Employee), codes, ["id"])
    ids = _ids_for(codes, found)
    unknown = (codes.notna() & ids.isna()).to_numpy()
    job.problems.add_mask(
        job.frame, unknown, column, job.raw[column], "unknown employee; import the employees file first"
    )
    return ids


def _import_incidents(job: _Job) -> None:
    f = job.frame
    employee_ids = _check_employees(job, "employee_id") if job.has("employee_id") else None
    job.problems.raise_if_any(job.filename)
    customer_ids = _ensure_customers(job, f["customer_id"], f["occurred_at"])
    data = pd.DataFrame(
        {
            "code": f["incident_id"],
            "customer_id": customer_ids,
            "occurred_at": f["occurred_at"],
            "category": f["category"],
        }
    )
    fields = [
        _Field("customer_id", "customer_id", "int"),
        _Field("occurred_at", "occurred_at", "time"),
        _Field("category", "category", "str"),
    ]
    if job.has("location"):
        data["location_id"] = _ensure_locations(job, f["location"])
        fields.append(_Field("location_id", "location", "int"))
    if job.has("description"):
        data["description"] = f["description"]
        fields.append(_Field("description", "description", "str"))
    if employee_ids is not None:
        data["employee_id"] = employee_ids
        fields.append(_Field("employee_id", "employee_id", "int"))
    table = _table(Incident)
    plan = _plan(job, table, data, fields)
    _apply(job, table, plan, fields, {"created_at": job.now})
    if not job.dry_run:
        # A gesture's customer is its incident's: follow incidents that moved to another customer.
        moved = plan[(plan["action"] == "update") & plan["customer_id__diff"]]
        if not moved.empty:
            gestures = _table(Gesture)
            stmt = (
                update(gestures)
                .where(gestures.c.incident_id == bindparam("_incident"))
                .values(customer_id=bindparam("_customer"))
            )
            job.session.connection().execute(
                stmt,
                [
                    {"_incident": int(i), "_customer": int(c)}
                    for i, c in zip(moved["id"], moved["customer_id"], strict=True)
                ],
            )


def _customer_daily_cap(session: Session) -> int:
    """The organisation default policy's cap in force today, else the model's default."""
    table = _table(BudgetPolicy)
    cap = session.connection().execute(
        select(table.c.customer_daily_cap_cents)
        .where(
            table.c.team_id.is_(None),
            table.c.role.is_(None),
            table.c.employee_id.is_(None),
            table.c.effective_from <= date.today(),
        )
        .order_by(table.c.effective_from.desc(), table.c.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return DEFAULT_CUSTOMER_DAILY_CAP_CENTS if cap is None else int(cap)


def _import_gestures(job: _Job) -> None:
    f = job.frame
    incidents = _fetch_by_codes(
        job.session, _table(Incident), f["incident_id"], ["id", "customer_id"]
    )
    incident_ids = _ids_for(f["incident_id"], incidents)
    unknown = (f["incident_id"].notna() & incident_ids.isna()).to_numpy()
    job.problems.add_mask(
        f, unknown, "incident_id", job.raw["incident_id"], "unknown incident; import the incidents file first"
    )
    customer_ids = _ids_for(
        f["incident_id"], incidents[["code", "customer_id"]].rename(columns={"customer_id": "id"})
    )
    employee_ids = _check_employees(job, "employee_id")

    data = pd.DataFrame(
        {
            "code": f["gesture_id"],
            "incident_id": incident_ids,
            "customer_id": customer_ids,
            "employee_id": employee_ids,
            "occurred_at": f["occurred_at"],
            "type": f["type"],
            "cost_cents": f["cost"],
        }
    )
    fields = [
        _Field("incident_id", "incident_id", "int"),
        _Field("customer_id", "incident_id", "int"),
        _Field("employee_id", "employee_id", "int"),
        _Field("occurred_at", "occurred_at", "time"),
        _Field("type", "type", "str"),
        _Field("cost_cents", "cost", "int"),
    ]
    if job.has("note"):
        data["note"] = f["note"]
        fields.append(_Field("note", "note", "str"))
    table = _table(Gesture)
    plan = _plan(job, table, data, fields, extra=("source",))
    from_app = (
        (plan["action"] == "update") & plan["source"].notna() & (plan["source"] != "import")
    ).to_numpy()
    if from_app.any():
        seen: set[str] = set()
        for fld in fields:
            if fld.csv in seen:
                continue
            seen.add(fld.csv)
            mask = from_app & plan[f"{fld.column}__diff"].to_numpy(dtype=bool)
            job.problems.add_mask(
                f,
                mask,
                fld.csv,
                job.raw[fld.csv],
                f"this gesture was logged in the app; an import may not change its {fld.csv} "
                "(its budget ledger would no longer match)",
            )
    job.problems.raise_if_any(job.filename)

    cap = _customer_daily_cap(job.session)
    order = data.sort_values("occurred_at", kind="stable")
    day = order["occurred_at"].dt.floor("D")
    running = order.groupby(
        [order["employee_id"], order["customer_id"], day], dropna=False
    )["cost_cents"].cumsum()
    above = int((running.astype("float64") > cap).sum())
    if above:
        job.summary.warnings.append(
            f"{above:,} gesture{'s' if above > 1 else ''} in this file "
            f"{'are' if above > 1 else 'is'} above the {format_cents(cap, '')} daily cap per "
            "employee per customer; imported gestures are recorded as history, so limits were "
            "not applied."
        )
    _apply(
        job,
        table,
        plan,
        fields,
        {
            "status": GestureStatus.LOGGED.value,
            "source": "import",
            "created_at": job.now,
            "created_by_id": job.actor_id,
            "needs_review": False,
            "featured": False,
        },
    )


_IMPORTERS: dict[str, Callable[[_Job], None]] = {
    "employees": _import_employees,
    "customers": _import_customers,
    "transactions": _import_transactions,
    "incidents": _import_incidents,
    "gestures": _import_gestures,
}
