"""Property-based tests (Hypothesis) of the CSV reader: whatever the bytes, the import answers with
`ImportFailed` (a sentence, and problems naming lines) or a summary; never another exception, and
a refused file changes nothing."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from empowerment.csvformat import DATE_FORMATS, IMPORT_KINDS, KINDS, FileFormat
from empowerment.db import Database
from empowerment.errors import ImportFailed
from empowerment.services.importing import import_csv, rejects_csv
from tests.conftest import fresh_sqlite
from tests.factories import SYSTEM
from tests.integration.importing_support import SEED, snapshot


@pytest.fixture(scope="module")
def seeded(_sqlite_template: str) -> Iterator[Database]:
    """One SQLite database with the seed rows, shared by every example (dry runs write nothing)."""
    with tempfile.TemporaryDirectory() as folder:
        db = fresh_sqlite(_sqlite_template, Path(folder))
        for kind in ("employees", "customers", "incidents", "gestures", "transactions"):
            import_csv(db, kind, SEED[kind].encode(), actor=SYSTEM)
        yield db
        db.dispose()


CELL_PIECES = st.sampled_from([
    "", " ", ",", ";", "\t", '"', '""', "\r", "\n", "\r\n", "\x00", "'", "=", "+", "-", "@", "\uff1d",
    "now", "today", "12,50", "1.234,50", "1,234.50", "-3", "0.005", "1e3", "99999999999", "2024-03-31",
    "31/03/2024", "2024-03-31T14:05:00+02:00", "2024-02-30", "C1", "E1", "I1", "G1", "comp", "staff",
    "Zoë", "名前", "\ufeff", "\u202e", "x" * 70,
])
CELL = st.lists(st.one_of(CELL_PIECES, st.text(max_size=8)), max_size=4).map("".join)
SEPARATOR = st.sampled_from([",", ";", "\t", "|"])
LINE_END = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def csv_like(draw: st.DrawFn) -> tuple[str, bytes]:
    """A file that is nearly right: a header of the kind's (some) columns, ragged rows of odd cells."""
    kind = draw(st.sampled_from(IMPORT_KINDS))
    names = KINDS[kind].names
    header = draw(st.lists(st.one_of(st.sampled_from(names), CELL), min_size=1, max_size=len(names) + 2))
    sep, end = draw(SEPARATOR), draw(LINE_END)
    rows = draw(st.lists(st.lists(CELL, max_size=len(header) + 2), max_size=6))
    text = end.join([sep.join(header), *(sep.join(row) for row in rows)]) + draw(st.sampled_from(["", end]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-16", "latin-1"]))
    return kind, text.encode(encoding, errors="replace")


FORMATS = st.builds(
    FileFormat,
    delimiter=st.sampled_from([None, ",", ";", "\t"]),
    decimal_mark=st.sampled_from([None, ".", ","]),
    date_format=st.sampled_from(list(DATE_FORMATS)),
)


def _import(db: Database, kind: str, data: bytes, file_format: FileFormat, valid_rows_only: bool) -> None:
    try:
        summary = import_csv(db, kind, data, actor=SYSTEM, dry_run=True, file_format=file_format,
                             valid_rows_only=valid_rows_only)
    except ImportFailed as exc:
        assert str(exc).strip()
        for problem in exc.problems:
            assert isinstance(problem["line"], int) and problem["line"] >= 1 and str(problem["reason"]).strip()
        return
    assert summary.rows >= summary.inserted + summary.updated + summary.unchanged
    if summary.rejects is not None and summary.rejected:
        assert rejects_csv(kind, summary.rejects)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(file=csv_like(), file_format=FORMATS, valid_rows_only=st.booleans())
def test_any_nearly_csv_file_gets_an_answer_never_an_unexpected_error(
    seeded: Database, file: tuple[str, bytes], file_format: FileFormat, valid_rows_only: bool
) -> None:
    kind, data = file
    _import(seeded, kind, data, file_format, valid_rows_only)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(IMPORT_KINDS), data=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)),
       valid_rows_only=st.booleans())
def test_any_bytes_get_an_answer_never_an_unexpected_error(
    seeded: Database, kind: str, data: bytes, valid_rows_only: bool
) -> None:
    _import(seeded, kind, data, FileFormat(), valid_rows_only)


def test_a_refused_real_import_changes_nothing(seeded: Database) -> None:
    before = snapshot(seeded)
    with pytest.raises(ImportFailed):
        import_csv(seeded, "transactions", b"transaction_id,customer_id,occurred_at,amount\nT9,C1,now,\x00\n",
                   actor=SYSTEM)
    assert snapshot(seeded) == before
