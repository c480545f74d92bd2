"""Issue 11, finding 6, on screen: a locked database or an unexpected failure shows a short
sentence with a reference code and a way to try again, never a traceback, and the draft on the
tablet is kept."""

from __future__ import annotations

import fcntl
import logging
import os

import pytest
from sqlalchemy import func, select

from empowerment.models import Gesture, Role
from empowerment.queries import customers
from tests.app import test_people_pages as people
from tests.app.test_people_pages import APP, ROOT, Org, app

org = people.org  # the same organisation fixture as the people pages' tests
LOG_RECOVERY = str(ROOT / "pages" / "log_recovery.py")
SECRET_DETAIL = "INSERT INTO gestures (note) VALUES ('x') -- host db.internal:5432 /srv/app/empowerment/db.py"


def _gestures(org: Org) -> int:
    with org.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(Gesture)) or 0)


def _draft(at):  # type: ignore[no-untyped-def]
    at.text_input(key="lr_query").set_value("Grace").run()
    at.button(key="lr_pick_C-1").click().run()
    at.pills(key="lr_category").set_value("Noise").run()
    at.pills(key="lr_type").set_value("comp").run()
    at.text_input(key="lr_custom").set_value("5").run()
    at.text_area(key="lr_note").set_value("Sent up dessert").run()
    assert not at.exception
    return at


def _shown(at) -> str:  # type: ignore[no-untyped-def]
    return " ".join(str(e.value) for kind in ("error", "markdown", "caption", "info") for e in getattr(at, kind))


def test_a_locked_database_keeps_the_draft_and_try_again_logs_it(
        org: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMPOWERMENT_DB_WAIT_SECONDS", "1")
    at = _draft(app(org.actors[Role.STAFF], page=LOG_RECOVERY))
    before = _gestures(org)
    lock_path = org.db._lock_path
    assert lock_path is not None
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another writer holds the database
    try:
        at.button(key="lr_submit").click().run()
    finally:
        os.close(fd)
    assert not at.exception
    text = _shown(at)
    assert "try again" in text and "reference" in text
    assert "Traceback" not in text and "sqlite" not in text.lower()
    assert _gestures(org) == before
    assert (at.session_state["lr_custom"], at.session_state["lr_note"]) == ("5", "Sent up dessert")
    at.button(key="lr_submit").click().run()  # the lock is gone: the same draft logs once
    assert _gestures(org) == before + 1


def test_an_unexpected_failure_shows_a_reference_not_the_details(
        org: Org, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    at = app(org.actors[Role.STAFF], page=APP)
    at.text_input(key="lr_query").set_value("Gr").run()

    def broken(*_args: object, **_kwargs: object) -> list[object]:
        raise RuntimeError(SECRET_DETAIL)

    working = customers.search_customers
    monkeypatch.setattr(customers, "search_customers", broken)
    with caplog.at_level(logging.ERROR, logger="empowerment"):
        at.text_input(key="lr_query").set_value("Grace").run()
    assert not at.exception  # no traceback element
    text = _shown(at)
    assert "reference" in text and "INSERT" not in text and "db.internal" not in text
    reference = text.split("reference ")[1][:9]
    assert any(reference in r.getMessage() and r.exc_info for r in caplog.records)  # the details, logged
    assert at.session_state["lr_query"] == "Grace"  # what was typed is kept
    monkeypatch.setattr(customers, "search_customers", working)  # the database is back
    at.button(key="_emp_try_again").click().run()
    assert not at.exception and "reference" not in _shown(at)
    assert at.text_input(key="lr_query").value == "Grace"
