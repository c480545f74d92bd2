"""Deep links and the sign-in cookie, in real headless Chromium against `streamlit run app.py`.

A fresh server runs a `pages/` file directly for the first request (before any `app.py` run), so
every page is tried on its own FRESH server by file name, and again by URL path on a server whose
frame has run. Each time, without signing in, the browser must show the sign-in screen and none
of the page. Then the signed HttpOnly cookie: it survives a reload, a forged one is refused, and
signing out makes the old value useless even if a browser replays it.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from empowerment.ui import nav
from tests.e2e.conftest import (
    LANDSCAPE,
    PORTRAIT,
    ROOT,
    Server,
    _need_browser,
    new_page,
    open_menu,
    screenshot,
    start_server,
    start_servers,
    stop_server,
)

pytestmark = pytest.mark.e2e

PAGES = [spec for spec in nav.PAGES if (ROOT / spec.path).is_file()]


@pytest.fixture(scope="module")
def fresh_servers(tmp_path_factory: pytest.TempPathFactory, _sqlite_template: str) -> Iterator[dict[str, str]]:
    """A brand-new `streamlit run app.py` process for each page file, each on its own empty,
    migrated database: page key -> URL. They start together and each sees one request."""
    _need_browser()
    targets = []
    for spec in PAGES:
        folder = tmp_path_factory.mktemp(f"fresh-{spec.key}")
        shutil.copyfile(_sqlite_template, folder / "app.db")
        targets.append((f"sqlite:///{folder / 'app.db'}", folder))
    servers = start_servers(targets)
    try:
        yield {spec.key: url for spec, (_process, _log, url) in zip(PAGES, servers, strict=True)}
    finally:
        for process, log, _url in servers:
            stop_server(process, log)


def _expect_sign_in_only(page: Any, spec: nav.PageSpec | None) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("textbox", name="Username")).to_be_visible()
    expect(page.get_by_role("textbox", name="Password")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    if spec is not None:
        expect(page.get_by_role("heading", name=spec.title)).to_have_count(0)
    # No list of the app's pages either (Streamlit's pages-folder navigation).
    expect(page.locator('[data-testid="stSidebarNav"]')).to_have_count(0)


@pytest.mark.parametrize("spec", PAGES, ids=[s.key for s in PAGES])
def test_a_fresh_server_shows_the_sign_in_screen_for_every_page_file(
        browser: Any, fresh_servers: dict[str, str], spec: nav.PageSpec) -> None:
    page = new_page(browser, LANDSCAPE)
    page.goto(f"{fresh_servers[spec.key]}/{Path(spec.path).stem}")  # the first request this server ever sees
    _expect_sign_in_only(page, spec)
    page.context.close()


def test_every_url_path_shows_the_sign_in_screen_once_the_frame_has_run(browser: Any, server: Server) -> None:
    warm = new_page(browser, LANDSCAPE)
    warm.goto(server.url)
    _expect_sign_in_only(warm, None)
    warm.context.close()
    for path in [f"/{spec.key}" for spec in PAGES] + ["/", "/no_such_page"]:
        page = new_page(browser, LANDSCAPE)  # a new tab with no cookies each time
        page.goto(server.url + path)
        _expect_sign_in_only(page, nav.PAGES_BY_KEY.get(path.strip("/")))
        page.context.close()


def _sign_in_with_password(page: Any, url: str, username: str, password: str) -> None:
    from playwright.sync_api import expect

    page.goto(url)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible(timeout=20_000)  # busy 2-core machine


def _session_cookie(page: Any) -> dict[str, Any] | None:
    return next((c for c in page.context.cookies() if c["name"] == "emp_session"), None)


def test_the_signed_cookie_survives_a_reload_and_a_new_tab_but_not_forgery_or_sign_out(
        browser: Any, server: Server) -> None:
    from playwright.sync_api import expect

    ana = server.org.ana
    page = new_page(browser, LANDSCAPE)
    _sign_in_with_password(page, server.url, ana.username, ana.password)
    for _ in range(200):  # the page fetches /api/session just after signing in (slower on a busy machine)
        if _session_cookie(page):
            break
        page.wait_for_timeout(100)
    cookie = _session_cookie(page)
    assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert ana.password not in cookie["value"]

    page.reload()
    expect(page.get_by_text(f"Signed in as {ana.name}")).to_be_visible()
    second = page.context.new_page()
    second.goto(server.url + "/my_budget")
    expect(second.get_by_role("button", name="Sign out")).to_be_visible()
    second.close()

    forged = new_page(browser, LANDSCAPE)
    forged.context.add_cookies([{**cookie, "value": cookie["value"][:-3] + "AAA"}])
    forged.goto(server.url)
    _expect_sign_in_only(forged, None)
    forged.context.close()

    open_menu(page)
    page.get_by_role("button", name="Sign out").click()
    _expect_sign_in_only(page, None)
    replay = new_page(browser, LANDSCAPE)  # a browser that kept the old cookie anyway
    replay.context.add_cookies([cookie])
    replay.goto(server.url)
    _expect_sign_in_only(replay, None)
    replay.context.close()
    page.context.close()


# --- screenshots for the docs, on the demo organisation -------------------------------------------

@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _need_browser()
    from empowerment.db import Database
    from empowerment.demo import generate_demo

    folder = tmp_path_factory.mktemp("demo")
    db = Database(f"sqlite:///{folder / 'demo.db'}")
    generate_demo(db, seed=7, scale=0.2)
    db.dispose()
    process, log, url = start_server(f"sqlite:///{folder / 'demo.db'}", folder)
    try:
        yield url
    finally:
        stop_server(process, log)


def test_screenshots_of_the_team_page_and_the_switch_user_screen(browser: Any, demo_server: str) -> None:
    from playwright.sync_api import expect

    from empowerment.demo import org as demo

    page = new_page(browser, LANDSCAPE)
    _sign_in_with_password(page, demo_server + "/team", "manager.harbour", demo.MANAGER_PASSWORD)
    expect(page.locator('[data-testid="stVegaLiteChart"]').first).to_be_visible()
    page.wait_for_timeout(1500)  # let the heatmap finish drawing
    screenshot(page, "team-page.png")

    # The Payoff page in portrait: the answer in words first (the demo has enough data for it).
    page.set_viewport_size(PORTRAIT)
    page.goto(demo_server + "/payoff")
    expect(page.locator(".st-key-po_headline")).to_be_visible(timeout=90_000)
    page.wait_for_timeout(2500)  # charts draw after the script's last message
    screenshot(page, "payoff-page.png")
    page.set_viewport_size(LANDSCAPE)
    page.goto(demo_server + "/team")
    expect(page.get_by_role("heading", name=re.compile("Team"))).to_be_visible()

    open_menu(page)
    page.get_by_role("button", name="Switch user").click()
    expect(page.get_by_text("Choose this tablet's location and team")).to_be_visible()  # no names yet
    page.get_by_role("combobox", name="Location").click()
    page.get_by_role("option", name="Harbour Hotel").click()
    page.get_by_role("combobox", name="Team").click()
    page.get_by_role("option", name="Front desk (Harbour Hotel)").click()
    expect(page.get_by_role("button", name="Amelia Hart")).to_be_visible()
    page.wait_for_timeout(500)
    screenshot(page, "switch-user.png")

    page.get_by_role("button", name="Amelia Hart").click()
    page.get_by_role("textbox", name="PIN").fill(demo.STAFF_PIN)
    page.get_by_role("button", name="Switch").click()
    expect(page.get_by_text("Signed in as Amelia Hart").first).to_be_visible()
    page.context.close()
