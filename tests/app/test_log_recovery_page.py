"""AppTests for the tablet page "Log a recovery" on a migrated SQLite database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from streamlit.proto.WidgetStates_pb2 import WidgetStates
from streamlit.testing.v1 import AppTest

from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.errors import PermissionDenied
from empowerment.models import (
    Customer,
    Gesture,
    GestureStatus,
    Incident,
    LedgerEntry,
    LedgerEntryType,
    Location,
    Role,
    Team,
)
from empowerment.queries import admin
from empowerment.queries import customers as customer_queries
from empowerment.queries.budgets import budget_status
from empowerment.services import gestures, organisation
from empowerment.services.gestures import LogRequest
from empowerment.ui import components as ui
from empowerment.ui.session import get_db
from tests.conftest import fresh_sqlite
from tests.factories import actor_of, make_customer, make_employee, make_policy, make_team

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "log_recovery.py")


@dataclass
class Org:
    db: Database
    staff: Actor
    staff_code: str
    colleague: Actor
    colleague_code: str
    admin: Actor
    customer_code: str



@pytest.fixture
def org(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _sqlite_template: str) -> Iterator[Org]:
    db = fresh_sqlite(_sqlite_template, tmp_path)  # a copy of the migrated template
    monkeypatch.setenv("EMPOWERMENT_DATABASE_URL", db.url)
    get_db.clear()
    team = make_team(db, "FD")
    staff_code = make_employee(db, "E-ANA", team_id=team, name="Ana Staff")
    colleague_code = make_employee(db, "E-BEN", team_id=team, name="Ben Colleague")
    admin_code = make_employee(db, "E-ADM", role=Role.ADMIN, name="Ada Admin")
    make_policy(db, allowance_cents=50_000, role=Role.STAFF, customer_daily_cap_cents=20_000)
    customer_code = make_customer(db, "C-100", name="Grace Hopper")
    yield Org(db, actor_of(db, staff_code), staff_code, actor_of(db, colleague_code), colleague_code,
              actor_of(db, admin_code), customer_code)
    get_db.clear()
    db.dispose()


def page(actor: Actor | None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    if actor is not None:
        at.session_state["actor"] = actor
    return at.run()


def pick(at: AppTest, query: str, code: str) -> AppTest:
    at.text_input(key="lr_query").set_value(query).run()
    return at.button(key=f"lr_pick_{code}").click().run()


def fill(at: AppTest, *, category: str = "Noise", kind: str = "comp", quick: int | None = 25,
         typed: str | None = None, note: str | None = None) -> AppTest:
    at.pills(key="lr_category").set_value(category).run()
    at.pills(key="lr_type").set_value(kind).run()
    if quick is not None:
        at.pills(key="lr_quick").set_value(quick).run()
    if typed is not None:
        at.text_input(key="lr_custom").set_value(typed).run()
    if note is not None:
        at.text_area(key="lr_note").set_value(note).run()
    return at


def submit(at: AppTest) -> AppTest:
    return at.button(key="lr_submit").click().run()


def shown(elements) -> list[str]:  # type: ignore[no-untyped-def]
    return [ui.unmd(str(e.value)) for e in elements]


def gesture_count(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Gesture)) or 0)


def remaining(o: Org) -> int:
    return budget_status(o.db, o.staff, o.staff_code).remaining_cents


def test_a_visitor_who_is_not_signed_in_sees_the_sign_in_screen(org: Org) -> None:
    at = page(None)
    assert not at.exception
    assert "Sign in" in [t.value for t in at.title]
    assert not [w for w in at.text_input if w.key == "lr_query"]


def test_search_then_pick_shows_who_helped_before(org: Org) -> None:
    gestures.log_gesture(org.db, org.colleague, LogRequest(
        org.colleague_code, org.customer_code, "gift", 1500, category="Long wait", note="Flowers sent"))
    at = pick(page(org.staff), "grace", org.customer_code)
    assert not at.exception
    assert "Grace Hopper" in shown(at.subheader)
    lines = shown(at.markdown)
    assert any("Long wait → Gift $15.00 · Ben Colleague · Logged" in line for line in lines)
    assert "“Flowers sent”" in shown(at.caption)


def test_a_first_time_customer_gets_the_nothing_to_repeat_empty_state(org: Org) -> None:
    at = pick(page(org.staff), "C-100", org.customer_code)
    assert "First time we hear from Grace Hopper: nothing to repeat." in shown(at.info)


def test_logging_a_gesture_confirms_and_drops_the_balance(org: Org) -> None:
    at = pick(page(org.staff), "Grace", org.customer_code)
    before = remaining(org)
    at = submit(fill(at, category="Noise", kind="comp", quick=25, note="Sent up dessert"))
    assert not at.exception
    assert "Logged $25.00. $475.00 left." in shown(at.success)
    assert shown(at.metric)[0] == "$475.00"
    assert remaining(org) == before - 2500
    with org.db.read() as session:
        gesture = session.scalars(select(Gesture)).one()
    assert (gesture.cost_cents, gesture.type.value, gesture.note) == (2500, "comp", "Sent up dessert")


def test_a_late_second_tap_on_submit_logs_once(org: Org) -> None:
    at = fill(pick(page(org.staff), "Grace", org.customer_code), quick=50)
    button_id = at.button(key="lr_submit").id
    at = submit(at)
    assert gesture_count(org.db) == 1
    # The tablet delivers the same press again after the page has moved on to the confirmation:
    # a message that carries only the (now stale) submit trigger, as the browser would send it.
    stale = WidgetStates()
    stale.widgets.add(id=button_id, trigger_value=True)
    again = at._run(stale)
    assert not again.exception
    assert gesture_count(org.db) == 1
    assert remaining(org) == 50_000 - 5_000


def test_a_submit_repeated_with_the_same_key_logs_once(org: Org) -> None:
    at = fill(pick(page(org.staff), "Grace", org.customer_code), quick=10)
    at.session_state["lr_draft_key"] = "same-key"
    at = submit(at)
    at = fill(at.button(key="lr_again").click().run(), quick=10)
    at.session_state["lr_draft_key"] = "same-key"  # e.g. a retried request after a dropped connection
    at = submit(at)
    assert "Logged $10.00. $490.00 left." in shown(at.success)
    assert "The same gesture reached us twice (a double tap?): it is logged once." in shown(at.caption)
    assert gesture_count(org.db) == 1
    assert remaining(org) == 50_000 - 1_000


def test_over_budget_is_warned_then_refused_with_the_exact_message(org: Org) -> None:
    for cents in (20_000, 20_000, 8_000):  # 480.00 spent on three other guests (cap: 200.00 each)
        gestures.log_gesture(org.db, org.staff, LogRequest(
            org.staff_code, make_customer(org.db, name="Earlier"), "refund", cents, category="Billing error"))
    at = fill(pick(page(org.staff), "Grace", org.customer_code), quick=25)
    assert "$25.00 is more than your remaining budget of $20.00." in shown(at.warning)
    at = submit(at)
    expected = f"$25.00 is more than your remaining budget; $20.00 is left until {_period_end(org)}."
    assert shown(at.error) == [expected]
    assert gesture_count(org.db) == 3
    assert remaining(org) == 2_000


def _period_end(o: Org) -> str:
    from datetime import timedelta

    status = budget_status(o.db, o.staff, o.staff_code)
    return f"{status.period_end - timedelta(days=1):%d %b %Y}"


def test_over_the_daily_customer_cap_is_refused(org: Org) -> None:
    at = fill(pick(page(org.staff), "Grace", org.customer_code), quick=None, typed="200.01")
    assert any("over what is left for Grace Hopper today: $200.00" in w for w in shown(at.warning))
    at = submit(at)
    assert shown(at.error) == [
        "$200.01 is over the limit of $200.00 per customer per day; $200.00 is left for Grace Hopper today."
    ]
    assert gesture_count(org.db) == 0


def test_a_10000_character_note_is_refused_and_nothing_logged(org: Org) -> None:
    at = submit(fill(pick(page(org.staff), "Grace", org.customer_code), note="x" * 10_000))
    assert any("keep it under 2,000" in e for e in shown(at.error))
    assert gesture_count(org.db) == 0
    assert remaining(org) == 50_000


def test_a_typed_amount_that_is_not_money_is_explained_at_once(org: Org) -> None:
    at = fill(pick(page(org.staff), "Grace", org.customer_code), quick=None, typed="12.5.3")
    assert any("is not an amount" in e for e in shown(at.error))
    at.text_input(key="lr_custom").set_value("12,50").run()  # a decimal comma is never 1,250.00...
    assert not at.error  # ...the error cleared as soon as the input changed, and the page asks
    assert any("Did you mean $12.50?" in w for w in shown(at.warning))
    at.text_input(key="lr_custom").set_value("1.500").run()
    assert any("could mean $1.50 or $1,500.00" in w for w in shown(at.warning))
    at = at.button(key="lr_reading_1").click().run()  # the person says which
    assert at.text_input(key="lr_custom").value == "1500.00"
    assert not any("could mean" in w for w in shown(at.warning))
    assert any("$1,500.00 is more than your remaining budget" in w for w in shown(at.warning))
    at = submit(at)
    assert gesture_count(org.db) == 0


def test_a_missing_choice_is_explained_and_nothing_logged(org: Org) -> None:
    at = pick(page(org.staff), "Grace", org.customer_code)
    at.pills(key="lr_category").set_value("Noise").run()
    at = submit(at)
    assert shown(at.error) == ["Pick what you did for them."]
    assert gesture_count(org.db) == 0


@pytest.mark.parametrize("name", ["Zoë 🌟 Łukasz", "محمد بن سلمان", "[click](http://x.test) $5 *bold*"])
def test_unusual_names_are_found_shown_literally_and_logged(org: Org, name: str) -> None:
    code = make_customer(org.db, name=name)
    at = page(org.staff)
    at = pick(at, name[:4], code)
    assert name in shown(at.subheader)
    assert f"First time we hear from {name}: nothing to repeat." in shown(at.info)
    at = submit(fill(at, quick=10))
    assert not at.exception
    assert gesture_count(org.db) == 1
    assert f"#### Recovery for {name}" in shown(at.markdown)


def test_undo_restores_the_balance_with_a_reversal(org: Org) -> None:
    at = submit(fill(pick(page(org.staff), "Grace", org.customer_code), quick=100))
    assert remaining(org) == 40_000
    at = at.button(key="lr_undo").click().run()
    assert not at.exception
    assert shown(at.metric)[0] == "$500.00"
    assert "Undone. $100.00 is back in your budget." in shown(at.success)
    assert remaining(org) == 50_000
    with org.db.read() as session:
        gesture = session.scalars(select(Gesture)).one()
        kinds = session.scalars(select(LedgerEntry.entry_type).where(LedgerEntry.gesture_id == gesture.id)).all()
    assert gesture.status == GestureStatus.VOIDED
    assert sorted(k.value for k in kinds) == [LedgerEntryType.REVERSAL.value, LedgerEntryType.SPEND.value]


def test_a_new_customer_is_created_on_the_spot_and_chosen(org: Org) -> None:
    at = page(org.staff)
    at.text_input(key="lr_query").set_value("Walk-in Wanda").run()  # nothing matches: the form opens
    assert at.text_input(key="lr_new_name").value == "Walk-in Wanda"  # with the name searched
    at.text_input(key="lr_new_room").set_value("512")
    at = at.button[[b.label for b in at.button].index("Add and continue")].click().run()
    assert not at.exception
    assert "Walk-in Wanda" in shown(at.subheader)
    assert [c.name for c in customer_queries.search_customers(org.db, org.staff, "512")] == ["Walk-in Wanda"]


def test_a_manager_without_a_budget_policy_is_told_kindly(org: Org) -> None:
    manager = actor_of(org.db, make_employee(org.db, "E-MGR", role=Role.MANAGER, name="Mo Manager"))
    at = pick(page(manager), "Grace", org.customer_code)
    assert not at.exception
    assert any("Mo Manager has no budget policy yet" in i for i in shown(at.info))
    assert not at.error
    assert "Grace Hopper" in shown(at.subheader)  # the customer's card is still there...
    assert not [b for b in at.button if b.key == "lr_submit"]  # ...but no form to fail on submit


def test_an_open_issue_can_be_continued_and_the_gesture_joins_it(org: Org) -> None:
    with org.db.write() as session:
        customer_id = session.scalar(select(Customer.id).where(Customer.code == org.customer_code))
        here = session.scalar(select(Team.location_id).where(Team.code == "FD"))
        session.execute(update(Customer).where(Customer.id == customer_id).values(location_id=here))
        session.add(Incident(code="I-OPEN", customer_id=customer_id, category="Cleanliness",
                             occurred_at=datetime.now().replace(microsecond=0) - timedelta(days=2)))
        session.add(Incident(code="I-STALE", customer_id=customer_id, category="Noise",
                             occurred_at=datetime.now().replace(microsecond=0) - timedelta(days=45)))
    at = pick(page(org.staff), "Grace", org.customer_code)
    assert any("Cleanliness → *not resolved yet*" in line for line in shown(at.markdown))
    offered = at.pills(key="lr_incident").options  # an open issue 45 days old is not offered
    assert len(offered) == 1 and "Cleanliness" in offered[0]
    at.pills(key="lr_incident").set_value("I-OPEN").run()
    at.pills(key="lr_type").set_value("personal_note").run()
    at = submit(at.pills(key="lr_quick").set_value(0).run())
    assert "Logged $0.00. $500.00 left." in shown(at.success)
    with org.db.read() as session:
        incident_id = session.scalar(select(Gesture.incident_id))
        assert session.scalar(select(Incident.code).where(Incident.id == incident_id)) == "I-OPEN"


def test_a_long_history_shows_the_latest_and_folds_the_rest(org: Org) -> None:
    for i in range(5):
        gestures.log_gesture(org.db, org.colleague, LogRequest(
            org.colleague_code, org.customer_code, "time", 0, category="Noise", note=f"Visit {i}"))
    at = pick(page(org.staff), "Grace", org.customer_code)
    assert len([line for line in shown(at.markdown) if "Noise → Time & care" in line]) == 3
    assert [e.label for e in at.expander if "earlier events" in e.label] == ["All 5 earlier events"]
    assert len(at.dataframe[0].value) == 5


def test_a_manager_logs_for_themselves(org: Org) -> None:
    code = make_employee(org.db, "E-MGR", role=Role.MANAGER, name="Mo Manager")
    make_policy(org.db, name="Managers", allowance_cents=100_000, role=Role.MANAGER)
    manager = actor_of(org.db, code)
    at = submit(fill(pick(page(manager), "Grace", org.customer_code), quick=250))
    assert "Logged $250.00. $750.00 left." in shown(at.success)


def test_an_admin_holds_no_budget_and_is_not_offered_the_form(org: Org) -> None:
    at = page(org.admin)
    assert not at.exception
    assert any("not available to your role" in e for e in shown(at.error))
    assert not [b for b in at.button if b.key == "lr_submit"]


def test_the_guideline_written_by_an_admin_is_shown_and_only_admins_may_change_it(org: Org) -> None:
    assert "You own the guest's problem" in admin.get_guideline(org.db)
    organisation.set_guideline(org.db, org.admin, "Up to $2,000 per guest per day. Just do it.")
    at = page(org.staff)
    assert "Up to \\$2,000 per guest per day. Just do it." in [m.value for m in at.markdown]
    with pytest.raises(PermissionDenied):
        organisation.set_guideline(org.db, org.staff, "Anything goes")


@pytest.fixture
def thresholds(org: Org) -> Org:
    """Review above $100, approval above $400; Mia manages the team and decides."""
    make_policy(org.db, allowance_cents=100_000, role=Role.STAFF, name="Thresholds", customer_daily_cap_cents=200_000,
                review_above_cents=10_000, approval_above_cents=40_000)
    from empowerment.models import Employee, TeamManager

    mia = make_employee(org.db, "E-MIA", role=Role.MANAGER, name="Mia Manager")
    with org.db.write() as session:
        team_id = session.scalar(select(Team.id).where(Team.code == "FD"))
        mia_id = session.scalar(select(Employee.id).where(Employee.code == mia))
        session.add(TeamManager(team_id=team_id, employee_id=mia_id))
    return org


def test_the_thresholds_are_pinned_from_the_start_and_said_before_submit(thresholds: Org) -> None:
    org = thresholds
    at = page(org.staff)
    bar = [ui.unmd(m.value) for m in at.markdown if "budget left" in m.value]
    assert bar and "approval above $400.00 (Mia Manager)" in bar[0] and "review above $100.00" in bar[0]
    at = fill(pick(at, "Grace", org.customer_code), quick=None, typed="120")
    assert "A manager will review this afterwards: add a note." in shown(at.info)
    assert at.text_area(key="lr_note").label.startswith("Note (required")
    at = submit(at)
    assert any("add a note" in e for e in shown(at.error)) and gesture_count(org.db) == 0
    at.text_input(key="lr_custom").set_value("420").run()
    assert not at.error  # the error went as soon as the amount changed
    assert any("This needs a manager's approval: the money will be held until Mia Manager decides." in w
               for w in shown(at.warning))
    at.text_area(key="lr_note").set_value("Charged twice for the spa; refunded one night.").run()
    at = submit(at)
    pending = shown(at.warning)
    assert any("waiting for a manager's approval" in w and "Mia Manager will decide." in w for w in pending)
    assert not at.success  # amber, not a green tick
    assert gesture_count(org.db) == 1


def test_staff_time_asks_for_its_minutes_and_records_them(org: Org) -> None:
    at = fill(pick(page(org.staff), "Grace", org.customer_code), kind="comp", quick=0)
    assert not [n for n in at.number_input if n.key == "lr_minutes"]  # only for staff time
    at.pills(key="lr_type").set_value("time").run()
    minutes = at.number_input(key="lr_minutes")
    assert minutes.label == "Minutes spent" and minutes.value == 15  # the typical 15 unless changed
    minutes.set_value(40).run()
    at = submit(at)
    assert not at.exception and "Logged $0.00" in shown(at.success)[0]
    with org.db.read() as session:
        gesture = session.scalars(select(Gesture)).one()
    assert (gesture.type.value, gesture.cost_cents, gesture.staff_minutes) == ("time", 0, 40)


def test_a_person_abroad_under_a_dollar_policy_is_told_the_missing_rate_and_logs_nothing(org: Org) -> None:
    # the role's policy is kept in the installation's dollars; Tokyo keeps yen: no rate, no guess
    tokyo = make_team(org.db, "T-Tokyo", location="Tokyo")
    with org.db.read() as session:
        location = session.scalar(select(Team.location_id).where(Team.id == tokyo))
        code = session.scalar(select(Location.code).where(Location.id == location))
    organisation.set_location_money(org.db, org.admin, code, "JPY")
    yuki = actor_of(org.db, make_employee(org.db, "E-YUKI", team_id=tokyo, name="Yuki Staff"))
    at = pick(page(yuki), "Grace", org.customer_code)
    assert not at.exception
    errors = shown(at.error)
    assert any("no exchange rate from USD to JPY" in e and "import exchange rates on the Data page" in e
               for e in errors), errors
    assert not [b for b in at.button if b.key == "lr_submit"]
    assert gesture_count(org.db) == 0
