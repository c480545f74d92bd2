"""End to end on a real server and headless Chromium, at tablet sizes, with touch."""

from __future__ import annotations

import re
from typing import Any

import pytest

from empowerment.queries.budgets import budget_status
from empowerment.ui import components as ui
from tests.e2e.conftest import (
    LANDSCAPE,
    PORTRAIT,
    Person,
    Server,
    new_page,
    open_history,
    screenshot,
    sign_in,
    wait_for_app_idle,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _remaining(server: Server, person: Person) -> int:
    from empowerment.services import signin

    actor = signin.authenticate(server.org.db, person.username, person.password)
    return budget_status(server.org.db, actor, person.code).remaining_cents


def _gesture_count(server: Server) -> int:
    from sqlalchemy import func, select

    from empowerment.models import Gesture

    with server.org.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Gesture)) or 0)


def _isolated(text: str) -> str:
    """A regex for text that the page shows with Unicode direction isolates around names."""
    return ".?".join(re.escape(part) for part in text.split("|"))


def _find_and_pick(page: Any, query: str, name: str) -> None:
    from playwright.sync_api import expect

    page.get_by_role("textbox", name="Find the customer").fill(query)
    pick = page.get_by_role("button", name=f"Choose {name}")
    expect(pick).to_be_visible()
    pick.tap()
    expect(page.get_by_role("heading", name=re.compile(_isolated(f"|{name}|")))).to_be_visible()


def _choose(page: Any, *labels: str) -> None:
    """Tap pills by their words (an emoji in front is ignored; "$25" does not match "$250"), each
    once the last tap's rerun has finished, and check it shows as chosen.

    A tap that lands while a rerun is being drawn can be undone by that rerun's redraw (seen in
    CI: the pill was pressed, then shown unchosen). A person would tap again; so does this, at most
    three times, and only when the app is idle and the pill still shows unchosen (a second tap on
    a chosen pill would unchoose it)."""
    from playwright.sync_api import expect

    for label in labels:
        pill = page.get_by_role("radio", name=re.compile(rf"^(\W+\s)?{re.escape(label)}$"))
        for _ in range(3):
            wait_for_app_idle(page)
            if pill.get_attribute("aria-checked") != "true":
                pill.tap()
                page.wait_for_timeout(300)  # the run the tap starts is marked on the page
                wait_for_app_idle(page)
            if pill.get_attribute("aria-checked") == "true":
                break
        expect(pill).to_be_checked()


def test_staff_log_a_recovery_at_1024x768_and_see_the_balance_drop(browser: Any, server: Server) -> None:
    from playwright.sync_api import expect

    ana = server.org.ana
    before = _remaining(server, ana)
    page = new_page(browser, LANDSCAPE)
    sign_in(page, server.url, ana)
    _find_and_pick(page, "412", "Grace Hopper")
    open_history(page)  # the history, collapsed to its summary, opens
    # the latest earlier gestures with their notes (which ones depends on the tests run before)
    expect(page.get_by_text(re.compile(r"^“.+”$")).first).to_be_visible()
    _choose(page, "Noise", "On the house", "$25")
    note = page.get_by_role("textbox", name="Note (optional)")
    note.fill("Dessert sent up with a handwritten apology; she was delighted.")
    note.blur()
    expect(page.locator(".st-key-tablet_limits")).to_contain_text("budget left")
    submit = page.get_by_role("button", name="Log recovery")
    expect(submit).to_be_enabled()
    page.wait_for_timeout(300)
    screenshot(page, "tablet-log-recovery.png", whole_page=True)

    submit.tap()
    expect(page.get_by_text("Logged $25.00.")).to_be_visible()
    expect(page.get_by_test_id("stMetricValue").first).to_have_text(ui.money(before - 2_500))
    screenshot(page, "tablet-confirmation.png")
    assert _remaining(server, ana) == before - 2_500

    # the sidebar starts collapsed on the tablet: the menu is one tap away
    page.get_by_test_id("stExpandSidebarButton").or_(page.get_by_test_id("stSidebarCollapsedControl")).first.click()
    page.get_by_role("link", name="My budget").click()
    expect(page.get_by_role("heading", name="My budget")).to_be_visible()
    expect(page.get_by_test_id("stMetricValue").first).to_have_text(ui.money(before - 2_500))
    expect(page.get_by_text("Dessert sent up with a handwritten apology; she was delighted.")).to_be_visible()
    page.wait_for_timeout(500)  # the chart draws after the data arrives
    screenshot(page, "tablet-my-budget.png", whole_page=True)
    page.context.close()


def test_portrait_820x1180_a_double_tap_logs_once_and_undo_restores(browser: Any, server: Server) -> None:
    from playwright.sync_api import expect

    ben = server.org.ben
    before, count = _remaining(server, ben), _gesture_count(server)
    page = new_page(browser, PORTRAIT)
    sign_in(page, server.url, ben)
    _find_and_pick(page, "ليلى", "ليلى الحسن")
    expect(page.get_by_text(re.compile(_isolated("First time we hear from |ليلى الحسن|: nothing to repeat."))))\
        .to_be_visible()
    _choose(page, "Room not ready", "Upgrade", "$50")
    page.wait_for_timeout(300)
    screenshot(page, "tablet-portrait-log-recovery.png", whole_page=True)

    button = page.get_by_role("button", name="Log recovery")
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.touchscreen.tap(x, y)  # a double tap: two touches on the same spot, milliseconds apart
    page.touchscreen.tap(x, y)
    expect(page.get_by_text("Logged $50.00.")).to_be_visible()
    page.wait_for_timeout(800)  # let any second tap arrive and be handled
    assert _gesture_count(server) == count + 1
    assert _remaining(server, ben) == before - 5_000
    screenshot(page, "tablet-portrait-confirmation.png")

    page.get_by_role("button", name="Undo").tap()
    expect(page.get_by_text("Undone. $50.00 is back in your budget.")).to_be_visible()
    expect(page.get_by_test_id("stMetricValue").first).to_have_text(ui.money(before))
    assert _remaining(server, ben) == before
    page.context.close()
