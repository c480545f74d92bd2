"""What an import tells its caller: the counts and warnings, and progress along the way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from empowerment.csvformat import DATE_FORMATS, DECIMAL_MARKS, DELIMITERS, KINDS

ProgressCallback = Callable[[float, str], None]


@dataclass
class ImportSummary:
    kind: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    customers_created: int = 0
    teams_created: int = 0
    locations_created: int = 0
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False
    # How the file was read (detected unless chosen): a separator of DELIMITERS, a decimal mark
    # of DECIMAL_MARKS, a date format of DATE_FORMATS.
    delimiter: str = ","
    decimal_mark: str = "."
    date_format: str = "iso"
    # Importing the valid rows only: the rows set aside, one per line ("line", "columns",
    # "problem", then the file's cells as written), and their problems one by one.
    rejected: int = 0
    rejects: pd.DataFrame | None = None
    problems: list[dict[str, object]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "customers_created": self.customers_created,
            "teams_created": self.teams_created,
            "locations_created": self.locations_created,
            "rejected": self.rejected,
        }

    def format_text(self) -> str | None:
        """'Read as separated by semicolons, amounts with a comma (12,50).' when not the default."""
        parts = []
        if self.delimiter != ",":
            parts.append(f"separated by {DELIMITERS[self.delimiter]}")
        if self.decimal_mark != ".":
            parts.append(f"amounts with {DECIMAL_MARKS[self.decimal_mark]}")
        if self.date_format != "iso":
            parts.append(f"dates as {DATE_FORMATS[self.date_format].split(' (')[0].lower()}")
        return f"Read as {', '.join(parts)}." if parts else None

    def as_text(self) -> str:
        noun = KINDS[self.kind].noun
        plural = "" if self.rows == 1 else "s"
        head = "Checked" if self.dry_run else "Imported"
        verb = "would be " if self.dry_run else ""
        lines = [
            f"{head} {self.rows:,} {noun}{plural}: {self.inserted:,} {verb}added, "
            f"{self.updated:,} {verb}updated, {self.unchanged:,} unchanged."
        ]
        for count, what in (
            (self.customers_created, "customer"),
            (self.teams_created, "team"),
            (self.locations_created, "location"),
        ):
            if count:
                s = "" if count == 1 else "s"
                lines.append(f"{count:,} new {what}{s} {verb or ''}created for ids not yet known.")
        if self.rejected:
            s = "" if self.rejected == 1 else "s"
            lines.append(
                f"{self.rejected:,} row{s} with problems "
                f"{'would be' if self.dry_run else 'were' if self.rejected != 1 else 'was'} set "
                "aside and not imported; download them with the reasons, correct them and import "
                "that file."
            )
        read_as = self.format_text()
        if read_as:
            lines.append(read_as)
        lines.extend(self.warnings)
        if self.dry_run:
            lines.append("Dry run: nothing was written.")
        return "\n".join(lines)


class Progress:
    """Calls the callback at most ~40 times, with a non-decreasing fraction."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self._callback = callback
        self._last = -1.0

    def __call__(self, fraction: float, message: str) -> None:
        if self._callback is None:
            return
        fraction = min(max(float(fraction), self._last, 0.0), 1.0)
        if fraction - self._last >= 0.025 or (fraction >= 1.0 > self._last):
            self._last = fraction
            self._callback(fraction, message)
