"""Browser harness: the real app (`streamlit run app.py`) on a free port, driven by headless Debian
Chromium through Playwright at tablet size.

- The server gets its own migrated SQLite file, filled with a small organisation through the
  factories and services (`Org` below), via `EMPOWERMENT_DATABASE_URL`.
- No Chromium at /usr/bin/chromium (or no Playwright): the tests skip with the reason, except on CI
  (`CI=true`), where that fails the run.
- `sign_in()` is the one place that knows how a person signs in.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import select

from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.models import Customer, Role
from empowerment.services import accounts, gestures, signin
from empowerment.services.gestures import LogRequest
from tests.factories import make_customer, make_policy, make_team

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
LANDSCAPE = {"width": 1024, "height": 768}
PORTRAIT = {"width": 820, "height": 1180}
# The browser tests save what they saw under test-results/ (ignored by git), or over the README's
# pictures in docs/screenshots with EMPOWERMENT_UPDATE_SCREENSHOTS=1, so a test run leaves the
# checkout clean.
SCREENSHOTS = ROOT / ("docs/screenshots" if os.environ.get("EMPOWERMENT_UPDATE_SCREENSHOTS") == "1"
                      else "test-results/screenshots")
STARTUP_SECONDS = 45  # a few servers may start at once (start_servers)


@dataclass(frozen=True)
class Person:
    code: str
    username: str
    password: str
    name: str


@dataclass(frozen=True)
class Org:
    db: Database
    ana: Person
    ben: Person
    grace: str  # customer with history
    arabic: str  # customer with a right-to-left name, never seen before


@dataclass(frozen=True)
class Server:
    url: str
    org: Org


def _need_browser() -> None:
    problem = None
    if not Path(CHROMIUM).exists():
        problem = f"no Chromium at {CHROMIUM} (apt-get install -y chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright package is not installed"
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI requires the browser tests to run, but {problem}.")
    pytest.skip(f"Browser tests skipped: {problem}.")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _fill(db: Database) -> Org:
    """A small organisation: one team, two staff with passwords, a policy and two customers."""
    system = Actor.system("e2e")
    make_team(db, "FD", location="Harbour")
    make_policy(db, allowance_cents=50_000, role=Role.STAFF)
    people = []
    for username, name in (("ana", "Ana Staff"), ("ben", "Ben Colleague")):
        password = f"{username}-tablet-pass-1"
        code = accounts.create_user(db, system, username=username, name=name, role=Role.STAFF,
                                team_code="FD", password=password, pin="2468")
        people.append(Person(code, username, password, name))
    ana, ben = people
    grace = make_customer(db, "C-412", name="Grace Hopper")
    with db.write() as session:  # room and phone, so the desk can find her by either
        customer = session.scalars(select(Customer).where(Customer.code == grace)).one()
        customer.room, customer.phone = "412", "+1 555 0142"
    ben_actor = signin.authenticate(db, ben.username, ben.password)
    gestures.log_gesture(db, ben_actor, LogRequest(
        ben.code, grace, "gift", 1500, category="Long wait", note="Flowers and an apology card."))
    arabic = make_customer(db, "C-977", name="ليلى الحسن")
    return Org(db, ana, ben, grace, arabic)


def _launch(database_url: str, folder: Path, extra_env: dict[str, str] | None,
            port: int | None) -> tuple[subprocess.Popen[bytes], Any, str, Path]:
    port = port or _free_port()
    env = {**os.environ, "EMPOWERMENT_DATABASE_URL": database_url,
           "EMPOWERMENT_SECRET_KEY": "e2e-" + "x" * 40, "EMPOWERMENT_DEMO_ON_EMPTY": "0",
           "PYTHONPATH": str(ROOT), **(extra_env or {})}
    log_path = folder / f"streamlit-{port}.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--server.runOnSave", "false",
         "--server.fileWatcherType", "none"],  # files edited meanwhile must not disturb the run
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return process, log, f"http://127.0.0.1:{port}", log_path


def start_server(database_url: str, folder: Path, extra_env: dict[str, str] | None = None,
                 port: int | None = None) -> tuple[subprocess.Popen[bytes], Any, str]:
    """`streamlit run app.py` on a free port (or `port`) against `database_url`, once it answers:
    the process, its open log file and its URL. Stop it with `stop_server`."""
    return start_servers([(database_url, folder)], extra_env, port)[0]


def start_servers(targets: list[tuple[str, Path]], extra_env: dict[str, str] | None = None,
                  port: int | None = None, at_once: int = 3) -> list[tuple[subprocess.Popen[bytes], Any, str]]:
    """Several servers (database URL, folder), `at_once` starting together: a test that needs a
    fresh process per case overlaps their starts (a start is one core's work, and part of it is
    waiting) instead of waiting for each in turn; more at once only queue for the two cores."""
    started: list[tuple[subprocess.Popen[bytes], Any, str]] = []
    try:
        for first in range(0, len(targets), at_once):
            launched = [_launch(url, folder, extra_env, port) for url, folder in targets[first:first + at_once]]
            started += [(process, log, url) for process, log, url, _path in launched]
            for process, _log, url, log_path in launched:
                _wait_healthy(url, process, log_path)
    except BaseException:
        for process, log, _url in started:
            stop_server(process, log)
        raise
    return started


def stop_server(process: subprocess.Popen[bytes], log: Any) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
    log.close()


@contextmanager
def served(folder: Path, template: str, fill: Callable[[Database], T]) -> Iterator[tuple[str, T]]:
    """The app on its own copy of the migrated template, filled by `fill`: (its URL, what `fill`
    returned), stopped afterwards."""
    _need_browser()
    shutil.copyfile(template, folder / "app.db")
    db = Database(f"sqlite:///{folder / 'app.db'}")
    filled = fill(db)
    process, log, url = start_server(db.url, folder)
    try:
        yield url, filled
    finally:
        stop_server(process, log)
        db.dispose()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, _sqlite_template: str) -> Iterator[Server]:
    with served(tmp_path_factory.mktemp("e2e"), _sqlite_template, _fill) as (url, org):
        yield Server(url, org)


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited early:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().decode().strip() == "ok":
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"streamlit not healthy after {STARTUP_SECONDS} s:\n{log.read_text(errors='replace')[-3000:]}")


def open_browser() -> Iterator[Any]:
    """One headless Chromium for the whole run. The `browser` fixture lives in tests/conftest.py so
    that tests/e2e and tests/cluster share it: two session fixtures would each keep a sync
    Playwright loop open, and the second refuses to start inside the first."""
    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def open_menu(page: Any) -> None:
    """The sidebar starts collapsed (the tablet's width goes to the form): open it when it is."""
    opener = page.get_by_test_id("stExpandSidebarButton").or_(page.get_by_test_id("stSidebarCollapsedControl"))
    if opener.count() and opener.first.is_visible():
        opener.first.click()


# Streamlit's app root says whether a script run is going on (what its own browser tests wait on).
# The status widget's "Running" shows only after a delay, so a check of it alone passed while a
# rerun had already started, and a tap then landed on a form about to be redrawn.
APP_IDLE = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return !!app && app.dataset.testScriptState !== 'running'
        && app.dataset.testConnectionState !== 'CONNECTING';
}"""


def wait_for_app_idle(page: Any, timeout_ms: int = 15_000) -> None:
    """Wait until no script run is going on (the one a tap or a typed value started has finished)."""
    page.wait_for_function(APP_IDLE, timeout=timeout_ms, polling=50)


def open_history(page: Any) -> None:
    """Open the customer's history, collapsed to its summary line, unless it is open already
    (Streamlit keeps an expander's state across reruns: a second tap would close it)."""
    import re

    summary = page.get_by_text(re.compile("^History: ")).first
    summary.wait_for()
    details = summary.locator("xpath=ancestor::details[1]")
    if details.get_attribute("open") is None:
        summary.tap()


def new_page(browser: Any, viewport: dict[str, int]) -> Any:
    """A fresh touch-screen tab (own cookies) at the given size."""
    context = browser.new_context(viewport=viewport, has_touch=True, device_scale_factor=1)
    context.set_default_timeout(15_000)
    return context.new_page()


def sign_in(page: Any, base_url: str, person: Person) -> None:
    """Sign in through the sign-in screen (user name and password) and wait for the landing page.

    The only function that knows how signing in works: adapt it, not the tests, when that changes."""
    from playwright.sync_api import expect

    page.goto(base_url)
    page.get_by_role("textbox", name="Username").fill(person.username)
    page.get_by_role("textbox", name="Password").fill(person.password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Log a recovery")).to_be_visible()


def screenshot(page: Any, name: str, *, whole_page: bool = False) -> Path:
    """Save SCREENSHOTS/<name>. `whole_page` grows the viewport to the content's height (the
    app scrolls inside its own container, so a normal full-page shot would stop at the fold)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    viewport = page.viewport_size
    if whole_page:
        height = page.evaluate(
            "() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
            " return Math.max(m ? m.scrollHeight : 0, document.body.scrollHeight); }")
        page.set_viewport_size({"width": viewport["width"], "height": max(int(height), viewport["height"])})
        page.wait_for_timeout(300)
    page.screenshot(path=str(path))
    if whole_page:
        page.set_viewport_size(viewport)
    return path
