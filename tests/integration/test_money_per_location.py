"""Issue 15, money per location: a yen, a euro (French locale) and a dollar property side by side.

Each location has an ISO 4217 currency; budgets, caps and gestures are in its minor units (the yen
itself for JPY), formatted and parsed by Babel in the location's locale. A JPY amount with
decimals is refused by the service, not only by the tablet.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from empowerment.db import Database
from empowerment.errors import CustomerDailyCapExceeded, InvalidAmount, InvalidInput, InvalidState
from empowerment.models import Budget, Gesture, Location
from empowerment.queries.budgets import spending_limits
from empowerment.services.gestures import LogRequest, log_gesture
from empowerment.services.organisation import set_location_money
from tests.factories import SYSTEM, make_customer, make_employee, make_policy, make_team


def _location_of(db: Database, team_id: int) -> str:
    from empowerment.models import Team

    with db.read() as session:
        return session.scalars(select(Location.code).join(Team, Team.location_id == Location.id)
                               .where(Team.id == team_id)).one()


def three_properties(db: Database) -> dict[str, str]:
    """Tokyo (JPY), Paris (EUR, fr_FR) and Boston (USD): an employee each, team policies in each
    location's own minor units. Returns {city: employee code}."""
    people: dict[str, str] = {}
    for city, currency, locale, allowance, cap in (
        ("Tokyo", "JPY", None, 50_000, 20_000),        # ¥50,000 a month, ¥20,000 per customer a day
        ("Paris", "EUR", "fr_FR", 50_000, 20_000),     # 500,00 € and 200,00 €
        ("Boston", "USD", None, 50_000, 20_000),       # $500.00 and $200.00
    ):
        team_id = make_team(db, f"T-{city}", location=city)
        set_location_money(db, SYSTEM, _location_of(db, team_id), currency, locale)
        people[city] = make_employee(db, f"E-{city}", team_id=team_id, name=f"Staff {city}")
        make_policy(db, allowance, name=city, team_code=f"T-{city}", customer_daily_cap_cents=cap,
                    today=date(2025, 1, 1))
    make_customer(db, "C1", "Guest")
    return people


def _log(db: Database, employee: str, amount: str | int) -> str:
    return log_gesture(db, SYSTEM, LogRequest(employee, "C1", "comp", amount, category="Noise")).message


def test_three_properties_log_in_their_own_currency(db: Database) -> None:
    people = three_properties(db)
    assert _log(db, people["Tokyo"], "1250") == "Logged ¥1,250. ¥48,750 left."
    assert _log(db, people["Paris"], "12.50") == "Logged 12,50\u00a0€. 487,50\u00a0€ left."
    assert _log(db, people["Boston"], "12.50") == "Logged $12.50. $487.50 left."
    with db.read() as session:
        stored = sorted(session.scalars(select(Gesture.cost_cents)))
        remaining = sorted(session.scalars(select(Budget.remaining_cents)))
    assert stored == [1250, 1250, 1250]  # ¥1,250 is 1250 yen; 12.50 € and $12.50 are 1250 cents
    assert remaining == [48_750, 48_750, 48_750]
    tokyo = spending_limits(db, SYSTEM, people["Tokyo"], "C1")
    paris = spending_limits(db, SYSTEM, people["Paris"], "C1")
    assert (tokyo.currency, paris.currency, paris.locale) == ("JPY", "EUR", "fr_FR")
    assert tokyo.customer_cap_left_cents == 18_750


def test_a_jpy_amount_with_decimals_is_refused(db: Database) -> None:
    people = three_properties(db)
    with pytest.raises(InvalidAmount, match="Japanese Yen .JPY. amounts are whole numbers"):
        _log(db, people["Tokyo"], "12.50")
    with pytest.raises(InvalidAmount, match="whole numbers"):
        _log(db, people["Tokyo"], "0.5")
    assert _log(db, people["Tokyo"], 1250).startswith("Logged ¥1,250.")  # an int is already yen
    with db.read() as session:
        assert list(session.scalars(select(Gesture.cost_cents))) == [1250]


def test_a_three_decimal_currency_takes_its_third_decimal_as_typed(db: Database) -> None:
    team_id = make_team(db, "T-Manama", location="Manama")
    set_location_money(db, SYSTEM, _location_of(db, team_id), "BHD")
    staff = make_employee(db, "E-Manama", team_id=team_id, name="Staff Manama")
    make_policy(db, 500_000, name="Manama", team_code="T-Manama", today=date(2025, 1, 1))  # BHD 500.000
    make_customer(db, "C1", "Guest")
    assert _log(db, staff, "12.345") == "Logged BHD12.345. BHD487.655 left."  # 12,345 fils
    with pytest.raises(InvalidAmount, match="more than 3 decimals; BHD amounts have at most 3"):
        _log(db, staff, "1.2345")


def test_the_cap_is_said_in_the_locations_currency(db: Database) -> None:
    people = three_properties(db)
    with pytest.raises(CustomerDailyCapExceeded, match="¥25,000 is over the limit of ¥20,000"):
        _log(db, people["Tokyo"], "25000")
    with pytest.raises(CustomerDailyCapExceeded, match="250,00\u00a0€ is over the limit of 200,00\u00a0€"):
        _log(db, people["Paris"], "250")


def test_a_locations_currency_is_fixed_once_money_is_recorded(db: Database) -> None:
    people = three_properties(db)
    with db.read() as session:
        tokyo = session.scalars(select(Location.code).where(Location.currency == "JPY")).one()
    with pytest.raises(InvalidInput, match="not an ISO 4217"):
        set_location_money(db, SYSTEM, tokyo, "YEN")
    with pytest.raises(InvalidInput, match="locale"):
        set_location_money(db, SYSTEM, tokyo, "JPY", "xx_NOWHERE")
    assert set_location_money(db, SYSTEM, tokyo, "JPY", "ja_JP").locale == "ja_JP"  # no money yet: fine
    # Its team's policy is in yen already (¥50,000 a month): that fixes the currency too.
    with pytest.raises(InvalidState, match="already has budget policies in Japanese Yen .JPY.; its currency "
                                           "cannot become US Dollar .USD."):
        set_location_money(db, SYSTEM, tokyo, "USD")
    _log(db, people["Tokyo"], "1250")
    with pytest.raises(InvalidState, match="already has budgets in Japanese Yen"):
        set_location_money(db, SYSTEM, tokyo, "USD")
    assert set_location_money(db, SYSTEM, tokyo, "JPY", "").locale == "en_US"  # the locale may change


def test_a_location_without_money_may_change_its_currency_and_one_with_purchases_may_not(db: Database) -> None:
    from empowerment.models import Customer, Transaction

    make_team(db, "T-Lyon", location="Lyon")
    with db.read() as session:
        lyon = session.scalars(select(Location).where(Location.name == "Lyon")).one()
    assert set_location_money(db, SYSTEM, lyon.code, "EUR").currency == "EUR"
    assert set_location_money(db, SYSTEM, lyon.code, "CHF").currency == "CHF"  # nothing recorded: free
    with db.write() as session:
        guest = Customer(code="C-L", name="Lyon guest", location_id=lyon.id)
        session.add(guest)
        session.flush()
        session.add(Transaction(code="T-L", customer_id=guest.id, occurred_at=date(2026, 3, 1), amount_cents=1250))
    with pytest.raises(InvalidState, match="already has purchases in Swiss Franc"):
        set_location_money(db, SYSTEM, lyon.code, "EUR")


def test_new_locations_take_the_installations_currency(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMPOWERMENT_CURRENCY", "GBP")
    team_id = make_team(db, "FD", location="London")
    with db.read() as session:
        assert session.get(Location, session.scalars(select(Location.id)).one()).currency == "GBP"  # type: ignore[union-attr]
    assert team_id


def test_an_admin_sets_a_locations_currency_on_the_command_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from empowerment.cli import main

    url = f"sqlite:///{tmp_path}/m.db"
    assert main(["init", "--database-url", url]) == 0
    db = Database(url)
    make_team(db, "FD", location="Paris")
    with db.read() as session:
        code = session.scalars(select(Location.code)).one()
    capsys.readouterr()
    assert main(["location-currency", code, "eur", "--locale", "fr-FR", "--database-url", url]) == 0
    assert "Euro (EUR)" in capsys.readouterr().out
    assert main(["location-currency", code, "EURO", "--database-url", url]) == 2
    assert "ISO 4217" in capsys.readouterr().err
    with db.read() as session:
        place = session.scalars(select(Location)).one()
        assert (place.currency, place.locale) == ("EUR", "fr_FR")
    db.dispose()


# --- exchange rates: an all-or-nothing import, and cross-location figures at the date's rate --------

RATES = """date,currency,to_currency,rate
2026-03-02,JPY,EUR,0.0060
2026-03-03,JPY,EUR,"0,0065"
2026-03-02,USD,EUR,0.90
2026-03-03,EUR,USD,1.25
"""


def _import_rates(db: Database, text: str) -> object:
    from empowerment.services.importing import import_csv

    return import_csv(db, "exchange_rates", text.encode("utf-8"), actor=SYSTEM)


def test_exchange_rates_import_all_or_nothing_with_line_and_column(db: Database) -> None:
    from empowerment.errors import ImportFailed
    from empowerment.models import ExchangeRate

    bad = ("date,currency,to_currency,rate\n2026-03-02,JPY,EUR,0.006\n2026-03-02,YEN,EUR,0.006\n"
           "2026-03-02,USD,USD,1\n2026-03-02,USD,EUR,abc\n2026-03-02 10:00,USD,EUR,0.9\n2026-03-02,jpy,EUR,0.007\n")
    with pytest.raises(ImportFailed) as refused:
        _import_rates(db, bad)
    problems = {(p["line"], p["column"]): str(p["reason"]) for p in refused.value.problems}
    assert "ISO 4217" in problems[(3, "currency")]
    assert "same currency" in problems[(4, "to_currency")]
    assert "not a rate" in problems[(5, "rate")]
    assert "time of day" in problems[(6, "date")]
    assert "same day and currencies as line 2" in problems[(7, "date")]
    with db.read() as session:
        assert session.scalars(select(ExchangeRate)).first() is None  # nothing written
    summary = _import_rates(db, RATES)
    assert summary.inserted == 4  # type: ignore[attr-defined]
    assert _import_rates(db, RATES).unchanged == 4  # type: ignore[attr-defined]
    with db.read() as session:
        assert session.scalars(select(ExchangeRate.rate).where(ExchangeRate.code == "2026-03-03 JPY EUR")).one() == "0.0065"


def test_a_cross_currency_payoff_frame_converts_at_the_rate_of_the_gestures_date(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import datetime

    from empowerment.errors import MissingExchangeRate
    from empowerment.queries.frames import load_analytics_frames

    monkeypatch.setenv("EMPOWERMENT_REPORTING_CURRENCY", "EUR")
    people = three_properties(db)

    def at(day: int, who: str, amount: str) -> None:
        log_gesture(db, SYSTEM, LogRequest(people[who], "C1", "comp", amount, category="Noise"),
                    at=datetime(2026, 3, day, 9, 0))

    at(2, "Tokyo", "10000")   # ¥10,000 x 0.0060 = 60,00 €
    at(3, "Tokyo", "10000")   # ¥10,000 x 0.0065 = 65,00 € (the rate of its own date)
    at(2, "Boston", "100")    # $100 x 0.90 = 90,00 €
    at(3, "Boston", "100")    # $100 / 1.25 = 80,00 € (only the EUR->USD rate that day: inverted)
    at(3, "Paris", "12.50")  # already in euros
    with pytest.raises(MissingExchangeRate, match="No exchange rate from JPY to EUR for 2026-03-02, 2026-03-03"):
        load_analytics_frames(db)
    _import_rates(db, RATES)
    frames = load_analytics_frames(db)
    costs = sorted(frames.gestures["cost_cents"].tolist())
    assert costs == [1250, 6000, 6500, 8000, 9000]
    assert frames.conversion is not None and frames.conversion.converted_from == ("JPY", "USD")
    assert "converted to EUR at daily rates" in frames.conversion.note
    # A gesture on a day without a rate, beyond the days a weekend or holiday may take: refused.
    at(20, "Tokyo", "500")
    with pytest.raises(MissingExchangeRate, match="2026-03-20 .nor in the 4 days before.: 1 gesture in JPY"):
        load_analytics_frames(db)


def test_the_joint_reports_people_table_sums_in_the_reporting_currency(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import datetime

    from empowerment.clock import utc_now
    from empowerment.errors import MissingExchangeRate
    from empowerment.queries import report_metrics

    monkeypatch.setenv("EMPOWERMENT_REPORTING_CURRENCY", "EUR")
    people = three_properties(db)
    for who, amount in (("Tokyo", "10000"), ("Boston", "100"), ("Paris", "12.50")):
        log_gesture(db, SYSTEM, LogRequest(people[who], "C1", "comp", amount, category="Noise"),
                    at=datetime(2026, 3, 3, 9, 0))
    scope = report_metrics.Scope(date(2026, 3, 1), date(2026, 4, 1), None)
    with pytest.raises(MissingExchangeRate), db.read() as session:
        report_metrics.staff_activity(session, scope)
    today = utc_now().date().isoformat()  # budgets were opened (allocated) today
    _import_rates(db, RATES + f"{today},JPY,EUR,0.0050\n{today},USD,EUR,0.80\n")
    with db.read() as session:
        staff = report_metrics.staff_activity(session, scope).set_index("code")
    spend = staff["gesture_spend_cents"].to_dict()
    assert spend == {people["Tokyo"]: 6500, people["Boston"]: 8000, people["Paris"]: 1250}  # 3 March's rates
    allocated = staff["allocated_cents"].to_dict()  # ¥50,000 x 0.005, $500 x 0.80, 500 €
    assert allocated == {people["Tokyo"]: 25_000, people["Boston"]: 40_000, people["Paris"]: 50_000}


def test_purchases_in_several_currencies_are_converted_one_by_one_even_with_the_outcomes_table(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    # The outcomes table sums each location's own currency; with several currencies the payoff must
    # read purchases one by one and convert each at its date's rate.
    from datetime import datetime

    import pandas as pd

    from empowerment.models import Customer, Transaction
    from empowerment.queries.frames import load_analytics_frames, outcomes_current
    from empowerment.services import outcomes

    monkeypatch.setenv("EMPOWERMENT_REPORTING_CURRENCY", "EUR")
    people = three_properties(db)
    with db.write() as session:
        tokyo = session.scalars(select(Location.id).where(Location.currency == "JPY")).one()
        guest = session.scalars(select(Customer).where(Customer.code == "C1")).one()
        guest.location_id = tokyo
        session.add(Transaction(code="T-1", customer_id=guest.id, occurred_at=datetime(2026, 3, 3, 12),
                                amount_cents=10_000))  # ¥10,000
    log_gesture(db, SYSTEM, LogRequest(people["Tokyo"], "C1", "comp", "1000", category="Noise"),
                at=datetime(2026, 3, 2, 9, 0))
    _import_rates(db, RATES)
    outcomes.rebuild(db, SYSTEM)
    with db.read() as session:
        assert outcomes_current(session.connection(), 72)
    frames = load_analytics_frames(db, outcomes=True)
    assert isinstance(frames.transactions, pd.DataFrame)
    assert frames.transactions["amount_cents"].tolist() == [6500]  # ¥10,000 x 0.0065 on 3 March


# --- imports and exports: every amount in its row's location currency ------------------------------

def _guests_at_each_property(db: Database) -> dict[str, str]:
    """Three properties (`three_properties`) and a guest seen at each: {city: customer code}."""
    from empowerment.models import Customer

    people = three_properties(db)
    guests = {}
    with db.write() as session:
        for city, currency in (("Tokyo", "JPY"), ("Paris", "EUR"), ("Boston", "USD")):
            place = session.scalars(select(Location.id).where(Location.currency == currency)).one()
            session.add(Customer(code=f"G-{city}", name=f"Guest {city}", location_id=place))
            guests[city] = f"G-{city}"
    people.update({f"guest {city}": code for city, code in guests.items()})
    return people


def _import(db: Database, kind: str, text: str, **kwargs: object) -> object:
    from empowerment.services.importing import import_csv

    return import_csv(db, kind, text.encode("utf-8"), actor=SYSTEM, **kwargs)  # type: ignore[arg-type]


def _export(db: Database, kind: str) -> str:
    import io

    from empowerment.services.exporting import export_csv

    out = io.StringIO()
    export_csv(db, kind, out, actor=SYSTEM)
    return out.getvalue()


def test_imported_transactions_are_read_in_each_customers_currency(db: Database) -> None:
    from empowerment.models import Transaction

    _guests_at_each_property(db)
    _import(db, "transactions", "transaction_id,customer_id,occurred_at,amount\n"
            "T1,G-Tokyo,2026-03-02,1250\nT2,G-Paris,2026-03-02,12.50\nT3,G-Boston,2026-03-02,12.50\n"
            "T4,G-Tokyo,2026-03-02,-300\nT5,NEW,2026-03-02,9.99\n")
    with db.read() as session:
        stored = dict(session.execute(select(Transaction.code, Transaction.amount_cents)).all())
    # ¥1,250 is 1250 yen (not 125,000); 12.50 € and $12.50 are 1250 cents; an unknown (new) customer
    # has no location: the installation's dollars.
    assert stored == {"T1": 1250, "T2": 1250, "T3": 1250, "T4": -300, "T5": 999}
    exported = _export(db, "transactions").splitlines()
    assert exported[1:] == ["T1,G-Tokyo,2026-03-02T00:00:00,1250", "T2,G-Paris,2026-03-02T00:00:00,12.50",
                            "T3,G-Boston,2026-03-02T00:00:00,12.50", "T4,G-Tokyo,2026-03-02T00:00:00,-300",
                            "T5,NEW,2026-03-02T00:00:00,9.99"]
    # The app's own export re-imports unchanged.
    assert _import(db, "transactions", _export(db, "transactions")).unchanged == 5  # type: ignore[attr-defined]


def test_a_french_file_of_euros_and_yen_reads_the_decimal_comma(db: Database) -> None:
    from empowerment.models import Transaction

    _guests_at_each_property(db)
    summary = _import(db, "transactions", "transaction_id;customer_id;occurred_at;amount\n"
                      "T1;G-Paris;2026-03-02;12,50\nT2;G-Paris;2026-03-02;1.234,50\nT3;G-Tokyo;2026-03-02;1.250\n")
    assert summary.decimal_mark == ","  # type: ignore[attr-defined]
    with db.read() as session:
        stored = dict(session.execute(select(Transaction.code, Transaction.amount_cents)).all())
    assert stored == {"T1": 1250, "T2": 123_450, "T3": 1250}  # "1.250" yen is one thousand two hundred fifty


def test_an_amount_finer_than_its_currency_is_refused_with_its_line_and_column_all_or_nothing(db: Database) -> None:
    from empowerment.errors import ImportFailed
    from empowerment.models import Transaction

    _guests_at_each_property(db)
    text = ("transaction_id,customer_id,occurred_at,amount\n"
            "T1,G-Boston,2026-03-02,12.50\nT2,G-Tokyo,2026-03-02,12.5\nT3,G-Paris,2026-03-02,12.505\n"
            "T4,G-Tokyo,2026-03-02,1250\n")
    with pytest.raises(ImportFailed) as refused:
        _import(db, "transactions", text)
    problems = {(p["line"], p["column"]): str(p["reason"]) for p in refused.value.problems}
    assert set(problems) == {(3, "amount"), (4, "amount")}
    assert "Japanese Yen (JPY) amounts are whole numbers" in problems[(3, "amount")]
    assert "the currency of Tokyo" in problems[(3, "amount")]
    assert "more than 2 decimals; EUR amounts have at most 2" in problems[(4, "amount")]
    with db.read() as session:
        assert session.scalars(select(Transaction)).first() is None  # nothing written
    # Importing the valid rows sets the two aside, with their reasons in the rejects.
    summary = _import(db, "transactions", text, valid_rows_only=True)
    assert (summary.inserted, summary.rejected) == (2, 2)  # type: ignore[attr-defined]
    with db.read() as session:
        assert sorted(session.scalars(select(Transaction.amount_cents))) == [1250, 1250]


def test_imported_gestures_are_in_their_givers_currency_and_export_so(db: Database) -> None:
    from empowerment.errors import ImportFailed
    from empowerment.models import Gesture

    people = _guests_at_each_property(db)
    _import(db, "incidents", "incident_id,customer_id,occurred_at,category\nI1,G-Tokyo,2026-03-02,Noise\n"
            "I2,G-Paris,2026-03-02,Noise\nI3,G-Boston,2026-03-02,Noise\n")
    header = "gesture_id,incident_id,employee_id,occurred_at,type,cost,note\n"
    bad = header + f"G1,I1,{people['Tokyo']},2026-03-02T10:00,comp,1250.5,\n"
    with pytest.raises(ImportFailed) as refused:
        _import(db, "gestures", bad)
    assert [(p["line"], p["column"]) for p in refused.value.problems] == [(2, "cost")]
    assert "whole numbers" in str(refused.value.problems[0]["reason"])
    _import(db, "gestures", header + f"G1,I1,{people['Tokyo']},2026-03-02T10:00,comp,1250,\n"
            f"G2,I2,{people['Paris']},2026-03-02T10:00,comp,12.50,\n"
            f"G3,I3,{people['Boston']},2026-03-02T10:00,comp,12.5,\n")
    with db.read() as session:
        assert dict(session.execute(select(Gesture.code, Gesture.cost_cents)).all()) == {
            "G1": 1250, "G2": 1250, "G3": 1250}
    costs = [line.split(",")[5] for line in _export(db, "gestures").splitlines()[1:]]
    assert costs == ["1250", "12.50", "12.50"]


def test_the_imports_cap_warning_uses_each_givers_cap_in_their_locations_currency(db: Database) -> None:
    people = _guests_at_each_property(db)
    make_policy(db, 50_000, name="Everyone", customer_daily_cap_cents=1_000_000, today=date(2025, 1, 1))
    _import(db, "incidents", "incident_id,customer_id,occurred_at,category\nI1,G-Tokyo,2026-03-02,Noise\n"
            "I2,G-Paris,2026-03-02,Noise\nI3,G-Boston,2026-03-02,Noise\n")
    summary = _import(db, "gestures", "gesture_id,incident_id,employee_id,occurred_at,type,cost,note\n"
                      f"G1,I1,{people['Tokyo']},2026-03-02T10:00,comp,15000,\n"
                      f"G2,I1,{people['Tokyo']},2026-03-02T11:00,comp,10000,\n"   # ¥25,000 that day
                      f"G3,I2,{people['Paris']},2026-03-02T10:00,comp,250,\n"        # 250,00 €: over 200,00 €
                      f"G4,I3,{people['Boston']},2026-03-02T10:00,comp,150,\n")    # under $200.00
    caps = [w for w in summary.warnings if "daily cap" in w]  # type: ignore[attr-defined]
    assert caps == [
        "1 gesture in this file is above the 200,00\u00a0€ daily cap per employee per customer; imported "
        "gestures are recorded as history, so limits were not applied.",
        "1 gesture in this file is above the ¥20,000 daily cap per employee per customer; imported "
        "gestures are recorded as history, so limits were not applied."]


def test_the_ledger_export_writes_each_budgets_currency(db: Database) -> None:
    people = three_properties(db)
    _log(db, people["Tokyo"], "1250")
    _log(db, people["Boston"], "12.50")
    rows = [line.split(",") for line in _export(db, "ledger").splitlines()[1:]]
    amounts = {(row[1], row[3]): row[4] for row in rows}
    assert amounts[(people["Tokyo"], "spend")] == "-1250" and amounts[(people["Tokyo"], "allocation")] == "50000"
    assert amounts[(people["Boston"], "spend")] == "-12.50" and amounts[(people["Boston"], "allocation")] == "500.00"


def test_an_api_batch_of_yen_is_read_in_yen(db: Database) -> None:
    from empowerment.models import Transaction
    from empowerment.services.ingest import BatchRefused, upsert_rows

    _guests_at_each_property(db)
    with pytest.raises(BatchRefused) as refused:
        upsert_rows(db, SYSTEM, "transactions", [
            {"transaction_id": "T1", "customer_id": "G-Tokyo", "occurred_at": "2026-03-02", "amount": "12.5"}])
    assert refused.value.errors[0].field == "amount" and "whole numbers" in refused.value.errors[0].message
    upsert_rows(db, SYSTEM, "transactions", [
        {"transaction_id": "T1", "customer_id": "G-Tokyo", "occurred_at": "2026-03-02", "amount": 1250},
        {"transaction_id": "T2", "customer_id": "G-Paris", "occurred_at": "2026-03-02", "amount": "12.50"}])
    with db.read() as session:
        assert sorted(session.scalars(select(Transaction.amount_cents))) == [1250, 1250]


# --- the Team page's figures across locations -------------------------------------------------------

def test_team_figures_across_currencies_convert_at_each_amounts_date_and_one_currency_stays_itself(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import datetime

    from empowerment.clock import utc_now
    from empowerment.errors import MissingExchangeRate
    from empowerment.models import Team
    from empowerment.queries import team

    monkeypatch.setenv("EMPOWERMENT_REPORTING_CURRENCY", "EUR")
    people = three_properties(db)
    for who, amount in (("Tokyo", "10000"), ("Boston", "100"), ("Paris", "12.50")):
        log_gesture(db, SYSTEM, LogRequest(people[who], "C1", "comp", amount, category="Noise"),
                    at=datetime(2026, 3, 3, 9, 0))
    window = team.Window(date(2026, 3, 1), date(2026, 4, 1))
    money = team.team_money(db, SYSTEM)
    assert (money.currency, money.converted_from) == ("EUR", ("JPY", "USD"))
    assert money.note == ("Amounts in JPY, USD converted to EUR at daily rates (the rate of each gesture's and "
                          "budget entry's date).")
    for read in (lambda: team.budget_use(db, SYSTEM, window=window),
                 lambda: team.weekly_activity(db, SYSTEM, window),
                 lambda: team.spend_breakdown(db, SYSTEM, window)):
        with pytest.raises(MissingExchangeRate, match="No exchange rate from JPY to EUR"):
            read()  # never a silent 1.0
    today = utc_now().date().isoformat()  # the ledger entries were written today
    _import_rates(db, RATES + f"{today},JPY,EUR,0.0050\n{today},USD,EUR,0.80\n")
    rows = team.budget_use(db, SYSTEM, window=window).set_index("employee_code")
    got = {code: tuple(int(rows.loc[code, c]) for c in ("allocated_cents", "spent_cents", "held_cents",
                                                         "remaining_cents")) for code in people.values()}
    assert got == {people["Tokyo"]: (25_000, 5_000, 0, 20_000),   # ¥50,000 and ¥10,000 at today's 0.005
                   people["Boston"]: (40_000, 8_000, 0, 32_000),  # $500 and $100 at today's 0.80
                   people["Paris"]: (50_000, 1_250, 0, 48_750)}   # euros as they are
    weekly = team.weekly_activity(db, SYSTEM, window)
    assert sorted(weekly.loc[weekly["spend_cents"] > 0, "spend_cents"].tolist()) == [1250, 6500, 8000]  # 3 March
    breakdown = team.spend_breakdown(db, SYSTEM, window)
    assert breakdown[["gesture_type", "category", "gestures", "spend_cents"]].values.tolist() == [
        ["comp", "Noise", 3, 15_750]]
    # A reach within one currency is shown in it, unconverted.
    with db.read() as session:
        tokyo = session.scalars(select(Team.id).where(Team.code == "T-Tokyo")).one()
    assert team.team_money(db, SYSTEM, [tokyo]).currency == "JPY"
    only = team.budget_use(db, SYSTEM, [tokyo], window=window)
    assert only[["allocated_cents", "spent_cents", "remaining_cents"]].values.tolist() == [[50_000, 10_000, 40_000]]
    queue = team.story_feed(db, SYSTEM)
    assert set(zip(queue["currency"], queue["cost_cents"], strict=True)) <= {("JPY", 10_000), ("USD", 10_000),
                                                                              ("EUR", 1250)}


def test_a_policy_typed_by_a_person_is_read_in_its_teams_currency_and_locale(db: Database) -> None:
    """The Policies page and `policy set` pass the text typed: a Tokyo team's "500" is ¥500, a
    Paris team's "12,50" is 12,50 €, and one for everyone is in the installation's dollars."""
    from empowerment.models import Period
    from empowerment.queries import admin
    from empowerment.services.policies import PolicyRequest, set_policy

    three_properties(db)
    for name, team, allowance, cap in (("Tokyo typed", "T-Tokyo", "500", "2000"),
                                       ("Paris typed", "T-Paris", "12,50", "2000,00"),
                                       ("Everyone typed", None, "12.50", "")):
        set_policy(db, SYSTEM, PolicyRequest(name, allowance, Period.MONTH, team_code=team,
                                             customer_daily_cap_cents=cap, review_above_cents=""))
    versions = admin.policy_versions(db, SYSTEM).set_index("name")
    assert versions.loc["Tokyo typed", ["allowance_cents", "customer_daily_cap_cents", "currency"]].tolist() == \
        [500, 2000, "JPY"]
    assert versions.loc["Paris typed", ["allowance_cents", "customer_daily_cap_cents", "currency"]].tolist() == \
        [1250, 200_000, "EUR"]
    assert versions.loc["Everyone typed", ["allowance_cents", "customer_daily_cap_cents", "currency"]].tolist() == \
        [1250, 200_000, "USD"]  # an empty limit is the standard one
    assert versions.loc["Everyone typed", "review_above_cents"] is None or \
        pd.isna(versions.loc["Everyone typed", "review_above_cents"])
    with pytest.raises(InvalidAmount, match="^The allowance: .*whole numbers"):
        set_policy(db, SYSTEM, PolicyRequest("Tokyo decimals", "500.50", Period.MONTH, team_code="T-Tokyo"))


def test_a_policy_for_everyone_is_converted_into_each_persons_currency_at_the_days_rate(db: Database) -> None:
    """The chain's "2,000 per guest per day" kept in the installation's dollars holds in Tokyo in
    yen: the allowance at the rate of the period's first day, the limits at the gesture's day's;
    without a rate nothing is opened or logged (never a made-up 1.0); a team policy in yen is
    never converted."""
    from empowerment.clock import business_today, zone
    from empowerment.errors import MissingExchangeRate
    from empowerment.models import LedgerEntry
    from empowerment.models.enums import Period
    from empowerment.periods import period_bounds
    from empowerment.queries.budgets import budget_status

    team_id = make_team(db, "T-Tokyo", location="Tokyo")
    set_location_money(db, SYSTEM, _location_of(db, team_id), "JPY", None)
    tokyo = make_employee(db, "E-Tokyo", team_id=team_id, name="Staff Tokyo")
    boston = make_employee(db, "E-Boston", team_id=make_team(db, "T-Boston", location="Boston"), name="Staff Boston")
    make_customer(db, "C1", "Guest")
    make_policy(db, 200_000, name="Everyone", customer_daily_cap_cents=200_000, approval_above_cents=50_000,
                today=date(2025, 1, 1))  # $2,000.00 a month and per guest a day; approval above $500.00
    with pytest.raises(MissingExchangeRate, match="'Everyone' is in USD and Staff Tokyo's budget is in JPY"):
        _log(db, tokyo, "1000")
    with db.read() as session:
        assert session.scalar(select(Budget.id)) is None
    assert _log(db, boston, "10") == "Logged $10.00. $1,990.00 left."  # the dollar property is not touched

    today = business_today(zone())
    first, _end = period_bounds(Period.MONTH, today)
    rates = "date,currency,to_currency,rate\n" + f"{first},USD,JPY,150\n"
    if today != first:
        rates += f"{today},JPY,USD,0.00625\n"  # published the other way round: 160 yen a dollar
    _import_rates(db, rates)
    limit_rate = 150 if today == first else 160
    assert _log(db, tokyo, "1000") == "Logged ¥1,000. ¥299,000 left."  # $2,000.00 at 150
    status = budget_status(db, SYSTEM, tokyo)
    assert (status.currency, status.allocated_cents) == ("JPY", 300_000)
    assert status.customer_daily_cap_cents == 200_000 * limit_rate // 100
    assert status.approval_above_cents == 50_000 * limit_rate // 100
    limits = spending_limits(db, SYSTEM, tokyo, "C1")
    assert limits.customer_cap_left_cents == 200_000 * limit_rate // 100 - 1_000
    with db.read() as session:
        reasons = session.scalars(select(LedgerEntry.reason).where(LedgerEntry.amount_cents == 300_000)).all()
    assert reasons and "converted from USD at 150 JPY per USD" in reasons[0]

    make_policy(db, 90_000, name="Tokyo", team_code="T-Tokyo", today=date(2025, 1, 1))  # ¥90,000, its own
    with db.read() as session:
        from empowerment.models import Employee
        from empowerment.models.lookups import policy_terms, require_policy

        employee = session.scalars(select(Employee).where(Employee.code == tokyo)).one()
        terms = policy_terms(session, require_policy(session, employee, today), employee, today)
    assert (terms.allowance_cents, terms.converted_from) == (90_000, None)
