"""The joint report as an Excel workbook: a summary sheet, one sheet per table, and the underlying
per-incident rows (customers pseudonymised).

Values are the `JointReport` tables' own values (numbers stay numbers, formatted with number
formats), so every total matches the screen. Every text cell is neutralised against formula
injection *and* written with the string type, so nothing a guest or an employee typed can ever
become a live formula. Written in openpyxl's write-only mode; the large per-incident sheet is
filled by `fast_rows` (openpyxl writes about 50k cells a second: a year of a large hotel group,
1.3M cells, would take half a minute).
"""

from __future__ import annotations

import io
import math
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from empowerment.reports import fast_rows
from empowerment.reports.model import JointReport, ReportTable, currency_symbol
from empowerment.reports.safety import neutralise
from empowerment.reports.tables import ROW_FORMATS

SHEET_NAMES = {
    "staff": "Staff", "budget_bands": "Budget bands", "turnaround": "Turnaround",
    "outcome_groups": "Outcomes", "payoff": "Payoff", "balance": "Balance", "teams": "Teams", "stories": "Stories",
    "values_lived": "Values lived", "friction": "Friction", "friction_alerts": "Friction alerts",
}
ROWS_SHEET = "Incidents"
BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")


def number_formats(symbol: str) -> dict[str, str]:
    money = f'"{symbol}"#,##0.00;-"{symbol}"#,##0.00'
    return {"money": money, "percent": "0.0%", "points": "+0.0%;-0.0%", "int": "#,##0",
            "number": "#,##0.0", "number2": "+0.00;-0.00", "hours": "#,##0.0", "days": "#,##0.0",
            "datetime": "yyyy-mm-dd hh:mm", "date": "yyyy-mm-dd"}


def plain(value: Any) -> Any:
    """numpy / pandas scalars to what openpyxl writes; missing values become empty cells."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def make_cell(sheet: WriteOnlyWorksheet, value: Any, number_format: str | None = None,
              font: Font | None = None) -> WriteOnlyCell:
    value = neutralise(plain(value))
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula, whatever the text
    elif number_format and isinstance(value, int | float | datetime | date) and not isinstance(value, bool):
        cell.number_format = number_format
    if font is not None:
        cell.font = font
    return cell


def _widths(sheet: WriteOnlyWorksheet, frame: pd.DataFrame) -> None:
    from openpyxl.utils import get_column_letter

    for position, column in enumerate(frame.columns, start=1):
        longest = max([len(str(column))] + [len(str(v)) for v in frame[column].head(200)])
        sheet.column_dimensions[get_column_letter(position)].width = min(max(10, longest + 2), 60)


def write_table(workbook: Workbook, name: str, table: ReportTable, formats: dict[str, str]) -> None:
    sheet = workbook.create_sheet(name)
    sheet.freeze_panes = "A2"
    _widths(sheet, table.frame)
    sheet.append([make_cell(sheet, column, font=BOLD) for column in table.frame.columns])
    last = len(table.frame) - 1
    for row in range(len(table.frame)):
        font = BOLD if table.total_row and row == last else None
        sheet.append([
            make_cell(sheet, table.frame.iloc[row, position], formats.get(table.cell_format(row, column)), font)
            for position, column in enumerate(table.frame.columns)
        ])


def write_rows(workbook: Workbook, frame: pd.DataFrame, formats: dict[str, str]) -> None:
    """The per-incident rows: here only the header and one template row with each column's kind
    and number format; `fast_rows.fill` then writes every row straight into the sheet's XML."""
    sheet = workbook.create_sheet(ROWS_SHEET)
    sheet.freeze_panes = "A2"
    _widths(sheet, frame)
    sheet.append([make_cell(sheet, column, font=BOLD) for column in frame.columns])
    template = []
    for column in frame.columns:
        kind = fast_rows.column_kind(frame[column])
        number_format = formats.get(ROW_FORMATS.get(str(column), "text"))
        template.append(make_cell(sheet, fast_rows.TEMPLATE_VALUES[kind], number_format))
    sheet.append(template)


def write_summary(workbook: Workbook, report: JointReport) -> None:
    sheet = workbook.create_sheet("Summary")
    sheet.column_dimensions["A"].width = 26
    sheet.column_dimensions["B"].width = 110

    def line(label: str, text: str = "", bold: bool = False) -> None:
        value = make_cell(sheet, text)
        value.alignment = WRAP
        sheet.append([make_cell(sheet, label, font=BOLD if bold or label else None), value])

    line(report.title, bold=True)
    line("Period", report.window.label)
    line("Dates", f"{report.window.start:%Y-%m-%d} to {report.window.last_day:%Y-%m-%d}")
    line("Location", report.location or "All locations")
    line("Generated", f"{report.generated_at:%Y-%m-%d %H:%M}; data up to {report.as_of[:10]}")
    line("Customers", "Names included at the reader's request (recorded in the audit log)"
         if report.include_identities else "Shown by stable pseudonyms")
    sheet.append([])
    for paragraph in report.summary:
        line("", paragraph)
    sheet.append([])
    line("Sheet", "What it shows", bold=True)
    for key, table in report.tables.items():
        line(SHEET_NAMES.get(key, key), f"{table.title}. {table.caption}")
    line(ROWS_SHEET, "One row per incident in scope: recovered or not, spend, and whether the customer came back.")
    for warning in report.warnings:
        line("Note", warning)


def render_xlsx(report: JointReport, include_rows: bool = True) -> bytes:
    workbook = Workbook(write_only=True)
    formats = number_formats(currency_symbol())
    write_summary(workbook, report)
    for key, table in report.tables.items():
        write_table(workbook, SHEET_NAMES.get(key, key[:31]), table, formats)
    if include_rows:
        write_rows(workbook, report.rows, formats)
    buffer = io.BytesIO()
    workbook.save(buffer)
    if not include_rows:
        return buffer.getvalue()
    return fast_rows.fill(buffer.getvalue(), ROWS_SHEET, report.rows)
