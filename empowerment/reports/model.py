"""The joint report as data: the `JointReport` every output is drawn from (screen, PDF, XLSX, CSV,
HTML), its named tables and charts, the report window, and how a cell is shown to people.

Tables hold display-ready *values*: counts as ints, money in currency units (from integer cents,
rounded to the cent), rates as fractions, hours and days as floats, NaN for "not known". How a
column is shown lives beside it in `formats`, so a spreadsheet keeps numbers as numbers while the
PDF and HTML show "$1,234.50" and "42.0 %" - all from the same values.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import altair as alt
import pandas as pd

from empowerment import settings
from empowerment.errors import InvalidInput

SECTIONS = ("Empowerment", "Customer outcomes", "Teams side by side", "Stories")
TABLE_KEYS = ("staff", "budget_bands", "turnaround", "outcome_groups", "payoff", "teams", "stories")
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$", "CHF": "CHF "}
UNIT_FORMATS = {"points": "points", "customers": "number", "money": "money", "ratio": "percent"}
MISSING = "—"


def currency_symbol() -> str:
    code = settings.currency().upper()
    return CURRENCY_SYMBOLS.get(code, code + " ")


def is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def format_value(value: Any, fmt: str, symbol: str = "$") -> str:
    """One cell for people (PDF, HTML, summary)."""
    if is_missing(value):
        return MISSING
    if fmt == "money":
        sign = "-" if value < 0 else ""
        return f"{sign}{symbol}{abs(value):,.2f}"
    if fmt == "percent":
        return f"{value * 100:.1f}\u00a0%"  # a no-break space: "42.0 %" never splits in a cell
    if fmt == "points":
        return f"{value * 100:+.1f}\u00a0pts"
    if fmt == "int":
        return f"{int(value):,}"
    if fmt in ("number", "hours", "days"):
        return f"{value:,.1f}"
    if fmt == "bool":
        return "Yes" if value else ""
    if fmt == "datetime":
        return pd.Timestamp(value).strftime("%d %b %Y %H:%M")
    if fmt == "date":
        return pd.Timestamp(value).strftime("%d %b %Y")
    return str(value)


@dataclass(frozen=True)
class ReportTable:
    key: str
    title: str
    section: str
    caption: str
    frame: pd.DataFrame
    formats: dict[str, str] = field(default_factory=dict)  # column -> format; "by_unit" reads Unit
    total_row: bool = False  # the last row is a total ("All teams", "All staff")

    def cell_format(self, row: int, column: str) -> str:
        fmt = self.formats.get(column, "text")
        if fmt == "by_unit":
            return UNIT_FORMATS.get(str(self.frame.iloc[row]["Unit"]), "number")
        return fmt

    def formatted(self, symbol: str | None = None) -> pd.DataFrame:
        """Every cell as the text people read; same values as `frame`."""
        symbol = currency_symbol() if symbol is None else symbol
        out = {
            column: [
                format_value(self.frame.iloc[row, position], self.cell_format(row, column), symbol)
                for row in range(len(self.frame))
            ]
            for position, column in enumerate(self.frame.columns)
        }
        return pd.DataFrame(out, columns=list(self.frame.columns))


@dataclass(frozen=True)
class ReportChart:
    key: str
    title: str
    section: str
    caption: str
    chart: alt.TopLevelMixin


@dataclass(frozen=True)
class ReportWindow:
    start: date
    end: date  # exclusive
    label: str

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)


@dataclass
class JointReport:
    """Everything the HR and CX leads read, in one object: build once, render many."""

    window: ReportWindow
    location: str | None
    include_identities: bool
    generated_at: datetime
    as_of: str
    horizon_days: int
    summary: list[str]
    tables: dict[str, ReportTable]
    charts: dict[str, ReportChart]
    rows: pd.DataFrame  # one row per incident in scope, customers pseudonymised
    payoff: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    title: str = "Empowerment and customer recovery: joint report"

    @property
    def scope_label(self) -> str:
        return f"{self.window.label} · {self.location or 'all locations'}"

    def tables_in(self, section: str) -> list[ReportTable]:
        return [table for table in self.tables.values() if table.section == section]

    def charts_in(self, section: str) -> list[ReportChart]:
        return [chart for chart in self.charts.values() if chart.section == section]


_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")


def _month_end(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1)


def parse_period(period: str) -> ReportWindow:
    """'2026-Q3', '2026-07' or '2026' -> the window [start, end)."""
    text = period.strip()
    if match := _QUARTER.match(text):
        year, quarter = int(match[1]), int(match[2])
        start = date(year, 3 * quarter - 2, 1)
        return ReportWindow(start, _month_end(year, 3 * quarter), f"{year}-Q{quarter}")
    if (match := _MONTH.match(text)) and 1 <= int(match[2]) <= 12:
        year, month = int(match[1]), int(match[2])
        start = date(year, month, 1)
        return ReportWindow(start, _month_end(year, month), start.strftime("%B %Y"))
    if match := _YEAR.match(text):
        year = int(match[1])
        return ReportWindow(date(year, 1, 1), date(year + 1, 1, 1), str(year))
    raise InvalidInput(f"'{period}' is not a period; use a quarter (2026-Q3), a month (2026-07) or a year (2026).")


def _as_date(value: date | str, what: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput(f"'{value}' is not a date for '{what}'; use YYYY-MM-DD.") from None


def resolve_window(
    period: str | None, date_from: date | str | None, date_to: date | str | None, today: date | None = None
) -> ReportWindow:
    """A named period, or explicit dates (both inclusive), or by default the current quarter."""
    if period and (date_from or date_to):
        raise InvalidInput("Give either a period or dates (from/to), not both.")
    if period:
        return parse_period(period)
    today = today or date.today()
    if date_from or date_to:
        start = _as_date(date_from, "from") if date_from else date(today.year, 1, 1)
        last = _as_date(date_to, "to") if date_to else today
        if last < start:
            raise InvalidInput(f"The report ends ({last:%d %b %Y}) before it starts ({start:%d %b %Y}).")
        return ReportWindow(start, last + timedelta(days=1), f"{start:%d %b %Y} – {last:%d %b %Y}")
    return parse_period(f"{today.year}-Q{(today.month - 1) // 3 + 1}")


def period_choices(first: date, last: date, kind: str) -> list[str]:
    """Period names from the newest to the oldest that touch [first, last]: kind is "Quarter",
    "Month" or "Year"."""
    names: list[str] = []
    year, month = last.year, last.month
    while (year, month) >= (first.year, first.month):
        if kind == "Month":
            name = f"{year}-{month:02d}"
        elif kind == "Quarter":
            name = f"{year}-Q{(month - 1) // 3 + 1}"
        else:
            name = str(year)
        if name not in names:
            names.append(name)
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return names


def default_period(choices: list[str], today: date | None = None) -> str | None:
    """The newest period that has already ended (reports are read after the fact), else the newest."""
    today = today or date.today()
    finished = [name for name in choices if parse_period(name).end <= today]
    candidates = finished or choices
    return candidates[0] if candidates else None
