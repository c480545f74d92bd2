"""Importing the valid rows only: the rows set aside, with their line, columns and reasons in words.

The rejects file is the set-aside rows as they were written (canonical column names), after three
columns that say what is wrong: "line" (the row's line in the uploaded file; 1 is the header),
"columns" and "problem". Corrected, it can be imported as it is: the three columns are ignored.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from empowerment.csvformat import KINDS, csv_text, escape_formulas
from empowerment.services.importing.problems import Problems

REJECT_COLUMNS = ["line", "columns", "problem"]
_NUMBER = r"\s*[+-]?[0-9.,]+\s*"  # amounts and the like: written as they are, never quoted


def rejected_rows(raw: pd.DataFrame, lines: np.ndarray, problems: Problems) -> pd.DataFrame:
    """One row per line with a problem: line, columns, problem (words), then the row's cells."""
    found = problems.frame()
    if found.empty:
        return pd.DataFrame(columns=[*REJECT_COLUMNS, *raw.columns])
    found = found.assign(
        said=[
            reason if column is None or pd.isna(column) else f"{column}: {reason}"
            for column, reason in zip(found["column"], found["reason"], strict=True)
        ]
    )
    by_line = found.groupby("line", sort=True).agg(
        columns=("column", lambda c: ", ".join(dict.fromkeys(str(x) for x in c if isinstance(x, str)))),
        problem=("said", "; ".join),
    )
    wanted = np.isin(lines, by_line.index.to_numpy())
    cells = raw.loc[wanted].assign(line=lines[wanted]).set_index("line")
    out = by_line.join(cells, how="left").reset_index()
    return out[[*REJECT_COLUMNS, *raw.columns]]


def rejects_csv(kind: str, rejects: pd.DataFrame) -> bytes:
    """The rejects as a CSV to correct and import again: text cells a spreadsheet would run are
    escaped the way exports are (the import removes the quote), amounts stay numbers."""
    spec = KINDS[kind]
    frame = rejects.copy()
    escaped = [name for name in frame.columns if name in REJECT_COLUMNS or name in spec.names]
    for name in list(escaped):
        values = frame[name].astype(object).where(frame[name].notna(), None)
        if name in spec.names and spec.column(name).type not in ("id", "ref", "text", "choice"):
            # amounts and times: "-20.00" is a number; anything else that starts like a formula is not
            plain = values.astype(str).str.fullmatch(_NUMBER).to_numpy(dtype=bool)
            frame[name] = values.where(plain, escape_formulas(values.where(values.notna(), "")))
            escaped.remove(name)
    frame["line"] = frame["line"].astype("Int64").astype(str)
    return csv_text(frame, escaped_columns=escaped).encode("utf-8-sig")
