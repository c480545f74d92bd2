"""Spreadsheet formula injection (OWASP "CSV injection"): neutralise every exported text cell.

A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return (or their full-width
forms, which some spreadsheet programs also accept) is prefixed with a single quote `'`, so
Excel, LibreOffice and Google Sheets show it as text instead of running it. Numbers stay numbers:
a negative *number* is fine; only strings are changed. Column headers are cells too.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from empowerment.csvformat import DANGEROUS_FIRST_CHARACTERS, QUOTE  # the one rule


def is_dangerous(value: object) -> bool:
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
    safe.columns = [neutralise(str(column)) if isinstance(column, str) else column for column in safe.columns]
    if _is_textual(safe.index.to_series()):
        safe.index = safe.index.map(neutralise)
    return safe
