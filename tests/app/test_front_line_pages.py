"""AppTests for the hand-over's actions and the admins' merge screen (issue 10)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from empowerment.db import Database
from empowerment.models import Customer, Incident, IncidentStatus, Role
from empowerment.services import customers, gestures
from empowerment.services.gestures import LogRequest
from empowerment.ui import components as ui
from empowerment.ui.session import get_db
from tests.conftest import fresh_sqlite
from tests.factories import actor_of, make_employee, make_policy, make_team

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _sqlite_template: str) -> Iterator[Database]:
    database = fresh_sqlite(_sqlite_template, tmp_path)
    monkeypatch.setenv("EMPOWERMENT_DATABASE_URL", database.url)
    get_db.clear()
    team = make_team(database, "FD", location="Harbour")
    make_employee(database, "E-LI", team_id=team, name="李娜")
    make_employee(database, "E-YA", team_id=team, name="山田太郎")
    make_employee(database, "E-ADM", role=Role.ADMIN, name="Ada Admin")
    make_policy(database, allowance_cents=50_000)
    yield database
    get_db.clear()
    database.dispose()


def _page(db: Database, name: str, employee: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=30)
    at.session_state["actor"] = actor_of(db, employee)
    return at.run()


def _status(db: Database, code: str) -> tuple[IncidentStatus, int | None]:
    with db.read() as session:
        incident = session.scalars(select(Incident).where(Incident.code == code)).one()
        return incident.status, incident.owner_id


def test_hand_over_cards_are_acknowledged_taken_over_and_closed(db: Database) -> None:
    li = actor_of(db, "E-LI")
    guest = customers.create_customer(db, li, "Jonas Berg", room="412")
    logged = gestures.log_gesture(db, li, LogRequest("E-LI", guest, "time", 0, category="Noise"))
    gestures.void_gesture(db, li, logged.gesture_code, reason="Logged on the wrong guest")  # open again
    code = logged.incident_code
    at = _page(db, "handover", "E-YA")
    assert not at.exception
    assert any("looked after by 李娜" in ui.unmd(c.value) for c in at.caption)
    at = at.button(key=f"ho_ack_{code}").click().run()
    assert "Acknowledged: the next shift sees you know about it." in [ui.unmd(s.value) for s in at.success]
    assert any("acknowledged by 山田太郎" in ui.unmd(c.value) for c in at.caption)
    at = at.button(key=f"ho_take_{code}").click().run()
    assert _status(db, code) == (IncidentStatus.OPEN, actor_of(db, "E-YA").employee_id)
    at = at.button(key=f"ho_close_{code}").click().run()  # no note: refused on the card
    assert any("why the incident is closed" in ui.unmd(e.value) for e in at.error)
    at.text_input(key=f"ho_note_{code}").set_value("Guest moved rooms and was happy.")
    at = at.button(key=f"ho_close_{code}").click().run()
    assert _status(db, code)[0] == IncidentStatus.CLOSED
    assert not [b for b in at.button if b.key == f"ho_ack_{code}"]  # the card left "Still open"


def test_a_recovery_is_marked_followed_up(db: Database) -> None:
    li = actor_of(db, "E-LI")
    guest = customers.create_customer(db, li, "王芳")
    logged = gestures.log_gesture(db, li, LogRequest("E-LI", guest, "gift", 1500, category="Long wait",
                                                     note="Flowers and a card"))
    at = _page(db, "handover", "E-LI")
    at.text_input(key=f"ho_fu_note_{logged.incident_code}").set_value("Called: she loved the flowers")
    at = at.button(key=f"ho_fu_{logged.incident_code}").click().run()
    assert "Marked followed up." in [ui.unmd(s.value) for s in at.success]
    assert any("followed up by 李娜" in ui.unmd(c.value) for c in at.caption)


def test_an_admin_merges_two_customers_on_screen(db: Database) -> None:
    li = actor_of(db, "E-LI")
    keep = customers.create_customer(db, li, "山田太郎", phone="+81 90 1111 2222")
    dup = customers.create_customer(db, li, "Taro Yamada", room="803")
    gestures.log_gesture(db, li, LogRequest("E-LI", dup, "comp", 2000, category="Noise"))
    at = _page(db, "customers", "E-ADM")
    assert not at.exception
    at.text_input(key="cm_find_keep").set_value("山田").run()
    at.radio(key="cm_keep").set_value(keep).run()
    at.text_input(key="cm_find_duplicate").set_value("Taro").run()
    at.radio(key="cm_duplicate").set_value(dup).run()
    at.text_input(key="cm_reason").set_value("Same phone; typed in two scripts")
    at = at.button(key="cm_merge").click().run()
    success = [ui.unmd(s.value) for s in at.success]
    assert success and "moved 1 incident(s), 1 gesture(s) and 0 purchase(s)" in success[0]
    with db.read() as session:
        merged = session.scalars(select(Customer).where(Customer.code == dup)).one()
        assert merged.merged_into_id is not None


def test_the_merge_screen_is_for_admins_only(db: Database) -> None:
    at = _page(db, "customers", "E-LI")
    assert not [b for b in at.button if b.key == "cm_merge"]
    assert at.error
