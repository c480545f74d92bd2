"""The front line (issue 10), services on SQLite and PostgreSQL: incidents have a life, walk-ins
without duplicates, merging two customers keeps every money record, a reviewed gesture needs a note."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from empowerment.db import Database
from empowerment.errors import InvalidInput, InvalidState, PermissionDenied
from empowerment.models import (
    AuditEvent,
    Customer,
    Gesture,
    Incident,
    IncidentStatus,
    LedgerEntry,
    Role,
    Transaction,
)
from empowerment.queries import customers as customer_queries
from empowerment.services import customers, gestures, incidents
from empowerment.services.customers import LikelyDuplicate
from empowerment.services.gestures import LogRequest
from tests.factories import SYSTEM, actor_of, make_customer, make_employee, make_policy, make_team


@pytest.fixture
def desk(db: Database) -> tuple[Database, str, str]:
    team = make_team(db, "FD", location="Harbour")
    staff = make_employee(db, "E1", team_id=team, name="李娜")
    other = make_employee(db, "E2", team_id=team, name="山田太郎")
    make_policy(db, allowance_cents=100_000, review_above_cents=10_000, approval_above_cents=40_000)
    return db, staff, other


def _status(db: Database, incident_code: str) -> IncidentStatus:
    with db.read() as session:
        return session.scalars(select(Incident.status).where(Incident.code == incident_code)).one()


def test_a_gesture_resolves_its_incident_and_undoing_it_opens_it_again(desk: tuple[Database, str, str]) -> None:
    db, staff, _ = desk
    actor = actor_of(db, staff)
    guest = make_customer(db, name="Jonas Berg")
    first = gestures.log_gesture(db, actor, LogRequest(staff, guest, "comp", 1500, category="Noise"))
    assert _status(db, first.incident_code) == IncidentStatus.RESOLVED
    gestures.void_gesture(db, actor, first.gesture_code, reason="Wrong guest")
    assert _status(db, first.incident_code) == IncidentStatus.OPEN
    # the open incident is offered again, and a new gesture on it resolves it once more
    history = customer_queries.customer_history(db, actor, guest)
    assert [i.code for i in history.open_incident_list] == [first.incident_code]
    gestures.log_gesture(db, actor, LogRequest(staff, guest, "gift", 500, incident_code=first.incident_code))
    assert _status(db, first.incident_code) == IncidentStatus.RESOLVED
    assert customer_queries.customer_history(db, actor, guest).open_incident_list == ()


def test_a_rejected_gesture_reopens_its_incident(desk: tuple[Database, str, str]) -> None:
    db, staff, _ = desk
    guest = make_customer(db, name="Lena Andersson")
    result = gestures.log_gesture(db, actor_of(db, staff), LogRequest(
        staff, guest, "refund", 42_000, category="Billing error", note="Charged twice for the spa."))
    assert _status(db, result.incident_code) == IncidentStatus.RESOLVED  # held money counts
    gestures.decide_gesture(db, SYSTEM, result.gesture_code, approve=False, reason="Already refunded")
    assert _status(db, result.incident_code) == IncidentStatus.OPEN


def test_only_open_incidents_of_the_last_30_days_are_offered(desk: tuple[Database, str, str]) -> None:
    db, staff, _ = desk
    guest = customers.create_customer(db, actor_of(db, staff), "Grace")  # met at this desk
    with db.write() as session:
        customer_id = session.scalars(select(Customer.id).where(Customer.code == guest)).one()
        now = datetime.now().replace(microsecond=0)
        for code, days, status in (("I-new", 2, IncidentStatus.OPEN), ("I-old", 45, IncidentStatus.OPEN),
                                   ("I-closed", 3, IncidentStatus.CLOSED)):
            session.add(Incident(code=code, customer_id=customer_id, occurred_at=now - timedelta(days=days),
                                 category="Noise", status=status))
    history = customer_queries.customer_history(db, actor_of(db, staff), guest)
    assert [i.code for i in history.open_incident_list] == ["I-new"]


def test_hand_over_actions_acknowledge_take_over_close_and_follow_up(desk: tuple[Database, str, str]) -> None:
    db, staff, other = desk
    guest = make_customer(db, name="Grace")
    result = gestures.log_gesture(db, actor_of(db, staff), LogRequest(staff, guest, "time", 0, category="Long wait"))
    gestures.void_gesture(db, actor_of(db, staff), result.gesture_code, reason="Logged by mistake")
    code = result.incident_code
    incidents.acknowledge(db, actor_of(db, other), code)
    incidents.take_over(db, actor_of(db, other), code)
    with db.read() as session:
        incident = session.scalars(select(Incident).where(Incident.code == code)).one()
        other_id = actor_of(db, other).employee_id
        assert (incident.owner_id, incident.acknowledged_by_id) == (other_id, other_id)
    with pytest.raises(InvalidInput, match="why"):
        incidents.close(db, actor_of(db, other), code, "  ")
    incidents.close(db, actor_of(db, other), code, "Guest checked out happy; nothing to give.")
    assert _status(db, code) == IncidentStatus.CLOSED
    with pytest.raises(InvalidState):
        incidents.take_over(db, actor_of(db, staff), code)
    with pytest.raises(InvalidState):
        incidents.follow_up(db, actor_of(db, staff), code, "Called")
    with pytest.raises(InvalidState, match="closed"):
        gestures.log_gesture(db, actor_of(db, staff), LogRequest(staff, guest, "gift", 100, incident_code=code))
    with db.read() as session:
        actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == code)))
    assert {"incident.acknowledged", "incident.taken_over", "incident.closed"} <= actions


def test_incidents_elsewhere_are_out_of_reach(desk: tuple[Database, str, str]) -> None:
    db, staff, _ = desk
    away = make_employee(db, "E9", team_id=make_team(db, "SPA", location="Mountain"), name="Ben")
    make_policy(db, allowance_cents=100_000, name="Spa", role=Role.STAFF)
    guest = make_customer(db, name="Grace")
    result = gestures.log_gesture(db, actor_of(db, away), LogRequest(away, guest, "time", 0, category="Noise"))
    incidents.follow_up(db, actor_of(db, away), result.incident_code, "Checked in at breakfast")
    with pytest.raises(PermissionDenied):
        incidents.follow_up(db, actor_of(db, staff), result.incident_code, "Not mine")


def test_a_gesture_above_review_needs_a_note(desk: tuple[Database, str, str]) -> None:
    db, staff, _ = desk
    guest = make_customer(db, name="Grace")
    with pytest.raises(InvalidInput, match="add a note"):
        gestures.log_gesture(db, actor_of(db, staff), LogRequest(staff, guest, "refund", 15_000, category="Noise"))
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Gesture)) == 0
    gestures.log_gesture(db, actor_of(db, staff), LogRequest(
        staff, guest, "refund", 15_000, category="Noise", note="Building works all night."))
    # at the review amount itself no note is needed ("above" is strictly above)
    gestures.log_gesture(db, actor_of(db, staff), LogRequest(staff, guest, "gift", 10_000, category="Noise"))


def test_a_walk_in_twice_is_offered_as_a_duplicate(desk: tuple[Database, str, str]) -> None:
    db, staff, other = desk
    first = customers.create_customer(db, actor_of(db, staff), "Jonas Berg", phone="+46 70 123 45 67")
    # same name, same phone written differently
    with pytest.raises(LikelyDuplicate) as caught:
        customers.create_customer(db, actor_of(db, other), "jonas  berg", phone="+46701234567")
    assert [c.code for c in caught.value.candidates] == [first]
    assert "same phone" in caught.value.candidates[0].why
    # same name at the same location within 30 days, nothing else in common
    with pytest.raises(LikelyDuplicate, match="may already be a customer") as caught:
        customers.create_customer(db, actor_of(db, other), "Jonas Berg")
    assert "Harbour" in caught.value.candidates[0].why
    # a CJK name, same room
    li = customers.create_customer(db, actor_of(db, staff), "李娜", room="1204")
    with pytest.raises(LikelyDuplicate):
        customers.create_customer(db, actor_of(db, staff), "李娜", room="1204")
    # the person looked and said "someone else": created, and the audit says so
    second = customers.create_customer(db, actor_of(db, staff), "李娜", room="1204", not_a_duplicate=True)
    assert second != li
    # another Jonas Berg, met elsewhere long ago, is not a duplicate
    with db.write() as session:
        session.execute(Customer.__table__.update().where(Customer.code == first)
                        .values(location_id=None, first_seen_at=datetime(2020, 1, 1), created_at=datetime(2020, 1, 1),
                                phone=None))
    assert customers.create_customer(db, actor_of(db, other), "Jonas Berg")


def test_merge_moves_history_and_keeps_every_money_record(desk: tuple[Database, str, str]) -> None:
    db, staff, _ = desk
    actor = actor_of(db, staff)
    keep = customers.create_customer(db, actor, "山田太郎", phone="+81 90 1234 5678")
    dup = customers.create_customer(db, actor, "山田 太郎", room="803", email="taro@example.jp")
    gestures.log_gesture(db, actor, LogRequest(staff, keep, "comp", 2_000, category="Noise"))
    gestures.log_gesture(db, actor, LogRequest(staff, dup, "gift", 3_000, category="Long wait"))
    gestures.log_gesture(db, actor, LogRequest(staff, dup, "refund", 45_000, category="Billing error",
                                                note="Double charge"))
    with db.write() as session:
        dup_id = session.scalars(select(Customer.id).where(Customer.code == dup)).one()
        session.add(Transaction(code="T-1", customer_id=dup_id, occurred_at=datetime.now(), amount_cents=9_900))

    def money() -> tuple[object, ...]:
        with db.read() as session:
            ledger = session.execute(select(LedgerEntry.id, LedgerEntry.budget_id, LedgerEntry.amount_cents,
                                            LedgerEntry.entry_type, LedgerEntry.gesture_id)
                                     .order_by(LedgerEntry.id)).all()
            costs = session.execute(select(Gesture.id, Gesture.cost_cents, Gesture.status, Gesture.budget_id)
                                    .order_by(Gesture.id)).all()
            revenue = session.scalar(select(func.sum(Transaction.amount_cents)))
        return tuple(ledger), tuple(costs), revenue

    before = money()
    with pytest.raises(PermissionDenied):
        customers.merge_customers(db, actor, keep, dup, "Same guest")
    with pytest.raises(InvalidInput, match="why"):
        customers.merge_customers(db, SYSTEM, keep, dup, "")
    result = customers.merge_customers(db, SYSTEM, keep, dup, "Same guest, typed twice at check-in")
    assert (result.incidents, result.gestures, result.transactions) == (2, 2, 1)
    assert set(result.filled) == {"e-mail", "room"}
    assert money() == before
    history = customer_queries.customer_history(db, actor, keep)
    assert len(history.events) == 3
    # the old id still finds the person; the duplicate is not offered in search any more
    assert customer_queries.customer_history(db, actor, dup).customer.code == keep
    assert [c.code for c in customer_queries.search_customers(db, actor, "山田")] == [keep]
    explained = customer_queries.merge_explanation(db, actor, dup)
    assert explained is not None and keep in explained and "Same guest" in explained
    with pytest.raises(InvalidState):
        customers.merge_customers(db, SYSTEM, keep, dup, "again")
