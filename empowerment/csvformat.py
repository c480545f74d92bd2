"""The CSV formats the app imports and exports: every column of every kind, declared once.

`importing` validates against these declarations, `exporting` writes them, and pages can show
`template(kind)` as the header line a file must start with. The formula escape of text cells
(`escape_formulas` / `unescape_formulas`) is part of the format too, and so is the one CSV writer
every file the app writes goes through (`csv_text` / `csv_bytes`: exports, the audit log, report
tables, import problem lists): it quotes any cell holding a comma, a quote, a CR or a LF, ends
lines with CRLF (RFC 4180), and neutralises formula cells by the one rule below.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from empowerment.models import GestureType, LedgerEntryType, Role

CODE_MAX = 64  # models.Code: String(64)


@dataclass(frozen=True)
class Column:
    """One CSV column.

    type: "id" (this row's own id), "ref" (the id of another record), "text", "money" (>= 0),
    "signed_money", "time" (ISO 8601 date or datetime), "date", "choice" (one of `choices`),
    "int" (export only).
    required: the header must be present. nonempty: when present, every cell must be filled.
    strip: surrounding spaces are removed on import (ids, names, amounts, times); free text (notes,
    descriptions) is kept exactly as written so app-entered text round-trips unchanged.
    """

    name: str
    type: str
    required: bool = True
    nonempty: bool = True
    max_len: int | None = None
    choices: tuple[str, ...] = ()
    strip: bool = True


@dataclass(frozen=True)
class CsvKind:
    name: str
    noun: str  # one row, for messages: "transaction"
    columns: tuple[Column, ...]
    importable: bool = True

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def optional(self) -> list[str]:
        return [c.name for c in self.columns if not c.required]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _id(name: str) -> Column:
    return Column(name, "id", max_len=CODE_MAX)


def _ref(name: str, *, optional: bool = False, required_header: bool = True) -> Column:
    return Column(
        name, "ref", required=required_header, nonempty=not optional, max_len=CODE_MAX
    )


def _text(name: str, max_len: int, *, optional: bool = False, free: bool = False) -> Column:
    return Column(
        name, "text", required=not optional, nonempty=not optional, max_len=max_len, strip=not free
    )


ROLES = tuple(r.value for r in Role)
GESTURE_TYPES = tuple(t.value for t in GestureType)

KINDS: dict[str, CsvKind] = {
    "employees": CsvKind(
        "employees",
        "employee",
        (
            _id("employee_id"),
            _text("name", 200),
            Column("role", "choice", choices=ROLES),
            # Headers required (the canonical format lists them), cells may be empty:
            # admins and HR often belong to no team.
            _ref("team", optional=True),
            _ref("location", optional=True),
        ),
    ),
    "customers": CsvKind(
        "customers",
        "customer",
        (
            _id("customer_id"),
            _text("name", 200),
            _text("segment", 100, optional=True),
            _text("email", 200, optional=True),
            _text("phone", 50, optional=True),
        ),
    ),
    "transactions": CsvKind(
        "transactions",
        "transaction",
        (
            _id("transaction_id"),
            _ref("customer_id"),
            Column("occurred_at", "time"),
            Column("amount", "signed_money"),
        ),
    ),
    "incidents": CsvKind(
        "incidents",
        "incident",
        (
            _id("incident_id"),
            _ref("customer_id"),
            Column("occurred_at", "time"),
            _text("category", 100),
            _ref("location", optional=True, required_header=False),
            _text("description", 10_000, optional=True, free=True),
            _ref("employee_id", optional=True, required_header=False),
        ),
    ),
    "gestures": CsvKind(
        "gestures",
        "gesture",
        (
            _id("gesture_id"),
            _ref("incident_id"),
            _ref("employee_id"),
            Column("occurred_at", "time"),
            Column("type", "choice", choices=GESTURE_TYPES),
            Column("cost", "money"),
            _text("note", 2000, optional=True, free=True),
        ),
    ),
    # A dated exchange-rate table (issue 15): on `date`, one `currency` was worth `rate`
    # `to_currency` (ISO 4217 codes; the rate a decimal number, dot or comma).
    "exchange_rates": CsvKind(
        "exchange_rates",
        "exchange rate",
        (
            Column("date", "date"),
            Column("currency", "text", max_len=3),
            Column("to_currency", "text", max_len=3),
            Column("rate", "text", max_len=40),
        ),
    ),
    "ledger": CsvKind(
        "ledger",
        "ledger entry",
        (
            Column("entry_id", "int"),
            Column("employee_id", "ref"),
            Column("period_start", "date"),
            Column("entry_type", "choice", choices=tuple(t.value for t in LedgerEntryType)),
            Column("amount", "signed_money"),
            Column("gesture_id", "ref", nonempty=False),
            Column("reason", "text", nonempty=False, strip=False),
            Column("created_at", "time"),
            Column("created_by", "ref", nonempty=False),
        ),
        importable=False,
    ),
}

IMPORT_KINDS = tuple(k for k, spec in KINDS.items() if spec.importable)
EXPORT_KINDS = tuple(KINDS)


def import_kind(kind: str) -> CsvKind:
    """The declaration of an importable kind, or InvalidInput naming the kinds there are."""
    if kind not in IMPORT_KINDS:
        from empowerment.errors import InvalidInput

        raise InvalidInput(f"'{kind}' is not an import kind; choose one of {', '.join(IMPORT_KINDS)}.")
    return KINDS[kind]


def template(kind: str) -> str:
    """The header line of a `kind` file, required columns first."""
    spec = KINDS[kind]
    return ",".join(spec.required + spec.optional)


# --- How a file is written: separator, decimal mark, date order --------------------------------

DELIMITERS: dict[str, str] = {",": "commas", ";": "semicolons", "\t": "tabs"}
"""Separators a file may use (detected from the header line unless chosen), and their words."""
DECIMAL_MARKS: dict[str, str] = {".": "a dot (12.50)", ",": "a comma (12,50)"}
"""Decimal marks of amounts (detected from the amounts unless chosen); the other character may
separate thousands ("1,234.50", "1.234,50")."""
DATE_FORMATS: dict[str, str] = {
    "iso": "Year-month-day (2024-03-31, ISO 8601)",
    "dmy": "Day/month/year (31/03/2024)",
    "mdy": "Month/day/year (03/31/2024)",
}
"""How dates are written. ISO 8601 dates are read in every setting (the year first is never
ambiguous); "dmy" and "mdy" also read 31/03/2024, 31.03.2024 and 31-03-2024, with an optional
time after a space ("31/03/2024 14:05")."""


@dataclass(frozen=True)
class FileFormat:
    """How an imported file is written. None: detected (the separator from the header line, the
    decimal mark from the amounts)."""

    delimiter: str | None = None
    decimal_mark: str | None = None
    date_format: str = "iso"

    def __post_init__(self) -> None:
        from empowerment.errors import InvalidInput

        if self.delimiter is not None and self.delimiter not in DELIMITERS:
            raise InvalidInput(
                f"The separator {self.delimiter!r} is not one the import reads; use a comma, a "
                "semicolon or a tab."
            )
        if self.decimal_mark is not None and self.decimal_mark not in DECIMAL_MARKS:
            raise InvalidInput(f"The decimal mark {self.decimal_mark!r} must be a dot (.) or a comma (,).")
        if self.date_format not in DATE_FORMATS:
            raise InvalidInput(
                f"'{self.date_format}' is not a date format; use one of: {', '.join(DATE_FORMATS)}."
            )


# --- Spreadsheet formula injection (OWASP "CSV injection") -------------------------------------

ESCAPED_TYPES = frozenset({"id", "ref", "text", "choice"})
"""Column types whose cells are escaped on export and unescaped on import (never amounts: "-12.50"
is a number, nor times, dates or ints)."""


def escape_formulas(values: pd.Series) -> pd.Series:
    """Export: a text cell a spreadsheet would run gets a leading quote `'` (the cells
    `DANGEROUS_FIRST_CHARACTERS` names: starting with `=`, `+`, `-`, `@`, tab, carriage
    return...). So does a cell whose leading quotes come before such a character ("'=x" -> "''=x"):
    that keeps the escape reversible, as `unescape_formulas` removes exactly one quote."""
    quote, needs_escape, _ = _formula_rule()
    risky = values.str.match(needs_escape, na=False).to_numpy(dtype=bool)
    if not risky.any():
        return values
    out = values.astype(object)
    out[risky] = quote + values[risky].astype(object)
    return out


def unescape_formulas(values: pd.Series) -> pd.Series:
    """Import: undo `escape_formulas` (drop one leading `'` when quotes then a formula character follow)."""
    if not values.str.startswith(_QUOTE, na=False).any():
        return values  # most files: nothing to undo
    _, _, is_escaped = _formula_rule()
    escaped = values.str.match(is_escaped, na=False).to_numpy(dtype=bool)
    if not escaped.any():
        return values
    out = values.copy()
    out[escaped] = values[escaped].str.slice(1)
    return out


# The one formula rule (OWASP "CSV injection"), used by every file the app writes (reports.safety
# too): a text cell starting with one of these characters, or their full-width forms that some
# spreadsheets also accept, is shown as text by a leading quote.
DANGEROUS_FIRST_CHARACTERS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
QUOTE = "'"
_QUOTE = QUOTE


@functools.cache
def _formula_rule() -> tuple[str, str, str]:
    """(quote, regex of cells to escape, regex of escaped cells)."""
    formula = "[" + re.escape("".join(sorted(DANGEROUS_FIRST_CHARACTERS))) + "]"
    quotes = re.escape(QUOTE) + "*"
    return QUOTE, quotes + formula, re.escape(QUOTE) + quotes + formula


def is_dangerous(value: object) -> bool:
    """A text cell a spreadsheet would run as a formula (its first character is in the set)."""
    return isinstance(value, str) and value[:1] in DANGEROUS_FIRST_CHARACTERS


def neutralise(value: Any) -> Any:
    """One cell: dangerous strings gain a leading `'`; everything else is returned unchanged."""
    if is_dangerous(value):
        return QUOTE + value
    return value


def _is_textual(series: pd.Series) -> bool:
    return series.dtype == object or isinstance(series.dtype, pd.StringDtype)


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text cell and every column name neutralised; numeric columns untouched."""
    safe = frame.copy()
    for position in range(safe.shape[1]):
        series = safe.iloc[:, position]
        if _is_textual(series):
            safe.isetitem(position, series.map(neutralise, na_action="ignore"))
    safe.columns = [neutralise(str(c)) if isinstance(c, str) else c for c in safe.columns]
    if _is_textual(safe.index.to_series()):
        safe.index = safe.index.map(neutralise)
    return safe


# --- The one CSV writer ------------------------------------------------------------------------

LINE_END = "\r\n"
"""RFC 4180 line end. It also makes the writer quote a cell holding a lone CR (Python's csv module
quotes only the characters of its line terminator: with "\n" a CR inside a name was written bare
and split the row in a spreadsheet)."""


def csv_text(
    frame: pd.DataFrame,
    *,
    header: bool = True,
    escaped_columns: Iterable[str] | None = None,
) -> str:
    """The one CSV writer: `frame` as CSV text, every cell a spreadsheet would run made inert.

    `escaped_columns=None` (files people read: reports, the audit log, problem lists): every text
    cell and every column name is neutralised (`neutralise`). Given names (the import format, which
    must read back unchanged): those columns get the reversible `escape_formulas` and the rest is
    written as it is (amounts like "-12.50" are numbers, not formulas)."""
    if escaped_columns is None:
        safe = neutralise_frame(frame)
    else:
        safe = frame.copy()
        for name in escaped_columns:
            safe[name] = escape_formulas(safe[name].astype(object))
    return safe.to_csv(index=False, header=header, lineterminator=LINE_END)


def csv_bytes(frame: pd.DataFrame, *, bom: bool = True) -> bytes:
    """`csv_text` of a file people open (every text cell neutralised) as UTF-8, by default with a
    byte-order mark so spreadsheets read accents right."""
    return csv_text(frame).encode("utf-8-sig" if bom else "utf-8")
