"""Every page as every role, at 820×1180 in real Chromium, and the managers' and admins' flows.

The walk signs each role in once (its own browser context keeps the signed cookie) and opens every
page its navigation offers. It fails on what a person would trip over: a code where words belong
(snake_case values, audit action codes, JSON), a metric value cut off, a table wider than its
box (it would scroll sideways), a button under 44 px on a staff page, and axe-core's serious or
critical WCAG 2.x A/AA violations. The people have Chinese, Japanese and Korean names, so a
missing font shows in the screenshots (test-results/screenshots/walk-*.png).
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from empowerment.actor import Actor
from empowerment.models import Employee, Gesture, GestureStatus, Role
from empowerment.services import accounts, signin
from empowerment.services.gestures import LogRequest, log_gesture
from empowerment.ui import nav
from tests.e2e.conftest import LANDSCAPE, PORTRAIT, Server, new_page, screenshot
from tests.factories import make_policy

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FRONT_DESK = {spec.key for spec in nav.PAGES if spec.section == "Front desk"}
MIN_TOUCH_PX = 44
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SNAKE_CASE = re.compile(r"(?<![\w./:@-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/@-])")
AUDIT_CODE = re.compile(r"\b(?:auth|gesture|user|budget|policy|employee|story|api_token|webhook_source|"
                        r"notifications?|settings|guideline|customer|report|demo|import)\.[a-z_]+\b")
JSON_LIKE = re.compile(r"\{\s*\"[a-z_]+\"\s*:")


@dataclass(frozen=True)
class Login:
    role: Role
    username: str
    password: str
    name: str
    code: str


@dataclass(frozen=True)
class People:
    by_role: dict[Role, Login]
    second_manager: Login
    own_big: str  # the first manager's own $1,300 refund, waiting for approval
    others_big: str  # the second manager's $300 gift, waiting for approval


@pytest.fixture(scope="module")
def people(server: Server) -> People:
    """One person per role (CJK names among them), two managers of the team, and a big gesture
    each manager logged themselves."""
    db = server.org.db
    system = Actor.system("e2e walk")
    make_policy(db, allowance_cents=300_000, role=Role.MANAGER, review_above_cents=5_000,
                approval_above_cents=20_000, name="Managers")
    wanted = [(Role.MANAGER, "wang.fang", "王芳"), (Role.HR, "sato.hanako", "佐藤 花子"),
              (Role.CX_LEAD, "kim.minji", "김민지"), (Role.ADMIN, "ada.admin", "Ada Lovelace"),
              (Role.MANAGER, "lena.berg", "Lena Berg")]
    logins = []
    for role, username, name in wanted:
        password = f"{username}-walk-pass-1"
        code = accounts.create_user(db, system, username=username, name=name, role=role,
                                    team_code="FD" if role == Role.MANAGER else None, password=password)
        logins.append(Login(role, username, password, name, code))
    ana = server.org.ana
    by_role = {Role.STAFF: Login(Role.STAFF, ana.username, ana.password, ana.name, ana.code),
               **{login.role: login for login in logins[:4]}}
    wang, lena = logins[0], logins[4]
    own = log_gesture(db, signin.authenticate(db, wang.username, wang.password), LogRequest(
        wang.code, server.org.grace, "refund", "1300", category="Billing error",
        note="Refunded the whole stay after the flood.")).gesture_code
    others = log_gesture(db, signin.authenticate(db, lena.username, lena.password), LogRequest(
        lena.code, server.org.grace, "gift", "300", category="Noise",
        note="A hamper after the night of building work.")).gesture_code
    return People(by_role, lena, own, others)


# --- helpers --------------------------------------------------------------------------------------

def _settle(page: Any) -> None:
    """Wait until the page has drawn: a heading, the script no longer running, and the page quiet
    (nothing added or replaced for a second). Checking "not running" once was not enough: a slow
    page (the joint report) was measured before its script had sent its tables, so its problems
    passed unseen."""
    page.locator('[data-testid="stMain"] h1').first.wait_for(state="visible")
    page.wait_for_function("""() => {
        const w = window.__settle || (window.__settle = {size: -1, since: Date.now()});
        const status = document.querySelector('[data-testid="stStatusWidget"]');
        const app = document.querySelector('[data-testid="stApp"]');
        const running = (!!status && status.innerText.includes('Running'))
            || (!!app && app.dataset.testScriptState === 'running');
        const main = document.querySelector('[data-testid="stMain"]');
        const size = main.innerHTML.length;
        if (running || size !== w.size) { w.size = size; w.since = Date.now(); return false; }
        return Date.now() - w.since > 1000;
    }""", timeout=30_000, polling=100)
    page.evaluate("() => { delete window.__settle; }")
    # Charts and tables are loaded lazily and draw after the script's last message.
    page.wait_for_function("""() => {
        const main = document.querySelector('[data-testid="stMain"]');
        const shown = (sel) => [...main.querySelectorAll(sel)].filter(e => e.checkVisibility());
        return shown('[data-testid="stDataFrame"]').every(g => g.querySelector('.dvn-scroller'))
            && shown('[data-testid="stVegaLiteChart"]').every(c => c.querySelector('svg, canvas'))
            && shown('[data-testid="stSkeleton"]').length === 0;
    }""", timeout=15_000)
    page.wait_for_timeout(300)


def _sign_in(page: Any, base_url: str, login: Login, *, go: bool = True) -> None:
    if go:
        page.goto(base_url)
    page.get_by_role("textbox", name="Username").fill(login.username)
    page.get_by_role("textbox", name="Password").fill(login.password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("textbox", name="Username").wait_for(state="detached")
    _settle(page)


_PROBLEMS_JS = """
(staffPage) => {
  const main = document.querySelector('[data-testid="stMain"]');
  const visible = (el) => el.checkVisibility({opacityProperty: true, visibilityProperty: true})
    && el.getBoundingClientRect().width > 0;
  const metrics = [...main.querySelectorAll('[data-testid="stMetricValue"]')]
    .filter(el => [el, ...el.querySelectorAll('*')].some(e => e.scrollWidth > e.clientWidth + 1))
    .map(el => el.innerText.trim());
  const tables = [];
  for (const grid of main.querySelectorAll('[data-testid="stDataFrame"]')) {
    const scroller = grid.querySelector('.dvn-scroller');
    if (scroller && scroller.scrollWidth > scroller.clientWidth + 1) {
      tables.push(`table ${scroller.scrollWidth}px in ${scroller.clientWidth}px`);
    }
  }
  for (const table of main.querySelectorAll('[data-testid="stTable"] table, [data-testid="stMarkdownContainer"] table')) {
    const box = table.parentElement.getBoundingClientRect();
    if (table.scrollWidth > box.width + 1) tables.push(`table ${table.scrollWidth}px in ${box.width}px`);
  }
  const small = [];
  if (staffPage) {
    for (const el of main.querySelectorAll('button, [role="button"], a[href], input[type="checkbox"]')) {
      if (!visible(el) || el.closest('[data-testid="stDataFrame"]')) continue;
      const box = el.getBoundingClientRect();
      if (box.height < 44 || box.width < 44) {
        small.push(`${(el.innerText || el.getAttribute('aria-label') || el.tagName).trim().slice(0, 40)}`
                   + ` ${Math.round(box.width)}x${Math.round(box.height)}`);
      }
    }
  }
  const headers = [...main.querySelectorAll('[role="columnheader"]')].map(h => h.innerText.trim());
  const cells = [...main.querySelectorAll('[role="gridcell"]')].map(c => c.innerText.trim());
  // Text as a person reads it: icons (Material ligatures such as "person_add", aria-hidden) left out.
  const parts = [];
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  for (let node; (node = walker.nextNode());) {
    const parent = node.parentElement;
    // Code blocks are deliberately literal (a CSV file's header a person types): not words.
    if (!parent || ['STYLE', 'SCRIPT'].includes(parent.tagName) || parent.closest('pre, code')) continue;
    if (parent.closest('[data-testid="stIconMaterial"], [aria-hidden="true"]')
        || getComputedStyle(parent).fontFamily.includes('Material Symbols')) continue;
    parts.push(node.textContent);
  }
  return {text: parts.join('\\n') + '\\n' + headers.join('\\n') + '\\n' + cells.join('\\n'),
          headers, metrics, tables, small};
}
"""


def _problems(page: Any, key: str) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    seen = page.evaluate(_PROBLEMS_JS, key in FRONT_DESK)
    found = [f"code on screen: {m}" for m in sorted(set(SNAKE_CASE.findall(seen["text"])))]
    found += [f"audit code on screen: {m}" for m in sorted(set(AUDIT_CODE.findall(seen["text"])))]
    found += ["JSON on screen"] if JSON_LIKE.search(seen["text"]) else []
    found += [f"column heading in lower case: {h}" for h in seen["headers"] if h[:1].islower()]
    found += [f"metric cut off: {m}" for m in seen["metrics"]]
    found += [f"sideways scroll: {t}" for t in seen["tables"]]
    found += [f"touch target under {MIN_TOUCH_PX} px: {s}" for s in seen["small"]]
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS},
                                       "resultTypes": ["violations"]})
    for violation in results.response["violations"]:
        if violation["impact"] in ("serious", "critical"):
            targets = ", ".join(str(n["target"]) for n in violation["nodes"][:3])
            found.append(f"axe {violation['impact']}: {violation['id']} ({len(violation['nodes'])}×: {targets})")
    return found


# --- the walk -------------------------------------------------------------------------------------

def _walk(browser: Any, server: Server, people: People, viewport: dict[str, int],
          roles: set[Role] | None = None) -> tuple[int, dict[str, list[str]]]:
    """Every page each role's navigation offers, at `viewport`: pages seen and problems found."""
    problems: dict[str, list[str]] = {}
    pages_seen = 0
    only = {r for r in os.environ.get("EMPOWERMENT_WALK_ROLES", "").split(",") if r}  # while fixing a page
    size = f"{viewport['width']}x{viewport['height']}"
    for role, login in people.by_role.items():
        if (only and role.value not in only) or (roles is not None and role not in roles):
            continue
        page = new_page(browser, viewport)
        _sign_in(page, server.url, login)
        actor = signin.authenticate(server.org.db, login.username, login.password)
        for spec in nav.pages_for(actor):
            opened = time.monotonic()
            page.goto(f"{server.url}/{spec.key}")
            _settle(page)
            settled = time.monotonic()
            if page.get_by_role("textbox", name="Username").count():  # the shared tablet forgets on reload
                _sign_in(page, server.url, login, go=False)
            screenshot(page, f"walk-{role.value}-{spec.key}.png" if viewport is PORTRAIT
                       else f"walk-{size}-{role.value}-{spec.key}.png")
            pages_seen += 1
            found = _problems(page, spec.key)  # no exceptions: every page, every problem fails
            print(f"{size} {role.value} {spec.key}: drawn in {settled - opened:.1f} s, "
                  f"checked in {time.monotonic() - settled:.1f} s")
            if found:
                problems[f"{role.heading} · {spec.title} ({size})"] = found
        page.context.close()
    return pages_seen, problems


def _report(problems: dict[str, list[str]]) -> str:
    return "\n".join(f"{where}:\n  " + "\n  ".join(found) for where, found in problems.items())


WALKED_ROLES = (Role.STAFF, Role.MANAGER, Role.HR, Role.CX_LEAD, Role.ADMIN)


@pytest.mark.timeout(600)  # up to 15 pages with axe-core: about a minute on an idle 2-core machine
@pytest.mark.parametrize("role", WALKED_ROLES, ids=[r.value for r in WALKED_ROLES])
def test_every_page_as_every_role_at_820_reads_in_words_fits_and_passes_axe(
        browser: Any, server: Server, people: People, role: Role) -> None:
    """One role per test, so the two test workers share the walk (about 35 pages in all)."""
    only = os.environ.get("EMPOWERMENT_WALK_ROLES")
    if only and role.value not in only.split(","):
        pytest.skip("EMPOWERMENT_WALK_ROLES names other roles")
    started = time.monotonic()
    pages_seen, problems = _walk(browser, server, people, PORTRAIT, {role})
    print(f"walked {pages_seen} pages as {role.value} in {time.monotonic() - started:.0f} s")
    assert pages_seen >= 4  # every role has at least four pages (a test of the navigation says which)
    assert not problems, _report(problems)


@pytest.mark.timeout(600)
@pytest.mark.parametrize("role", (Role.MANAGER, Role.HR), ids=("manager", "hr"))
def test_every_page_as_a_manager_and_an_hr_lead_at_1024_landscape(
        browser: Any, server: Server, people: People, role: Role) -> None:
    """The same checks in landscape for the two roles that read the most pages on a tablet."""
    pages_seen, problems = _walk(browser, server, people, LANDSCAPE, {role})
    assert pages_seen >= (5 if not os.environ.get("EMPOWERMENT_WALK_ROLES") else 0)
    assert not problems, _report(problems)


# --- managers -------------------------------------------------------------------------------------

def _open_tab(page: Any, name: str) -> Any:
    tab = page.get_by_role("tab", name=re.compile(rf"^{re.escape(name)}"))
    tab.click()
    return tab


def test_a_manager_is_never_offered_their_own_gesture_but_another_manager_is(
        browser: Any, server: Server, people: People) -> None:
    from playwright.sync_api import expect

    page = new_page(browser, PORTRAIT)
    _sign_in(page, server.url, people.by_role[Role.MANAGER])
    _open_tab(page, "Approvals")
    mine = page.locator(f'.st-key-tablet_approve_{people.own_big}')
    theirs = page.locator(f'.st-key-tablet_approve_{people.others_big}')
    expect(theirs).to_be_visible()
    expect(mine).to_have_count(0)
    expect(page.get_by_role("tabpanel").get_by_text(re.compile(r"1 gesture of your own may wait here"))
           ).to_be_visible()
    screenshot(page, "team-approvals-not-own.png")
    page.context.close()

    page = new_page(browser, PORTRAIT)
    _sign_in(page, server.url, people.second_manager)
    _open_tab(page, "Approvals")
    expect(page.locator(f'.st-key-tablet_approve_{people.own_big}')).to_be_visible()
    expect(page.locator(f'.st-key-tablet_approve_{people.others_big}')).to_have_count(0)
    page.context.close()


@pytest.mark.serial  # asserts a time: alone, not beside the parallel run
def test_a_decision_answers_on_its_card_in_under_a_second_and_stays_on_its_tab(
        browser: Any, server: Server, people: People) -> None:
    from playwright.sync_api import expect

    page = new_page(browser, PORTRAIT)
    _sign_in(page, server.url, people.by_role[Role.MANAGER])
    tab = _open_tab(page, "Approvals")
    card = page.locator(f'.st-key-tablet_approve_{people.others_big}')
    # A refusal is said on the card: rejecting needs a reason.
    card.get_by_role("button", name="Reject").click()
    expect(card.get_by_text("Say why the gesture is rejected.")).to_be_visible()
    expect(tab).to_have_attribute("aria-selected", "true")

    started = time.monotonic()
    card.get_by_role("button", name="Approve").click()
    expect(card.get_by_text("Approved: the held money is now spent.")).to_be_visible(timeout=5_000)
    answered = time.monotonic() - started
    expect(tab).to_have_attribute("aria-selected", "true")
    screenshot(page, "team-decision-on-card.png")
    with server.org.db.read() as session:
        status = session.scalar(select(Gesture.status).where(Gesture.code == people.others_big))
    assert status == GestureStatus.LOGGED
    print(f"decision answered on its card in {answered * 1000:.0f} ms")
    assert answered < 1.0, f"the decision took {answered:.2f} s to answer on its card"
    page.context.close()


# --- people admin ---------------------------------------------------------------------------------

def test_an_admin_adds_a_person_who_then_signs_in_on_the_tablet(
        browser: Any, server: Server, people: People) -> None:
    from playwright.sync_api import expect

    page = new_page(browser, PORTRAIT)
    _sign_in(page, server.url, people.by_role[Role.ADMIN])
    page.goto(f"{server.url}/people")
    _settle(page)
    page.get_by_text("Add a person").click()
    page.get_by_role("textbox", name="Name").first.fill("山田 太郎")
    page.get_by_role("textbox", name="PIN for the shared tablet").fill("8642")
    page.get_by_role("button", name="Add the person").click()
    expect(page.get_by_text("Added 山田 太郎 as staff")).to_be_visible()
    with server.org.db.read() as session:
        code = session.scalar(select(Employee.code).where(Employee.name == "山田 太郎"))
    assert code and signin.authenticate_pin(server.org.db, code, "8642").name == "山田 太郎"
    expect(page.get_by_role("heading", name="山田 太郎")).to_be_visible()
    screenshot(page, "people-added.png", whole_page=True)
    page.context.close()
