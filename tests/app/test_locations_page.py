"""Issue 15's admin screen in AppTest: a location's currency and locale are picked from lists in
words (never typed codes), saved through the service (audited), and a currency that money is
already recorded in cannot be changed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from empowerment.db import Database
from empowerment.models import AuditEvent, Location, Role
from empowerment.services.gestures import LogRequest, log_gesture
from empowerment.ui import components as ui
from empowerment.ui.session import get_db
from tests.conftest import fresh_sqlite
from tests.factories import SYSTEM, actor_of, make_customer, make_employee, make_policy, make_team

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "locations.py")


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _sqlite_template: str) -> Iterator[Database]:
    database = fresh_sqlite(_sqlite_template, tmp_path)
    monkeypatch.setenv("EMPOWERMENT_DATABASE_URL", database.url)
    get_db.clear()
    make_team(database, "T-Paris", "Paris")
    boston = make_team(database, "T-Boston", "Boston")
    make_employee(database, "E-B", team_id=boston, name="Bo Staff")
    make_employee(database, "E-A", role=Role.ADMIN, name="Ada Admin")
    make_policy(database, 50_000)
    make_customer(database, "C1", "Guest")
    yield database
    get_db.clear()
    database.dispose()


def page(db: Database, who: str = "E-A", file: str = "locations.py") -> AppTest:
    at = AppTest.from_file(str(Path(PAGE).parent / file), default_timeout=60)
    at.session_state["actor"] = actor_of(db, who)
    return at.run()


def _place(db: Database, name: str) -> Location:
    with db.read() as session:
        return session.scalars(select(Location).where(Location.name == name)).one()


def test_an_admin_picks_a_currency_and_a_locale_in_words_and_it_is_audited(db: Database) -> None:
    at = page(db)
    assert not at.exception
    paris = _place(db, "Paris").code
    at.selectbox(key="lc_location").set_value(paris).run()
    currency = at.selectbox(key="lc_currency")
    assert "Euro (EUR)" in currency.options and "EUR" not in currency.options  # labels, not codes
    assert not currency.disabled
    currency.set_value("EUR")
    locale = at.selectbox(key="lc_locale")
    assert any(o.startswith("French (France)") for o in locale.options)
    locale.set_value("fr_FR").run()
    at.button(key="lc_save").click().run()
    assert not at.exception
    assert "Euro (EUR), written like 1\u202f234,50\u00a0€" in at.success[0].value
    place = _place(db, "Paris")
    assert (place.currency, place.locale) == ("EUR", "fr_FR")
    with db.read() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "location.money")).one()
    assert json.loads(event.detail)["after"] == {"currency": "EUR", "locale": "fr_FR"}
    table = at.table[0].value
    assert "Euro (EUR)" in table["Currency"].tolist()


def test_a_currency_with_money_recorded_is_fixed_and_said_so(db: Database) -> None:
    log_gesture(db, SYSTEM, LogRequest("E-B", "C1", "comp", "12.50", category="Noise"))
    at = page(db)
    boston = _place(db, "Boston").code
    at.selectbox(key="lc_location").set_value(boston).run()
    assert at.selectbox(key="lc_currency").disabled
    assert "currency is fixed: it already has budgets in US Dollar (USD)" in at.info[0].value
    # The locale may still change.
    at.selectbox(key="lc_locale").set_value("en_GB").run()
    at.button(key="lc_save").click().run()
    assert not at.exception and at.success
    assert _place(db, "Boston").locale == "en_GB"


def test_the_service_refuses_what_a_forged_screen_would_send(db: Database) -> None:
    from empowerment.errors import InvalidState, PermissionDenied
    from empowerment.services.organisation import set_location_money

    log_gesture(db, SYSTEM, LogRequest("E-B", "C1", "comp", "12.50", category="Noise"))
    boston = _place(db, "Boston").code
    with pytest.raises(InvalidState, match="already has budgets in US Dollar .USD.; its currency cannot become"):
        set_location_money(db, actor_of(db, "E-A"), boston, "JPY")
    with pytest.raises(PermissionDenied):
        set_location_money(db, actor_of(db, "E-B"), _place(db, "Paris").code, "EUR")
    assert _place(db, "Boston").currency == "USD"


# --- the Team page across currencies (issue 15) -----------------------------------------------------

def test_the_team_page_across_currencies_converts_and_says_a_missing_rate(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import datetime

    from empowerment.clock import utc_now
    from empowerment.services.importing import import_csv
    from empowerment.services.organisation import set_location_money

    monkeypatch.setenv("EMPOWERMENT_REPORTING_CURRENCY", "EUR")
    tokyo = make_team(db, "T-Tokyo", "Tokyo")
    set_location_money(db, SYSTEM, _place(db, "Tokyo").code, "JPY")
    set_location_money(db, SYSTEM, _place(db, "Paris").code, "EUR", "fr_FR")
    make_employee(db, "E-T", team_id=tokyo, name="Tomo Staff")
    make_policy(db, 50_000, name="Tokyo", team_code="T-Tokyo")  # ¥50,000 (everyone's is in dollars)
    log_gesture(db, SYSTEM, LogRequest("E-T", "C1", "comp", "10000", category="Noise"), at=datetime.now())
    log_gesture(db, SYSTEM, LogRequest("E-B", "C1", "comp", "100", category="Noise"), at=datetime.now())

    def team_page() -> AppTest:
        return page(db, file="team.py")

    at = team_page()
    assert not at.exception
    warning = at.warning[0].value
    assert "converted into EUR" in warning and "No exchange rate from JPY to EUR" in warning
    assert not at.metric  # no figure at a made-up rate
    today = utc_now().date().isoformat()
    import_csv(db, "exchange_rates", f"date,currency,to_currency,rate\n{today},JPY,EUR,0.005\n"
               f"{today},USD,EUR,0.80\n".encode(), actor=SYSTEM)
    at = team_page()
    assert not at.exception and not at.warning
    metrics = {m.label: m.value for m in at.metric}
    # ¥10,000 x 0.005 = 50 € and $100 x 0.80 = 80 €, in the installation's (en_US) way of writing
    assert metrics["Spent"] == "€130"
    assert any("Amounts in JPY, USD converted to EUR at daily rates" in c.value for c in at.caption)


def test_the_policies_page_says_what_everyones_policy_comes_to_abroad_and_where_a_rate_is_missing(
        db: Database) -> None:
    from empowerment.clock import business_today
    from empowerment.services.importing import import_csv
    from empowerment.services.organisation import set_location_money

    set_location_money(db, SYSTEM, _place(db, "Paris").code, "EUR", "fr_FR")

    def policies_page() -> AppTest:
        return page(db, file="policies.py")

    at = policies_page()
    assert not at.exception
    warnings = [ui.unmd(w.value) for w in at.warning]
    assert warnings == ["No exchange rate from USD to EUR today: people at Paris cannot log gestures under a "
                        "policy for a role or for everyone. Import exchange rates on the Data page, or give "
                        "their teams a policy of their own in EUR."]
    import_csv(db, "exchange_rates", f"date,currency,to_currency,rate\n{business_today()},EUR,USD,1.08\n".encode(),
               actor=SYSTEM)
    at = policies_page()
    assert not at.exception and not at.warning
    assert any("Today: 1 USD = 0.925926 EUR (Paris)." in ui.unmd(c.value) for c in at.caption)
