"""Segregation of duties, on SQLite and PostgreSQL (issue 11, finding 2): nobody approves or
reviews a gesture they logged or that came from their own budget, and only staff and managers
spend a recovery budget, whatever the entry point (the pages, the API and the command line call
these services; the command line acts as the system, which is nobody's budget)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from empowerment import access
from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.errors import PermissionDenied
from empowerment.models import Gesture, GestureStatus, Role
from empowerment.services import accounts, gestures, passwords
from empowerment.services.gestures import LogRequest, decide_gesture, log_gesture
from empowerment.services.ledger import Adjustment, adjust_budget
from tests.factories import SYSTEM, actor_of, make_customer, make_policy, make_team


@dataclass(frozen=True)
class Org:
    db: Database
    ana: Actor  # staff, front desk
    mia: Actor  # manages the front desk, and is on it
    leo: Actor  # a second front-desk manager
    hr: Actor
    cx: Actor
    admin: Actor
    customer: str


@pytest.fixture
def org(db: Database, monkeypatch: pytest.MonkeyPatch) -> Org:
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    make_team(db, "FD", location="Harbour")
    # the default policy gives every role an allowance: the rule, not the policy, keeps HR from spending
    make_policy(db, allowance_cents=100_000, review_above_cents=5_000, approval_above_cents=20_000)
    people = {}
    for username, role, team in (("ana", Role.STAFF, "FD"), ("mia", Role.MANAGER, "FD"),
                                 ("leo", Role.MANAGER, "FD"), ("hr", Role.HR, None),
                                 ("cx", Role.CX_LEAD, None), ("admin", Role.ADMIN, None)):
        code = accounts.create_user(db, SYSTEM, username=username, name=username.title(), role=role,
                                    team_code=team, password=f"{username}-password-123",
                                    pin="2468" if role in (Role.STAFF, Role.MANAGER) else None)
        people[username] = actor_of(db, code)
    return Org(db, **people, customer=make_customer(db, "C-1", name="Grace"))


def _log(org: Org, actor: Actor, amount: str, for_whom: Actor | None = None) -> str:
    whose = (for_whom or actor).code
    assert whose is not None
    return log_gesture(org.db, actor, LogRequest(whose, org.customer, "refund", amount,
                                                 category="Billing error", note="Refunded")).gesture_code


def _status(org: Org, code: str) -> GestureStatus:
    with org.db.read() as session:
        return session.scalars(select(Gesture.status).where(Gesture.code == code)).one()


def test_a_manager_never_approves_her_own_gesture(org: Org) -> None:
    own = _log(org, org.mia, "300")  # above approval: held
    with pytest.raises(PermissionDenied, match="may not approve or reject a gesture you logged"):
        decide_gesture(org.db, org.mia, own, approve=True)
    with pytest.raises(PermissionDenied, match="may not approve or reject"):
        decide_gesture(org.db, org.mia, own, approve=False, reason="never mind")
    assert _status(org, own) == GestureStatus.PENDING_APPROVAL
    decide_gesture(org.db, org.leo, own, approve=True)  # another manager of the team may
    assert _status(org, own) == GestureStatus.LOGGED


def test_a_manager_never_approves_a_gesture_she_logged_for_someone_else(org: Org) -> None:
    for_ana = _log(org, org.mia, "300", for_whom=org.ana)
    with pytest.raises(PermissionDenied, match="you logged"):
        decide_gesture(org.db, org.mia, for_ana, approve=True)
    decide_gesture(org.db, org.admin, for_ana, approve=True)
    assert _status(org, for_ana) == GestureStatus.LOGGED


def test_a_manager_never_reviews_her_own_gesture(org: Org) -> None:
    own = _log(org, org.mia, "80")  # above review, below approval
    with pytest.raises(PermissionDenied, match="may not review a gesture you logged"):
        gestures.mark_reviewed(org.db, org.mia, own, "looks fine")
    gestures.mark_reviewed(org.db, org.leo, own, "looks fine")
    staff = _log(org, org.ana, "80")
    gestures.mark_reviewed(org.db, org.mia, staff, "fine")  # her team's gestures: still hers to review


@pytest.mark.parametrize("who", ["hr", "cx", "admin"])
def test_hr_cx_leads_and_admins_do_not_spend(org: Org, who: str) -> None:
    person: Actor = getattr(org, who)
    with pytest.raises(PermissionDenied):
        _log(org, person, "10")
    with pytest.raises(PermissionDenied, match="do not spend recovery budgets"):
        _log(org, SYSTEM, "10", for_whom=person)  # the command line and imports act as the system
    with pytest.raises(PermissionDenied):
        _log(org, org.mia, "10", for_whom=person)
    with org.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Gesture)) == 0


def test_the_front_line_still_spends(org: Org) -> None:
    assert _status(org, _log(org, org.ana, "10")) == GestureStatus.LOGGED
    assert _status(org, _log(org, org.mia, "10")) == GestureStatus.LOGGED
    assert _status(org, _log(org, SYSTEM, "10", for_whom=org.ana)) == GestureStatus.LOGGED


def test_an_admin_never_adjusts_a_budget_that_is_not_a_front_line_budget(org: Org) -> None:
    for person in (org.admin, org.hr):
        assert person.code is not None
        with pytest.raises(PermissionDenied):
            adjust_budget(org.db, org.admin, Adjustment(person.code, 10_000, "bonus"))
    assert org.ana.code is not None
    adjust_budget(org.db, org.admin, Adjustment(org.ana.code, 10_000, "busy weekend"))


def test_a_manager_never_unlocks_her_own_pin(org: Org) -> None:
    assert org.mia.code is not None and org.ana.code is not None
    with pytest.raises(PermissionDenied, match="may not unlock your own PIN"):
        accounts.unlock_pin(org.db, org.mia, org.mia.code)
    accounts.unlock_pin(org.db, org.mia, org.ana.code)


def test_the_registry_answers_for_buttons_too() -> None:
    mia = Actor(employee_id=2, name="Mia", role=Role.MANAGER, team_id=10, managed_team_ids=frozenset({10}))
    assert not access.allows(mia, "gesture.decide", team_id=10, employee_id=2)
    assert not access.allows(mia, "gesture.decide", team_id=10, employee_id=5, logged_by_id=2)
    assert access.allows(mia, "gesture.decide", team_id=10, employee_id=5, logged_by_id=5)
    assert not access.allows(mia, "gesture.log", team_id=10, employee_id=7, holder_role=Role.HR)
    assert access.holds_a_budget(Role.MANAGER) and not access.holds_a_budget(Role.ADMIN)
