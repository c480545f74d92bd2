"""One import in progress: the checked file, the open session and what has been counted so far."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from empowerment.csvformat import CsvKind
from empowerment.services.importing.problems import Problems
from empowerment.services.importing.summary import ImportSummary, Progress


@dataclass
class Job:
    spec: CsvKind
    filename: str
    frame: pd.DataFrame  # parsed values by CSV column name, plus "line"
    raw: pd.DataFrame  # the cells as written, same rows
    problems: Problems
    summary: ImportSummary
    dry_run: bool
    actor_id: int | None
    now: datetime
    progress: Progress
    session: Session = None  # type: ignore[assignment]
    valid_rows_only: bool = False
    # False while the ids' duplicates are still to be checked (a big load of a kind whose ids
    # have a unique index may leave the check to the index: `kinds.import_transactions`).
    ids_checked: bool = True
    # Importing the valid rows only: the file's cells and lines as read, and the problems of the
    # rows set aside so far.
    file_raw: pd.DataFrame | None = None
    file_lines: np.ndarray | None = None
    set_aside: list[Problems] = field(default_factory=list)

    def has(self, column: str) -> bool:
        return column in self.frame.columns

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name
