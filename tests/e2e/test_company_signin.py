"""Company sign-in (OpenID Connect) end to end in Chromium, against a local OpenID provider
started here (`oidc-provider-mock`): a manager signs in with a verified email and lands on their
page; an unknown email and a deactivated employee are refused; password sign-in stays."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from empowerment.db import Database
from empowerment.models import AuditEvent, Employee, Role
from empowerment.services import accounts
from empowerment.services.notifications.preferences import set_email
from tests.e2e.conftest import _free_port, new_page, screenshot, start_server, stop_server
from tests.factories import SYSTEM, make_team

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Site:
    url: str
    db: Database


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, _sqlite_template: str) -> Iterator[Site]:
    from oidc_provider_mock import User, run_server_in_thread

    folder = tmp_path_factory.mktemp("oidc")
    shutil.copyfile(_sqlite_template, folder / "app.db")
    db = Database(f"sqlite:///{folder / 'app.db'}")
    make_team(db, "FD", location="Harbour")
    for code, name, email in (("M1", "Mia Manager", "mia@example.org"), ("M2", "Gus Gone", "gus@example.org")):
        accounts.create_user(db, SYSTEM, username=code.lower(), name=name, role=Role.MANAGER, employee_code=code,
                             team_code="FD", password="a long enough password")
        set_email(db, SYSTEM, code, email)
    with db.write() as session:
        session.scalars(select(Employee).where(Employee.code == "M2")).one().active = False
    users = [User(sub=sub, claims={"email": email, "email_verified": True, "name": sub})
             for sub, email in (("mia", "MIA@example.org"), ("gus", "gus@example.org"),
                                ("stranger", "stranger@example.org"))]
    users.append(User(sub="unverified", claims={"email": "mia@example.org", "email_verified": False}))
    with run_server_in_thread(user_claims=users) as provider:
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        process, log, _ = start_server(db.url, folder, port=port, extra_env={
            "EMPOWERMENT_OIDC_ISSUER": f"http://localhost:{provider.server_port}",
            "EMPOWERMENT_OIDC_CLIENT_ID": "empowerment-tests", "EMPOWERMENT_OIDC_CLIENT_SECRET": "s3cret",
            "EMPOWERMENT_PUBLIC_URL": url, "EMPOWERMENT_OIDC_BUTTON_LABEL": "Sign in with Harbour Hotels"})
        try:
            yield Site(url, db)
        finally:
            stop_server(process, log)
            db.dispose()


def _sign_in_as(browser: Any, site: Site, who: str) -> Any:
    page = new_page(browser, {"width": 1024, "height": 768})
    page.goto(site.url)
    page.get_by_role("link", name="Sign in with Harbour Hotels").click()
    page.get_by_role("button", name=who, exact=True).click()  # the provider's one-click user
    return page


def test_a_manager_signs_in_with_the_company_account_and_keeps_the_apps_role(browser: Any, site: Site) -> None:
    from playwright.sync_api import expect

    page = _sign_in_as(browser, site, "mia")
    expect(page.get_by_text("Signed in as", exact=False)).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Mia Manager", exact=False).first).to_be_visible()
    expect(page.get_by_role("heading", name="Team")).to_be_visible(timeout=30_000)  # the manager's landing page
    screenshot(page, "company-sign-in.png")
    page.reload()  # the session cookie holds, as after a password sign-in
    expect(page.get_by_text("Signed in as", exact=False)).to_be_visible(timeout=30_000)
    page.context.close()
    with site.db.read() as session:
        methods = session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "auth.signed_in",
                                                                  AuditEvent.entity_id == "M1")).all()
    assert any('"oidc"' in (m or "") for m in methods)


@pytest.mark.parametrize("who, words", [
    ("stranger", "No one here has the email stranger@example.org"),
    ("gus", "no longer active"),
    ("unverified", "not marked verified"),
])
def test_an_unknown_email_a_deactivated_employee_and_an_unverified_email_are_refused(
        browser: Any, site: Site, who: str, words: str) -> None:
    from playwright.sync_api import expect

    page = _sign_in_as(browser, site, who)
    expect(page.get_by_role("heading", name="You cannot sign in with your company account")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(words)
    screenshot(page, f"company-sign-in-refused-{who}.png")
    page.get_by_role("link", name="Back to the sign-in screen").click()
    expect(page.get_by_role("textbox", name="Username")).to_be_visible(timeout=30_000)  # passwords stay
    assert not [c for c in page.context.cookies() if c["name"] == "emp_session"]
    page.context.close()
