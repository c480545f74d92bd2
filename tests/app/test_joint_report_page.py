"""AppTests for the Joint report page (HR, CX leads, admins) on a small SQLite hotel."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.models import AuditEvent, Role
from empowerment.ui.session import get_db
from tests.conftest import fresh_sqlite
from tests.factories import actor_of, make_employee
from tests.integration.test_reports import EVIL_NOTE, build_hotel

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "joint_report.py")


@pytest.fixture(scope="module")
def hotel_file(_sqlite_template: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    database = fresh_sqlite(_sqlite_template, tmp_path_factory.mktemp("page"))
    build_hotel(database)
    for code, role in (("P-HR", Role.HR), ("P-CX", Role.CX_LEAD), ("P-MGR", Role.MANAGER)):
        make_employee(database, code, role=role, name=f"Page {role.value}")
    url = database.url
    database.dispose()
    return url


@pytest.fixture
def db(hotel_file: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("EMPOWERMENT_DATABASE_URL", hotel_file)
    monkeypatch.setenv("EMPOWERMENT_SECRET_KEY", "page-test-secret")
    get_db.clear()
    database = Database(hotel_file)
    yield database
    get_db.clear()
    database.dispose()



def page(actor: Actor) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["actor"] = actor
    return at.run()


def identity_events(db: Database, actor: Actor) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "report.identities_included", AuditEvent.actor_id == actor.employee_id)) or 0)


def test_hr_reads_the_summary_first_then_every_section(db: Database) -> None:
    at = page(actor_of(db, "P-HR"))
    assert not at.exception
    assert at.selectbox(key="jr_quarter").value == "2026-Q2"
    summary = " ".join(m.value for m in at.markdown)
    assert "9 of 11 front-line staff" in summary  # the ten at the hotel and the page's manager
    assert [h.value for h in at.header] == ["Empowerment", "Customer outcomes", "Teams side by side", "Stories"]
    assert len(at.get("vega_lite_chart")) == 4  # budget bands, outcomes, overlap, teams
    # every table but the stories, which are cards (3 from issue 13: values, friction); static tables,
    # which wrap at 820 px (a grid scrolled sideways); an empty one says so in a line
    empty = [c for c in at.caption if c.value.startswith("Nothing in this period")]
    assert len(at.table) + len(empty) == 10 and not at.dataframe
    assert {b.proto.label for b in at.get("download_button")} >= {"PDF report", "Spreadsheet (XLSX)"}


def test_a_note_is_shown_as_plain_text_and_customers_by_pseudonym(db: Database) -> None:
    at = page(actor_of(db, "P-CX"))
    assert EVIL_NOTE in [t.value for t in at.text]
    assert not any("<script>" in m.value for m in at.markdown)
    captions = " ".join(c.value for c in at.caption)
    assert "Customer " in captions and "Guest " not in captions


def test_customer_names_are_shown_only_when_ticked_and_recorded_once(db: Database) -> None:
    reader = actor_of(db, "P-HR")
    at = page(reader)
    assert identity_events(db, reader) == 0
    at.checkbox(key="jr_identities").check().run()
    assert not at.exception
    assert "Guest " in " ".join(c.value for c in at.caption)
    at.run()
    assert identity_events(db, reader) == 1


def test_the_page_refuses_a_manager(db: Database) -> None:
    at = page(actor_of(db, "P-MGR"))
    assert at.error and "not available to your role" in at.error[0].value
    assert not at.checkbox and not at.header
