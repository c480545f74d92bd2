"""Imports that take real files (issue 10) and bad input (issue 11 finding 11), SQLite and PostgreSQL:
separators and decimal marks detected, date formats chosen, CR-only files, NUL bytes, words that
are not times, and "import the valid rows, download the rejects"."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from empowerment.csvformat import FileFormat
from empowerment.db import Database
from empowerment.errors import ImportFailed, InvalidInput
from empowerment.models import AuditEvent, Customer, Gesture, Transaction
from empowerment.services.importing import rejects_csv
from tests.integration.importing_support import fresh_db, refused, run, seed, snapshot


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path, _sqlite_template: str) -> Iterator[Database]:
    yield from fresh_db(request, tmp_path, _sqlite_template)


def _amounts(db: Database) -> dict[str, int]:
    with db.read() as session:
        return dict(session.execute(select(Transaction.code, Transaction.amount_cents)).all())


def _times(db: Database) -> dict[str, datetime]:
    with db.read() as session:
        return dict(session.execute(select(Transaction.code, Transaction.occurred_at)).all())


# --- separators, decimal marks, line ends ----------------------------------------------------------

def test_a_semicolon_file_with_decimal_commas_imports(db: Database) -> None:
    """The usual European spreadsheet export: before, it was read as one column and refused."""
    text = ("transaction_id;customer_id;occurred_at;amount\r\n"
            "T1;C1;2024-04-01;12,50\r\nT2;C1;2024-04-02;1.234,50\r\nT3;C1;2024-04-03;-3\r\n")
    summary = run(db, "transactions", text)
    assert (summary.inserted, summary.delimiter, summary.decimal_mark) == (3, ";", ",")
    assert _amounts(db) == {"T1": 1250, "T2": 123450, "T3": -300}
    assert "Read as separated by semicolons, amounts with a comma (12,50)." in summary.as_text()


def test_a_tab_separated_file_imports(db: Database) -> None:
    text = "customer_id\tname\tsegment\nC1\tAna, from Porto\tgold\nC2\tBo\t\n"
    summary = run(db, "customers", text)
    assert (summary.inserted, summary.delimiter) == (2, "\t")
    with db.read() as session:
        assert session.scalars(select(Customer.name).order_by(Customer.code)).all() == ["Ana, from Porto", "Bo"]


def test_a_chosen_decimal_mark_wins_over_detection(db: Database) -> None:
    text = "transaction_id,customer_id,occurred_at,amount\nT1,C1,2024-04-01,\"1,500\"\n"
    run(db, "transactions", text, file_format=FileFormat(decimal_mark=","))
    assert _amounts(db) == {"T1": 150}
    error = refused(db, "transactions", text.replace("T1", "T2").replace('"1,500"', "1.5"),
                    file_format=FileFormat(decimal_mark=","))
    assert "decimal comma" in str(error.problems[0]["reason"]) and error.problems[0]["value"] == "1.5"


def test_a_chosen_separator_that_does_not_fit_says_which_one_does(db: Database) -> None:
    error = refused(db, "customers", "customer_id;name\nC1;Ana\n", file_format=FileFormat(delimiter=","))
    assert "separated by semicolons" in str(error) and "Choose semicolons" in str(error)


def test_a_file_with_cr_only_line_ends_imports_with_true_line_numbers(db: Database) -> None:
    """Classic Mac line ends: before, an unexpected csv error."""
    good = "customer_id,name\rC1,Ana\rC2,Bo\r"
    assert run(db, "customers", good).inserted == 2
    error = refused(db, "customers", "customer_id,name\rC3,Cy\rC4,\r")
    assert [(p["line"], p["column"]) for p in error.problems] == [(3, "name")]


def test_nul_bytes_are_refused_with_their_line_and_column(db: Database) -> None:
    error = refused(db, "customers", b"customer_id,name\nC1,Ana\nC2,B\x00o\n")
    assert [(p["line"], p["column"]) for p in error.problems] == [(3, "name")]
    assert "NUL character" in str(error.problems[0]["reason"])
    assert error.problems[0]["value"] == "B\\0o"


def test_a_utf16_file_without_byte_order_mark_is_named_as_such(db: Database) -> None:
    error = refused(db, "customers", "customer_id,name\nC1,Ana\n".encode("utf-16-le"))
    assert "UTF-16" in str(error)


# --- dates ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("word", ["now", "today", "NOW", " today", "tomorrow", "yesterday"])
def test_words_are_not_times(db: Database, word: str) -> None:
    """pandas reads "now" and "today" as the current time: before, they were imported."""
    error = refused(db, "transactions", f"transaction_id,customer_id,occurred_at,amount\nT1,C1,{word},1\n")
    assert [(p["line"], p["column"]) for p in error.problems] == [(2, "occurred_at")]


def test_day_first_and_month_first_dates_are_read_when_chosen(db: Database) -> None:
    header = "transaction_id,customer_id,occurred_at,amount\n"
    run(db, "transactions", header + "T1,C1,31/03/2024,1\nT2,C1,01.02.2024 14:05,1\nT3,C1,2024-05-06,1\n",
        file_format=FileFormat(date_format="dmy"))
    run(db, "transactions", header + "T4,C1,03/31/2024 09:30:15,1\n", file_format=FileFormat(date_format="mdy"))
    times = _times(db)
    assert times["T1"] == datetime(2024, 3, 31) and times["T2"] == datetime(2024, 2, 1, 14, 5)
    assert times["T3"] == datetime(2024, 5, 6) and times["T4"] == datetime(2024, 3, 31, 9, 30, 15)
    error = refused(db, "transactions", header + "T5,C1,31/02/2024,1\nT6,C1,13/13/2024,1\n",
                    file_format=FileFormat(date_format="dmy"))
    assert [p["line"] for p in error.problems] == [2, 3]
    assert "day/month/year" in str(error.problems[0]["reason"])
    assert "ISO 8601" in str(refused(db, "transactions", header + "T7,C1,31/03/2024,1\n").problems[0]["reason"])


def test_an_unknown_format_choice_is_refused_in_words() -> None:
    with pytest.raises(InvalidInput, match="not a date format"):
        FileFormat(date_format="ymd-ish")
    with pytest.raises(InvalidInput, match="separator"):
        FileFormat(delimiter="|")


# --- import the valid rows, download the rejects ----------------------------------------------------

BAD_AND_GOOD = (
    "transaction_id,customer_id,occurred_at,amount\n"
    "T1,C1,2024-04-01,10.00\n"
    "T2,C1,now,5\n"
    "T3,C2,2024-04-02,abc\n"
    "T4,C2,2024-04-03,7.25\n"
    "T4,C2,2024-04-03,7.25\n"
    "T5,C3,2024-04-04,=1+2\n"
)


def test_the_valid_rows_are_imported_and_the_rejects_say_line_column_and_why(db: Database) -> None:
    summary = run(db, "transactions", BAD_AND_GOOD, valid_rows_only=True)
    assert (summary.rows, summary.inserted, summary.rejected) == (6, 2, 4)
    assert _amounts(db) == {"T1": 1000, "T4": 725}
    assert "4 rows with problems were set aside" in summary.as_text()
    assert summary.rejects is not None
    assert summary.rejects["line"].tolist() == [3, 4, 6, 7]
    assert summary.rejects["columns"].tolist() == ["occurred_at", "amount", "transaction_id", "amount"]
    assert "first appears on line 5" in summary.rejects["problem"].iloc[2]
    data = rejects_csv("transactions", summary.rejects)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0]["line"] == "3" and rows[0]["occurred_at"] == "now"
    assert rows[0]["problem"].startswith("occurred_at: is not a date or time")
    assert rows[3]["amount"] == "'=1+2"  # the rejects file never holds a live formula
    with db.read() as session:
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "import.transactions")).one()
        detail = json.loads(audit.detail) if isinstance(audit.detail, str) else audit.detail
        assert detail["rejected"] == 4 and detail["inserted"] == 2


def test_corrected_rejects_import_as_they_are(db: Database) -> None:
    summary = run(db, "transactions", BAD_AND_GOOD, valid_rows_only=True)
    assert summary.rejects is not None
    fixed = summary.rejects.copy()
    fixed.loc[fixed["line"] == 3, "occurred_at"] = "2024-04-05"
    fixed.loc[fixed["line"] == 4, "amount"] = "3.00"
    fixed = fixed[fixed["line"].isin([3, 4])]
    again = run(db, "transactions", rejects_csv("transactions", fixed))
    assert again.inserted == 2 and "Ignored columns not used for transactions: line, columns, problem." in again.warnings
    assert _amounts(db) == {"T1": 1000, "T2": 500, "T3": 300, "T4": 725}


def test_rows_the_database_refuses_are_set_aside_too_in_one_transaction(db: Database) -> None:
    seed(db, "employees", "customers", "incidents")
    text = ("gesture_id,incident_id,employee_id,occurred_at,type,cost\n"
            "G1,I1,E1,2024-03-01T11:00,comp,5\nG2,I404,E1,2024-03-01,comp,5\nG3,I2,E404,2024-03-01,comp,5\n")
    summary = run(db, "gestures", text, valid_rows_only=True)
    assert (summary.inserted, summary.rejected) == (1, 2)
    assert [p["reason"] for p in summary.problems] == [
        "unknown incident; import the incidents file first", "unknown employee; import the employees file first"]
    with db.read() as session:
        assert session.scalars(select(Gesture.code)).all() == ["G1"]


def test_a_valid_rows_dry_run_writes_nothing_and_counts_the_rejects(db: Database) -> None:
    before = snapshot(db)
    summary = run(db, "transactions", BAD_AND_GOOD, valid_rows_only=True, dry_run=True)
    assert (summary.inserted, summary.rejected) == (2, 4)
    assert snapshot(db) == before


def test_all_or_nothing_stays_the_default(db: Database) -> None:
    error = refused(db, "transactions", BAD_AND_GOOD)
    assert str(error) == "4 problems in transactions.csv; nothing was imported."


def test_a_file_that_cannot_be_read_is_refused_whole_even_for_valid_rows_only(db: Database) -> None:
    with pytest.raises(ImportFailed, match="missing the required column"):
        run(db, "transactions", "transaction_id,amount\nT1,1\n", valid_rows_only=True)


# --- customer ids ignore case (issue 11, finding 11: `c00002` created a second customer) ------------

def test_a_customer_id_in_another_case_is_the_same_customer(db: Database) -> None:
    run(db, "customers", "customer_id,name\nC00002,Charlotte Evans\n")
    summary = run(db, "transactions", "transaction_id,customer_id,occurred_at,amount\n"
                                      "T1,c00002,2024-01-01,5\nT2,C00002,2024-01-02,6\nT3,n1,2024-01-03,1\nT4,N1,2024-01-04,1\n")
    assert summary.customers_created == 1  # n1 and N1 are one new customer, spelt as first seen
    again = run(db, "customers", "customer_id,name\nc00002,Charlotte Evans-Smith\n")
    assert (again.inserted, again.updated) == (0, 1)
    with db.read() as session:
        customers = dict(session.execute(select(Customer.code, Customer.name)).all())
        assert customers == {"C00002": "Charlotte Evans-Smith", "n1": "Customer n1"}
        owners = session.execute(select(Transaction.code, Customer.code).join(Customer)).all()
        assert dict(owners) == {"T1": "C00002", "T2": "C00002", "T3": "n1", "T4": "n1"}


def test_two_spellings_of_one_customer_id_in_one_file_are_a_duplicate(db: Database) -> None:
    error = refused(db, "customers", "customer_id,name\nC1,Ana\nc1,Ana again\n")
    assert [(p["line"], p["reason"]) for p in error.problems] == [(3, "duplicate id; it first appears on line 2")]


def test_the_customer_lookup_ignores_case(db: Database) -> None:
    from empowerment.models.lookups import customer_by_code

    run(db, "customers", "customer_id,name\nC00002,Charlotte Evans\n")
    with db.read() as session:
        assert customer_by_code(session, " c00002 ").code == "C00002"
