"""Two replicas behind nginx on one PostgreSQL, driven by headless Chromium: the sign-in cookie is
good on either replica, a write through one is on the other's next rerun, and restarting or
reloading the load balancer keeps everyone signed in on their own replica."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests.cluster.conftest import Running
from tests.e2e.conftest import LANDSCAPE, new_page, open_history, screenshot, sign_in
from tests.e2e.test_tablet_flow import _choose, _find_and_pick

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SIGNED_IN = "Log a recovery"  # a staff member's landing page heading


def _signed_in_cookie(page: Any, timeout: float = 15) -> None:
    """Wait for the page's own fetch to /api/session to set the sign-in cookie (it runs just after
    the landing page draws; a reload before it lands would rightly ask to sign in again)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(c["name"] == "emp_session" for c in page.context.cookies()):
            return
        page.wait_for_timeout(100)
    raise AssertionError("the sign-in cookie was never set")


def _replica(response: Any) -> str:
    return str(response.headers.get("x-empowerment-replica", ""))


def test_a_sign_in_on_one_replica_is_valid_on_the_other(browser: Any, running: Running) -> None:
    from playwright.sync_api import expect

    first, second = running.cluster.replica_urls
    page = new_page(browser, LANDSCAPE)
    sign_in(page, first, running.org.ana)
    _signed_in_cookie(page)
    other = page.context.new_page()  # same browser (same cookies), a new websocket on the other process
    other.goto(second)
    expect(other.get_by_role("heading", name=SIGNED_IN)).to_be_visible()
    expect(other.get_by_text("Signed in as Ana Staff")).to_be_attached()
    stranger = new_page(browser, LANDSCAPE)  # no cookie: the other replica asks to sign in
    stranger.goto(second)
    expect(stranger.get_by_role("textbox", name="Username")).to_be_visible()
    stranger.context.close()
    page.context.close()


def test_a_gesture_logged_through_one_replica_shows_on_the_others_next_rerun(
        browser: Any, running: Running) -> None:
    from playwright.sync_api import expect

    first, second = running.cluster.replica_urls
    watcher = new_page(browser, LANDSCAPE)  # Ana at the desk, on replica 2, Grace's history open
    sign_in(watcher, second, running.org.ana)
    _find_and_pick(watcher, "412", "Grace Hopper")
    note = f"Late checkout granted on the other replica ({time.time_ns()})."
    expect(watcher.get_by_text(note)).to_have_count(0)

    writer = new_page(browser, LANDSCAPE)  # Ben on replica 1 logs a recovery for her
    sign_in(writer, first, running.org.ben)
    _find_and_pick(writer, "412", "Grace Hopper")
    _choose(writer, "Noise", "On the house", "$25")
    box = writer.get_by_role("textbox", name="Note (optional)")
    box.fill(note)
    box.blur()
    writer.get_by_role("button", name="Log recovery").tap()
    expect(writer.get_by_text("Logged $25.00.")).to_be_visible()

    _choose(watcher, "Noise")  # any tap reruns Ana's page on replica 2
    open_history(watcher)  # the history, collapsed to its summary, opens
    expect(watcher.get_by_text(re.compile(re.escape(note))).first).to_be_visible()
    screenshot(watcher, "cluster-other-replica-sees-the-gesture.png")
    writer.context.close()
    watcher.context.close()


def test_nginx_reload_and_restart_keep_sessions_on_their_replica(browser: Any, running: Running) -> None:
    from playwright.sync_api import expect

    cluster = running.cluster
    page = new_page(browser, LANDSCAPE)
    sign_in(page, cluster.url, running.org.ana)
    _signed_in_cookie(page)
    response = page.reload()
    replica = _replica(response)
    assert replica in {u.removeprefix("http://") for u in cluster.replica_urls}
    expect(page.get_by_role("heading", name=SIGNED_IN)).to_be_visible()

    cluster.reload_nginx()
    # the open websocket carries on (a sidebar link, clicked even when the sidebar scrolls it away)
    page.get_by_role("link", name="My budget").dispatch_event("click")
    expect(page.get_by_role("heading", name="My budget")).to_be_visible()
    assert _replica(page.reload()) == replica
    expect(page.get_by_role("heading", name="My budget")).to_be_visible()

    cluster.restart_nginx()  # every connection is cut
    assert _replica(page.reload()) == replica
    expect(page.get_by_role("heading", name="My budget")).to_be_visible(timeout=20_000)
    expect(page.get_by_role("textbox", name="Username")).to_have_count(0)
    page.context.close()


def test_when_a_replica_stops_its_browsers_are_signed_in_again_on_another(
        browser: Any, running: Running) -> None:
    """Failover: the cookie's secret and the idle clock are shared, so the person stays signed in
    (only what was on screen and not submitted is lost)."""
    from playwright.sync_api import expect

    cluster = running.cluster
    page = new_page(browser, LANDSCAPE)
    sign_in(page, cluster.url, running.org.ben)
    _signed_in_cookie(page)
    replica = _replica(page.reload())
    index = [u.removeprefix("http://") for u in cluster.replica_urls].index(replica)
    cluster.stop_replica(index)
    try:
        response = page.reload()
        assert _replica(response) not in ("", replica)
        expect(page.get_by_role("heading", name=SIGNED_IN)).to_be_visible()
        expect(page.get_by_text("Signed in as Ben Colleague")).to_be_attached()
    finally:
        cluster.start_replica(index)
    page.context.close()


def test_every_browser_sticks_to_one_replica_and_both_get_browsers(running: Running) -> None:
    """Affinity by cookie, not by address: eight browsers from one address spread over both
    replicas, and each one's requests all reach the replica it started on."""
    import urllib.request

    time.sleep(6)  # nginx counts a replica stopped by the test before as down for fail_timeout (5 s)
    seen: set[str] = set()
    for _ in range(8):
        with urllib.request.urlopen(running.cluster.url + "/") as first:
            cookie = first.headers["Set-Cookie"].split(";")[0]
            start = first.headers["X-Empowerment-Replica"]
        seen.add(start)
        for path in ("/", "/_stcore/health", "/api/v1/openapi.json"):
            request = urllib.request.Request(running.cluster.url + path, headers={"Cookie": cookie})
            with urllib.request.urlopen(request) as again:
                assert again.headers["X-Empowerment-Replica"] == start
                assert not [c for c in again.headers.get_all("Set-Cookie") or [] if c.startswith("emp_route=")]
    assert len(seen) == 2
