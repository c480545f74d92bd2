"""Signing in: passwords, PINs and their lock-out, users, and the signed browser-session tokens.

The clock is injected (`now=`), so a 15-minute lock is tested without waiting."""

from __future__ import annotations

import statistics
import time
from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from empowerment import actor
from empowerment.cli import main as cli_main
from empowerment.db import Database
from empowerment.errors import (
    AuthenticationFailed,
    InvalidInput,
    PermissionDenied,
    PinLocked,
    SignInThrottled,
)
from empowerment.models import AuditEvent, Employee, Role, SignInFailure, TeamManager
from empowerment.queries import roster
from empowerment.services import accounts, passwords, sessions, signin
from tests.factories import SYSTEM, make_team

T0 = datetime(2026, 3, 2, 9, 0, 0)
PASSWORD = "correct horse battery staple"


REAL_COST = {"test_unknown_user_and_wrong_password_take_about_the_same_time"}


@pytest.fixture(autouse=True)
def _secret_and_cheap_hashes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fixed signing secret; and, except where timing is the point, Argon2 at its cheapest
    (production parameters cost ~0.2 s per hash on a 2-core machine)."""
    monkeypatch.setenv("EMPOWERMENT_SECRET_KEY", "unit-test-secret-" + "k" * 32)
    if request.node.originalname not in REAL_COST:
        monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def ana(sqlite_db: Database) -> str:
    make_team(sqlite_db, "FD")
    return accounts.create_user(sqlite_db, SYSTEM, username="ana", name="Ana Staff", role=Role.STAFF,
                            team_code="FD", password=PASSWORD, pin="4821")


def _events(db: Database, action: str) -> list[AuditEvent]:
    with db.read() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                    .order_by(AuditEvent.id)))


def _employee(db: Database, code: str) -> Employee:
    with db.read() as session:
        employee = session.scalar(select(Employee).where(Employee.code == code))
        assert employee is not None
        return employee


# --- passwords ------------------------------------------------------------------------------------

def test_the_right_password_gives_the_person_with_their_role(sqlite_db: Database, ana: str) -> None:
    actor = signin.authenticate(sqlite_db, "ana", PASSWORD, now=T0)
    assert (actor.name, actor.role) == ("Ana Staff", Role.STAFF)
    assert [e.entity_id for e in _events(sqlite_db, "auth.signed_in")] == [ana]


@pytest.mark.parametrize("username,password", [
    ("ana", "wrong password here"),
    ("nobody", PASSWORD),
    ("", ""),
    ("ANA", PASSWORD),
])
def test_unknown_user_and_wrong_password_get_the_same_message(
        sqlite_db: Database, ana: str, username: str, password: str) -> None:
    with pytest.raises(AuthenticationFailed) as refused:
        signin.authenticate(sqlite_db, username, password)
    assert str(refused.value) == signin.SIGN_IN_FAILED
    assert "exist" not in str(refused.value).lower()


def test_an_inactive_account_gets_the_same_message(sqlite_db: Database, ana: str) -> None:
    with sqlite_db.write() as session:
        session.scalars(select(Employee).where(Employee.code == ana)).one().active = False
    with pytest.raises(AuthenticationFailed, match=signin.SIGN_IN_FAILED):
        signin.authenticate(sqlite_db, "ana", PASSWORD)


@pytest.mark.serial  # asserts a time: alone, not beside the parallel run
def test_unknown_user_and_wrong_password_take_about_the_same_time(sqlite_db: Database, ana: str) -> None:
    def timed(username: str) -> float:
        start = time.perf_counter()
        with pytest.raises(AuthenticationFailed):
            signin.authenticate(sqlite_db, username, "not the password")
        return time.perf_counter() - start

    timed("ana"), timed("nobody")  # warm up
    known = statistics.median(timed("ana") for _ in range(3))
    unknown = statistics.median(timed("nobody") for _ in range(3))
    assert 0.5 < unknown / known < 2.0, (known, unknown)


def _fail(db: Database, username: str, at: datetime, times: int) -> None:
    for i in range(times):
        with pytest.raises(AuthenticationFailed) as failed:
            signin.authenticate(db, username, f"guess {i}", now=at + timedelta(seconds=i))
        assert not isinstance(failed.value, SignInThrottled)


@pytest.mark.parametrize("username", ["ana", "nobody"])
def test_repeated_wrong_passwords_throttle_the_name_known_or_not(sqlite_db: Database, ana: str, username: str) -> None:
    start = datetime(2026, 3, 2, 9, 0)
    _fail(sqlite_db, username, start, signin.PASSWORD_MAX_FAILURES)
    checks = []
    original = passwords.verify_secret
    auth_verify = signin.verify_secret
    try:
        signin.verify_secret = lambda *a: checks.append(1) or original(*a)  # type: ignore[assignment]
        with pytest.raises(SignInThrottled, match="Try again in 14 minutes"):  # even the right one
            signin.authenticate(sqlite_db, username, PASSWORD, now=start + timedelta(minutes=1))
    finally:
        signin.verify_secret = auth_verify  # type: ignore[assignment]
    assert checks == []  # refused without spending a hash on it
    assert len(_events(sqlite_db, "auth.sign_in_throttled")) == 1
    later = start + timedelta(minutes=signin.PASSWORD_WINDOW_MINUTES, seconds=1)
    if username == "ana":  # the oldest failure has left the window: the right password works
        assert signin.authenticate(sqlite_db, "ana", PASSWORD, now=later).name == "Ana Staff"
    else:
        with pytest.raises(AuthenticationFailed) as failed:
            signin.authenticate(sqlite_db, "nobody", PASSWORD, now=later)
        assert not isinstance(failed.value, SignInThrottled)


def test_a_successful_sign_in_clears_the_failures_and_other_names_are_untouched(sqlite_db: Database, ana: str) -> None:
    start = datetime(2026, 3, 2, 9, 0)
    _fail(sqlite_db, "ana", start, signin.PASSWORD_MAX_FAILURES - 1)
    _fail(sqlite_db, "someone else", start, signin.PASSWORD_MAX_FAILURES)
    signin.authenticate(sqlite_db, "ana", PASSWORD, now=start + timedelta(minutes=1))
    _fail(sqlite_db, "ana", start + timedelta(minutes=2), signin.PASSWORD_MAX_FAILURES - 1)
    with pytest.raises(SignInThrottled):
        signin.authenticate(sqlite_db, "Someone Else", "x", now=start + timedelta(minutes=3))  # any case


def test_a_new_password_from_an_admin_lifts_the_throttle(sqlite_db: Database, ana: str) -> None:
    start = datetime.now().replace(microsecond=0) - timedelta(minutes=1)
    _fail(sqlite_db, "ana", start, signin.PASSWORD_MAX_FAILURES)
    with pytest.raises(SignInThrottled):
        signin.authenticate(sqlite_db, "ana", PASSWORD)
    accounts.set_password(sqlite_db, SYSTEM, ana, "a brand new password")
    assert signin.authenticate(sqlite_db, "ana", "a brand new password").name == "Ana Staff"


def test_failures_older_than_a_day_are_pruned_for_every_name(sqlite_db: Database, ana: str) -> None:
    start = datetime(2026, 3, 2, 9, 0)
    _fail(sqlite_db, "someone", start, 3)
    _fail(sqlite_db, "another", start + timedelta(days=1, minutes=1), 1)
    with sqlite_db.read() as session:
        assert len(list(session.scalars(select(SignInFailure.id)))) == 1


def test_failures_store_no_user_name(sqlite_db: Database, ana: str) -> None:
    _fail(sqlite_db, "correct horse battery", datetime(2026, 3, 2, 9, 0), 1)  # a password typed as a name
    with sqlite_db.read() as session:
        keys = list(session.scalars(select(SignInFailure.name_key)))
    assert len(keys) == 1 and "horse" not in keys[0] and len(keys[0]) == 64


def test_the_timing_dummy_hash_uses_the_hashers_current_parameters() -> None:
    # A library upgrade that changes Argon2's defaults would make unknown users answer faster.
    assert not PasswordHasher().check_needs_rehash(passwords._DUMMY_HASH)
    assert PasswordHasher().verify(passwords._DUMMY_HASH, "dummy-password-for-timing")


def test_failed_sign_ins_are_logged_without_the_typed_text(sqlite_db: Database, ana: str) -> None:
    for username in ("ana", "Tr0ub4dor&3-typed-into-the-name-field"):
        with pytest.raises(AuthenticationFailed):
            signin.authenticate(sqlite_db, username, "Tr0ub4dor&3")
    failures = _events(sqlite_db, "auth.sign_in_failed")
    assert [f.entity_id for f in failures] == [ana, None]
    assert not any("Tr0ub4dor" in (f.detail or "") + f.actor_label for f in failures)


def test_a_person_changes_their_own_password_only_with_the_current_one(sqlite_db: Database, ana: str) -> None:
    actor = signin.authenticate(sqlite_db, "ana", PASSWORD)
    with pytest.raises(AuthenticationFailed):
        accounts.set_password(sqlite_db, actor, ana, "a brand new password", current_password="guess")
    accounts.set_password(sqlite_db, actor, ana, "a brand new password", current_password=PASSWORD)
    assert signin.authenticate(sqlite_db, "ana", "a brand new password").employee_id == actor.employee_id


def test_nobody_but_an_admin_sets_someone_elses_password(sqlite_db: Database, ana: str) -> None:
    ben = accounts.create_user(sqlite_db, SYSTEM, username="ben", name="Ben", role=Role.STAFF,
                           team_code="FD", password=PASSWORD)
    actor = signin.authenticate(sqlite_db, "ben", PASSWORD)
    with pytest.raises(PermissionDenied, match="another person's password"):
        accounts.set_password(sqlite_db, actor, ana, "hijacked password 123")
    assert ben


# --- PINs -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("pin", ["123", "1234567", "12a4", "", " 1234 x", "١٢٣٤"])
def test_a_pin_is_four_to_six_digits(sqlite_db: Database, ana: str, pin: str) -> None:
    with pytest.raises(InvalidInput, match="4 to 6 digits"):
        accounts.set_pin(sqlite_db, SYSTEM, ana, pin)


@pytest.mark.parametrize("pin", ["0000", "12345", "987654"])
def test_valid_pins_work(sqlite_db: Database, ana: str, pin: str) -> None:
    accounts.set_pin(sqlite_db, SYSTEM, ana, pin)
    assert signin.authenticate_pin(sqlite_db, ana, pin, now=T0).name == "Ana Staff"


def test_a_wrong_pin_says_how_many_tries_are_left(sqlite_db: Database, ana: str) -> None:
    with pytest.raises(AuthenticationFailed, match="4 tries left"):
        signin.authenticate_pin(sqlite_db, ana, "0000", now=T0)
    assert _employee(sqlite_db, ana).pin_failed_attempts == 1


def test_five_wrong_pins_lock_it_for_fifteen_minutes_and_each_step_is_logged(
        sqlite_db: Database, ana: str) -> None:
    for attempt in range(4):
        with pytest.raises(AuthenticationFailed) as refused:
            signin.authenticate_pin(sqlite_db, ana, "0000", now=T0 + timedelta(seconds=attempt))
        assert not isinstance(refused.value, PinLocked)
    with pytest.raises(PinLocked, match="locked for 15 minutes"):
        signin.authenticate_pin(sqlite_db, ana, "0000", now=T0 + timedelta(seconds=4))
    assert _employee(sqlite_db, ana).pin_locked_until == T0 + timedelta(seconds=4, minutes=15)
    assert [e.detail for e in _events(sqlite_db, "auth.pin_failed")] == [
        f'{{"attempt": {n}}}' for n in range(1, 6)]
    assert len(_events(sqlite_db, "auth.pin_locked")) == 1


def test_the_correct_pin_during_the_lock_is_refused_and_logged(sqlite_db: Database, ana: str) -> None:
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            signin.authenticate_pin(sqlite_db, ana, "0000", now=T0)
    with pytest.raises(PinLocked, match="locked until 09:15"):
        signin.authenticate_pin(sqlite_db, ana, "4821", now=T0 + timedelta(minutes=14, seconds=59))
    assert len(_events(sqlite_db, "auth.pin_refused_locked")) == 1
    assert not _events(sqlite_db, "auth.signed_in")


def test_the_lock_message_offers_a_password_only_to_someone_who_has_one(sqlite_db: Database, ana: str) -> None:
    pin_only = accounts.create_user(sqlite_db, SYSTEM, username="cai", name="Cai PinOnly", role=Role.STAFF,
                                    team_code="FD", pin="1357")
    for code, pin in ((ana, "0000"), (pin_only, "0000")):
        for _ in range(4):
            with pytest.raises(AuthenticationFailed):
                signin.authenticate_pin(sqlite_db, code, pin, now=T0)
        with pytest.raises(PinLocked) as locked:
            signin.authenticate_pin(sqlite_db, code, pin, now=T0)
        assert ("password" in str(locked.value)) == (code == ana), str(locked.value)
        assert "Ask a manager or an admin" in str(locked.value)


def test_the_lock_lifts_after_fifteen_minutes(sqlite_db: Database, ana: str) -> None:
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            signin.authenticate_pin(sqlite_db, ana, "0000", now=T0)
    actor = signin.authenticate_pin(sqlite_db, ana, "4821", now=T0 + timedelta(minutes=15, seconds=1))
    assert actor.name == "Ana Staff"
    employee = _employee(sqlite_db, ana)
    assert (employee.pin_failed_attempts, employee.pin_locked_until) == (0, None)


def _lock(db: Database, code: str, at: datetime) -> int:
    """Five wrong PINs from `at`: the lock's length in minutes."""
    for attempt in range(5):
        with pytest.raises(AuthenticationFailed):
            signin.authenticate_pin(db, code, "0000", now=at + timedelta(seconds=attempt))
    until = _employee(db, code).pin_locked_until
    assert until is not None
    return round((until - at).total_seconds() / 60)


def test_each_further_lock_doubles_up_to_a_day_until_a_sign_in(sqlite_db: Database, ana: str) -> None:
    at, lengths = T0, []
    for _ in range(9):
        lengths.append(_lock(sqlite_db, ana, at))
        at += timedelta(minutes=lengths[-1], seconds=10)
    assert lengths == [15, 30, 60, 120, 240, 480, 960, 1440, 1440]  # ~5 guesses a day from here
    signin.authenticate_pin(sqlite_db, ana, "4821", now=at)
    assert _lock(sqlite_db, ana, at + timedelta(minutes=1)) == 15  # the owner signed in: start over


def test_locks_older_than_a_week_do_not_count(sqlite_db: Database, ana: str) -> None:
    assert _lock(sqlite_db, ana, T0) == 15
    assert _lock(sqlite_db, ana, T0 + timedelta(hours=1)) == 30
    assert _lock(sqlite_db, ana, T0 + timedelta(days=8)) == 15


def test_a_lock_into_the_next_day_names_the_day(sqlite_db: Database, ana: str) -> None:
    late = datetime(2026, 3, 2, 23, 55)
    for attempt in range(5):
        with pytest.raises(AuthenticationFailed) as refused:
            signin.authenticate_pin(sqlite_db, ana, "0000", now=late + timedelta(seconds=attempt))
    assert "locked until Tue 03 Mar, 00:10" in str(refused.value)


def test_a_right_pin_resets_the_count_of_wrong_ones(sqlite_db: Database, ana: str) -> None:
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            signin.authenticate_pin(sqlite_db, ana, "0000", now=T0)
    signin.authenticate_pin(sqlite_db, ana, "4821", now=T0)
    with pytest.raises(AuthenticationFailed, match="4 tries left"):
        signin.authenticate_pin(sqlite_db, ana, "0000", now=T0)


def test_a_manager_unlocks_their_own_staff_but_not_another_teams(sqlite_db: Database, ana: str) -> None:
    make_team(sqlite_db, "HK")
    accounts.create_user(sqlite_db, SYSTEM, username="mia", name="Mia", role=Role.MANAGER,
                     team_code="FD", password=PASSWORD)
    accounts.create_user(sqlite_db, SYSTEM, username="hal", name="Hal", role=Role.MANAGER,
                     team_code="HK", password=PASSWORD)
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            signin.authenticate_pin(sqlite_db, ana, "0000", now=T0)
    with pytest.raises(PermissionDenied):
        accounts.unlock_pin(sqlite_db, signin.authenticate(sqlite_db, "hal", PASSWORD), ana)
    accounts.unlock_pin(sqlite_db, signin.authenticate(sqlite_db, "mia", PASSWORD), ana)
    assert signin.authenticate_pin(sqlite_db, ana, "4821", now=T0).name == "Ana Staff"


def test_office_roles_cannot_have_a_pin(sqlite_db: Database) -> None:
    with pytest.raises(InvalidInput, match="admin accounts sign in with a password"):
        accounts.create_user(sqlite_db, SYSTEM, username="root", name="Root", role=Role.ADMIN,
                         password=PASSWORD, pin="1234")


def test_the_tablet_lists_only_people_with_a_pin(sqlite_db: Database, ana: str) -> None:
    accounts.create_user(sqlite_db, SYSTEM, username="ada", name="Ada Admin", role=Role.ADMIN,
                     password=PASSWORD)
    assert [p.name for p in roster.tablet_roster(sqlite_db)] == ["Ana Staff"]
    assert roster.tablet_roster(sqlite_db, team_code="nope") == []


# --- users ----------------------------------------------------------------------------------------

def test_a_manager_created_with_a_team_manages_it(sqlite_db: Database) -> None:
    team_id = make_team(sqlite_db, "FD")
    code = accounts.create_user(sqlite_db, SYSTEM, username="mia", name="Mia Manager", role=Role.MANAGER,
                            team_code="FD", password=PASSWORD)
    with sqlite_db.read() as session:
        assert session.scalar(select(TeamManager.team_id)) == team_id
        employee = session.scalars(select(Employee).where(Employee.code == code)).one()
        assert actor.actor_for(employee).managed_team_ids == frozenset({team_id})


def test_user_names_are_unique_and_only_admins_create_users(sqlite_db: Database, ana: str) -> None:
    with pytest.raises(InvalidInput, match="taken"):
        accounts.create_user(sqlite_db, SYSTEM, username="ana", name="Another Ana", role=Role.STAFF,
                         password=PASSWORD)
    staff = signin.authenticate(sqlite_db, "ana", PASSWORD)
    with pytest.raises(PermissionDenied):
        accounts.create_user(sqlite_db, staff, username="eve", name="Eve", role=Role.ADMIN, password=PASSWORD)


def test_a_sign_in_can_be_added_to_an_imported_employee(sqlite_db: Database) -> None:
    with sqlite_db.write() as session:
        session.add(Employee(code="E-77", name="Imported Person", role=Role.STAFF))
    code = accounts.create_user(sqlite_db, SYSTEM, username="imported", name="Imported Person",
                            role=Role.STAFF, employee_code="E-77", pin="2468")
    assert code == "E-77"
    assert signin.authenticate_pin(sqlite_db, "E-77", "2468").name == "Imported Person"


def test_create_user_from_the_command_line_reads_secrets_from_stdin(
        sqlite_db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import io

    make_team(sqlite_db, "FD")
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{PASSWORD}\n135790\n"))
    code = cli_main(["create-user", "--database-url", sqlite_db.url, "--role", "manager",
                     "--username", "mia", "--name", "Mia Manager", "--team", "FD",
                     "--password-stdin", "--pin-stdin"])
    assert code == 0, capsys.readouterr().err
    assert "Created sign-in 'mia'" in capsys.readouterr().out
    assert signin.authenticate(sqlite_db, "mia", PASSWORD).role == Role.MANAGER
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert cli_main(["create-user", "--database-url", sqlite_db.url, "--role", "admin",
                     "--username", "xy", "--name", "X", "--password-stdin"]) == 2
    assert "at least 10 characters" in capsys.readouterr().err


# --- browser-session tokens -----------------------------------------------------------------------

def test_a_handoff_token_becomes_a_cookie_naming_the_person() -> None:
    cookie = sessions.cookie_from_handoff(sessions.handoff_token(7, "sid-1"))
    assert cookie is not None
    claim = sessions.read_cookie(cookie)
    assert claim is not None and (claim.employee_id, claim.sid) == (7, "sid-1")


@pytest.mark.parametrize("tamper", [
    lambda c: c[:-2] + ("AA" if not c.endswith("AA") else "BB"),
    lambda c: c.replace(c.split(".")[0], "eyJlIjoxLCJzIjoieCJ9"),  # someone else's id, old signature
    lambda c: "",
    lambda c: "not-a-token",
])
def test_a_forged_or_damaged_cookie_is_rejected(tamper) -> None:  # type: ignore[no-untyped-def]
    cookie = sessions.cookie_from_handoff(sessions.handoff_token(7, "sid-1"))
    assert cookie is not None
    assert sessions.read_cookie(tamper(cookie)) is None


def test_a_cookie_signed_with_another_secret_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    cookie = sessions.cookie_from_handoff(sessions.handoff_token(7, "sid-1"))
    monkeypatch.setenv("EMPOWERMENT_SECRET_KEY", "another-installation-" + "z" * 32)
    assert sessions.read_cookie(cookie) is None


def test_a_handoff_token_is_not_a_cookie_and_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    token = sessions.handoff_token(7, "sid-1")
    assert sessions.read_cookie(token) is None  # different purpose (salt)
    monkeypatch.setattr(sessions, "HANDOFF_MAX_AGE_SECONDS", -1)
    assert sessions.cookie_from_handoff(token) is None


@pytest.mark.parametrize("idle_minutes,expired", [(14, False), (15, False), (16, True)])
def test_idle_time_is_measured_from_the_last_activity(idle_minutes: int, expired: bool) -> None:
    assert sessions.idle_expired(T0, T0 + timedelta(minutes=idle_minutes, seconds=0), 15) is expired
    assert sessions.idle_expired(None, T0, 15) is False


def test_a_cookie_restores_the_person_until_idle_or_signed_out(sqlite_db: Database, ana: str) -> None:
    actor = signin.authenticate(sqlite_db, "ana", PASSWORD)
    now = datetime.now().replace(microsecond=0)
    claim = sessions.SessionClaim(actor.employee_id or 0, sessions.new_session_id(), now)
    assert sessions.restore_session(sqlite_db, claim, now + timedelta(minutes=5), 15) == actor
    sessions.touch_session(sqlite_db, claim.sid, now + timedelta(minutes=10))
    assert sessions.restore_session(sqlite_db, claim, now + timedelta(minutes=24), 15) == actor
    assert sessions.restore_session(sqlite_db, claim, now + timedelta(minutes=26), 15) is None
    sessions.touch_session(sqlite_db, claim.sid, now)
    sessions.end_session(sqlite_db, actor, claim.sid, "signed out")
    assert sessions.restore_session(sqlite_db, claim, now, 15) is None


@pytest.mark.parametrize("backend", ["sqlite_db", "pg_db"])
def test_activity_on_one_replica_keeps_the_session_alive_on_another(
        request: pytest.FixtureRequest, backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The idle clock is in the database: a browser that reconnects to another replica (a fresh
    process, here a fresh `Database` and an empty per-process memo) keeps its session."""
    db: Database = request.getfixturevalue(backend)
    make_team(db, "FD")
    accounts.create_user(db, SYSTEM, username="ana", name="Ana Staff", role=Role.STAFF,
                         team_code="FD", password=PASSWORD, pin="4821")
    actor = signin.authenticate(db, "ana", PASSWORD)
    now = datetime.now().replace(microsecond=0)
    claim = sessions.SessionClaim(actor.employee_id or 0, sessions.new_session_id(), now)
    sessions.touch_session(db, claim.sid, now)
    sessions.touch_session(db, claim.sid, now + timedelta(seconds=10))  # within TOUCH_EVERY: no write
    assert sessions.last_activity(db, claim.sid) == now
    for minutes in (10, 20):  # the person keeps working on replica A
        sessions.touch_session(db, claim.sid, now + timedelta(minutes=minutes))
    other_replica = Database(db.url)
    monkeypatch.setattr(sessions, "_written", {})
    try:
        assert sessions.restore_session(other_replica, claim, now + timedelta(minutes=30), 15) == actor
        assert sessions.restore_session(other_replica, claim, now + timedelta(minutes=36), 15) is None
        sessions.end_session(other_replica, actor, claim.sid, "signed out")  # on B: revoked on A too
        assert sessions.last_activity(db, claim.sid) is None
        assert sessions.restore_session(db, claim, now + timedelta(minutes=21), 15) is None
    finally:
        other_replica.dispose()
@pytest.mark.parametrize("username", ["ana", "nobody"])
def test_thirty_parallel_guesses_check_at_most_ten_passwords(db: Database, monkeypatch: pytest.MonkeyPatch,
                                                             username: str) -> None:
    """Issue 11, finding 4: before, every one of 30 parallel guesses was checked (the count was
    read before the slow hash and nothing serialised attempts)."""
    from concurrent.futures import ThreadPoolExecutor

    make_team(db, "FD")
    accounts.create_user(db, SYSTEM, username="ana", name="Ana Staff", role=Role.STAFF, team_code="FD",
                         password=PASSWORD)
    checked: list[int] = []
    real = signin.verify_secret

    def slow_verify(stored: str | None, secret: str) -> bool:
        checked.append(1)
        time.sleep(0.05)  # the real hash is slow: the window in which guesses overlapped
        return real(stored, secret)

    monkeypatch.setattr(signin, "verify_secret", slow_verify)

    def guess(i: int) -> str:
        try:
            signin.authenticate(db, username, f"guess {i}", now=T0)
        except SignInThrottled:
            return "throttled"
        except AuthenticationFailed:
            return "failed"
        return "signed in"

    with ThreadPoolExecutor(max_workers=30) as pool:
        outcomes = list(pool.map(guess, range(30)))
    assert len(checked) <= signin.PASSWORD_MAX_FAILURES, len(checked)
    assert outcomes.count("failed") == len(checked) and outcomes.count("throttled") == 30 - len(checked)
    with pytest.raises(SignInThrottled):  # and the right password is refused too while throttled
        signin.authenticate(db, "ana" if username == "ana" else username, PASSWORD, now=T0)
