"""The Team page's services and the shift hand-over, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import select

from empowerment.actor import Actor
from empowerment.charts import team as team_charts
from empowerment.db import Database
from empowerment.errors import InvalidInput, InvalidState
from empowerment.models import (
    AuditEvent,
    Customer,
    Employee,
    Gesture,
    Incident,
    Period,
    Role,
    Team,
    TeamManager,
)
from empowerment.periods import period_bounds
from empowerment.queries import handover, team
from empowerment.reports import digest
from empowerment.services import gestures
from empowerment.services.gestures import LogRequest, decide_gesture, log_gesture, void_gesture
from tests.factories import actor_of, make_customer, make_employee, make_policy, make_team

_now = datetime.now().replace(microsecond=0)
# Everything in these tests happens in today's budget period, even just after midnight on the 1st.
NOW = _now if _now.hour >= 6 else _now.replace(hour=6)


@dataclass(frozen=True)
class Org:
    db: Database
    fd: int
    manager: Actor
    staff: dict[str, Actor]  # name -> actor
    customer: str



@pytest.fixture
def org(db: Database) -> Org:
    fd = make_team(db, "FD", location="Harbour")
    make_team(db, "HK", location="Harbour")
    make_policy(db, allowance_cents=50_000, role=Role.STAFF, review_above_cents=5_000,
                approval_above_cents=20_000)
    codes = {name: make_employee(db, f"E-{name.upper()}", team_id=fd, name=name)
             for name in ("Ana", "Ben", "Cai")}
    manager = make_employee(db, "E-MIA", role=Role.MANAGER, team_id=fd, name="Mia")
    with db.write() as session:
        session.add(TeamManager(team_id=fd, employee_id=session.scalars(
            select(Employee.id).where(Employee.code == manager)).one()))
    return Org(db, fd, actor_of(db, manager), {n: actor_of(db, c) for n, c in codes.items()},
               make_customer(db, "C-1", name="Grace <b>Hopper</b>"))


def _log(org: Org, who: str, amount: str, *, note: str | None = None, kind: str = "comp",
         category: str = "Noise", at: datetime | None = None) -> str:
    actor = org.staff[who]
    return log_gesture(org.db, actor, LogRequest(f"E-{who.upper()}", org.customer, kind, amount,
                                                 category=category, note=note or _note_if_reviewed(amount)),
                       at=at or NOW).gesture_code


def _note_if_reviewed(amount: str) -> str | None:
    """Above "review above" ($50 here) the service requires a note."""
    return "Said sorry and put it right." if float(amount) > 50 else None


def _incident(org: Org, who: str | None, category: str, at: datetime, description: str = "") -> None:
    with org.db.write() as session:
        employee = session.scalars(select(Employee).where(Employee.code == f"E-{who.upper()}")).one() \
            if who else None
        team_row = session.get(Team, org.fd)
        assert team_row is not None
        session.add(Incident(
            code=f"I-{uuid.uuid4().hex[:8]}", category=category, occurred_at=at,
            customer_id=session.scalars(select(Customer.id).where(Customer.code == org.customer)).one(),
            employee_id=employee.id if employee else None, location_id=team_row.location_id,
            description=description or None))


# --- budget use -----------------------------------------------------------------------------------

def test_budget_use_shows_everyone_including_who_never_acted(org: Org) -> None:
    _log(org, "Ana", "30")
    _log(org, "Ben", "10", kind="personal_note")
    use = team.budget_use(org.db, org.manager).set_index("employee")
    assert list(use.loc["Ana", ["allocated_cents", "spent_cents", "remaining_cents", "gestures"]]) == [
        50_000, 3_000, 47_000, 1]
    assert use.loc["Ana", "used_share"] == pytest.approx(0.06)
    assert list(use.loc["Cai", ["allocated_cents", "spent_cents", "gestures"]]) == [50_000, 0, 0]
    assert use.loc["Mia", "allocated_cents"] == 0  # no policy for managers: nothing to spend


def test_held_money_counts_as_used(org: Org) -> None:
    _log(org, "Ana", "250")  # above "approval above": held
    row = team.budget_use(org.db, org.manager).set_index("employee").loc["Ana"]
    assert (row["spent_cents"], row["held_cents"], row["remaining_cents"]) == (0, 25_000, 25_000)
    assert row["used_share"] == pytest.approx(0.5)


def test_the_heatmap_grid_has_a_cell_for_every_person_and_week(org: Org) -> None:
    _log(org, "Ana", "20")
    _log(org, "Ana", "5")
    window = team.window_of(team.budget_use(org.db, org.manager))
    weekly = team.weekly_activity(org.db, org.manager, window)
    weeks = weekly["week"].nunique()
    assert len(weekly) == 4 * weeks
    assert weekly.groupby("employee")["gestures"].sum().to_dict() == {"Ana": 2, "Ben": 0, "Cai": 0, "Mia": 0}
    assert weekly["spend_cents"].sum() == 2_500
    assert team_charts.heatmap_chart(weekly).to_dict()["layer"]


def test_spend_is_broken_down_by_gesture_type_and_incident_category(org: Org) -> None:
    _log(org, "Ana", "20", kind="comp", category="Noise")
    _log(org, "Ben", "15", kind="comp", category="Noise")
    _log(org, "Cai", "40", kind="gift", category="Long wait")
    voided = _log(org, "Cai", "10", kind="gift", category="Long wait")
    void_gesture(org.db, org.manager, voided, "typo")
    window = team.window_of(team.budget_use(org.db, org.manager))
    breakdown = team.spend_breakdown(org.db, org.manager, window)
    assert breakdown.to_dict("records") == [
        {"gesture_type": "gift", "category": "Long wait", "gestures": 1, "spend_cents": 4_000},
        {"gesture_type": "comp", "category": "Noise", "gestures": 2, "spend_cents": 3_500},
    ]


# --- queues ---------------------------------------------------------------------------------------

def test_mark_reviewed_takes_a_comment_is_logged_and_leaves_the_queue(org: Org) -> None:
    code = _log(org, "Ana", "80", note="Comped the dinner")
    assert list(team.review_queue(org.db, org.manager)["code"]) == [code]
    with pytest.raises(InvalidInput, match="comment"):
        gestures.mark_reviewed(org.db, org.manager, code, "  ")
    gestures.mark_reviewed(org.db, org.manager, code, "Right call.")
    assert team.review_queue(org.db, org.manager).empty
    with pytest.raises(InvalidState, match="already reviewed"):
        gestures.mark_reviewed(org.db, org.manager, code, "again")
    with org.db.read() as session:
        gesture = session.scalars(select(Gesture).where(Gesture.code == code)).one()
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "gesture.reviewed")).one()
    assert (gesture.review_comment, gesture.reviewed_by_id) == ("Right call.", org.manager.employee_id)
    assert event.entity_id == code


def test_a_voided_gesture_leaves_the_review_queue_and_gives_the_money_back(org: Org) -> None:
    code = _log(org, "Ana", "80")
    void_gesture(org.db, org.manager, code, "Duplicate")
    assert team.review_queue(org.db, org.manager).empty
    assert team.budget_use(org.db, org.manager).set_index("employee").loc["Ana", "remaining_cents"] == 50_000


def test_the_approval_queue_and_its_decisions(org: Org) -> None:
    first, second = _log(org, "Ana", "210"), _log(org, "Ben", "300")
    assert set(team.approval_queue(org.db, org.manager)["code"]) == {first, second}
    decide_gesture(org.db, org.manager, first, approve=True)
    decide_gesture(org.db, org.manager, second, approve=False, reason="Too generous")
    assert team.approval_queue(org.db, org.manager).empty
    assert team.review_queue(org.db, org.manager).empty  # approving was the manager's look at it
    use = team.budget_use(org.db, org.manager).set_index("employee")
    assert (use.loc["Ana", "spent_cents"], use.loc["Ben", "remaining_cents"]) == (21_000, 50_000)


def test_the_story_feed_is_newest_first_and_a_manager_features_one(org: Org) -> None:
    old = _log(org, "Ana", "5", note="Walked her to the room", at=NOW - timedelta(hours=2))
    new = _log(org, "Ben", "0", note="Remembered his dog's name", kind="personal_note")
    _log(org, "Cai", "5")  # no note: no story
    stories = team.story_feed(org.db, org.manager)
    assert list(stories["code"]) == [new, old]
    assert not stories["featured"].any()
    gestures.set_featured(org.db, org.manager, old)
    assert team.story_feed(org.db, org.manager).set_index("code").loc[old, "featured"]
    with org.db.read() as session:
        assert session.scalar(select(AuditEvent.entity_id).where(AuditEvent.action == "story.featured")) == old


def test_under_use_flags_people_and_teams_with_incidents_but_no_gestures(org: Org) -> None:
    anas = _log(org, "Ana", "5")  # Ana's incident has a gesture
    _incident(org, "Ben", "Noise", NOW - timedelta(minutes=5))
    _incident(org, "Ben", "Long wait", NOW - timedelta(minutes=4))
    window = team.window_of(team.budget_use(org.db, org.manager))
    staff, teams = team.under_use(org.db, org.manager, window)
    assert staff[["employee", "incidents", "gestures"]].to_dict("records") == [
        {"employee": "Ben", "incidents": 2, "gestures": 0}]
    assert teams.empty  # the team as a whole did act
    void_gesture(org.db, org.manager, anas, "undo")
    staff, teams = team.under_use(org.db, org.manager, window)
    assert set(staff["employee"]) == {"Ana", "Ben"} and list(teams["team"]) == ["FD"]


def test_nobody_is_offered_a_decision_or_review_of_their_own_gesture(org: Org) -> None:
    """Segregation of duties: Mia's own big gestures go to another manager of the team (Noor)."""
    make_policy(org.db, allowance_cents=200_000, role=Role.MANAGER, review_above_cents=5_000,
                approval_above_cents=20_000, name="Managers")
    noor_code = make_employee(org.db, "E-NOOR", role=Role.MANAGER, team_id=org.fd, name="Noor")
    with org.db.write() as session:
        session.add(TeamManager(team_id=org.fd, employee_id=session.scalars(
            select(Employee.id).where(Employee.code == noor_code)).one()))
    noor = actor_of(org.db, noor_code)
    mia = actor_of(org.db, "E-MIA")
    big = log_gesture(org.db, mia, LogRequest("E-MIA", org.customer, "refund", "1300", category="Billing",
                                              note="Refunded the stay"), at=NOW).gesture_code
    flagged = log_gesture(org.db, mia, LogRequest("E-MIA", org.customer, "comp", "80", category="Noise",
                                                  note="Dinner"), at=NOW).gesture_code
    assert big not in set(team.approval_queue(org.db, mia)["code"])
    assert flagged not in set(team.review_queue(org.db, mia)["code"])
    assert team.own_waiting(org.db, mia) == 2
    assert big in set(team.approval_queue(org.db, noor)["code"])
    assert flagged in set(team.review_queue(org.db, noor)["code"])
    assert team.own_waiting(org.db, noor) == 0


def test_budget_use_over_a_chosen_period_adds_its_budgets_up_and_the_figures_add_up(org: Org) -> None:
    _log(org, "Ana", "30")
    _log(org, "Ana", "250")  # held
    window = team.Window(*period_bounds(Period.YEAR, NOW.date()))
    use = team.budget_use(org.db, org.manager, window=window).set_index("employee")
    ana = use.loc["Ana"]
    assert (ana["spent_cents"], ana["held_cents"]) == (3_000, 25_000)
    assert ana["allocated_cents"] == ana["spent_cents"] + ana["held_cents"] + ana["remaining_cents"]
    last_year = team.Window(window.start.replace(year=window.start.year - 1), window.start)
    before = team.budget_use(org.db, org.manager, window=last_year).set_index("employee")
    assert before.loc["Ana", ["allocated_cents", "spent_cents", "gestures"]].tolist() == [0, 0, 0]


def test_use_rates_give_gestures_per_incident_handled_lowest_first(org: Org) -> None:
    _log(org, "Ana", "5")
    _log(org, "Ana", "5")
    _incident(org, "Ben", "Noise", NOW - timedelta(minutes=5))
    _incident(org, "Cai", "Noise", NOW - timedelta(minutes=5))
    _log(org, "Cai", "5")
    window = team.window_of(team.budget_use(org.db, org.manager))
    people, teams = team.use_rates(org.db, org.manager, window)
    rates = dict(zip(people["employee"], people["gestures_per_incident"], strict=True))
    assert list(people["employee"][:3]) == ["Ben", "Cai", "Ana"]
    assert (rates["Ben"], rates["Cai"], rates["Ana"]) == (0.0, 0.5, 1.0)
    assert pd.isna(rates["Mia"])  # handled nothing: no rate, last
    assert teams.set_index("team").loc["FD", "gestures_per_incident"] == pytest.approx(3 / 5)


# --- hand-over ------------------------------------------------------------------------------------

def test_the_handover_lists_open_incidents_and_notable_recoveries_of_the_last_day(org: Org) -> None:
    _incident(org, "Ben", "Noise", NOW - timedelta(hours=3), description="Party next door, room 412")
    _incident(org, "Ben", "Noise", NOW - timedelta(hours=30), description="Still open from yesterday")
    _incident(org, "Ben", "Noise", NOW - timedelta(days=31))  # too old: an open incident stays 30 days
    story = _log(org, "Ana", "25", note="Moved her to a quiet room")
    _log(org, "Cai", "5")  # not notable: no note, small
    data = handover.build_handover(org.db, org.manager, now=NOW + timedelta(minutes=1))
    assert list(data.open_incidents["description"]) == ["Party next door, room 412", "Still open from yesterday"]
    assert list(data.recoveries["gesture"]) == [story]
    assert data.locations == ["Harbour"]


def test_the_digest_escapes_everything_people_typed(org: Org) -> None:
    _log(org, "Ana", "25", note="<script>alert('x')</script> & \x07bell")
    _incident(org, "Ben", "Noise", NOW - timedelta(hours=1), description="<img src=x onerror=alert(1)>")
    data = handover.build_handover(org.db, org.manager, now=NOW + timedelta(minutes=1))
    page = digest.digest_html(data)
    assert "<script>alert" not in page and "<img" not in page and "<b>Hopper" not in page
    assert "&lt;script&gt;" in page and "&lt;img src=x" in page and "Grace &lt;b&gt;Hopper" in page
    assert "default-src 'none'" in page
    plain = digest.digest_text(data)
    assert "\x07" not in plain and "Open incidents (1)" in plain and "Notable recoveries (1)" in plain


def test_an_empty_handover_says_so(org: Org) -> None:
    data = handover.build_handover(org.db, org.manager, now=datetime(2001, 1, 1))
    assert "Nothing open" in digest.digest_text(data) and "Nothing open" in digest.digest_html(data)

