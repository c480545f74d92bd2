"""The Data page (AppTest on a migrated SQLite copy) and the remembered column mappings behind it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from empowerment.actor import Actor
from empowerment.csvformat import KINDS
from empowerment.db import Database
from empowerment.errors import InvalidInput, PermissionDenied
from empowerment.models import AppSetting, AuditEvent, Customer, Role, Transaction
from empowerment.queries import admin
from empowerment.services import organisation
from empowerment.ui.components import unmd as ui_text
from empowerment.ui.session import get_db
from tests.conftest import fresh_sqlite

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "data.py")
ADMIN = Actor(employee_id=None, name="Ada Admin", role=Role.ADMIN)
CANONICAL = b"transaction_id,customer_id,occurred_at,amount\nT1,C1,2024-01-02 10:00,12.50\nT2,C2,2024-01-03,-3.00\n"
POS = (b"Receipt No;Guest;When;Total;Till\n"  # a till export: other names, a semicolon would be refused
       b"R-1;G-7;2024-02-01 09:15;20.00;3\n")
POS_COMMA = b"Receipt No,Guest,When,Total,Till\nR-1,G-7,2024-02-01 09:15,20.00,3\nR-2,G-8,2024-02-02 11:00,5.5,1\n"
BAD = (b"transaction_id,customer_id,occurred_at,amount\n"
       b"T1,C1,2024-01-02 10:00,12.50\nT2,C2,not a date,3\nT3,,2024-01-03,=HYPERLINK(1)\n")


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _sqlite_template: str) -> Iterator[Database]:
    database = fresh_sqlite(_sqlite_template, tmp_path)
    monkeypatch.setenv("EMPOWERMENT_DATABASE_URL", database.url)
    get_db.clear()
    yield database
    get_db.clear()
    database.dispose()


def page(actor: Actor | None = ADMIN) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    if actor is not None:
        at.session_state["actor"] = actor
    return at.run()


def upload(at: AppTest, data: bytes, name: str = "file.csv", kind: str = "transactions") -> AppTest:
    if at.selectbox(key="dt_kind").value != kind:
        at.selectbox(key="dt_kind").set_value(kind).run()
    return at.file_uploader(key=f"dt_file_{kind}").set_value((name, data, "text/csv")).run()


def mapping_selects(at: AppTest, kind: str = "transactions") -> dict[str, str]:
    """Canonical column -> the key of its mapping select."""
    return {column: s.key for s in at.selectbox for column in KINDS[kind].names
            if s.key and s.key.startswith(f"dt_map_{kind}_{column}_")}


def count(db: Database, model: type) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


# --- the mapping service --------------------------------------------------------------------------

def test_a_mapping_is_remembered_per_kind_and_audited(db: Database) -> None:
    stored = organisation.set_mapping(db, ADMIN, "transactions",
                                  {"transaction_id": "Receipt No", "amount": "Total", "occurred_at": "occurred_at"})
    assert stored == {"amount": "Total", "transaction_id": "Receipt No"}  # identity entries dropped
    assert admin.get_mapping(db, "transactions") == stored
    assert admin.get_mapping(db, "customers") == {}
    organisation.set_mapping(db, ADMIN, "transactions", stored)  # unchanged: no second audit record
    with db.read() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "settings.column_mapping")).all()
        assert len(events) == 1 and json.loads(events[0].detail or "{}")["mapping"] == stored
        assert session.get(AppSetting, "column_mapping.transactions") is not None


@pytest.mark.parametrize("mapping, message", [
    ({"price": "Total"}, "'price' is not a column of transactions files"),
    ({"amount": "X", "transaction_id": "X"}, "mapped to more than one column"),
    ({"amount": "x" * 201}, "longer than 200 characters"),
])
def test_bad_mappings_are_refused(db: Database, mapping: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        organisation.set_mapping(db, ADMIN, "transactions", mapping)


def test_only_admins_change_mappings(db: Database) -> None:
    with pytest.raises(PermissionDenied):
        organisation.set_mapping(db, Actor(1, "Hal", Role.HR), "transactions", {"amount": "Total"})
    with pytest.raises(InvalidInput):
        admin.get_mapping(db, "ledger")


def test_suggestions_prefer_remembered_then_exact_then_lookalike_headers() -> None:
    suggestion = organisation.suggest_mapping("transactions", ["Receipt No", "Customer ID", "occurred_at", "Total"],
                                          {"transaction_id": "Receipt No", "amount": "Gross"})
    assert suggestion == {"transaction_id": "Receipt No", "customer_id": "Customer ID",
                          "occurred_at": "occurred_at", "amount": None}


# --- the page -------------------------------------------------------------------------------------

def test_only_admins_open_the_page(db: Database) -> None:
    assert "Sign in" in [t.value for t in page(None).title]
    refused = page(Actor(employee_id=None, name="Cleo", role=Role.CX_LEAD))
    assert "not available to your role" in refused.error[0].value


def test_a_canonical_file_is_previewed_checked_then_imported(db: Database) -> None:
    at = upload(page(), CANONICAL, "till.csv")
    assert not at.exception
    preview = at.dataframe[0].value
    assert list(preview.columns) == ["transaction_id", "customer_id", "occurred_at", "amount"] and len(preview) == 2
    assert at.button(key="dt_import").disabled
    at.button(key="dt_check").click().run()
    assert "Checked 2 transactions" in at.info[0].value and count(db, Transaction) == 0
    assert not at.button(key="dt_import").disabled
    at.button(key="dt_import").click().run()
    assert "Imported 2 transactions" in at.success[0].value
    assert count(db, Transaction) == 2 and count(db, Customer) == 2


def test_a_pos_export_is_mapped_once_and_the_mapping_is_remembered(db: Database) -> None:
    at = upload(page(), POS_COMMA, "pos.csv")
    keys = mapping_selects(at)
    assert all(at.selectbox(key=key).value == "(not in the file)" for key in keys.values())
    chosen = {"transaction_id": "Receipt No", "customer_id": "Guest", "occurred_at": "When", "amount": "Total"}
    for column, header in chosen.items():
        at.selectbox(key=keys[column]).set_value(header)
    at.run()
    at.button(key="dt_check").click().run()
    assert at.info and "Checked 2 transactions" in at.info[0].value
    at.button(key="dt_import").click().run()
    assert count(db, Transaction) == 2
    assert admin.get_mapping(db, "transactions") == chosen
    again = upload(page(), POS_COMMA.replace(b"R-1", b"R-3"), "pos2.csv")
    remembered = {column: again.selectbox(key=key).value for column, key in mapping_selects(again).items()}
    assert remembered == chosen
    again.button(key="dt_check").click().run()
    assert again.info and "1 added" in again.info[0].value.replace("would be ", "")


def test_problems_come_back_as_a_table_with_a_download(db: Database) -> None:
    at = upload(page(), BAD, "bad.csv")
    at.button(key="dt_check").click().run()
    assert at.error and "bad.csv" in at.error[0].value
    problems = at.dataframe[-1].value
    assert list(problems.columns) == ["line", "column", "value", "reason"]
    assert set(problems["line"]) >= {3, 4}
    assert at.button(key="dt_import").disabled and count(db, Transaction) == 0
    assert at.get("download_button")


def test_a_semicolon_file_with_decimal_commas_is_detected_mapped_and_imported(db: Database) -> None:
    """Issue 10: the usual European spreadsheet export was read as one column and refused."""
    at = upload(page(), POS.replace(b"20.00", b"20,50"), "pos.csv")
    assert not at.exception
    assert list(at.dataframe[0].value.columns) == ["Receipt No", "Guest", "When", "Total", "Till"]
    assert any("found: semicolons" in e.label for e in at.expander)
    keys = mapping_selects(at)
    for column, header in {"transaction_id": "Receipt No", "customer_id": "Guest", "occurred_at": "When",
                           "amount": "Total"}.items():
        at.selectbox(key=keys[column]).set_value(header)
    at.run()
    at.button(key="dt_check").click().run()
    assert at.info and "separated by semicolons, amounts with a comma" in ui_text(at.info[0].value)
    at.button(key="dt_import").click().run()
    with db.read() as session:
        assert session.scalars(select(Transaction.amount_cents)).all() == [2050]


def test_day_first_dates_are_read_when_chosen(db: Database) -> None:
    at = upload(page(), b"transaction_id,customer_id,occurred_at,amount\nT1,C1,31/01/2024,1\n", "eu.csv")
    at.button(key="dt_check").click().run()
    assert at.error and "is not a date or time" in at.dataframe[-1].value["reason"][0]
    at.selectbox(key="dt_dates").set_value("dmy").run()
    at.button(key="dt_check").click().run()
    assert at.info and "Checked 1 transaction" in at.info[0].value
    at.button(key="dt_import").click().run()
    assert count(db, Transaction) == 1


def test_the_valid_rows_are_imported_and_the_rejects_downloaded(db: Database) -> None:
    at = upload(page(), BAD, "bad.csv")
    at.radio(key="dt_mode").set_value("valid").run()
    at.button(key="dt_check").click().run()
    assert at.info and "2 rows with problems would be set aside" in ui_text(at.info[0].value)
    assert not at.button(key="dt_import").disabled and count(db, Transaction) == 0
    at.button(key="dt_import").click().run()
    assert "Imported 3 transactions: 1 added" in ui_text(at.success[0].value)
    assert count(db, Transaction) == 1
    problems = at.dataframe[-1].value
    assert set(problems["line"]) == {3, 4}
    assert at.get("download_button")


# --- erasure on request (issue 11) ----------------------------------------------------------------

def test_an_admin_erases_a_customer_from_the_data_page(db: Database) -> None:
    with db.write() as session:
        session.add(Customer(code="C9", name="Grace Hopper", room="1204", phone="+1 555 0100"))
    at = page()
    at.text_input(key="dt_erase_customer").set_value("C9")
    at.text_input(key="dt_erase_reference").set_value("Ticket 4711")
    at.button[-1].click().run()  # without the confirmation box: nothing happens
    assert "Tick the box" in " ".join(w.value for w in at.warning)
    with db.read() as session:
        assert session.scalar(select(Customer.name).where(Customer.code == "C9")) == "Grace Hopper"
    at.text_input(key="dt_erase_customer").set_value("C9")
    at.text_input(key="dt_erase_reference").set_value("Ticket 4711")
    at.checkbox(key="dt_erase_sure").check()
    at.button[-1].click().run()
    assert not at.exception
    assert "the customer is now Erased customer" in " ".join(s.value for s in at.success)
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Customer).where(Customer.name == "Grace Hopper")) == 0
