"""Issue 11, finding 6: with the database locked, stopped, read-only or handed a NUL byte, a
service answers within a bounded wait with a sentence (and a reference code that finds the
details in the server's log), and nothing is half-written."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from empowerment.db import Database
from empowerment.errors import DatabaseBusy, InvalidInput, Unavailable
from empowerment.models import Gesture, Incident, LedgerEntry
from empowerment.services.gestures import LogRequest, log_gesture
from tests.factories import SYSTEM, make_customer, make_employee, make_policy, make_team


@pytest.fixture
def short_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMPOWERMENT_DB_WAIT_SECONDS", "1")
    monkeypatch.setenv("EMPOWERMENT_DB_CONNECT_TIMEOUT_SECONDS", "2")


@pytest.fixture
def org(db: Database) -> Iterator[tuple[str, str]]:
    team = make_team(db, "FD")
    make_policy(db, allowance_cents=50_000)
    employee, customer = make_employee(db, "E1", team_id=team), make_customer(db, "C1", name="Grace")
    log_gesture(db, SYSTEM, LogRequest(employee, customer, "gift", "1", category="Noise"))  # opens the budget
    yield employee, customer


def _counts(db: Database) -> tuple[int, int, int]:
    with db.read() as session:
        return tuple(int(session.scalar(select(func.count()).select_from(t)) or 0)  # type: ignore[return-value]
                     for t in (Gesture, Incident, LedgerEntry))


def _request(org: tuple[str, str], note: str | None = None) -> LogRequest:
    return LogRequest(org[0], org[1], "comp", "20", category="Noise", note=note)


def test_a_write_waits_a_bounded_time_for_a_held_lock_then_says_try_again(
        short_waits: None, tmp_path: Path, db: Database, org: tuple[str, str]) -> None:
    db = Database(db.url)  # the engine reads the wait settings when it is made
    before = _counts(db)
    release = threading.Event()
    holding = threading.Event()

    def hold() -> None:  # another writer that does not let go (a stuck process elsewhere)
        if db.dialect == "sqlite":
            assert db._lock_path is not None
            fd = os.open(db._lock_path, os.O_RDWR | os.O_CREAT)
            fcntl.flock(fd, fcntl.LOCK_EX)
            holding.set()
            release.wait(30)
            os.close(fd)
        else:
            with db.engine.connect() as conn, conn.begin():
                conn.execute(text("SELECT id FROM budgets FOR UPDATE"))
                holding.set()
                release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(10)
        started = time.monotonic()
        with pytest.raises(DatabaseBusy) as refused:
            log_gesture(db, SYSTEM, _request(org))
        waited = time.monotonic() - started
    finally:
        release.set()
        holder.join()
    assert 0.8 < waited < 6, waited
    message = str(refused.value)
    assert "try again" in message and refused.value.reference in message
    assert "SELECT" not in message and "sqlite" not in message.lower() and "/" not in message
    assert _counts(db) == before  # nothing half-written
    log_gesture(db, SYSTEM, _request(org))  # the "try again" path: the lock is gone, it works
    assert _counts(db)[0] == before[0] + 1
    db.dispose()


def test_sqlites_own_writer_lock_is_bounded_too(short_waits: None, sqlite_db: Database) -> None:
    """A writer that bypasses the flock (another tool on the file) holds SQLite's lock itself."""
    db = Database(sqlite_db.url)
    team = make_team(db, "FD")
    make_policy(db, allowance_cents=50_000)
    employee, customer = make_employee(db, "E1", team_id=team), make_customer(db, "C1", name="Grace")
    other = db.engine.raw_connection()
    other.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        with pytest.raises(DatabaseBusy):
            log_gesture(db, SYSTEM, LogRequest(employee, customer, "comp", "20", category="Noise"))
        assert time.monotonic() - started < 6
    finally:
        other.execute("ROLLBACK")
        other.close()
    db.dispose()


def test_a_stopped_database_server_is_a_sentence_not_a_hang(short_waits: None) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on: the server is stopped
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    db = Database(f"postgresql+psycopg://postgres@127.0.0.1:{port}/test")
    started = time.monotonic()
    with pytest.raises(Unavailable, match="database is not answering") as refused:
        log_gesture(db, SYSTEM, LogRequest("E1", "C1", "comp", "20", category="Noise"))
    assert time.monotonic() - started < 10
    assert str(port) not in str(refused.value) and "127.0.0.1" not in str(refused.value)
    db.dispose()


def test_a_read_only_database_is_a_sentence_and_changes_nothing(sqlite_db: Database) -> None:
    team = make_team(sqlite_db, "FD")
    make_policy(sqlite_db, allowance_cents=50_000)
    employee, customer = make_employee(sqlite_db, "E1", team_id=team), make_customer(sqlite_db, "C1", name="Grace")
    path = sqlite_db.engine.url.database
    read_only = Database(f"sqlite:///file:{path}?mode=ro&uri=true")
    with pytest.raises(Unavailable, match="cannot be written to"):
        log_gesture(read_only, SYSTEM, LogRequest(employee, customer, "comp", "20", category="Noise"))
    read_only.dispose()
    assert _counts(sqlite_db) == (0, 0, 0)
    # Its writers queued on the database's own lock file, not on one under a folder called "file:".
    assert not Path("file:").exists()


def test_a_nul_byte_is_refused_with_a_sentence(db: Database, org: tuple[str, str]) -> None:
    before = _counts(db)
    if db.dialect == "postgresql":
        with pytest.raises(InvalidInput, match="NUL"):
            log_gesture(db, SYSTEM, _request(org, note="before\x00after"))
        assert _counts(db) == before
    else:  # SQLite stores it as it is
        log_gesture(db, SYSTEM, _request(org, note="before\x00after"))
