"""AppTests for the frame (navigation per role, sign-in, the shared tablet's switch-user screen,
idle timeout) and for the Team, Policies, Shift hand-over and Audit log pages."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from empowerment import actor
from empowerment.actor import Actor
from empowerment.db import Database, upgrade
from empowerment.errors import AuthenticationFailed
from empowerment.models import AuditEvent, BudgetPolicy, Employee, Gesture, GestureStatus, Role
from empowerment.services import accounts, passwords, signin
from empowerment.services.gestures import LogRequest, log_gesture
from empowerment.ui import nav, session
from empowerment.ui import session as ui_session
from empowerment.ui.session import get_db
from tests.factories import SYSTEM, make_customer, make_policy, make_team

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PASSWORD = "a long enough password"


@dataclass(frozen=True)
class Org:
    db: Database
    actors: dict[Role, Actor]
    staff_code: str
    review: str  # a gesture waiting for review
    pending: str  # a gesture waiting for approval


@pytest.fixture
def org(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Org]:
    url = f"sqlite:///{tmp_path}/app.db"
    monkeypatch.setenv("EMPOWERMENT_DATABASE_URL", url)
    monkeypatch.setenv("EMPOWERMENT_SECRET_KEY", "app-test-secret-" + "s" * 32)
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    get_db.clear()
    db = Database(url)
    upgrade(db)
    make_team(db, "FD", location="Harbour")
    make_policy(db, allowance_cents=50_000, role=Role.STAFF, review_above_cents=5_000,
                approval_above_cents=20_000)
    actors = {}
    for role in Role:
        code = accounts.create_user(db, SYSTEM, username=role.value, name=f"{role.value.title()} Person",
                                role=role, team_code="FD" if role in frozenset(Role.pin_roles()) else None,
                                password=PASSWORD, pin="2468" if role in frozenset(Role.pin_roles()) else None)
        actors[role] = signin.authenticate(db, role.value, PASSWORD)
        if role == Role.STAFF:
            staff_code = code
    customer = make_customer(db, "C-1", name="Grace")
    staff = actors[Role.STAFF]
    review = log_gesture(db, staff, LogRequest(staff_code, customer, "comp", "80", category="Noise",
                                               note="Comped <b>dinner</b>")).gesture_code
    pending = log_gesture(db, staff, LogRequest(staff_code, customer, "refund", "250",
                                                category="Billing error", note="Charged twice")).gesture_code
    yield Org(db, actors, staff_code, review, pending)
    get_db.clear()
    db.dispose()


def app(actor: Actor | None = None, page: str = APP) -> AppTest:
    at = AppTest.from_file(page, default_timeout=30)
    if actor is not None:
        at.session_state["actor"] = actor
    return at.run()


def texts(at: AppTest) -> str:
    return " ".join(str(e.value) for kind in ("title", "markdown", "caption", "info", "error", "success")
                    for e in getattr(at, kind))


# --- navigation and guards ------------------------------------------------------------------------

PAGES_OF = {  # written out, not derived from the registry, so a change to a grant shows up here
    Role.STAFF: {"log_recovery", "my_budget", "handover", "care_list", "notifications"},
    Role.MANAGER: {"log_recovery", "my_budget", "handover", "care_list", "team", "payoff", "friction",
                   "notifications"},
    Role.HR: {"handover", "care_list", "payoff", "joint_report", "friction", "audit_log", "notifications"},
    Role.CX_LEAD: {"handover", "care_list", "payoff", "joint_report", "friction", "notifications"},
    # admins hold no recovery budget (segregation of duties): no tablet form, no "My budget"
    Role.ADMIN: {"handover", "care_list", "team", "payoff", "joint_report", "friction", "data", "vocabulary",
                 "people", "locations", "customers",
                 "policies", "audit_log", "connections", "deliveries", "notifications"},
}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_sees_exactly_its_pages(org: Org, role: Role) -> None:
    at = app(org.actors[role])
    assert not at.exception
    registered = {Path(str(info["script_path"])).resolve() for info in at._registered_pages.values()
                  if info["script_path"]}  # (the hidden "/" page only forwards to the landing page)
    expected = {(ROOT / nav.PAGES_BY_KEY[key].path).resolve() for key in PAGES_OF[role]}
    assert registered == expected


def test_nobody_signed_in_sees_only_the_sign_in_screen(org: Org) -> None:
    at = app()
    assert [t.value for t in at.title] == ["Sign in"]
    assert [ti.label for ti in at.text_input] == ["Username", "Password"]
    assert {info.get("url_pathname") for info in at._registered_pages.values()} >= {
        spec.key for spec in nav.PAGES}  # every page URL answers with the sign-in screen


@pytest.mark.parametrize("spec", [s for s in nav.PAGES if (ROOT / s.path).is_file()], ids=lambda s: s.key)
def test_every_page_file_guards_itself(org: Org, spec: nav.PageSpec) -> None:
    at = app(page=str(ROOT / spec.path))
    assert [t.value for t in at.title] == ["Sign in"], spec.key
    outsider = next((r for r in Role if r not in spec.roles), None)
    if outsider is not None:
        at = app(org.actors[outsider], page=str(ROOT / spec.path))
        assert f"The {spec.title} page is not available to your role" in texts(at)


# --- signing in and out ---------------------------------------------------------------------------

def sign_in(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input(key="_emp_username").set_value(username)
    at.text_input(key="_emp_password").set_value(password)
    return at.button[0].click().run()


def test_password_sign_in_opens_the_roles_landing_page(org: Org) -> None:
    at = sign_in(app(), "manager", PASSWORD)
    assert at.session_state["actor"].role == Role.MANAGER
    assert at.title[0].value == "Team"
    assert [b.label for b in at.sidebar.button] == ["Switch user", "Sign out"]


@pytest.mark.parametrize("username,password", [("manager", "wrong password!"), ("nobody", PASSWORD)])
def test_a_failed_sign_in_never_says_whether_the_name_exists(org: Org, username: str, password: str) -> None:
    at = sign_in(app(), username, password)
    assert [e.value for e in at.error] == [signin.SIGN_IN_FAILED]
    assert "actor" not in at.session_state
    assert at.text_input(key="_emp_password").value == ""  # the typed password is not kept


def test_the_shared_tablet_switches_user_with_a_pin_and_forgets_the_previous_person(org: Org) -> None:
    at = app(org.actors[Role.MANAGER])
    at.session_state["lr_customer"] = "previous person's customer"
    at.sidebar.button(key="_emp_switch").click().run()
    assert "lr_customer" not in at.session_state and "actor" not in at.session_state
    assert at.segmented_control[0].value == session.TABLET_MODE
    choose_tablet_team(at)
    at.button(key=f"_emp_pick_{org.staff_code}").click().run()
    at.text_input(key="_emp_pin").set_value("1111")
    at.button(key="FormSubmitter:_emp_pin_form-Switch").click().run()
    assert "2 tries left" not in texts(at) and "4 tries left" in texts(at)
    at.text_input(key="_emp_pin").set_value("2468")
    at.button(key="FormSubmitter:_emp_pin_form-Switch").click().run()
    assert at.session_state["actor"].role == Role.STAFF
    with org.db.read() as s:
        reasons = list(s.scalars(select(AuditEvent.detail).where(AuditEvent.action == "auth.signed_out")))
    assert reasons == ['{"reason": "switch user"}']


def choose_tablet_team(at: AppTest) -> AppTest:
    """Pick the tablet's location and team (the only ones there are)."""
    at.selectbox(key="_emp_location_choice").set_value(at.selectbox(key="_emp_location_choice").options[1]).run()
    return at.selectbox(key="_emp_team_choice").set_value(at.selectbox(key="_emp_team_choice").options[1]).run()


def _pick_buttons(at: AppTest) -> list[str]:
    return [b.label for b in at.button if b.key and b.key.startswith("_emp_pick_")]


def test_the_tablet_lists_people_by_location_and_team(org: Org) -> None:
    at = app()
    at.segmented_control[0].set_value(session.TABLET_MODE).run()
    assert [s.label for s in at.selectbox] == ["Location", "Team"]
    # issue 11, finding 12: nobody signed in sees no names until the tablet's team is chosen
    assert _pick_buttons(at) == []
    assert "Choose this tablet's location and team" in texts(at)
    at.selectbox(key="_emp_location_choice").set_value(at.selectbox(key="_emp_location_choice").options[1]).run()
    assert _pick_buttons(at) == []
    choose_tablet_team(at)
    assert _pick_buttons(at) == ["Manager Person", "Staff Person"]


def test_an_idle_session_returns_to_the_sign_in_screen(org: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    start = datetime.now()
    monkeypatch.setattr(session, "clock", lambda: start)
    at = app(org.actors[Role.STAFF])
    assert at.session_state["actor"].role == Role.STAFF
    monkeypatch.setattr(session, "clock", lambda: start + timedelta(minutes=14))
    at.run()
    assert "actor" in at.session_state  # activity 14 minutes later keeps the session
    monkeypatch.setattr(session, "clock", lambda: start + timedelta(minutes=29, seconds=1))
    at.run()
    assert "actor" not in at.session_state
    assert at.title[0].value == "Sign in"
    assert "Signed out after 15 minutes without activity" in texts(at)


def _change_employee(org: Org, who: Role, **values: object) -> None:
    with org.db.write() as db_session:
        employee = db_session.get(Employee, org.actors[who].employee_id)
        assert employee is not None
        for name, value in values.items():
            setattr(employee, name, value)


def test_a_changed_role_applies_on_the_next_run(org: Org) -> None:
    at = app(org.actors[Role.MANAGER])
    assert "Team" in [p["page_name"] for p in at._registered_pages.values()]
    _change_employee(org, Role.MANAGER, role=Role.STAFF)
    at.run()
    assert at.session_state["actor"].role == Role.STAFF
    assert "Team" not in [p["page_name"] for p in at._registered_pages.values()]


def test_the_person_is_re_read_once_per_run_not_again_by_the_page(
        org: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(org.actors[Role.STAFF])
    reads: list[int] = []
    real = actor.load_actor
    monkeypatch.setattr(ui_session, "load_actor", lambda *a: reads.append(1) or real(*a))
    at.run()
    assert not at.exception and at.title[0].value.endswith("Log a recovery")
    assert len(reads) == 1


def test_a_deactivated_account_is_signed_out_at_once(org: Org) -> None:
    at = app(org.actors[Role.HR])
    assert "actor" in at.session_state
    _change_employee(org, Role.HR, active=False)
    at.run()
    assert "actor" not in at.session_state and at.title[0].value == "Sign in"
    assert "no longer active" in texts(at)


def test_sign_out_ends_the_session(org: Org) -> None:
    at = sign_in(app(), "admin", PASSWORD)
    at.sidebar.button(key="_emp_sign_out").click().run()
    assert "actor" not in at.session_state and at.title[0].value == "Sign in"


# --- Team page ------------------------------------------------------------------------------------

def team_page(org: Org) -> AppTest:
    return app(org.actors[Role.MANAGER], page=str(ROOT / "pages" / "team.py"))


def _status(org: Org, code: str) -> Gesture:
    with org.db.read() as s:
        return s.scalars(select(Gesture).where(Gesture.code == code)).one()


def test_the_team_page_shows_budget_use_queues_and_stories(org: Org) -> None:
    at = team_page(org)
    assert not at.exception
    assert [m.label for m in at.metric] == ["Allocated", "Spent", "Held", "Remaining"]
    assert [t.label for t in at.tabs] == ["Budget use", "Spend", "Approvals (1)", "Review (1)",
                                          "Stories", "Under-use", "Values & speed"]
    assert "Comped \\<b\\>dinner\\</b\\>" in texts(at)  # typed text is shown, never rendered


def test_the_team_pages_used_column_is_a_whole_percent_on_every_row(org: Org) -> None:
    table = next(d for d in team_page(org).dataframe if "used_share" in d.value.columns)
    used = json.loads(table.proto.columns)["used_share"]
    assert used["type_config"]["format"] == "%.0f%%" and used["type_config"]["max_value"] == 100
    shown = [used["type_config"]["format"] % value for value in table.value["used_share"]]
    assert shown and all(re.fullmatch(r"\d+%", text) for text in shown)
    assert "66%" in shown  # the staff member: 80 spent and 250 held of 500


def test_a_manager_unlocks_a_locked_pin_from_the_team_page(org: Org) -> None:
    assert "Locked PINs" not in texts(team_page(org))
    for _ in range(signin.PIN_MAX_TRIES):
        with pytest.raises(AuthenticationFailed):
            signin.authenticate_pin(org.db, org.staff_code, "0000")
    at = team_page(org)
    assert "Locked PINs (1)" in texts(at) and "Staff Person" in texts(at)
    at.button(key=f"tm_unlock_{org.staff_code}").click().run()
    assert "PIN is unlocked" in texts(at) and "Locked PINs" not in texts(at)
    assert signin.authenticate_pin(org.db, org.staff_code, "2468").role == Role.STAFF
    assert [e.action for e in _unlock_events(org)] == ["user.pin_unlocked"]


def _unlock_events(org: Org) -> list[AuditEvent]:
    with org.db.read() as db_session:
        return list(db_session.scalars(select(AuditEvent).where(AuditEvent.action == "user.pin_unlocked")))


def test_a_manager_marks_a_gesture_reviewed_with_a_comment(org: Org) -> None:
    at = team_page(org)
    at.text_input(key=f"tm_comment_{org.review}").set_value("Good call")
    at.button(key=f"FormSubmitter:tm_review_form_{org.review}-Mark reviewed").click().run()
    assert not at.error and "Review (0)" in [t.label for t in at.tabs]  # (the card's answer: browser test)
    assert _status(org, org.review).review_comment == "Good call"


def test_a_manager_approves_and_voids_from_the_queues(org: Org) -> None:
    at = team_page(org)
    at.button(key=f"FormSubmitter:tm_decide_form_{org.pending}-Approve").click().run()
    assert _status(org, org.pending).status == GestureStatus.LOGGED
    at.text_input(key=f"tm_void_{org.review}").set_value("Logged twice")
    at.button(key=f"FormSubmitter:tm_void_form_{org.review}-Undo the gesture").click().run()
    assert _status(org, org.review).status == GestureStatus.VOIDED


def test_rejecting_without_a_reason_is_refused_on_the_page(org: Org) -> None:
    at = team_page(org)
    at.button(key=f"FormSubmitter:tm_decide_form_{org.pending}-Reject").click().run()
    assert [e.value for e in at.error] == ["Say why the gesture is rejected."]
    assert _status(org, org.pending).status == GestureStatus.PENDING_APPROVAL


def test_a_manager_features_a_story(org: Org) -> None:
    at = team_page(org)
    at.button(key=f"tm_feature_{org.review}").click().run()
    assert _status(org, org.review).featured


# --- Policies, hand-over, audit log ---------------------------------------------------------------

def test_a_tokyo_teams_policy_is_typed_and_shown_in_yen(org: Org) -> None:
    from empowerment.models import Location, Team
    from empowerment.services.organisation import set_location_money

    make_team(org.db, "TYO", location="Tokyo")
    with org.db.read() as s:
        tokyo = s.scalar(select(Location.code).join(Team, Team.location_id == Location.id).where(Team.code == "TYO"))
    set_location_money(org.db, SYSTEM, tokyo, "JPY", None)
    at = app(org.actors[Role.ADMIN], page=str(ROOT / "pages" / "policies.py"))
    at.text_input(key="po_name").set_value("Tokyo desk")
    at.selectbox(key="po_scope").set_value("team:TYO")
    at.text_input(key="po_allowance").set_value("50000")
    at.text_input(key="po_cap").set_value("20000")
    at.button(key="FormSubmitter:po_policy_form-Save policy").click().run()
    assert not at.error, at.error[0].value
    with org.db.read() as s:
        saved = s.execute(select(BudgetPolicy.allowance_cents, BudgetPolicy.customer_daily_cap_cents)
                          .where(BudgetPolicy.name == "Tokyo desk")).one()
    assert tuple(saved) == (50_000, 20_000)  # yen have no cents: "50000" is ¥50,000, not ¥5,000,000
    allowances = at.dataframe[0].value.set_index("name")["allowance"]
    assert allowances["Tokyo desk"] == "¥50,000" and allowances["Default"] == "$500.00"
    assert "¥20,000" in at.table[0].value.to_string()


def test_an_admin_changes_a_policy_from_the_next_period_or_immediately(org: Org) -> None:
    at = app(org.actors[Role.ADMIN], page=str(ROOT / "pages" / "policies.py"))
    assert not at.exception
    at.text_input(key="po_name").set_value("Default")
    at.text_input(key="po_allowance").set_value("750")
    at.selectbox(key="po_scope").set_value("role:staff")
    at.button(key="FormSubmitter:po_policy_form-Save policy").click().run()
    assert "in force from" in at.success[0].value
    at.text_input(key="po_name").set_value("Default")
    at.text_input(key="po_allowance").set_value("800")
    at.checkbox(key="po_immediate").check()
    at.button(key="FormSubmitter:po_policy_form-Save policy").click().run()
    with org.db.read() as s:
        versions = s.execute(select(BudgetPolicy.allowance_cents, BudgetPolicy.effective_from)
                             .order_by(BudgetPolicy.id)).all()
    assert [v[0] for v in versions] == [50_000, 75_000, 80_000]
    assert versions[1][1] > versions[2][1]  # next period vs today


def test_a_new_policy_applied_immediately_from_the_page_moves_the_allowance_too(org: Org) -> None:
    """The reported bug: "Apply immediately" on a policy with a new name changed the cap only."""
    from empowerment.queries.budgets import budget_status

    staff = org.actors[Role.STAFF]
    assert budget_status(org.db, staff, org.staff_code).allocated_cents == 50_000  # opened by the gestures
    at = app(org.actors[Role.ADMIN], page=str(ROOT / "pages" / "policies.py"))
    at.text_input(key="po_name").set_value("Ana's own")
    at.text_input(key="po_allowance").set_value("900")
    at.selectbox(key="po_scope").set_value("employee")
    at.selectbox(key="po_employee").set_value(org.staff_code)
    at.text_input(key="po_cap").set_value("150")
    at.checkbox(key="po_immediate").check()
    at.button(key="FormSubmitter:po_policy_form-Save policy").click().run()
    assert not at.error, [e.value for e in at.error]
    status = budget_status(org.db, staff, org.staff_code)
    assert (status.policy_name, status.allocated_cents, status.customer_daily_cap_cents) == (
        "Ana's own", 90_000, 15_000)
    table = at.dataframe[0].value
    assert "Employee: Staff Person" in set(table["scope"]) and set(table["period"]) == {"Month"}


def test_an_admin_edits_the_guideline(org: Org) -> None:
    at = app(org.actors[Role.ADMIN], page=str(ROOT / "pages" / "policies.py"))
    at.text_area(key="po_guideline").set_value("Fix it now, log it after.")
    at.button(key="FormSubmitter:po_guideline_form-Save guideline").click().run()
    from empowerment.queries.admin import get_guideline

    assert get_guideline(org.db) == "Fix it now, log it after."


def test_the_handover_page_offers_both_digests(org: Org) -> None:
    at = app(org.actors[Role.STAFF], page=str(ROOT / "pages" / "handover.py"))
    assert not at.exception
    # links to the cookie-checked route, not /media downloads anyone with the URL could fetch
    links = at.get("link_button")
    assert [d.proto.label for d in links] == ["Printable digest (HTML)", "Digest as text"]
    assert [d.proto.url for d in links] == ["/api/handover/digest?format=html", "/api/handover/digest?format=text"]
    assert not at.get("download_button")
    assert "Comped \\<b\\>dinner\\</b\\>" in texts(at)


def test_the_audit_log_filters_by_action(org: Org) -> None:
    at = app(org.actors[Role.HR], page=str(ROOT / "pages" / "audit_log.py"))
    assert not at.exception
    at.multiselect(key="al_actions").set_value(["gesture.logged"]).run()
    table = at.dataframe[0].value
    assert set(table["What"]) == {"Gesture logged"} and len(table) == 2
    assert set(table["On"]) == {"Gesture by Staff Person"}
    assert [d.label for d in at.get("download_button")] == ["Export CSV"]


def test_staff_get_no_audit_log(org: Org) -> None:
    at = app(org.actors[Role.STAFF], page=str(ROOT / "pages" / "audit_log.py"))
    assert "not available to your role" in texts(at)
    with org.db.read() as s:
        assert s.scalar(select(Employee.id).where(Employee.username == "staff")) is not None


def test_a_double_submit_of_an_immediate_policy_change_moves_the_allowance_once(org: Org) -> None:
    """Issue 11, finding 1: each save brings the open budgets to the policy's amount, so a second
    (or third) save of the same change adds nothing."""
    from empowerment.queries.budgets import budget_status

    at = app(org.actors[Role.ADMIN], page=str(ROOT / "pages" / "policies.py"))
    for _ in range(3):
        at.text_input(key="po_name").set_value("Default")
        at.text_input(key="po_allowance").set_value("600")
        at.selectbox(key="po_scope").set_value("role:staff")
        at.checkbox(key="po_immediate").check()
        at.button(key="FormSubmitter:po_policy_form-Save policy").click().run()
        assert not at.exception
    status = budget_status(org.db, SYSTEM, org.staff_code)
    assert status.allocated_cents == 60_000
    assert status.remaining_cents == 60_000 - 8_000 - 25_000  # a logged 80.00 and a held 250.00
# --- People (admins) ------------------------------------------------------------------------------

def people_page(org: Org) -> AppTest:
    return app(org.actors[Role.ADMIN], page=str(ROOT / "pages" / "people.py"))


def _employee_named(org: Org, name: str) -> Employee:
    with org.db.read() as s:
        return s.scalars(select(Employee).where(Employee.name == name)).one()


def test_an_admin_adds_a_person_with_a_pin_and_they_can_sign_in_on_the_tablet(org: Org) -> None:
    at = people_page(org)
    assert not at.exception
    at.text_input(key="pp_new_name").set_value("王小明")
    at.selectbox(key="pp_new_team").set_value("FD")
    at.text_input(key="pp_new_pin").set_value("1357")
    at.button(key="FormSubmitter:pp_add_form-Add the person").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Added 王小明" in s.value for s in at.success)
    added = _employee_named(org, "王小明")
    assert signin.authenticate_pin(org.db, added.code, "1357").name == "王小明"
    assert at.selectbox(key="pp_person").value == added.code  # picked by name, shown below
    with org.db.read() as s:
        assert s.scalar(select(AuditEvent.action).where(AuditEvent.entity_id == added.code)) == "user.created"


def test_an_admin_changes_a_role_resets_a_pin_adjusts_a_budget_and_deactivates(org: Org) -> None:
    at = people_page(org)
    at.selectbox(key="pp_person").set_value(org.staff_code).run()
    at.text_input(key=f"pp_name_{org.staff_code}").set_value("Staff Renamed")
    at.button(key=f"FormSubmitter:pp_details_{org.staff_code}-Save details").click().run()
    assert _employee_named(org, "Staff Renamed").code == org.staff_code

    at.text_input(key=f"pp_pin_{org.staff_code}").set_value("9753")
    at.button(key=f"FormSubmitter:pp_pin_form_{org.staff_code}-Set PIN").click().run()
    assert signin.authenticate_pin(org.db, org.staff_code, "9753").name == "Staff Renamed"

    at.text_input(key=f"pp_amount_{org.staff_code}").set_value("25")
    at.button(key=f"FormSubmitter:pp_adjust_form_{org.staff_code}-Adjust the budget").click().run()
    assert [e.value for e in at.error] == ["An adjustment needs a reason."]
    at.text_input(key=f"pp_amount_{org.staff_code}").set_value("25")
    at.text_input(key=f"pp_reason_{org.staff_code}").set_value("Extra for the gala night")
    at.button(key=f"FormSubmitter:pp_adjust_form_{org.staff_code}-Adjust the budget").click().run()
    assert not at.error
    from empowerment.queries.budgets import budget_status

    status = budget_status(org.db, org.actors[Role.STAFF], org.staff_code)
    assert status.allocated_cents == 50_000 + 2_500

    at.button(key=f"FormSubmitter:pp_deactivate_form_{org.staff_code}-Deactivate").click().run()
    assert [e.value for e in at.error] == ["Say why the person is deactivated (e.g. left the company)."]
    at.text_input(key=f"pp_why_{org.staff_code}").set_value("Left for another hotel")
    at.button(key=f"FormSubmitter:pp_deactivate_form_{org.staff_code}-Deactivate").click().run()
    assert not _employee_named(org, "Staff Renamed").active
    with pytest.raises(AuthenticationFailed):
        signin.authenticate_pin(org.db, org.staff_code, "9753")
    with org.db.read() as s:
        actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == org.staff_code)
                                 .order_by(AuditEvent.id)))
    assert {"employee.updated", "user.pin_set", "employee.deactivated"} <= set(actions)


def test_nobody_but_admins_opens_people(org: Org) -> None:
    at = app(org.actors[Role.MANAGER], page=str(ROOT / "pages" / "people.py"))
    assert "not available to your role" in texts(at)
