"""Issue 11, finding 6, in Chromium: with the database locked by another writer for longer than
the bounded wait, the tablet shows a short sentence with a reference code, no traceback, and keeps
the draft; once the lock is gone the same tap logs the gesture."""

from __future__ import annotations

import fcntl
import os
import re
from typing import Any

import pytest

from tests.e2e.conftest import LANDSCAPE, Server, new_page, screenshot, sign_in
from tests.e2e.test_tablet_flow import _choose, _find_and_pick, _gesture_count

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_a_locked_database_gives_a_readable_message_and_keeps_the_draft(browser: Any, server: Server) -> None:
    from playwright.sync_api import expect

    page = new_page(browser, LANDSCAPE)
    sign_in(page, server.url, server.org.ana)
    _find_and_pick(page, "412", "Grace Hopper")
    _choose(page, "Noise", "On the house", "$25")
    note = page.get_by_role("textbox", name="Note (optional)")
    note.fill("Dessert while the room is fixed.")
    note.blur()
    before = _gesture_count(server)
    lock_path = server.org.db._lock_path
    assert lock_path is not None
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another writer holds the database past the 10 s bound
    try:
        page.get_by_role("button", name="Log recovery").tap()
        message = page.get_by_text(re.compile(r"nothing was saved this time \(reference [A-Z0-9]{4}-[A-Z0-9]{4}\)"))
        expect(message).to_be_visible(timeout=30_000)
        expect(page.get_by_text("Traceback")).to_have_count(0)
        expect(page.get_by_text("sqlite", exact=False)).to_have_count(0)
        screenshot(page, "tablet-database-busy.png")
    finally:
        os.close(fd)
    assert _gesture_count(server) == before
    expect(page.get_by_role("textbox", name="Note (optional)")).to_have_value("Dessert while the room is fixed.")
    page.get_by_role("button", name="Log recovery").tap()  # try again: the lock is gone
    expect(page.get_by_text("Logged $25.00.")).to_be_visible(timeout=20_000)
    assert _gesture_count(server) == before + 1
    page.context.close()
