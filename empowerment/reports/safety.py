"""Spreadsheet formula injection (OWASP "CSV injection"): neutralise every exported text cell.

A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return (or their full-width
forms, which some spreadsheet programs also accept) is prefixed with a single quote `'`, so
Excel, LibreOffice and Google Sheets show it as text instead of running it. Numbers stay numbers:
a negative *number* is fine; only strings are changed. Column headers are cells too.

The rule and the cell and frame functions live once, in `empowerment.csvformat`; the report
renderers (CSV, XLSX) import them from here.
"""

from __future__ import annotations

from empowerment.csvformat import is_dangerous, neutralise, neutralise_frame  # the one rule

__all__ = ["is_dangerous", "neutralise", "neutralise_frame"]
