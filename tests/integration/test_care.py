"""Proactive care end to end on the database: the care list of a location, acting on an entry
takes the customer off it (and the audit log says why they were there), follow-ups, the hand-over
reads, the friction map, and the command line."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from empowerment.cli import main
from empowerment.db import Database
from empowerment.errors import InvalidInput, PermissionDenied
from empowerment.models import AuditEvent, Customer, Incident, Role, Transaction
from empowerment.queries import care as care_queries
from empowerment.queries.friction import friction_map
from empowerment.services import care, care_io
from empowerment.services.gestures import LogRequest, log_gesture
from tests.factories import SYSTEM, actor_of, make_customer, make_employee, make_policy, make_team

NOW = datetime.now().replace(microsecond=0) - timedelta(minutes=5)


def _incident(db: Database, code: str, customer: str, days_ago: float, category: str = "Noise",
              location_of_team: int | None = None) -> None:
    from empowerment.models import Team
    with db.write() as session:
        customer_id = session.scalar(select(Customer.id).where(Customer.code == customer))
        location_id = session.get(Team, location_of_team).location_id if location_of_team else None
        session.add(Incident(code=code, customer_id=customer_id, occurred_at=NOW - timedelta(days=days_ago),
                             category=category, location_id=location_id))


def _spent(db: Database, customer: str, cents: int, days_ago: float) -> None:
    with db.write() as session:
        customer_id = session.scalar(select(Customer.id).where(Customer.code == customer))
        session.add(Transaction(code=f"T-{customer}-{days_ago}", customer_id=customer_id,
                                occurred_at=NOW - timedelta(days=days_ago), amount_cents=cents))


@pytest.fixture
def org(db: Database) -> Database:
    team = make_team(db, "FD", "Harbour")
    other = make_team(db, "HK", "Hilltop")
    make_employee(db, "S1", team_id=team)
    make_employee(db, "S2", team_id=other, name="Hill Staff")
    make_employee(db, "M1", role=Role.MANAGER, team_id=team, name="Mo Manager")
    make_policy(db, 100_000)
    for code, name, revenue in (("C1", "Repeat Guest", 90_000), ("C2", "Waiting Guest", 30_000),
                                ("C3", "Happy Guest", 50_000), ("C4", "Hill Guest", 10_000)):
        make_customer(db, code, name)
        _spent(db, code, revenue, 200)
    _incident(db, "I-C1-a", "C1", 40, location_of_team=team)
    _incident(db, "I-C1-b", "C1", 5, "Billing error", location_of_team=team)
    _incident(db, "I-C2", "C2", 2, location_of_team=team)
    _incident(db, "I-C3", "C3", 3, location_of_team=team)
    _incident(db, "I-C4", "C4", 3, location_of_team=other)
    staff = actor_of(db, "S1")
    for incident, customer in (("I-C1-a", "C1"), ("I-C1-b", "C1"), ("I-C3", "C3")):
        log_gesture(db, staff, LogRequest("S1", customer, "comp", "10", incident_code=incident), at=NOW)
    return db


def _listed(db: Database, who: str = "S1") -> dict[str, str]:
    listed = care_queries.care_list(db, actor_of(db, who))
    return dict(zip(listed.entries["customer_code"], listed.entries["reason_code"], strict=True))


def test_the_care_list_of_a_location_and_acting_on_it(org: Database) -> None:
    listed = care_queries.care_list(org, actor_of(org, "S1"))
    assert listed.location == "Harbour"
    assert dict(zip(listed.entries["customer_code"], listed.entries["reason_code"], strict=True)) == {
        "C1": "repeat", "C2": "unrecovered"}
    # Ranked by value at risk: the repeat guest spends three times as much.
    assert listed.entries["customer_code"].tolist() == ["C1", "C2"]
    assert listed.entries.iloc[0]["reason"].startswith("2 incidents in 90 days, no follow-up since the last: ")
    top = listed.entries.iloc[0]
    reason = care.CareReason("C1", top["reason"], int(top["rank"]), int(top["value_at_risk_cents"]),
                             float(top["chance_not_returning"]))
    care.record_follow_up(org, actor_of(org, "S1"), care.FollowUpRequest("S1", "I-C1-b", "Called", source="care"),
                          care=reason)
    assert _listed(org) == {"C2": "unrecovered"}
    second = care_queries.care_list(org, actor_of(org, "S1")).entries.iloc[0]
    care.act_with_gesture(org, actor_of(org, "S1"), LogRequest("S1", "C2", "gift", "15", incident_code="I-C2",
                                                               idempotency_key="care-1"),
                          care.CareReason("C2", second["reason"], 1, int(second["value_at_risk_cents"]), 0.5))
    assert _listed(org) == {}
    with org.read() as session:  # auditable: why each customer was on the list
        acted = {e.entity_id: json.loads(e.detail) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action == "care.acted"))}
    assert acted["C1"]["reason"].startswith("2 incidents") and acted["C1"]["action"] == "follow_up"
    assert acted["C2"]["action"] == "gesture" and acted["C2"]["reason"].startswith("An incident with no recovery")
    # As it was: the list before anyone acted is still reproducible.
    before = care_queries.care_list(org, SYSTEM, "Harbour", as_of=NOW - timedelta(hours=1))
    assert set(before.entries["customer_code"]) == {"C1", "C2", "C3"}  # nobody was recovered yet


def test_staff_see_only_their_location(org: Database) -> None:
    assert _listed(org, "S2") == {"C4": "unrecovered"}
    with pytest.raises(PermissionDenied):
        care_queries.care_list(org, actor_of(org, "S2"), "Harbour")
    everywhere = care_queries.care_list(org, SYSTEM)
    assert set(everywhere.entries["customer_code"]) == {"C1", "C2", "C4"}


def test_follow_ups_and_the_hand_over_reads(org: Database) -> None:
    staff = actor_of(org, "S1")
    awaiting = care_queries.awaiting_follow_up(org, staff)
    assert set(awaiting["incident_code"]) == {"I-C1-a", "I-C1-b", "I-C3"}
    care.record_follow_up(org, staff, care.FollowUpRequest("S1", "I-C3", "checked in", note="All good now"))
    assert "I-C3" not in set(care_queries.awaiting_follow_up(org, staff)["incident_code"])
    with pytest.raises(InvalidInput, match="not a follow-up"):
        care.record_follow_up(org, staff, care.FollowUpRequest("S1", "I-C3", "emailed"))
    waiting = care_queries.waiting_incidents(org, staff)
    assert waiting["incident_code"].tolist() == ["I-C2"] and 47 < waiting["waited_hours"].iloc[0] < 49
    # Follow-ups round-trip as CSV.
    exported = care_io.export_follow_ups(org, SYSTEM)
    assert exported.splitlines()[0] == ",".join(care_io.FOLLOW_UP_COLUMNS) and "checked_in" in exported
    assert care_io.import_follow_ups(org, SYSTEM, exported) == 0  # same ids: nothing new
    # The payoff's frames say which incidents were followed up.
    from empowerment.queries.frames import load_analytics_frames
    frames = load_analytics_frames(org)
    followed = dict(zip(frames.incidents["incident_id"], frames.incidents["followed_up"], strict=True))
    with org.read() as session:
        ids = dict(session.execute(select(Incident.code, Incident.id)).all())
    assert followed[ids["I-C3"]] and not followed[ids["I-C2"]]


def test_the_friction_map_alerts_on_a_rise(org: Database) -> None:
    team = make_team(org, "FB", "Seaside")
    make_customer(org, "C9", "Seaside Guest")
    for week in range(1, 15):
        _incident(org, f"I-base-{week}", "C9", week * 7 + 1, "Food & drink", location_of_team=team)
    for n in range(8):
        _incident(org, f"I-rise-{n}", "C9", (NOW.weekday() + 0.01 * n) if NOW.weekday() else 0.01 * n,
                  "Food & drink", location_of_team=team)
    result = friction_map(org, SYSTEM, "Seaside", weeks=8, now=NOW)
    assert result.alerts[["location", "touchpoint", "category"]].values.tolist()[0] == ["Seaside", "Dining", "Food & drink"]
    assert "Poisson" in result.rule
    with pytest.raises(PermissionDenied):
        friction_map(org, actor_of(org, "S1"))


def test_the_command_line(org: Database, capsys: pytest.CaptureFixture[str]) -> None:
    url = org.url
    assert main(["care-list", "--location", "Harbour", "--format", "json", "--database-url", url]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [e["customer_id"] for e in out["entries"]] == ["C1", "C2"] and out["location"] == "Harbour"
    assert main(["care-list", "--database-url", url]) == 0
    assert "Repeat Guest" in capsys.readouterr().out
    assert main(["follow-up", "--employee", "S1", "--incident", "I-C2", "--kind", "wrote", "--database-url", url]) == 0
    capsys.readouterr()
    assert main(["care-list", "--location", "Harbour", "--format", "json", "--database-url", url]) == 0
    assert [e["customer_id"] for e in json.loads(capsys.readouterr().out)["entries"]] == ["C1"]
    assert main(["vocabulary", "map", "gesture_type", "Comp'd meal=comp", "--database-url", url]) == 0
    assert main(["vocabulary", "export", "--database-url", url]) == 0
    assert "Comp'd meal" in capsys.readouterr().out
    assert main(["friction", "--database-url", url]) == 0
    assert "Rule:" in capsys.readouterr().out


def test_the_inline_evidence_equals_the_payoffs_adjusted_breakdown_for_each_category(db: Database) -> None:
    """What the tablet shows for a category is the Payoff page's "What works?" by gesture type
    within that category: same rows, same request, same numbers. The tablet reads the stored
    table, so: after a refresh, the table's rows equal the breakdown (on both databases)."""
    import pandas as pd

    from empowerment.analytics.what_works import payoff_breakdown
    from empowerment.queries.frames import data_version, load_analytics_frames
    from empowerment.reports import evidence as evidence_job

    store_synthetic_here(db)
    assert care_queries.evidence_state(db) is None and care_queries.stored_evidence(db).empty
    assert evidence_job.due(db)
    rows = evidence_job.refresh(db)
    evidence = care_queries.stored_evidence(db)
    assert rows == len(evidence) and len(evidence)
    assert set(evidence.columns) >= {"category", "gesture_type", "cases", "estimate", "low", "high", "reliable",
                                     "reason", "p_holm"}
    assert evidence["estimate"].notna().any()  # some types have enough cases for an adjusted estimate
    state = care_queries.evidence_state(db)
    assert state is not None and state.rows == rows and state.data_version == data_version(db)
    assert not evidence_job.due(db)  # fresh: the worker leaves it alone
    frames = load_analytics_frames(db)
    request = care_queries.evidence_request(frames.as_of)
    for category in evidence["category"].unique():
        page = payoff_breakdown(frames.incidents, frames.gestures, frames.transactions, frames.customers, request,
                                "first_gesture_type", within=("category", category))
        inline = (evidence.loc[evidence["category"] == category].drop(columns="category")
                  .rename(columns={"gesture_type": "level"}).reset_index(drop=True))
        pd.testing.assert_frame_equal(inline, page, check_dtype=False)
    pd.testing.assert_frame_equal(evidence, care_queries.what_tends_to_work(db), check_dtype=False)


def store_synthetic_here(db: Database) -> None:
    from tests.integration.test_queries import store_synthetic, synthetic

    store_synthetic(db, *synthetic(1500, 4))


def test_the_evidence_refresh_command_stores_it_and_is_due_again_only_after_new_data(
        db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    """`evidence-refresh` stores the rows; `--if-due` does nothing while they are fresh; an empty
    installation stores none (the tablet then says "not enough cases yet")."""
    from sqlalchemy import update

    from empowerment.models import EvidenceState
    from empowerment.reports import evidence as evidence_job

    url = db.url
    assert main(["evidence-refresh", "--database-url", url]) == 0
    assert "0 rows" in capsys.readouterr().out and care_queries.stored_evidence(db).empty
    assert evidence_job.due(db) is False  # nothing stored, and no new data since
    store_synthetic_here(db)
    assert evidence_job.due(db)  # found nothing before, and the data changed
    assert main(["evidence-refresh", "--if-due", "--database-url", url]) == 0
    assert len(care_queries.stored_evidence(db))
    assert main(["evidence-refresh", "--if-due", "--database-url", url]) == 0
    assert "recent; nothing to do" in capsys.readouterr().out
    state = care_queries.evidence_state(db)
    assert state is not None
    with db.write() as session:  # two hours later, with the same data: still not due
        session.execute(update(EvidenceState).values(computed_at=state.computed_at - timedelta(hours=2)))
    assert not evidence_job.due(db)


def test_staff_time_is_valued_at_the_organisations_hourly_rate_in_the_payoffs_frames(org: Database) -> None:
    from empowerment.queries.frames import load_analytics_frames
    from empowerment.services.vocabulary import TermRequest, save_term

    log_gesture(org, SYSTEM, LogRequest("S1", "C3", "time", 0, category="Noise"))
    log_gesture(org, SYSTEM, LogRequest("S1", "C2", "gift", "12", category="Noise"))
    gestures = load_analytics_frames(org).gestures.set_index("type")
    assert gestures.loc["time", "valued_cents"] == 750 and gestures.loc["time", "cost_cents"] == 0
    assert gestures.loc["gift", "valued_cents"] == gestures.loc["gift", "cost_cents"] == 1200
    save_term(org, SYSTEM, TermRequest("gesture_type", "time", "Time & care", costs_money=False, valuation="hourly",
                                       hourly_rate_cents=4_800))
    assert load_analytics_frames(org).gestures.set_index("type").loc["time", "valued_cents"] == 1_200  # 15 min at $48


def test_staff_time_is_valued_at_the_minutes_recorded_with_it(org: Database) -> None:
    from empowerment.models import Gesture
    from empowerment.queries.frames import load_analytics_frames

    log_gesture(org, SYSTEM, LogRequest("S1", "C3", "time", 0, category="Noise", staff_minutes=40))
    log_gesture(org, SYSTEM, LogRequest("S1", "C2", "time", 0, category="Noise"))  # not given: 15
    with pytest.raises(InvalidInput, match="only for staff-time gestures"):
        log_gesture(org, SYSTEM, LogRequest("S1", "C2", "gift", "12", category="Noise", staff_minutes=10))
    for wrong in (0, 481, "ten", True):
        with pytest.raises(InvalidInput, match="minutes"):
            log_gesture(org, SYSTEM, LogRequest("S1", "C2", "time", 0, category="Noise", staff_minutes=wrong))  # type: ignore[arg-type]
    with org.read() as session:
        recorded = sorted(session.scalars(select(Gesture.staff_minutes).where(Gesture.type == "time")))
        others = set(session.scalars(select(Gesture.staff_minutes).where(Gesture.type != "time")))
    assert recorded == [15, 40] and others == {None}
    frames = load_analytics_frames(org).gestures
    valued = sorted(frames.loc[frames["type"] == "time", "valued_cents"].tolist())
    assert valued == [750, 2000]  # 15 and 40 minutes at $30 an hour
