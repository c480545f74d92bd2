"""Issue 11, finding 8, in the browser: the hand-over digest is fetched through a route that checks
the sign-in cookie every time. Before the fix it was a `/media/...` download: the URL worked with no
cookie at all, also after the tablet switched to another person."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.conftest import LANDSCAPE, Server, new_page, open_menu, screenshot, sign_in


def test_the_digest_needs_the_live_cookie_and_dies_with_the_session(server: Server, browser: Any) -> None:
    from playwright.sync_api import expect

    page = new_page(browser, LANDSCAPE)
    sign_in(page, server.url, server.org.ana)
    page.goto(f"{server.url}/handover")
    link = page.get_by_role("link", name="Digest as text")
    expect(link).to_be_visible()
    screenshot(page, "handover-digest-links.png")
    href = link.get_attribute("href")
    assert href is not None and href.startswith("/api/handover/digest")
    url = server.url + href
    with page.expect_download() as download:
        link.click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert "SHIFT HAND-OVER" in text and "Grace Hopper" in text  # the front line sees who

    stranger = new_page(browser, LANDSCAPE)  # the URL alone, without the cookie
    answer = stranger.request.get(url)
    assert answer.status == 401 and "Grace" not in answer.text()

    open_menu(page)
    page.get_by_role("button", name="Switch user").click()
    expect(page.get_by_text("Tap your name.").or_(page.get_by_text("Choose this tablet's location and team"))).to_be_visible()
    after = page.request.get(url)  # the same browser, after the switch
    assert after.status == 401 and "Grace" not in after.text()
    for tab in (page, stranger):
        tab.context.close()
