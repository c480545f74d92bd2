"""Scope, on SQLite and PostgreSQL: every service refuses a call outside the caller's scope with a
sentence a person can act on; the ledger refuses edits; secrets never reach the database in clear;
the audit log's CSV cannot smuggle a formula into a spreadsheet."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
from argon2 import PasswordHasher
from sqlalchemy import MetaData, select, text
from sqlalchemy.exc import DBAPIError

from empowerment import actor
from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.errors import AuthenticationFailed, PermissionDenied
from empowerment.models import Employee, LedgerEntry, Period, Role
from empowerment.queries import admin, audit_log, handover, team
from empowerment.queries.budgets import budget_status
from empowerment.services import accounts, gestures, organisation, passwords, signin
from empowerment.services.gestures import LogRequest, decide_gesture, log_gesture, void_gesture
from empowerment.services.policies import PolicyRequest, set_policy
from tests.factories import SYSTEM, code_of, make_customer, make_policy, make_team


@dataclass(frozen=True)
class Org:
    db: Database
    fd: int
    hk: int
    ana: Actor  # staff, front desk
    hal: Actor  # staff, housekeeping
    mia: Actor  # manages front desk
    max: Actor  # manages housekeeping
    hr: Actor
    cx: Actor
    admin: Actor
    pending_hk: str  # a housekeeping gesture waiting for approval
    logged_fd: str  # a front-desk gesture flagged for review


def _person(db: Database, username: str, role: Role, team: str | None) -> Actor:
    code = accounts.create_user(db, SYSTEM, username=username, name=username.title(), role=role,
                            team_code=team, password=f"{username}-password-123")
    with db.read() as session:
        employee = session.scalars(select(Employee).where(Employee.code == code)).one()
        return actor.actor_for(employee, session)


@pytest.fixture
def org(db: Database, monkeypatch: pytest.MonkeyPatch) -> Org:
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    fd, hk = make_team(db, "FD", location="Harbour"), make_team(db, "HK", location="Airport")
    make_policy(db, allowance_cents=100_000, role=Role.STAFF, review_above_cents=5_000,
                approval_above_cents=20_000)
    ana, hal = _person(db, "ana", Role.STAFF, "FD"), _person(db, "hal", Role.STAFF, "HK")
    mia, mx = _person(db, "mia", Role.MANAGER, "FD"), _person(db, "max", Role.MANAGER, "HK")
    customer = make_customer(db, "C-1", name="Grace")
    ana_code, hal_code = code_of(db, ana), code_of(db, hal)
    logged = log_gesture(db, ana, LogRequest(ana_code, customer, "comp", "80", category="Noise",
                                             note="Comped dinner"))
    pending = log_gesture(db, hal, LogRequest(hal_code, customer, "refund", "250", category="Cleanliness",
                                                note="Stained sheets, refunded a night"))
    return Org(db, fd, hk, ana, hal, mia, mx, _person(db, "hr", Role.HR, None),
               _person(db, "cx", Role.CX_LEAD, None), _person(db, "admin", Role.ADMIN, None),
               pending.gesture_code, logged.gesture_code)



# --- staff ----------------------------------------------------------------------------------------

def test_staff_cannot_read_team_data(org: Org) -> None:
    with pytest.raises(PermissionDenied, match="Team views are for managers"):
        team.budget_use(org.db, org.ana)
    with pytest.raises(PermissionDenied):
        team.review_queue(org.db, org.ana, [org.fd])


def test_staff_cannot_read_another_persons_budget(org: Org) -> None:
    with pytest.raises(PermissionDenied, match="may not see another person's budget"):
        budget_status(org.db, org.ana, code_of(org.db, org.hal))
    assert budget_status(org.db, org.ana, code_of(org.db, org.ana)).employee_name == "Ana"


def test_staff_hand_over_covers_only_their_own_location(org: Org) -> None:
    seen = handover.build_handover(org.db, org.ana)
    assert set(seen.recoveries["location"]) <= {"Harbour"}
    everyone = handover.build_handover(org.db, org.hr)
    assert set(everyone.recoveries["location"]) == {"Harbour"}  # only the reviewed one is notable
    assert handover.build_handover(org.db, org.hal).recoveries.empty


# --- managers -------------------------------------------------------------------------------------

def test_a_manager_sees_only_the_teams_they_manage(org: Org) -> None:
    assert set(team.budget_use(org.db, org.mia)["team"]) == {"FD"}
    with pytest.raises(PermissionDenied, match="only see the teams you manage"):
        team.budget_use(org.db, org.mia, [org.hk])


def test_one_answer_to_which_teams_a_person_may_see_on_every_page(org: Org) -> None:
    # The Team page and the Payoff page's team filter agree: the teams the manager manages.
    assert list(admin.teams_for(org.db, org.mia)["name"]) == ["FD"]
    assert admin.team_names_in_reach(org.db, org.mia, "payoff.read") == ["FD"]
    assert admin.team_names_in_reach(org.db, org.hr, "payoff.read") is None  # every team
    with pytest.raises(PermissionDenied):
        admin.team_names_in_reach(org.db, org.ana, "payoff.read")


def test_a_manager_cannot_approve_outside_their_team(org: Org) -> None:
    with pytest.raises(PermissionDenied, match="approve gestures outside your teams"):
        decide_gesture(org.db, org.mia, org.pending_hk, approve=True)
    decide_gesture(org.db, org.max, org.pending_hk, approve=True)


def test_a_manager_cannot_review_void_or_feature_outside_their_team(org: Org) -> None:
    with pytest.raises(PermissionDenied, match="teams you manage"):
        gestures.mark_reviewed(org.db, org.max, org.logged_fd, "fine")
    with pytest.raises(PermissionDenied):
        void_gesture(org.db, org.max, org.logged_fd, "mistake")
    with pytest.raises(PermissionDenied):
        gestures.set_featured(org.db, org.max, org.logged_fd)


# --- hr and cx_lead: read everything, write nothing about money -----------------------------------

@pytest.mark.parametrize("who", ["hr", "cx"])
def test_hr_and_cx_read_every_team_but_move_no_money(org: Org, who: str) -> None:
    reader: Actor = getattr(org, who)
    assert set(team.budget_use(org.db, reader)["team"]) == {"FD", "HK"}
    with pytest.raises(PermissionDenied):
        decide_gesture(org.db, reader, org.pending_hk, approve=True)
    with pytest.raises(PermissionDenied):
        void_gesture(org.db, reader, org.logged_fd, "no")
    with pytest.raises(PermissionDenied, match="Only managers and admins may mark flagged gestures reviewed; you are signed in as "):
        gestures.mark_reviewed(org.db, reader, org.logged_fd, "ok")
    with pytest.raises(PermissionDenied, match="change budget policies"):
        set_policy(org.db, reader, PolicyRequest("Sneaky", allowance_cents=1, period=Period.MONTH))


def test_only_admins_change_policies_and_the_guideline(org: Org) -> None:
    with pytest.raises(PermissionDenied):
        organisation.set_guideline(org.db, org.mia, "Anything goes.")
    with pytest.raises(PermissionDenied):
        admin.policy_versions(org.db, org.mia)
    assert len(admin.policy_versions(org.db, org.admin)) == 1


@pytest.mark.parametrize("who,allowed", [("ana", False), ("mia", False), ("cx", False),
                                         ("hr", True), ("admin", True)])
def test_the_audit_log_is_for_admins_and_hr(org: Org, who: str, allowed: bool) -> None:
    reader: Actor = getattr(org, who)
    if allowed:
        assert "gesture.logged" in set(audit_log.query_audit(org.db, reader)["action"])
    else:
        with pytest.raises(PermissionDenied, match="Only HR and admins may read the audit log"):
            audit_log.query_audit(org.db, reader)


# --- the ledger -----------------------------------------------------------------------------------

@pytest.mark.parametrize("statement", [
    "UPDATE ledger_entries SET amount_cents = amount_cents + 100000",
    "DELETE FROM ledger_entries",
])
def test_nobody_edits_the_ledger_not_even_with_sql(org: Org, statement: str) -> None:
    with pytest.raises(DBAPIError, match="append-only"), org.db.write() as session:
        session.execute(text(statement))
    with org.db.read() as session:
        assert session.scalar(select(LedgerEntry.id).limit(1)) is not None


# --- secrets --------------------------------------------------------------------------------------

def _dump(db: Database) -> str:
    """Every row of every table, as text: what a stolen backup would show."""
    metadata = MetaData()
    metadata.reflect(db.engine)
    with db.engine.connect() as conn:
        rows = [json.dumps([str(v) for v in row]) for table in metadata.sorted_tables
                for row in conn.execute(table.select())]
    return "\n".join(rows)


def test_passwords_and_pins_are_never_stored_or_logged_in_clear(org: Org) -> None:
    password, pin = "Sup3r-Secret-Passphrase!", "739164"
    code = accounts.create_user(org.db, SYSTEM, username="zoe", name="Zoe", role=Role.STAFF,
                            team_code="FD", password=password, pin=pin)
    signin.authenticate(org.db, "zoe", password)
    signin.authenticate_pin(org.db, code, pin)
    for wrong in (password + "x", pin[::-1]):
        with pytest.raises(AuthenticationFailed):
            signin.authenticate(org.db, "zoe", wrong)
        with pytest.raises(AuthenticationFailed):
            signin.authenticate_pin(org.db, code, wrong)
    accounts.set_password(org.db, SYSTEM, code, password + "-2")
    accounts.set_pin(org.db, SYSTEM, code, "246813")
    dump = re.sub(r"\$argon2id\$[^\"'\s,\]]+", "<hash>", _dump(org.db))
    assert "<hash>" in dump
    for secret in (password, pin, pin[::-1], "246813"):
        assert secret not in dump


# --- CSV export -----------------------------------------------------------------------------------

@pytest.mark.parametrize("cell,expected", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("+1+1", "'+1+1"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tTAB", "'\tTAB"), ("\rCR", "'\rCR"), ("plain", "plain"), ("a=b", "a=b"), (42, 42), (None, None),
])
def test_csv_cells_that_would_run_as_formulas_are_neutralised(cell: object, expected: object) -> None:
    assert audit_log.neutralise(cell) == expected


def test_the_audit_csv_export_neutralises_what_people_typed(org: Org) -> None:
    organisation.set_guideline(org.db, org.admin, "Be kind.")
    with org.db.write() as session:
        from empowerment import audit

        audit.record(session, org.admin, "=cmd|' /C calc'!A0", "gesture", "@evil",
                     dict(reason="+danger"))
    csv = audit_log.to_csv(audit_log.query_audit(org.db, org.admin)).decode("utf-8-sig")
    assert "'=cmd|" in csv and "'@evil" in csv
    assert "\n=cmd" not in csv and ",=cmd" not in csv and ",@evil" not in csv
