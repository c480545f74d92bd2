"""AppTests for the Connections, Delivery log and Notifications pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from empowerment.actor import Actor
from empowerment.db import Database, upgrade
from empowerment.models import Role
from empowerment.queries.connections import api_tokens, my_channels
from empowerment.ui.session import get_db
from tests.factories import SYSTEM, actor_of, make_employee, make_team

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path}/app.db"
    monkeypatch.setenv("EMPOWERMENT_DATABASE_URL", url)
    monkeypatch.setenv("EMPOWERMENT_SECRET_KEY", "app-test-secret-" + "s" * 32)
    get_db.clear()
    database = Database(url)
    upgrade(database)
    team = make_team(database, "FD")
    make_employee(database, "A1", role=Role.ADMIN, name="Ada Admin")
    make_employee(database, "S1", role=Role.STAFF, team_id=team, name="Sam Staff")
    yield database
    database.dispose()
    get_db.clear()


def _page(name: str, actor: Actor) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=30)
    at.session_state["actor"] = actor
    return at.run()


def test_an_admin_creates_a_token_sees_it_once_and_revokes_it(db: Database) -> None:
    admin = actor_of(db, "A1")
    at = _page("connections", admin)
    assert not at.exception
    at.text_input(key="cn_name").input("PMS Harbour")
    at.multiselect(key="cn_scopes").select("ingest")
    at.button[0].click().run()  # the form's submit
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = [c.value for c in at.code]
    assert len(shown) == 1 and shown[0].startswith("emp_")
    tokens = api_tokens(db, SYSTEM)
    assert list(tokens["name"]) == ["PMS Harbour"] and shown[0] not in tokens.to_string()
    at.run()
    assert not at.code  # shown once
    at.button(key=f"cn_revoke_{int(tokens['token_id'][0])}").click().run()
    assert api_tokens(db, SYSTEM)["revoked_at"].notna().all()


def test_staff_choose_their_channels_and_a_bad_address_is_refused(db: Database) -> None:
    staff = actor_of(db, "S1")
    at = _page("notifications", staff)
    assert not at.exception
    at.toggle(key="nt_on_slack").set_value(True)
    at.text_input(key="nt_target_slack").input("http://example.org/hook")
    at.button[0].click().run()
    assert "must start with https" in at.error[0].value
    at.text_input(key="nt_target_slack").input("https://hooks.slack.com/services/T/B/X")
    at.button[0].click().run()
    assert not at.error and "Saved" in at.success[0].value
    _email, states = my_channels(db, staff, "S1")
    assert [s.channel for s in states if s.enabled] == ["slack"]


def test_the_delivery_log_says_when_nothing_was_sent(db: Database) -> None:
    at = _page("deliveries", actor_of(db, "A1"))
    assert not at.exception
    assert any("Nothing sent yet" in m.value for m in at.markdown)
