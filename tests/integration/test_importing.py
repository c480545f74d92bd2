"""CSV import on SQLite and PostgreSQL: whole files or nothing, every problem at once, safe to repeat."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from empowerment.actor import Actor
from empowerment.csvformat import Column, CsvKind
from empowerment.db import Database
from empowerment.errors import InvalidAmount
from empowerment.models import (
    AuditEvent,
    Customer,
    Employee,
    Gesture,
    GestureStatus,
    GestureType,
    Incident,
    Location,
    Role,
    Team,
    Transaction,
)
from empowerment.money import parse_cents
from empowerment.services import importing
from tests.integration.importing_support import (
    INCIDENTS,
    SEED,
    TRANSACTIONS,
    exported,
    fresh_db,
    refused,
    run,
    seed,
    snapshot,
    where,
)

TX_HEADER = "transaction_id,customer_id,occurred_at,amount\n"
GESTURE_HEADER = "gesture_id,incident_id,employee_id,occurred_at,type,cost,note\n"


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path, _sqlite_template: str) -> Iterator[Database]:
    """Overrides conftest's `db` with a faster PostgreSQL reset (same empty, migrated schema)."""
    yield from fresh_db(request, tmp_path, _sqlite_template)


def _rows(db: Database, model: type) -> list:
    with db.read() as session:
        return list(session.scalars(select(model).order_by(model.id)))


# --- what lands --------------------------------------------------------------------------------


def test_transactions_land_as_cents_and_times_and_unknown_customers_are_created_and_counted(
    db: Database,
) -> None:
    seed(db, "customers")
    summary = run(
        db,
        "transactions",
        TX_HEADER + "T1,C1,2024-04-01T10:00:00,12.5\n"
        "T2,C9,2024-04-02 08:15,-3\n"
        'T3,C8,2024-04-03,"$1,234.50"\n'
        "T4,C9,2024-04-01,0.05\n",
    )
    assert (summary.rows, summary.inserted, summary.updated, summary.unchanged) == (4, 4, 0, 0)
    assert summary.customers_created == 2
    assert "2 new customers created" in summary.as_text()
    by_code = {t.code: t for t in _rows(db, Transaction)}
    assert [by_code[c].amount_cents for c in ("T1", "T2", "T3", "T4")] == [1250, -300, 123450, 5]
    assert by_code["T2"].occurred_at == datetime(2024, 4, 2, 8, 15)
    assert by_code["T3"].occurred_at == datetime(2024, 4, 3)
    customers = {c.code: c for c in _rows(db, Customer)}
    assert customers["C9"].name == "Customer C9" and customers["C8"].name == "Customer C8"
    assert customers["C9"].first_seen_at == datetime(2024, 4, 1)  # earliest of its transactions
    assert by_code["T2"].customer_id == customers["C9"].id


def test_every_import_writes_one_audit_event_with_counts_and_no_row_contents(db: Database) -> None:
    seed(db, "customers")
    run(db, "transactions", TRANSACTIONS, actor=Actor(None, "Ana (admin)", Role.ADMIN))
    with db.read() as session:
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.action.like("import.%"))))
    assert [e.action for e in events] == ["import.customers", "import.transactions"]
    event = events[-1]
    assert event.actor_label == "Ana (admin)" and event.entity == "transactions"
    detail = json.loads(event.detail or "{}")
    assert detail["rows"] == 3 and detail["inserted"] == 3 and detail["customers_created"] == 0
    assert "T1" not in event.detail and "C1" not in event.detail and "120" not in event.detail


def test_employees_create_unknown_teams_and_locations_and_count_them(db: Database) -> None:
    summary = run(db, "employees", SEED["employees"])
    assert (summary.inserted, summary.teams_created, summary.locations_created) == (3, 1, 1)
    teams, locations = _rows(db, Team), _rows(db, Location)
    assert [(t.code, t.name) for t in teams] == [("FD", "FD")]
    assert [(loc.code, loc.name) for loc in locations] == [("Harbour", "Harbour")]
    assert teams[0].location_id == locations[0].id
    staff = {e.code: e for e in _rows(db, Employee)}
    assert staff["E1"].team_id == teams[0].id and staff["E3"].team_id is None
    assert staff["E2"].role.value == "manager" and staff["E1"].active
    # An existing team is used as it is, even when the file gives another location.
    again = run(db, "employees", "employee_id,name,role,team,location\nE4,Di,staff,FD,Elsewhere\n")
    assert (again.teams_created, again.locations_created) == (0, 1)
    assert any("team's location" in w for w in again.warnings)


def test_gestures_are_recorded_as_history_and_cap_breaches_are_counted_not_enforced(
    db: Database,
) -> None:
    seed(db, "employees", "incidents")
    summary = run(
        db,
        "gestures",
        GESTURE_HEADER + "G1,I1,E1,2024-03-01T11:00,refund,1500.00,\n"
        "G2,I1,E1,2024-03-01T12:00,comp,600,\n"
        "G3,I1,E1,2024-03-01T13:00,gift,100,\n"
        "G4,I1,E1,2024-03-02T09:00,gift,1999.99,\n",
    )
    assert summary.inserted == 4
    assert any(w.startswith("2 gestures in this file are above the $2,000.00 daily cap") for w in summary.warnings)
    incident = {i.code: i for i in _rows(db, Incident)}["I1"]
    for gesture in _rows(db, Gesture):
        assert gesture.status == GestureStatus.LOGGED and gesture.source == "import"
        assert gesture.budget_id is None and gesture.customer_id == incident.customer_id
    assert {g.code: g.type for g in _rows(db, Gesture)}["G1"] == GestureType.REFUND


def test_a_gesture_logged_in_the_app_cannot_be_changed_by_an_import(db: Database) -> None:
    seed(db, "employees", "incidents", "gestures")
    with db.write() as session:
        gesture = session.scalars(select(Gesture).where(Gesture.code == "G1")).one()
        gesture.source = "app"
    text = exported(db, "gestures")
    assert run(db, "gestures", text).unchanged == 2  # the same values: fine
    changed = text.replace(",25.50,", ",99.00,")
    error = refused(db, "gestures", changed)
    assert where(error.problems) == [(2, "cost")]
    assert "logged in the app" in str(error.problems[0]["reason"])


def test_an_incident_moved_to_another_customer_takes_its_gestures_along(db: Database) -> None:
    seed(db, "employees", "incidents", "gestures")
    summary = run(db, "incidents", INCIDENTS.replace("I1,C1,", "I1,C2,"))
    assert (summary.updated, summary.unchanged) == (1, 1)
    customers = {c.code: c.id for c in _rows(db, Customer)}
    assert {g.code: g.customer_id for g in _rows(db, Gesture)}["G1"] == customers["C2"]


# --- safe to repeat ----------------------------------------------------------------------------


def test_repeating_every_import_changes_nothing(db: Database) -> None:
    seed(db)
    before = snapshot(db)
    for kind, text in SEED.items():
        summary = run(db, kind, text)
        assert (summary.inserted, summary.updated) == (0, 0), kind
        assert summary.unchanged == summary.rows > 0, kind
        assert summary.customers_created == summary.teams_created == summary.locations_created == 0
    after = snapshot(db)
    assert len(after.pop("audit_events")) == len(before.pop("audit_events")) + len(SEED)
    assert after == before


def test_existing_rows_are_found_by_id_lookups_when_the_table_is_too_big_to_read_whole(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(db, "customers", "transactions")
    monkeypatch.setattr(importing.lookup, "FETCH_ALL_BELOW", 0)
    monkeypatch.setattr(importing.lookup, "FETCH_ALL_FACTOR", 0)
    calls: list[str] = []
    real = importing.lookup._frame
    monkeypatch.setattr(importing.lookup, "_frame", lambda rows, names: calls.append("q") or real(rows, names))
    monkeypatch.setattr(importing.lookup, "LOOKUP_CHUNK", 2)
    summary = run(db, "transactions", TRANSACTIONS.replace("1234.56", "1234.57") + "T4,C2,2024-06-01,1\n")
    assert (summary.inserted, summary.updated, summary.unchanged) == (1, 1, 2)
    assert len(calls) >= 3  # customers (C1, C2) and transactions (4 ids) in chunks of 2


def test_changed_rows_are_updated_and_identical_rows_left_unchanged(db: Database) -> None:
    seed(db, "customers", "transactions")
    summary = run(db, "transactions", TRANSACTIONS.replace("T2,C1,2024-04-03T18:30:00,-20.00", "T2,C2,2024-04-03T18:30:00,-25.00"))
    assert (summary.inserted, summary.updated, summary.unchanged) == (0, 1, 2)
    t2 = {t.code: t for t in _rows(db, Transaction)}["T2"]
    assert t2.amount_cents == -2500
    assert t2.customer_id == {c.code: c.id for c in _rows(db, Customer)}["C2"]


def test_an_optional_column_absent_from_the_file_is_left_as_it_is(db: Database) -> None:
    seed(db, "customers")
    summary = run(db, "customers", "customer_id,name\nC1,Guest Renamed\nC2,Guest Two\n")
    assert (summary.updated, summary.unchanged) == (1, 1)
    c1 = {c.code: c for c in _rows(db, Customer)}["C1"]
    assert c1.name == "Guest Renamed" and c1.email == "one@example.com" and c1.segment == "gold"
    # Present but empty clears it.
    run(db, "customers", "customer_id,name,email\nC1,Guest Renamed,\n")
    assert {c.code: c for c in _rows(db, Customer)}["C1"].email is None


def test_dry_run_writes_nothing_and_reports_what_the_import_would_do(db: Database) -> None:
    seed(db, "customers")
    text = TRANSACTIONS + "T4,C7,2024-06-01,5\n"
    before = snapshot(db)
    dry = run(db, "transactions", text, dry_run=True)
    assert snapshot(db) == before
    assert dry.dry_run and "Dry run: nothing was written." in dry.as_text()
    real = run(db, "transactions", text)
    assert (dry.inserted, dry.updated, dry.unchanged, dry.customers_created) == (
        real.inserted, real.updated, real.unchanged, real.customers_created,
    ) == (4, 0, 0, 1)
    # A dry run of a bad file is refused like the real thing.
    refused(db, "transactions", TX_HEADER + "T9,C1,someday,1\n", dry_run=True)


# --- refused files: the database does not change ------------------------------------------------


LONG_NOTE = "n" * 10_000

BAD_FILES = [
    pytest.param(
        "transactions",
        TX_HEADER + "T1,C1,2024-02-30,1\nT2,C1,31/01/2024,1\nT3,C1,2024-01-01T25:00,1\nT4,C1,1899-12-31,1\n",
        [(2, "occurred_at"), (3, "occurred_at"), (4, "occurred_at"), (5, "occurred_at")],
        id="bad dates",
    ),
    pytest.param(
        "transactions",
        TX_HEADER + "T1,C1,2024-01-01,1.234\nT2,C1,2024-01-01,0.005\nT3,C1,2024-01-01,1.50\n",
        [(2, "amount"), (3, "amount")],
        id="more than 2 decimals",
    ),
    pytest.param(
        "transactions",
        TX_HEADER + 'T1,C1,2024-01-01,abc\nT2,C1,2024-01-01,"12,50"\nT3,C1,2024-01-01,1e3\n'
        "T4,C1,2024-01-01,99999999999\nT5,C1,2024-01-01,\nT6,C1,2024-01-01,1.50\n",
        # "1.50" says the file's decimal mark is a dot, so "12,50" is not read as 12.50 (or 1250)
        [(2, "amount"), (3, "amount"), (4, "amount"), (5, "amount"), (6, "amount")],
        id="non-numeric, decimal comma, too large and empty amounts",
    ),
    pytest.param(
        "transactions",
        TX_HEADER + "T1,C1,2024-01-01,1\nT2,C1,2024-01-01,2\nT1,C1,2024-01-02,3\nT1,C2,2024-01-03,4\n",
        [(4, "transaction_id"), (5, "transaction_id")],
        id="duplicate ids",
    ),
    pytest.param(
        "transactions",
        TX_HEADER + f"{'T' * 65},C1,2024-01-01,1\nT2,,2024-01-01,1\nT3,C1,2024-01-01,1,extra\n",
        [(2, "transaction_id"), (3, "customer_id"), (4, None)],
        id="over-long id, empty required cell, extra cell",
    ),
    pytest.param(
        "employees",
        "employee_id,name,role,team,location\nE7,Ed,boss,,\nE8,,staff,,\n"
        f"E9,{'x' * 201},Staff,,\n",
        [(2, "role"), (3, "name"), (4, "name")],
        id="unknown role, empty and over-long name",
    ),
    pytest.param(
        "gestures",
        GESTURE_HEADER + "G1,I1,E1,2024-03-01,hug,1,\nG2,I1,E1,2024-03-01,comp,-5,\n"
        f"G3,I1,E1,2024-03-01,comp,5,{LONG_NOTE}\nG4,I404,E1,2024-03-01,comp,5,\n"
        "G5,I1,E404,2024-03-01,comp,5,\n",
        [(2, "type"), (3, "cost"), (4, "note"), (5, "incident_id"), (6, "employee_id")],
        id="unknown type, negative cost, 10,000-char note, unknown incident and employee",
    ),
    pytest.param(
        "incidents",
        "incident_id,customer_id,occurred_at,category,employee_id\nI7,C1,2024-03-01,,E1\n"
        "I8,C1,2024-03-01,Noise,E404\n",
        [(2, "category"), (3, "employee_id")],
        id="empty category, unknown employee",
    ),
    pytest.param(
        "customers",
        'customer_id,name,email\nC5,"two\nlines",a@b.c\n\nC6,,a@b.c\n'
        f"C7,Ok,{'e' * 201}\n",
        [(5, "name"), (6, "email")],
        id="line numbers count quoted line breaks and blank lines",
    ),
]


@pytest.mark.parametrize(("kind", "text", "expected"), BAD_FILES)
def test_a_bad_file_is_refused_whole_with_every_problem_by_line_and_column(
    db: Database, kind: str, text: str, expected: list[tuple[int, str | None]]
) -> None:
    seed(db, "employees", "incidents")
    error = refused(db, kind, text)
    assert where(error.problems) == expected
    n = len(expected)
    assert str(error) == f"{n} problem{'s' if n > 1 else ''} in {kind}.csv; nothing was imported."
    for problem in error.problems:
        assert set(problem) == {"line", "column", "value", "reason"} and problem["reason"]


DUPLICATES = TX_HEADER + "T1,C1,2024-01-01,1\nT2,C1,2024-01-01,2\nT1,C1,2024-01-02,3\nT1,C2,2024-01-03,4\n"


@pytest.mark.parametrize("with_another_problem", [False, True])
def test_a_big_load_leaves_duplicate_ids_to_the_unique_index_and_still_names_them(
    db: Database, monkeypatch: pytest.MonkeyPatch, with_another_problem: bool
) -> None:
    monkeypatch.setattr(importing.writing, "REBUILD_INDEXES_FROM_ROWS", 2)  # every file here is big
    hashed = _count_calls(monkeypatch, importing.validation, "_check_duplicate_ids")
    error = refused(db, "transactions", DUPLICATES + ("T9,C1,2024-13-01,1\n" if with_another_problem else ""))
    assert where(error.problems) == [(4, "transaction_id"), (5, "transaction_id"),
                                     *([(6, "occurred_at")] if with_another_problem else [])]
    assert "duplicate id; it first appears on line 2" in str(error.problems[0]["reason"])
    # the problems were worked out after the index refused the rows (or with the other problem)
    assert hashed["n"] == 1
    run(db, "transactions", TRANSACTIONS)
    assert hashed["n"] == 1, "a big load of new rows hashed its ids before the index checked them"
    run(db, "transactions", TRANSACTIONS.replace("120.00", "121.00"))  # rows matched: checked first
    assert hashed["n"] == 2


def test_a_big_load_writes_its_new_rows_in_customer_and_time_order_and_each_keeps_its_values(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(db, "transactions", TRANSACTIONS)  # T1, T2 of C1; T3 of C2
    monkeypatch.setattr(importing.writing, "REBUILD_INDEXES_FROM_ROWS", 2)
    monkeypatch.setattr(importing.writing, "CHUNK_ROWS", 2)  # rows taken in order a chunk at a time
    text = (TX_HEADER + "T10,C2,2024-06-01,10\nT2,C1,2024-04-03T18:30:00,-21\nT11,C1,2024-07-01,11\n"
            "T3,C2,2024-05-01,1234.56\nT12,C1,2024-01-01,12\nT13,C2,2024-01-05,13\n")
    summary = run(db, "transactions", text)
    assert (summary.inserted, summary.updated, summary.unchanged) == (4, 1, 1)
    with db.read() as session:
        rows = session.execute(select(Transaction.code, Transaction.amount_cents).order_by(Transaction.id)).all()
    assert [tuple(r) for r in rows] == [("T1", 12000), ("T2", -2100), ("T3", 123456),
                                        ("T12", 1200), ("T11", 1100), ("T13", 1300), ("T10", 1000)]


def test_a_small_load_and_a_dry_run_check_duplicate_ids_before_writing(db: Database) -> None:
    assert where(refused(db, "transactions", DUPLICATES).problems) == [(4, "transaction_id"), (5, "transaction_id")]
    assert where(refused(db, "transactions", DUPLICATES, dry_run=True).problems) == [
        (4, "transaction_id"), (5, "transaction_id")]


def _count_calls(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> dict[str, int]:
    real, calls = getattr(module, name), {"n": 0}

    def counted(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_a_bad_file_does_not_touch_rows_it_would_have_updated(db: Database) -> None:
    seed(db, "customers", "transactions")
    text = TRANSACTIONS.replace("120.00", "999.00") + "T9,C1,2024-13-01,1\n"
    error = refused(db, "transactions", text, column_mapping=None)
    assert where(error.problems) == [(5, "occurred_at")]
    assert {t.code: t.amount_cents for t in _rows(db, Transaction)}["T1"] == 12000


def test_problem_values_and_reasons_say_what_is_wrong(db: Database) -> None:
    error = refused(
        db,
        "gestures",
        GESTURE_HEADER + f"G1,I1,E1,2024-03-01,hug,1.999,{LONG_NOTE}\n",
    )
    by_column = {p["column"]: p for p in error.problems}
    assert by_column["type"]["value"] == "hug" and "personal_note" in str(by_column["type"]["reason"])
    assert "more than 2 decimals" in str(by_column["cost"]["reason"])
    assert "10,000 characters long; the most is 2,000" in str(by_column["note"]["reason"])
    assert len(str(by_column["note"]["value"])) < 200  # shortened for display


def test_the_problem_list_is_capped_but_the_count_is_exact(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing.problems, "MAX_PROBLEMS", 5)
    text = TX_HEADER + "".join(f"T{i},C1,2024-01-01,x{i}\n" for i in range(8))
    error = refused(db, "transactions", text)
    assert str(error) == "8 problems in transactions.csv; nothing was imported. The first 5 are listed."
    assert [p["line"] for p in error.problems] == [2, 3, 4, 5, 6]


@pytest.mark.parametrize(
    ("kind", "header", "missing"),
    [
        ("transactions", "transaction_id,customer,occurred_at,total", ["customer_id", "amount"]),
        ("employees", "employee_id,name,team,location", ["role"]),
        ("customers", "id,name", ["customer_id"]),
        ("incidents", "incident_id,customer_id,occurred_at", ["category"]),
        ("gestures", "gesture_id,incident_id,employee_id,occurred_at,type", ["cost"]),
    ],
)
def test_missing_required_columns_are_named_in_one_clear_error(
    db: Database, kind: str, header: str, missing: list[str]
) -> None:
    error = refused(db, kind, header + "\nx,y,z,w,v\n")
    message = str(error)
    assert f"missing the required column{'s' if len(missing) > 1 else ''} {', '.join(missing)}" in message
    assert f"The file has: {header.replace(',', ', ')}" in message
    assert where(error.problems) == [(1, name) for name in missing]


def test_a_file_not_saved_as_utf8_is_refused_with_its_lines_and_how_to_fix_it(db: Database) -> None:
    data = "customer_id,name\nC1,Zoë\nC2,Plain\nC3,José\n".encode("latin-1")
    error = refused(db, "customers", data)
    assert "not saved as UTF-8" in str(error) and "Save the file as UTF-8" in str(error)
    assert where(error.problems) == [(2, None), (4, None)]
    assert "0xEB" in str(error.problems[0]["reason"])
    utf16 = "customer_id,name\nC1,Zoë\n".encode("utf-16")
    assert "UTF-16" in str(refused(db, "customers", utf16))


def test_a_byte_order_mark_is_accepted(db: Database) -> None:
    summary = run(db, "customers", "\ufeffcustomer_id,name\nC1,Zoë\n".encode())
    assert summary.inserted == 1


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "is empty"),
        (b"\n\r\n", "is empty"),
        (b"customer_id,name\n", "has a header but no data rows"),
        (b"customer_id,name\n\n,\n", "has a header but no data rows"),
        (b"customer_id\tname\nC1;Ana\n", "1 problem"),  # tabs detected: a missing name cell
        (b"customer_id,name,name\nC1,A,B\n", "1 problem with the header"),
    ],
)
def test_empty_header_only_and_malformed_files_get_a_clear_message(
    db: Database, data: bytes, says: str
) -> None:
    assert says in str(refused(db, "customers", data))


def test_the_ledger_cannot_be_imported(db: Database) -> None:
    error = refused(db, "ledger", "entry_id\n1\n")
    assert "append-only" in str(error)


def test_names_in_any_script_and_emoji_round_trip(db: Database) -> None:
    names = {
        "C1": "محمد الأحمد",
        "C2": "张伟",
        "C3": "Zoë 😀👍🏽 O'Brien",
        "C4": 'Comma, "quoted" name',
        "C5": "Ünïcödé — ß",
    }
    text = "customer_id,name\n" + "".join(
        f'{code},"{name.replace(chr(34), chr(34) * 2)}"\n' for code, name in names.items()
    )
    assert run(db, "customers", text).inserted == 5
    assert {c.code: c.name for c in _rows(db, Customer)} == names
    out = exported(db, "customers")
    for name in ("محمد الأحمد", "张伟", "Zoë 😀👍🏽 O'Brien"):
        assert name in out
    again = run(db, "customers", out)
    assert again.unchanged == 5 and again.updated == 0


@pytest.mark.parametrize(
    ("cell", "stored"),
    [
        ("'=1+1", "=1+1"),  # the formula escape that export_csv adds is removed
        ("'-5 degrees", "-5 degrees"),
        ("'@channel", "@channel"),
        ("  '+44 20 7946 0000 ", "+44 20 7946 0000"),  # spaces are stripped first
        ("'\uff1d1+1", "\uff1d1+1"),  # full-width "=", which reports.safety neutralises too
        ("''=x", "'=x"),  # exactly one quote is removed
        ("'plain", "'plain"),  # a quote before anything else is the value's own
        ("O'Brien", "O'Brien"),
        ("'", "'"),
        ("''", "''"),
    ],
)
def test_a_quote_before_a_formula_character_is_the_export_escape_and_is_removed(
    db: Database, cell: str, stored: str
) -> None:
    run(db, "customers", f'customer_id,name,phone\nC1,"{cell}","{cell}"\n')
    customer = _rows(db, Customer)[0]
    assert customer.name == stored and customer.phone == stored


def test_an_amount_behind_a_quote_is_not_a_number(db: Database) -> None:
    error = refused(db, "transactions", TX_HEADER + "T1,C1,2024-01-01,'-12.50\n")
    assert where(error.problems) == [(2, "amount")]


# --- options -----------------------------------------------------------------------------------


def test_column_mapping_reads_a_pos_export_and_extra_columns_are_ignored_with_a_note(
    db: Database,
) -> None:
    pos = "Receipt No,Client,Date,Total,Till\nR1,C1,2024-04-01 10:00,9.99,3\nR2,C1,2024-04-01 11:00,1,3\n"
    mapping = {"transaction_id": "Receipt No", "customer_id": "Client", "occurred_at": "Date", "amount": "Total"}
    summary = run(db, "transactions", pos, column_mapping=mapping)
    assert summary.inserted == 2 and summary.customers_created == 1
    assert "Ignored column not used for transactions: Till." in summary.warnings
    error = refused(db, "transactions", pos, column_mapping={**mapping, "amount": "Sum"})
    assert "the file has no such column" in str(error.problems[0]["reason"])
    error = refused(db, "transactions", pos, column_mapping={**mapping, "colour": "Till"})
    assert "not a transactions column" in str(error.problems[0]["reason"])


def test_times_are_read_in_business_time_and_stored_in_utc(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    # A till writes its own wall clock; some exports add an offset. Either way the stored time is
    # UTC, and the server's own clock zone plays no part.
    monkeypatch.setenv("EMPOWERMENT_TIME_ZONE", "America/New_York")
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    summary = run(
        db,
        "transactions",
        TX_HEADER + "T1,C1,2024-07-01T12:00:00Z,1\nT2,C1,2024-07-01T12:00:00+02:00,1\n"
        "T3,C1,2024-07-01T09:00:00,1\nT4,C1,2024-01-15T12:00:00.123456789+00:00,1\n"
        "T5,C1,2024-11-03 01:30,1\nT6,C1,2024-03-10 02:30,1\n",
    )
    times = {t.code: t.occurred_at for t in _rows(db, Transaction)}
    assert times == {
        "T1": datetime(2024, 7, 1, 12, 0),
        "T2": datetime(2024, 7, 1, 10, 0),
        "T3": datetime(2024, 7, 1, 13, 0),  # 09:00 in New York (EDT, UTC-4)
        "T4": datetime(2024, 1, 15, 12, 0, 0, 123456),  # nanoseconds truncated
        "T5": datetime(2024, 11, 3, 6, 30),  # the clock went back: the second 01:30 (EST)
        "T6": datetime(2024, 3, 10, 7, 0),  # a time the clock skipped: the hour after, 03:00 EDT
    }
    assert any("3 occurred_at values had a time zone offset; they were read with it" in w
               for w in summary.warnings)
    assert "occurred_at values without an offset were read as America/New York time." in summary.warnings


def test_progress_is_reported_a_few_dozen_times_at_most_and_ends_at_one(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing.writing, "CHUNK_ROWS", 10)
    calls: list[tuple[float, str]] = []
    text = TX_HEADER + "".join(f"T{i},C{i % 50},2024-01-01,1\n" for i in range(2_000))
    run(db, "transactions", text, progress=lambda fraction, message: calls.append((fraction, message)))
    fractions = [f for f, _ in calls]
    assert 3 <= len(calls) <= 45
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and fractions[0] == 0.0
    assert all(isinstance(m, str) and m for _, m in calls)


def test_progress_moves_while_the_rows_are_added_after_new_customers_rebuilt_their_indexes(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Creating many customers rebuilds their indexes; that step once reported 93%, and the bar
    # then stood still for the whole insert of the transactions.
    monkeypatch.setattr(importing.writing, "CHUNK_ROWS", 100)
    monkeypatch.setattr(importing.writing, "REBUILD_INDEXES_FROM_ROWS", 50)
    calls: list[tuple[float, str]] = []
    text = TX_HEADER + "".join(f"T{i},C{i % 400},2024-01-01,1\n" for i in range(4_000))
    run(db, "transactions", text, progress=lambda fraction, message: calls.append((fraction, message)))
    adding = [f for f, m in calls if m.startswith("Adding")]
    assert len(adding) >= 5, calls


def test_the_portable_core_path_and_the_fast_path_write_the_same_rows(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing.writing, "USE_FAST_PATHS", False)
    seed(db)
    portable = {kind: exported(db, kind) for kind in SEED}
    monkeypatch.setattr(importing.writing, "USE_FAST_PATHS", True)
    for kind, text in SEED.items():  # the fast path reads the portable path's rows as identical
        summary = run(db, kind, text)
        assert (summary.inserted, summary.updated, summary.unchanged) == (0, 0, summary.rows), kind
    assert {kind: exported(db, kind) for kind in SEED} == portable


@pytest.mark.parametrize("postgres_copy", ["binary", "csv"])
def test_rows_the_fast_path_wrote_read_as_identical_through_the_portable_path(
    db: Database, monkeypatch: pytest.MonkeyPatch, postgres_copy: str
) -> None:
    # PostgreSQL: binary COPY (pgpq) for the import's tables, CSV COPY for a table with a column
    # type binary COPY is not sent as; both must write what the ORM would.
    if postgres_copy == "csv":
        monkeypatch.setattr(importing.writing.bulk, "binary_copy_schema", lambda *_args: None)
    seed(db)
    fast = {kind: exported(db, kind) for kind in SEED}
    monkeypatch.setattr(importing.writing, "USE_FAST_PATHS", False)
    for kind, text in SEED.items():
        summary = run(db, kind, text)
        assert (summary.inserted, summary.updated, summary.unchanged) == (0, 0, summary.rows), kind
    assert {kind: exported(db, kind) for kind in SEED} == fast


def test_a_failure_while_writing_rolls_everything_back(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing.writing, "CHUNK_ROWS", 2)
    monkeypatch.setattr(importing.writing, "REBUILD_INDEXES_FROM_ROWS", 1)
    seed(db, "customers")
    # The chunk's data as the driver takes it: tuples for SQLite, binary COPY's batch for PostgreSQL.
    name = "_rows" if db.dialect == "sqlite" else "_arrow_batch"
    real_rows = getattr(importing.writing, name)
    calls = {"n": 0}

    def failing_rows(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return real_rows(*args, **kwargs)

    monkeypatch.setattr(importing.writing, name, failing_rows)
    before = snapshot(db)
    indexes_before = _index_names(db)
    with pytest.raises(RuntimeError):
        run(db, "transactions", TRANSACTIONS + "T4,C9,2024-01-01,1\nT5,C9,2024-01-01,1\n")
    assert snapshot(db) == before
    assert _index_names(db) == indexes_before


def _index_names(db: Database) -> list[str]:
    from sqlalchemy import inspect

    return sorted(ix["name"] for ix in inspect(db.engine).get_indexes("transactions"))


def test_a_big_sqlite_load_rebuilds_the_same_indexes_it_dropped(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing.writing, "REBUILD_INDEXES_FROM_ROWS", 1)
    with sqlite_db.read() as session:
        before = session.connection().exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'transactions' ORDER BY name"
        ).all()
    run(sqlite_db, "transactions", TRANSACTIONS)
    with sqlite_db.read() as session:
        after = session.connection().exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'transactions' ORDER BY name"
        ).all()
        cache = session.connection().exec_driver_sql("PRAGMA cache_size").scalar()
    assert after == before and any(name == "ix_transactions_customer_time_amount" for name, _ in after)
    assert cache == -2000  # the connection's page cache is back to SQLite's default


# --- amounts: the vectorised parser agrees with money.parse_cents ------------------------------

AMOUNTS = [
    "0", "12", "12.5", "12.50", "12.500", "$1,234.56", "€3", "£0.99", "-3", "+4", ".5", "5.",
    " 7 ", "-0.01", "10000000.00", "10000000.01", "1e3", "abc", "12,50", "1,23", "1,234,567.89",
    "1.234", "--1", "1.2.3", "", "١٢", "0x10", "inf", "NaN",
]


@pytest.mark.parametrize("signed", [False, True])
def test_amounts_follow_parse_cents_except_that_a_decimal_comma_is_refused(signed: bool) -> None:
    values = pd.Series(AMOUNTS, dtype="str").str.strip()
    filled = (values != "").to_numpy()
    cents, bad, reasons = importing.values.parse_money(values, filled, signed=signed)
    for i, text in enumerate(AMOUNTS):
        if not filled[i]:
            continue
        try:
            expected: int | None = parse_cents(text, allow_negative=signed)
        except InvalidAmount:
            expected = None
        if bad[i]:
            assert expected is None or "," in text or not text.isascii(), text
            assert reasons[i], text
        else:
            assert cents[i] == expected, text
    assert bool(bad[AMOUNTS.index("12,50")]) and not bad[AMOUNTS.index("1,234,567.89")]
    assert bool(bad[AMOUNTS.index("-3")]) is (not signed)


def test_physical_line_numbers_survive_skipped_lines_and_multiline_cells() -> None:
    text = 'a,b\n1,2\n\n"x\ny",2\n3,4,5\n6\n7,8,9\n"p\n\nq",1\n10,\n'
    spec = CsvKind("t", "t", (Column("a", "text"), Column("b", "text")))
    raw, lines, problems, _ = importing.reading.parse(text.encode(), text, spec, None, "t.csv", [])
    assert list(raw["a"]) == ["1", "x\ny", "6", "p\n\nq", "10"]
    assert list(lines) == [2, 4, 7, 9, 12]
    assert [p["line"] for p in problems.as_list()] == [6, 8]
    assert isinstance(lines, np.ndarray)


# --- the package -------------------------------------------------------------------------------




def test_hr_cx_leads_and_admins_give_no_gestures_in_an_import_either(db: Database) -> None:
    """Issue 11, finding 2: segregation of duties on every entry point, imports included."""
    seed(db, "employees", "incidents")
    run(db, "employees", "employee_id,name,role,team,location\nH1,Hal HR,hr,,\nA1,Ada Admin,admin,,\n")
    error = refused(db, "gestures", GESTURE_HEADER + "G1,I1,E1,2024-03-01T11:00,refund,15,\n"
                    "G2,I1,H1,2024-03-01T12:00,comp,6,\nG3,I1,A1,2024-03-01T13:00,gift,1,\n")
    assert where(error.problems) == [(3, "employee_id"), (4, "employee_id")]
    assert "do not give recovery gestures" in str(error.problems[0]["reason"])
    assert _rows(db, Gesture) == []
