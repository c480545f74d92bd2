"""The connected services on SQLite and PostgreSQL: token rate windows (an upsert per call), batches
through the import, the outbox written with a gesture and fanned out once, digests once a week."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from empowerment.db import Database
from empowerment.errors import AuthenticationFailed, RateLimited
from empowerment.models import NotificationDelivery, OutboxEvent, Role
from empowerment.services import api_tokens, ingest
from empowerment.services.gestures import LogRequest, decide_gesture, log_gesture
from empowerment.services.notifications import delivery
from empowerment.services.notifications.preferences import set_email
from tests.factories import SYSTEM, actor_of, make_customer, make_employee, make_policy, make_team


@pytest.fixture
def org(db: Database) -> Database:
    team = make_team(db, "FD")
    make_policy(db, allowance_cents=100_000, approval_above_cents=20_000)
    make_employee(db, "A1", role=Role.ADMIN, name="Ada Admin")
    make_employee(db, "M1", role=Role.MANAGER, team_id=team, name="Mia Manager")
    from empowerment.models import TeamManager

    with db.write() as session:
        manager_id = session.scalar(select(func.max(TeamManager.employee_id)))  # none yet
        assert manager_id is None
        from empowerment.models import Employee

        mia = session.scalars(select(Employee).where(Employee.code == "M1")).one()
        session.add(TeamManager(team_id=team, employee_id=mia.id))
    make_employee(db, "S1", team_id=team, name="Sam Staff")
    make_customer(db, "C1", name="Grace")
    return db


def test_the_rate_limit_counts_each_call_in_the_database(org: Database) -> None:
    token = api_tokens.create_token(org, SYSTEM, "t", "read", "S1", rate_limit_per_minute=2).token
    at = datetime(2026, 1, 5, 10, 0, 30)
    api_tokens.authenticate(org, token, at)
    api_tokens.authenticate(org, token, at)
    with pytest.raises(RateLimited) as refused:
        api_tokens.authenticate(org, token, at)
    assert refused.value.retry_after == 30
    assert api_tokens.authenticate(org, token, datetime(2026, 1, 5, 10, 1, 1)).token_name == "t"
    with pytest.raises(AuthenticationFailed):
        api_tokens.authenticate(org, token.replace("emp_", "emp_x"), at)


def test_a_batch_is_idempotent_and_refused_whole(org: Database) -> None:
    rows = [{"customer_id": f"K{i}", "name": f"Guest {i}"} for i in range(50)]
    assert ingest.upsert_rows(org, SYSTEM, "customers", rows).inserted == 50
    again = ingest.upsert_rows(org, SYSTEM, "customers", rows)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 50)
    with pytest.raises(ingest.BatchRefused) as refused:
        ingest.upsert_rows(org, SYSTEM, "customers", [*rows, {"customer_id": "K-x", "name": ""}])
    assert [(e.row, e.field) for e in refused.value.errors] == [(50, "name")]


def test_events_are_written_with_the_gesture_and_fanned_out_once(org: Database) -> None:
    set_email(org, SYSTEM, "M1", "mia@example.org")
    set_email(org, SYSTEM, "S1", "sam@example.org")
    waiting = log_gesture(org, actor_of(org, "S1"), LogRequest("S1", "C1", "refund", "250", category="Noise",
                                                                  note="Road works at night"))
    decide_gesture(org, actor_of(org, "M1"), waiting.gesture_code, approve=True)
    with org.read() as session:
        kinds = list(session.scalars(select(OutboxEvent.kind).order_by(OutboxEvent.id)))
    assert kinds == ["approval_requested", "approval_decided"]
    assert delivery.dispatch(org) == 2 and delivery.dispatch(org) == 0
    sent: list[tuple[str, str]] = []
    delivery.deliver_due(org, sender=lambda channel, envelope, _config: sent.append((channel, envelope.target)))
    assert sorted(sent) == [("email", "mia@example.org"), ("email", "sam@example.org")]
    assert delivery.deliver_due(org, sender=lambda *_: sent.append(("again", ""))) == 0
    with org.read() as session:
        assert set(session.scalars(select(NotificationDelivery.status))) == {"sent"}


def test_a_refused_gesture_leaves_no_event(org: Database) -> None:
    from empowerment.errors import CustomerDailyCapExceeded

    with pytest.raises(CustomerDailyCapExceeded):
        log_gesture(org, actor_of(org, "S1"), LogRequest("S1", "C1", "refund", "2500", category="Noise",
                                                             note="Too much"))
    with org.read() as session:
        assert session.scalar(select(func.count()).select_from(OutboxEvent)) == 0


def test_the_weekly_digest_is_recorded_once_a_week(org: Database) -> None:
    from empowerment.reports import weekly_digest

    monday = datetime(2026, 1, 5, 9, 0)
    assert weekly_digest.due(monday, (0, 8, 0)) and not weekly_digest.due(monday.replace(hour=7), (0, 8, 0))
    assert weekly_digest.send_digests(org, monday) == 1
    weekly_digest.send_digests(org, monday)
    with org.read() as session:
        assert session.scalar(select(func.count()).select_from(OutboxEvent)
                              .where(OutboxEvent.kind == "weekly_digest")) == 1


def test_a_managers_digest_that_needs_a_missing_rate_does_not_stop_the_others(org: Database) -> None:
    from empowerment.models import Employee, Location, Team, TeamManager
    from empowerment.reports import weekly_digest
    from empowerment.services.organisation import set_location_money

    with org.read() as session:  # Mia's front desk now keeps yen; everyone's policy is in dollars, no rate
        location = session.scalars(select(Location.code).join(Team, Team.location_id == Location.id)
                                   .where(Team.code == "FD")).one()
    set_location_money(org, SYSTEM, location, "JPY")
    boston = make_team(org, "BOS", location="Boston")
    make_employee(org, "M2", role=Role.MANAGER, team_id=boston, name="Bo Manager")
    with org.write() as session:
        bo = session.scalars(select(Employee).where(Employee.code == "M2")).one()
        session.add(TeamManager(team_id=boston, employee_id=bo.id))
    from datetime import timedelta

    from empowerment.clock import utc_now

    now = utc_now()  # the next Monday: the policy (in force from today) gives budgets then
    monday = (now + timedelta(days=(7 - now.weekday()) % 7)).replace(hour=9, minute=0, second=0, microsecond=0)
    assert weekly_digest.send_digests(org, monday) == 1  # Bo's, after Mia's was skipped
    with org.read() as session:
        assert session.scalar(select(func.count()).select_from(OutboxEvent)
                              .where(OutboxEvent.kind == "weekly_digest")) == 1
