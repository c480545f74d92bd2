"""Any report table (or the underlying rows) as CSV, with every text cell neutralised.

Numbers are written as plain numbers (money in currency units, rates as fractions), so the file
sums to the same totals as the screen. UTF-8 with a byte-order mark, so Excel reads accents.
"""

from __future__ import annotations

import pandas as pd

from empowerment.reports.model import JointReport
from empowerment.reports.safety import neutralise_frame

ROWS_KEY = "rows"


def frame_to_csv(frame: pd.DataFrame) -> bytes:
    safe = neutralise_frame(frame)
    return safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def render_csv(report: JointReport, table: str = ROWS_KEY) -> bytes:
    """`table` is a key of `report.tables`, or "rows" for the per-incident rows."""
    frame = report.rows if table == ROWS_KEY else report.tables[table].frame
    return frame_to_csv(frame)
