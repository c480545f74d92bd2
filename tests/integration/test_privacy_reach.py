"""Issue 11, finding 8 (privacy). Before the fix: staff searched and read every location's
customers; HR and CX saw real names and rooms on the hand-over and its digest, unaudited; the
digest was a `/media` download fetchable by URL without any cookie, also after the user switched.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from empowerment.actor import Actor
from empowerment.api.digest_routes import digest_response
from empowerment.db import Database
from empowerment.errors import PermissionDenied
from empowerment.models import AuditEvent, Customer, Role, TeamManager
from empowerment.queries.customers import customer_history, search_customers
from empowerment.reports import digest
from empowerment.services import sessions
from empowerment.services.erasure import erase_customer
from empowerment.services.gestures import LogRequest, log_gesture
from tests.factories import SYSTEM, actor_of, make_customer, make_employee, make_policy, make_team


@dataclass
class Org:
    db: Database
    ana: Actor  # staff at Harbour
    bo: Actor  # staff at Airport
    mia: Actor  # manager of the Airport team, works at Harbour
    hr: Actor


@pytest.fixture
def org(db: Database) -> Org:
    harbour = make_team(db, "FD", location="Harbour")
    airport = make_team(db, "AIR", location="Airport")
    make_employee(db, "E1", team_id=harbour, name="Ana Harbour")
    make_employee(db, "E2", team_id=airport, name="Bo Airport")
    make_employee(db, "M1", role=Role.MANAGER, team_id=harbour, name="Mia Manager")
    make_employee(db, "H1", role=Role.HR, name="Hal HR")
    with db.write() as session:
        session.add(TeamManager(team_id=airport, employee_id=3))
    make_policy(db, 100_000)
    make_customer(db, "C-H", name="Harriet Harbourguest")
    make_customer(db, "C-A", name="Arthur Airportguest")
    make_customer(db, "C-N", name="Nora Newguest")  # arriving, not seen anywhere yet
    with db.write() as session:
        for customer in session.scalars(select(Customer)):
            customer.room = {"C-H": "101", "C-A": "202", "C-N": "303"}[customer.code]
    log_gesture(db, SYSTEM, LogRequest("E1", "C-H", "comp", "10", category="Noise", note="Fixed the noise"))
    log_gesture(db, SYSTEM, LogRequest("E2", "C-A", "comp", "10", category="Long wait", note="Drinks on us"))
    return Org(db, actor_of(db, "E1"), actor_of(db, "E2"), actor_of(db, "M1"), actor_of(db, "H1"))


def _found(db: Database, actor: Actor, text: str) -> set[str]:
    return {card.code for card in search_customers(db, actor, text)}


def test_staff_find_and_read_only_their_locations_customers(org: Org) -> None:
    assert _found(org.db, org.ana, "guest") == {"C-H", "C-N"}
    assert _found(org.db, org.bo, "guest") == {"C-A", "C-N"}
    assert _found(org.db, org.ana, "202") == set()  # not by room either
    assert customer_history(org.db, org.ana, "C-H").customer.name == "Harriet Harbourguest"
    with pytest.raises(PermissionDenied, match="another location"):
        customer_history(org.db, org.ana, "C-A")
    # a walk-in added at the Airport desk belongs to the Airport
    from empowerment.services.customers import create_customer

    walk_in = create_customer(org.db, org.bo, "Wally Walkin")
    assert walk_in in _found(org.db, org.bo, "Wally") and not _found(org.db, org.ana, "Wally")


def test_managers_reach_their_teams_locations_and_hr_everyone(org: Org) -> None:
    assert _found(org.db, org.mia, "guest") == {"C-H", "C-A", "C-N"}
    assert _found(org.db, org.hr, "guest") == {"C-H", "C-A", "C-N"}


def test_erased_customers_are_never_found(org: Org) -> None:
    erase_customer(org.db, SYSTEM, "C-N", "Ticket 1")
    assert _found(org.db, org.hr, "guest") == {"C-H", "C-A"}
    assert not _found(org.db, org.ana, "Erased")


def _handover_reads(db: Database) -> list[AuditEvent]:
    with db.read() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == "handover.read")))


def test_hr_see_pseudonyms_on_the_handover_and_the_read_is_audited(org: Org) -> None:
    handover = digest.read_handover(org.db, org.hr)
    assert handover.pseudonymised and handover.every_location
    names = set(handover.recoveries["customer"])
    assert len(names) == 2 and all(name.startswith("Customer ") for name in names)
    assert handover.recoveries["room"].isna().all()
    for text in (digest.digest_text(handover), digest.digest_html(handover)):
        for secret in ("Harriet", "Arthur", "Harbourguest", "101", "202"):
            assert secret not in text
        assert "pseudonym" in text
    reads = _handover_reads(org.db)
    assert len(reads) == 1 and reads[0].actor_id == org.hr.employee_id and "Harriet" not in (reads[0].detail or "")

    staff_view = digest.read_handover(org.db, org.ana)  # the front line sees who to look after
    assert not staff_view.pseudonymised and set(staff_view.recoveries["customer"]) == {"Harriet Harbourguest"}
    assert set(staff_view.recoveries["room"]) == {"101"}
    assert len(_handover_reads(org.db)) == 1


def _cookie(db: Database, actor: Actor) -> tuple[str, str]:
    sid = sessions.new_session_id()
    assert actor.employee_id is not None
    value = sessions.cookie_from_handoff(sessions.handoff_token(actor.employee_id, sid))
    assert value is not None
    return value, sid


def test_the_digest_is_fetched_only_with_a_live_cookie(org: Org) -> None:
    assert digest_response(org.db, None, "html").status_code == 401
    assert digest_response(org.db, "forged.cookie", "text").status_code == 401
    ana_cookie, ana_sid = _cookie(org.db, org.ana)
    answer = digest_response(org.db, ana_cookie, "text")
    assert answer.status_code == 200 and b"Harriet Harbourguest" in answer.body
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["content-disposition"].startswith("attachment;")
    # the tablet switches user: Ana's session ends; her URL and cookie fetch nothing any more
    sessions.end_session(org.db, org.ana, ana_sid, "switched user")
    assert digest_response(org.db, ana_cookie, "text").status_code == 401
    bo_cookie, _ = _cookie(org.db, org.bo)
    bo_answer = digest_response(org.db, bo_cookie, "html")
    assert bo_answer.status_code == 200 and b"Harriet" not in bo_answer.body and b"Arthur Airportguest" in bo_answer.body
    hr_cookie, _ = _cookie(org.db, org.hr)
    hr_answer = digest_response(org.db, hr_cookie, "html")
    assert b"Arthur" not in hr_answer.body and len(_handover_reads(org.db)) == 1
    assert digest_response(org.db, hr_cookie, "pdf").status_code == 400
