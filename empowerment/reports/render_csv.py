"""Any report table (or the underlying rows) as CSV, with every text cell neutralised.

Numbers are written as plain numbers (money in currency units, rates as fractions), so the file
sums to the same totals as the screen. UTF-8 with a byte-order mark, so Excel reads accents.
"""

from __future__ import annotations

import pandas as pd

from empowerment.csvformat import csv_bytes
from empowerment.reports.model import JointReport

ROWS_KEY = "rows"


def frame_to_csv(frame: pd.DataFrame) -> bytes:
    return csv_bytes(frame)  # the one CSV writer: CR/LF quoted, formula cells neutralised


def render_csv(report: JointReport, table: str = ROWS_KEY) -> bytes:
    """`table` is a key of `report.tables`, or "rows" for the per-incident rows."""
    frame = report.rows if table == ROWS_KEY else report.tables[table].frame
    return frame_to_csv(frame)
