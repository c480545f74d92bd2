"""Issue 15 in the browser, at tablet size: a Tokyo desk logs yen (no decimals, "12.5" refused
before submit) and a Paris desk types "12,50" and reads euros with a comma, on the same server as
a dollar property."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from empowerment.actor import Actor
from empowerment.clock import business_today
from empowerment.db import Database
from empowerment.models import Location, Role, Team
from empowerment.services import accounts
from empowerment.services.importing import import_csv
from empowerment.services.organisation import set_location_money
from tests.e2e.conftest import LANDSCAPE, PORTRAIT, Person, new_page, screenshot, served, sign_in
from tests.e2e.test_tablet_flow import _choose, _find_and_pick
from tests.e2e.test_walk import _problems, _settle
from tests.factories import make_customer, make_policy, make_team

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _fill(db: Database) -> dict[str, Person]:
    system = Actor.system("e2e")
    people = {}
    for city, currency, locale in (("Tokyo", "JPY", None), ("Paris", "EUR", "fr_FR"), ("Boston", "USD", None)):
        team_id = make_team(db, f"T-{city}", location=city)
        with db.read() as session:
            location = session.scalars(select(Location.code).join(Team, Team.location_id == Location.id)
                                       .where(Team.id == team_id)).one()
        set_location_money(db, system, location, currency, locale)
        make_policy(db, allowance_cents=50_000, name=city, team_code=f"T-{city}", today=date(2025, 1, 1))
        username = city.lower()
        password = f"{username}-tablet-pass-1"
        code = accounts.create_user(db, system, username=username, name=f"Staff {city}", role=Role.STAFF,
                                    team_code=f"T-{city}", password=password)
        people[city] = Person(code, username, password, f"Staff {city}")
        make_customer(db, f"C-{city}", name=f"Guest {city}")  # each desk finds its own guests
    # Rome keeps euros with no policy of its own: everyone's, in dollars, with no USD-EUR rate
    rome = make_team(db, "T-Rome", location="Rome")
    with db.read() as session:
        location = session.scalars(select(Location.code).join(Team, Team.location_id == Location.id)
                                   .where(Team.id == rome)).one()
    set_location_money(db, system, location, "EUR", "it_IT")
    make_policy(db, allowance_cents=200_000, name="Everyone", today=date(2025, 1, 1))
    import_csv(db, "exchange_rates", f"date,currency,to_currency,rate\n{business_today()},USD,JPY,150\n".encode(),
               actor=system)
    for username, name, role, team in (("rome", "Staff Rome", Role.STAFF, "T-Rome"),
                                       ("ada", "Ada Admin", Role.ADMIN, None)):
        password = f"{username}-tablet-pass-1"
        code = accounts.create_user(db, system, username=username, name=name, role=role, team_code=team,
                                    password=password)
        people[username] = Person(code, username, password, name)
    make_customer(db, "C-Rome", name="Guest Rome")
    return people


@pytest.fixture(scope="module")
def money_server(tmp_path_factory: pytest.TempPathFactory, _sqlite_template: str) -> Iterator[tuple[str, dict[str, Person]]]:
    with served(tmp_path_factory.mktemp("e2e-money"), _sqlite_template, _fill) as (url, people):
        yield url, people


def _log(page: Any, city: str, typed: str) -> Any:
    from playwright.sync_api import expect

    _find_and_pick(page, f"Guest {city}", f"Guest {city}")
    _choose(page, "Noise", "On the house")
    amount = page.get_by_role("textbox", name="Other amount")
    amount.fill(typed)
    amount.press("Enter")
    submit = page.get_by_role("button", name=re.compile("^Log recovery"))
    expect(submit).to_be_visible()
    return submit


def test_yen_without_decimals_and_euros_with_a_comma_at_tablet_size(browser: Any, money_server: tuple[str, dict[str, Person]]) -> None:
    from playwright.sync_api import expect

    url, people = money_server
    tokyo = new_page(browser, PORTRAIT)
    sign_in(tokyo, url, people["Tokyo"])
    limits = tokyo.locator(".st-key-tablet_limits")
    expect(limits).to_contain_text("¥50,000 budget left")
    submit = _log(tokyo, "Tokyo", "12.5")
    expect(tokyo.get_by_role("radio", name=re.compile(r"¥1,000$"))).to_be_visible()  # quick amounts in yen
    expect(tokyo.get_by_text(re.compile("amounts are whole numbers"))).to_be_visible()  # refused before submit
    amount = tokyo.get_by_role("textbox", name="Other amount")
    amount.fill("1250")
    amount.press("Enter")
    expect(submit).to_contain_text("¥1,250")
    submit.tap()
    expect(tokyo.get_by_text("Logged ¥1,250. ¥48,750 left.")).to_be_visible()
    assert ".00" not in tokyo.locator(".st-key-tablet_confirmation").inner_text()

    paris = new_page(browser, PORTRAIT)
    sign_in(paris, url, people["Paris"])
    expect(paris.locator(".st-key-tablet_limits")).to_contain_text("500,00\u00a0€ budget left")
    submit = _log(paris, "Paris", "12,50")
    expect(submit).to_contain_text("12,50\u00a0€")
    submit.tap()
    expect(paris.get_by_text("Logged 12,50\u00a0€. 487,50\u00a0€ left.")).to_be_visible()

    boston = new_page(browser, PORTRAIT)
    sign_in(boston, url, people["Boston"])
    expect(boston.locator(".st-key-tablet_limits")).to_contain_text("$500.00 budget left")


def test_a_policy_for_everyone_abroad_says_its_rates_and_what_is_missing_at_both_tablet_sizes(
        browser: Any, money_server: tuple[str, dict[str, Person]]) -> None:
    """The Policies page tells the admin what everyone's dollar policy comes to in yen today and
    that Rome (euros, no rate) cannot log under it; Rome's tablet says which rate is missing and
    offers no submit. Both read in words, fit and pass axe at 820 and 1024 px."""
    from playwright.sync_api import expect

    url, people = money_server
    for viewport in (PORTRAIT, LANDSCAPE):
        size = f"{viewport['width']}x{viewport['height']}"
        admin = new_page(browser, viewport)
        admin.goto(url)
        admin.get_by_role("textbox", name="Username").fill("ada")
        admin.get_by_role("textbox", name="Password").fill(people["ada"].password)
        admin.get_by_role("button", name="Sign in", exact=True).click()
        expect(admin.get_by_role("button", name="Sign out")).to_be_visible(timeout=20_000)
        admin.goto(f"{url}/policies")
        _settle(admin)
        expect(admin.get_by_text("Today: 1 USD = 150 JPY (Tokyo).", exact=False)).to_be_visible()
        expect(admin.get_by_text(re.compile("No exchange rate from USD to EUR today: people at Paris, Rome cannot"))).to_be_visible()
        screenshot(admin, f"policies-rates-{size}.png")
        assert _problems(admin, "policies") == []
        admin.context.close()

        rome = new_page(browser, viewport)
        sign_in(rome, url, people["rome"])
        _find_and_pick(rome, "Guest Rome", "Guest Rome")
        expect(rome.get_by_text(re.compile("no exchange rate from USD to EUR"))).to_be_visible()
        expect(rome.get_by_role("button", name=re.compile("^Log recovery"))).to_have_count(0)
        screenshot(rome, f"tablet-missing-rate-{size}.png")
        assert _problems(rome, "log_recovery") == []
        rome.context.close()
