"""AppTests for "My budget" on a migrated SQLite database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.errors import PermissionDenied
from empowerment.models import Role
from empowerment.queries import my_budget
from empowerment.services import gestures
from empowerment.services.gestures import LogRequest
from empowerment.ui import components as ui
from empowerment.ui.session import get_db
from tests.conftest import fresh_sqlite
from tests.factories import actor_of, make_customer, make_employee, make_policy, make_team

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "my_budget.py")


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _sqlite_template: str) -> Iterator[Database]:
    database = fresh_sqlite(_sqlite_template, tmp_path)  # a copy of the migrated template
    monkeypatch.setenv("EMPOWERMENT_DATABASE_URL", database.url)
    get_db.clear()
    team = make_team(database, "FD")
    make_employee(database, "E-ANA", team_id=team, name="Ana Staff")
    make_employee(database, "E-BEN", team_id=team, name="Ben Colleague")
    make_policy(database, allowance_cents=50_000, role=Role.STAFF)
    yield database
    get_db.clear()
    database.dispose()


def page(actor: Actor | None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    if actor is not None:
        at.session_state["actor"] = actor
    return at.run()


def log(db: Database, actor: Actor, cents: int, note: str | None = None, name: str = "Grace") -> str:
    result = gestures.log_gesture(db, actor, LogRequest(
        "E-ANA", make_customer(db, name=name), "gift", cents, category="Noise", note=note))
    return result.gesture_code


def test_a_visitor_who_is_not_signed_in_sees_the_sign_in_screen(db: Database) -> None:
    at = page(None)
    assert not at.exception
    assert "Sign in" in [t.value for t in at.title]
    assert not at.metric


def test_balance_chart_history_and_stories_are_shown(db: Database) -> None:
    ana = actor_of(db, "E-ANA")
    log(db, ana, 2_500, note="Sent flowers to the room; she smiled.", name="Grace *Hopper*")
    voided = log(db, ana, 10_000, note="Wrong guest")
    gestures.void_gesture(db, ana, voided, reason="Mistake")
    at = page(ana)
    assert not at.exception
    metrics = {ui.unmd(m.label): ui.unmd(m.value) for m in at.metric}
    assert metrics["Remaining"] == "$475.00"
    assert metrics["Allocated"] == "$500.00"
    assert metrics["Spent"] == "$25.00"
    assert metrics["On hold"] == "$0.00"
    assert len(at.get("vega_lite_chart")) == 1
    table = at.dataframe[0].value
    assert list(table["Status"]) == ["Undone", "Logged"]
    assert list(table["Customer"]) == ["Grace", "Grace *Hopper*"]
    # Only the gesture that still counts is a story; its note is plain text, never Markdown.
    assert [t.value for t in at.text] == ["Sent flowers to the room; she smiled."]


def test_someone_who_never_used_their_budget_is_encouraged(db: Database) -> None:
    at = page(actor_of(db, "E-ANA"))
    assert not at.exception
    assert ui.unmd(at.metric[0].value) == "$500.00"
    assert any("An unused budget is a missed chance to put something right" in ui.unmd(m.value)
               for m in at.markdown)
    assert not at.dataframe


def test_a_manager_without_a_budget_policy_is_told_kindly(db: Database) -> None:
    make_employee(db, "E-MGR", role=Role.MANAGER, name="Mo Manager")
    at = page(actor_of(db, "E-MGR"))
    assert not at.exception
    assert any("Mo Manager has no budget policy yet" in ui.unmd(i.value) for i in at.info)
    assert not at.error


def test_the_read_side_refuses_a_colleagues_history(db: Database) -> None:
    ben = actor_of(db, "E-BEN")
    with pytest.raises(PermissionDenied):
        my_budget.my_gestures(db, ben, "E-ANA", limit=10)
