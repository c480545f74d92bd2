"""CSV export on SQLite and PostgreSQL: canonical columns, and export -> import changes nothing."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from empowerment.csvformat import IMPORT_KINDS, KINDS
from empowerment.db import Database
from empowerment.errors import InvalidInput
from empowerment.models import Customer, Transaction
from empowerment.reports.safety import is_dangerous, neutralise
from empowerment.services import exporting
from empowerment.services.exporting import export_csv
from empowerment.services.gestures import LogRequest, log_gesture, void_gesture
from tests.factories import SYSTEM, make_policy
from tests.integration.importing_support import exported, fresh_db, run, seed, snapshot


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path, _sqlite_template: str) -> Iterator[Database]:
    """Overrides conftest's `db` with a faster PostgreSQL reset (same empty, migrated schema)."""
    yield from fresh_db(request, tmp_path, _sqlite_template)


def _table(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_exports_its_canonical_header_even_when_empty(db: Database, kind: str) -> None:
    out = io.StringIO()
    assert export_csv(db, kind, out, actor=SYSTEM) == 0
    assert out.getvalue() == ",".join(KINDS[kind].names) + "\r\n"  # RFC 4180 line ends


def test_values_are_codes_decimal_amounts_and_iso_times(db: Database) -> None:
    seed(db)
    transactions = _table(exported(db, "transactions"))
    assert transactions == [
        {"transaction_id": "T1", "customer_id": "C1", "occurred_at": "2024-04-01T10:00:00", "amount": "120.00"},
        {"transaction_id": "T2", "customer_id": "C1", "occurred_at": "2024-04-03T18:30:00", "amount": "-20.00"},
        {"transaction_id": "T3", "customer_id": "C2", "occurred_at": "2024-05-01T00:00:00", "amount": "1234.56"},
    ]
    gestures = _table(exported(db, "gestures"))
    assert gestures[0] == {
        "gesture_id": "G1", "incident_id": "I1", "employee_id": "E1",
        "occurred_at": "2024-03-01T11:00:00", "type": "comp", "cost": "25.50", "note": "Sorry 🙏",
    }
    assert gestures[1]["occurred_at"] == "2024-03-02T09:30:00.250000"  # microseconds kept
    assert gestures[1]["cost"] == "0.00" and gestures[1]["note"] == ""
    employees = _table(exported(db, "employees"))
    assert employees[0] == {"employee_id": "E1", "name": "Ana Staff", "role": "staff", "team": "FD", "location": "Harbour"}
    assert employees[2]["team"] == "" and employees[2]["location"] == ""
    incidents = _table(exported(db, "incidents"))
    assert incidents[0]["description"] == "Loud party next door,\nroom 12"
    assert incidents[1]["employee_id"] == "" and incidents[1]["location"] == ""


@pytest.mark.parametrize("kind", IMPORT_KINDS)
def test_export_then_import_of_the_same_file_changes_nothing(db: Database, kind: str) -> None:
    seed(db)
    _app_activity(db)
    text = exported(db, kind)
    before = snapshot(db)
    summary = run(db, kind, text)
    assert summary.rows > 0
    assert (summary.inserted, summary.updated, summary.unchanged) == (0, 0, summary.rows)
    after = snapshot(db)
    assert len(after.pop("audit_events")) == len(before.pop("audit_events")) + 1
    assert after == before


def _app_activity(db: Database) -> None:
    """Rows written by the app itself (codes, microsecond-free times, ledger entries)."""
    make_policy(db, 50_000)
    first = log_gesture(
        db, SYSTEM, LogRequest("E1", "C1", "gift", "30", category="Noise", note="Fleurs 💐")
    )
    log_gesture(db, SYSTEM, LogRequest("E2", "C2", "comp", "12.34", incident_code="I2"))
    void_gesture(db, SYSTEM, first.gesture_code, "Logged twice")


def test_the_ledger_export_lists_every_entry_with_its_budget_employee_and_gesture(db: Database) -> None:
    seed(db, "employees", "customers", "incidents")
    _app_activity(db)
    rows = _table(exported(db, "ledger"))
    assert list(rows[0]) == KINDS["ledger"].names
    by_type = {(r["employee_id"], r["entry_type"]): r for r in rows}
    spend = by_type[("E1", "spend")]
    assert spend["amount"] == "-30.00" and spend["gesture_id"].startswith("G-")
    assert by_type[("E1", "reversal")]["amount"] == "30.00"
    assert by_type[("E1", "reversal")]["reason"] == "Voided"  # free text stays on the gesture (erasure)
    assert by_type[("E2", "spend")]["amount"] == "-12.34"
    allocation = by_type[("E1", "allocation")]
    assert allocation["amount"] == "500.00" and allocation["gesture_id"] == ""
    assert allocation["period_start"] == datetime.now().date().replace(day=1).isoformat()
    assert datetime.fromisoformat(allocation["created_at"]).date() == datetime.now().date()
    assert sum(int(r["entry_id"]) > 0 for r in rows) == len(rows)


def test_export_writes_to_a_path_a_text_file_or_a_binary_file(db: Database, tmp_path: Path) -> None:
    seed(db, "customers")
    path = tmp_path / "customers.csv"
    assert export_csv(db, "customers", path, actor=SYSTEM) == 2
    text = path.read_bytes().decode("utf-8")
    assert not text.startswith("\ufeff") and text.count("\r\n") == 3  # RFC 4180: CRLF line ends
    binary = io.BytesIO()
    assert export_csv(db, "customers", binary, actor=SYSTEM) == 2
    assert binary.getvalue().decode("utf-8") == text == exported(db, "customers")
    assert run(db, "customers", path.read_bytes()).unchanged == 2


def test_large_exports_are_streamed_in_chunks(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exporting, "CHUNK_ROWS", 3)
    text = "transaction_id,customer_id,occurred_at,amount\n" + "".join(
        f"T{i:02d},C{i % 3},2024-01-{i + 1:02d}T08:00:00,{i}.05\n" for i in range(10)
    )
    run(db, "transactions", text)
    writes: list[str] = []

    class Recorder(io.StringIO):
        def write(self, s: str) -> int:
            writes.append(s)
            return super().write(s)

    out = Recorder()
    assert export_csv(db, "transactions", out, actor=SYSTEM) == 10
    assert len(writes) == 1 + 4  # the header, then 3 + 3 + 3 + 1 rows
    assert out.getvalue() == text.replace("\n", "\r\n")
    with db.read() as session:
        assert len(list(session.scalars(select(Transaction)))) == 10


# --- safe to open in a spreadsheet (OWASP "CSV injection") --------------------------------------

FORMULA_NAME = '=HYPERLINK("http://x","y")'
FORMULA_NOTE = "+cmd|' /C calc'!A0"


def _formulas(db: Database) -> None:
    """A customer named like a formula (imported) and a gesture note like one (typed in the app)."""
    seed(db)
    run(db, "customers", f'customer_id,name\nC3,"{FORMULA_NAME.replace(chr(34), chr(34) * 2)}"\n')
    make_policy(db, 50_000)
    log_gesture(db, SYSTEM, LogRequest("E1", "C3", "gift", "30", category="Noise", note=FORMULA_NOTE))


def test_text_cells_a_spreadsheet_would_run_are_exported_behind_a_quote(db: Database) -> None:
    _formulas(db)
    with db.read() as session:
        assert session.scalars(select(Customer.name).where(Customer.code == "C3")).one() == FORMULA_NAME
    customers = {r["customer_id"]: r for r in _table(exported(db, "customers"))}
    assert customers["C3"]["name"] == "'" + FORMULA_NAME == neutralise(FORMULA_NAME)
    assert customers["C1"]["phone"] == "'+1 555 0100"  # every cell starting with "+", not only formulas
    assert customers["C1"]["name"] == "Guest One"
    gestures = _table(exported(db, "gestures"))
    assert gestures[-1]["note"] == "'" + FORMULA_NOTE
    assert gestures[-1]["cost"] == "30.00"
    ledger = _table(exported(db, "ledger"))
    assert {r["amount"] for r in ledger} >= {"-30.00", "500.00"}  # amounts are numbers: no quote


def test_exporting_formulas_behind_a_quote_and_importing_them_again_changes_nothing(
    db: Database,
) -> None:
    _formulas(db)
    for kind in IMPORT_KINDS:
        before = snapshot(db)
        summary = run(db, kind, exported(db, kind))
        assert (summary.inserted, summary.updated, summary.unchanged) == (0, 0, summary.rows), kind
        after = snapshot(db)
        assert len(after.pop("audit_events")) == len(before.pop("audit_events")) + 1
        assert after == before, kind


@pytest.mark.parametrize(
    "note",
    [
        "=1+1", "-5 degrees", "@channel", "\tTabbed", "\rReturn", "\uff1d1+1", "'=already quoted",
        "''+twice", "'plain quote", "O'Brien", "'", "''", "-", "= spaced", "plain",
    ],
)
def test_any_free_text_survives_export_and_import(db: Database, note: str) -> None:
    seed(db, "employees", "customers", "incidents")
    make_policy(db, 50_000)
    log_gesture(db, SYSTEM, LogRequest("E1", "C1", "gift", "1", incident_code="I1", note=note))
    text = exported(db, "gestures")
    assert not is_dangerous(_table(text)[0]["note"])
    before = snapshot(db)
    assert run(db, "gestures", text).unchanged == 1
    after = snapshot(db)
    assert len(after.pop("audit_events")) == len(before.pop("audit_events")) + 1
    assert after == before


def test_a_negative_amount_is_exported_as_a_plain_number(db: Database) -> None:
    run(db, "transactions", "transaction_id,customer_id,occurred_at,amount\nT1,C1,2024-04-01,-12.50\n")
    text = exported(db, "transactions")
    assert text.splitlines()[1] == "T1,C1,2024-04-01T00:00:00,-12.50"
    assert run(db, "transactions", text).unchanged == 1


def test_an_unknown_kind_is_refused(db: Database) -> None:
    with pytest.raises(InvalidInput, match="Unknown export"):
        export_csv(db, "payroll", io.StringIO(), actor=SYSTEM)


CR_NAME = "Ana\r=1+2+cmd|' /C calc'!A0"  # a CR then what would be a live formula in a new row


def test_a_carriage_return_inside_a_name_stays_in_its_cell_and_round_trips(db: Database) -> None:
    """Before the one writer: the CR was written bare, the row split in a spreadsheet and its
    second half (`=1+2+cmd|...`) became the first cell of a new row, a live formula."""
    run(db, "customers", "customer_id,name\nC1,Plain\n")
    with db.write() as session:
        session.scalars(select(Customer).where(Customer.code == "C1")).one().name = CR_NAME
    text = exported(db, "customers")
    assert '"Ana\r=1+2' in text  # quoted, so the CR is inside the cell
    # What a spreadsheet sees: Python's csv reader with universal newlines off, as Excel reads it.
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [["customer_id", "name", "segment", "email", "phone"], ["C1", CR_NAME, "", "", ""]]
    before = snapshot(db)
    assert run(db, "customers", text).unchanged == 1
    after = snapshot(db)
    after.pop("audit_events"), before.pop("audit_events")
    assert after == before


def test_every_csv_the_app_writes_goes_through_the_one_writer() -> None:
    """The report tables, the audit log and the import's problem list quote CR and LF and
    neutralise the same characters (full-width ones included) as the exports."""
    import pandas as pd

    from empowerment.queries import audit_log
    from empowerment.reports.render_csv import frame_to_csv

    frame = pd.DataFrame({"who": ["A\rB", "\uff1d1+1", "\uff20x", "\uff0b1", "\uff0d1", "\t=1"], "n": [1, 2, 3, 4, 5, 6]})
    for data in (frame_to_csv(frame), audit_log.to_csv(frame)):
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
        assert [r[0] for r in rows[1:]] == ["A\rB", "'\uff1d1+1", "'\uff20x", "'\uff0b1", "'\uff0d1", "'\t=1"]
