"""The joint report as data: the `JointReport` every output is drawn from (screen, PDF, XLSX, CSV,
HTML), its named tables and charts, the report window, and how a cell is shown to people.

Tables hold display-ready *values*: counts as ints, money in currency units (from integer cents,
rounded to the cent), rates as fractions, hours and days as floats, NaN for "not known". How a
column is shown lives beside it in `formats`, so a spreadsheet keeps numbers as numbers while the
PDF and HTML show "$1,234.50" and "42.0 %" - all from the same values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import altair as alt
import pandas as pd

from empowerment import money, settings
from empowerment.analytics.result import PayoffResult
from empowerment.periods import (  # noqa: F401 - re-exported: the report's windows are periods
    ReportWindow,
    default_period,
    parse_period,
    period_choices,
    resolve_window,
)

SECTIONS = ("Empowerment", "Customer outcomes", "Teams side by side", "Stories")
TABLE_KEYS = ("staff", "budget_bands", "turnaround", "outcome_groups", "payoff", "balance", "teams", "stories")
UNIT_FORMATS = {"points": "points", "customers": "number", "money": "money", "ratio": "percent", "days": "days"}
MISSING = "—"


def currency_symbol() -> str:
    """The report's figures cross locations: they are in the reporting currency."""
    return money.currency_symbol(settings.reporting_currency())


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
    if fmt == "number2":
        return f"{value:+.2f}"
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
    payoff: PayoffResult
    warnings: list[str] = field(default_factory=list)

    title: str = "Empowerment and customer recovery: joint report"

    @property
    def scope_label(self) -> str:
        return f"{self.window.label} · {self.location or 'all locations'}"

    def tables_in(self, section: str) -> list[ReportTable]:
        return [table for table in self.tables.values() if table.section == section]

    def charts_in(self, section: str) -> list[ReportChart]:
        return [chart for chart in self.charts.values() if chart.section == section]
