"""Batches from other systems (the API and signed webhooks): customers, transactions and incidents,
up to `MAX_BATCH_ROWS` rows a call, idempotent by id.

A batch is not a second validator: its rows are written as the CSV the import reads (the columns
the rows use, text escaped exactly as an export would) and handed to `importing.import_csv`, so a
batch is checked by the same rules and answered with the same messages as an uploaded file, and a
repeated batch changes nothing. Each problem's file line is mapped back to the row's position in
the batch. All or nothing by default; with `valid_rows_only` the import's own "import the valid
rows" mode writes the rows without a problem (in one transaction too) and the others come back
with their errors. The CSV is always comma-separated with decimal dots and ISO times: a batch is
never read by guesswork.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from empowerment.actor import Actor
from empowerment.csvformat import ESCAPED_TYPES, KINDS, FileFormat, escape_formulas
from empowerment.db import Database
from empowerment.errors import ImportFailed, InvalidInput
from empowerment.services.importing import ImportSummary, import_csv

MAX_BATCH_ROWS = 10_000
BATCH_KINDS = ("customers", "transactions", "incidents")
SOURCE_NAME = "this batch"  # how the import's messages name what they checked
_FIRST_LINE = re.compile(r"on line (\d+)")
BATCH_FORMAT = FileFormat(delimiter=",", decimal_mark=".", date_format="iso")


@dataclass(frozen=True)
class RowError:
    row: int  # position in the batch, from 0
    id: str | None  # the row's own id, as sent
    field: str | None
    value: object
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "id": self.id, "field": self.field, "value": self.value,
                "message": self.message}


@dataclass
class BatchResult:
    kind: str
    rows: int
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    customers_created: int = 0
    locations_created: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class BatchRefused(ImportFailed):
    """Nothing was written; `errors` says which rows and fields are wrong, and why."""

    def __init__(self, message: str, errors: list[RowError]) -> None:
        super().__init__(message, [e.as_dict() for e in errors])
        self.errors = errors


def upsert_rows(db: Database, actor: Actor, kind: str, rows: Sequence[Mapping[str, object]], *,
                valid_rows_only: bool = False) -> BatchResult:
    """Insert or update `rows` of `kind` by their id. Raises BatchRefused (nothing written) when a
    row is wrong and `valid_rows_only` is not set."""
    if kind not in BATCH_KINDS:
        raise InvalidInput(f"'{kind}' cannot be sent in batches; send one of: {', '.join(BATCH_KINDS)}.")
    if not rows:
        raise InvalidInput("The batch has no rows; nothing was imported.")
    if len(rows) > MAX_BATCH_ROWS:
        raise InvalidInput(f"The batch has {len(rows):,} rows; send at most {MAX_BATCH_ROWS:,} a call.")
    id_column = KINDS[kind].columns[0].name
    warnings = _unused_fields(kind, rows)
    data, line_to_position = _as_csv(kind, rows, list(range(len(rows))))
    try:
        summary = import_csv(db, kind, _named(data), actor=actor, file_format=BATCH_FORMAT,
                             valid_rows_only=valid_rows_only)
    except ImportFailed as exc:
        errors = _row_errors(exc.problems, line_to_position, rows, id_column)
        if not errors:
            raise InvalidInput(str(exc)) from None  # the batch as a whole (cannot be a row's)
        raise BatchRefused(_refusal(exc, len(rows)), errors) from None
    refused = _row_errors(summary.problems, line_to_position, rows, id_column)
    return _result(kind, len(rows), summary, refused, warnings)


def _unused_fields(kind: str, rows: Sequence[Mapping[str, object]]) -> list[str]:
    known = set(KINDS[kind].names)
    extra = sorted({key for row in rows for key in row if key not in known})
    if not extra:
        return []
    return [f"Fields not used (ignored): {', '.join(extra[:20])}; a {KINDS[kind].noun} has: "
            f"{', '.join(KINDS[kind].names)}."]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):  # true/false are not numbers, ids or dates: let the rules say so
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    return json.dumps(value, ensure_ascii=False)


def _as_csv(kind: str, rows: Sequence[Mapping[str, object]], positions: list[int]) -> tuple[bytes, dict[int, int]]:
    """The rows as the import's CSV (only the columns they use, so a field left out leaves the
    stored value as it is), and each physical line's batch position."""
    spec = KINDS[kind]
    used = {key for row in rows for key in row}
    columns = [c for c in spec.columns if c.required or c.name in used]
    frame = pd.DataFrame({c.name: [_cell(row.get(c.name)) for row in rows] for c in columns}, dtype=object)
    for column in columns:
        if column.type in ESCAPED_TYPES:  # the import unescapes one leading quote: keep text as sent
            frame[column.name] = escape_formulas(frame[column.name].astype(str))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.name for c in columns])
    line = 2
    line_to_position: dict[int, int] = {}
    for position, values in zip(positions, frame.itertuples(index=False, name=None), strict=True):
        writer.writerow(values)
        line_to_position[line] = position
        line += 1 + sum(str(v).count("\n") for v in values)
    return out.getvalue().encode("utf-8"), line_to_position


def _named(data: bytes) -> io.BytesIO:
    buffer = io.BytesIO(data)
    buffer.name = SOURCE_NAME
    return buffer


def _row_errors(problems: Sequence[Mapping[str, object]], line_to_position: dict[int, int],
                rows: Sequence[Mapping[str, object]], id_column: str) -> list[RowError]:
    errors = []
    for problem in problems:
        position = line_to_position.get(int(problem.get("line") or 0))  # type: ignore[call-overload]
        if position is None:
            continue
        # a file's "first appears on line 7" is the batch's "first appears in row 5"
        message = _FIRST_LINE.sub(lambda m: f"in row {line_to_position.get(int(m.group(1)), m.group(1))}",
                                  str(problem.get("reason") or ""))
        raw_id, column = rows[position].get(id_column), problem.get("column")
        errors.append(RowError(position, None if raw_id is None else str(raw_id),
                               str(column) if column else None, problem.get("value"), message))
    return errors


def _refusal(exc: ImportFailed, total: int) -> str:
    count = len({p.get("line") for p in exc.problems})
    return f"{count:,} of {total:,} rows refused. {exc}"


def _result(kind: str, total: int, summary: ImportSummary, refused: list[RowError],
            warnings: list[str]) -> BatchResult:
    return BatchResult(
        kind=kind, rows=total, inserted=summary.inserted, updated=summary.updated,
        unchanged=summary.unchanged, rejected=summary.rejected,
        customers_created=summary.customers_created, locations_created=summary.locations_created,
        errors=sorted(refused, key=lambda e: e.row), warnings=[*warnings, *summary.warnings],
    )
