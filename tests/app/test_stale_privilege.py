"""Issue 11, finding 3: a button's callback runs before the script re-reads the person, so it
must re-read them itself (`ui.session.callback`). After a demotion, a deactivation or the idle
timeout, the very next Approve or Log recovery is refused and nothing is written."""

from __future__ import annotations

import ast
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from empowerment.models import Employee, Gesture, GestureStatus, Role
from empowerment.ui import session
from tests.app import test_people_pages as people
from tests.app.test_people_pages import ROOT, Org, app, team_page

org = people.org  # the same organisation fixture as the people pages' tests

LOG_RECOVERY = str(ROOT / "pages" / "log_recovery.py")


def _change(org: Org, who: Role, **values: object) -> None:
    with org.db.write() as db_session:
        employee = db_session.get(Employee, org.actors[who].employee_id)
        assert employee is not None
        for name, value in values.items():
            setattr(employee, name, value)


def _status(org: Org, code: str) -> GestureStatus:
    with org.db.read() as s:
        return s.scalars(select(Gesture.status).where(Gesture.code == code)).one()


def _approve(at, code: str):  # type: ignore[no-untyped-def]
    return at.button(key=f"FormSubmitter:tm_decide_form_{code}-Approve").click().run()


def test_a_demoted_manager_cannot_approve_with_the_screen_she_still_has(org: Org) -> None:
    at = team_page(org)
    assert not at.exception
    _change(org, Role.MANAGER, role=Role.STAFF)
    at = _approve(at, org.pending)
    assert _status(org, org.pending) == GestureStatus.PENDING_APPROVAL
    assert not at.exception


def test_a_deactivated_manager_cannot_approve(org: Org) -> None:
    at = team_page(org)
    _change(org, Role.MANAGER, active=False)
    at = _approve(at, org.pending)
    assert _status(org, org.pending) == GestureStatus.PENDING_APPROVAL
    assert "actor" not in at.session_state


def test_an_idle_manager_cannot_approve(org: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    start = datetime.now()
    monkeypatch.setattr(session, "clock", lambda: start)
    at = team_page(org)
    monkeypatch.setattr(session, "clock", lambda: start + timedelta(minutes=16))
    at = _approve(at, org.pending)
    assert _status(org, org.pending) == GestureStatus.PENDING_APPROVAL
    assert "actor" not in at.session_state


def test_a_fresh_manager_still_approves(org: Org) -> None:
    _approve(team_page(org), org.pending)
    assert _status(org, org.pending) == GestureStatus.LOGGED


def _gestures(org: Org) -> int:
    with org.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(Gesture)) or 0)


def _ready_to_log(org: Org):  # type: ignore[no-untyped-def]
    at = app(org.actors[Role.STAFF], page=LOG_RECOVERY)
    at.text_input(key="lr_query").set_value("Grace").run()
    at.button(key="lr_pick_C-1").click().run()
    at.pills(key="lr_category").set_value("Noise").run()
    at.pills(key="lr_type").set_value("comp").run()
    at.text_input(key="lr_custom").set_value("5").run()
    assert not at.exception
    return at


@pytest.mark.parametrize("what", ["idle", "deactivated", "role changed"])
def test_log_recovery_after_the_idle_timeout_or_a_change_logs_nothing(
        org: Org, monkeypatch: pytest.MonkeyPatch, what: str) -> None:
    start = datetime.now()
    monkeypatch.setattr(session, "clock", lambda: start)
    at = _ready_to_log(org)
    before = _gestures(org)
    if what == "idle":
        monkeypatch.setattr(session, "clock", lambda: start + timedelta(minutes=16))
    else:
        _change(org, Role.STAFF, **(dict(active=False) if what == "deactivated" else dict(role=Role.HR)))
    at.button(key="lr_submit").click().run()
    assert _gestures(org) == before
    assert not at.exception


# --- every callback goes through the wrapper --------------------------------------------------------

def _callbacks_not_wrapped(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg in ("on_click", "on_change", "on_submit"):
            value = node.value
            wrapped = (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
                       and value.func.id == "callback")
            ignored = isinstance(value, ast.Constant) and value.value in ("ignore", "rerun", None)
            if not (wrapped or ignored):
                bad.append(f"{path.name}:{node.value.lineno}")
    return bad


def test_every_callback_in_pages_and_ui_re_reads_the_person_first() -> None:
    files = [*sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "empowerment" / "ui").glob("*.py")),
             ROOT / "app.py"]
    assert [bad for path in files for bad in _callbacks_not_wrapped(path)] == []
