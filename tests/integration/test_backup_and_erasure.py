"""Issue 11: backups that restore (taken while people write), and erasure of a customer on request.
Neither existed before (no `backup`/`restore` command, no way to erase a customer)."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from empowerment.cli import main
from empowerment.db import Database
from empowerment.errors import InvalidInput, InvalidState, PermissionDenied
from empowerment.models import AuditEvent, Budget, Customer, Gesture, Incident, LedgerEntry, Role
from empowerment.queries.integrity import verify
from empowerment.services.backup import backup, restore
from empowerment.services.erasure import erase_customer
from empowerment.services.exporting import export_csv
from empowerment.services.gestures import LogRequest, log_gesture, mark_reviewed
from tests.factories import SYSTEM, actor_of, make_customer, make_employee, make_policy, make_team


def _setup(db: Database) -> tuple[str, str]:
    team_id = make_team(db, "FD")
    employee = make_employee(db, "E1", team_id=team_id)
    customer = make_customer(db, "C1", name="Grace Hopper")
    make_policy(db, 10_000_000, customer_daily_cap_cents=10_000_000, review_above_cents=1_000)
    return employee, customer


def _count(db: Database, model: type) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _log(db: Database, employee: str, customer: str, amount: str = "3", note: str | None = None) -> str:
    return log_gesture(db, SYSTEM, LogRequest(employee, customer, "comp", amount, category="Noise",
                                              note=note)).gesture_code


# --- backup and restore -------------------------------------------------------------------------------

def test_a_backup_taken_during_writes_restores_and_verifies(db: Database, tmp_path: Path) -> None:
    employee, customer = _setup(db)
    for _ in range(5):
        _log(db, employee, customer)
    stop = threading.Event()
    errors: list[BaseException] = []

    def keep_writing() -> None:
        try:
            while not stop.is_set():
                _log(db, employee, customer, "1")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    writers = [threading.Thread(target=keep_writing) for _ in range(3)]
    for writer in writers:
        writer.start()
    try:
        file = tmp_path / "during-writes.backup"
        result = backup(db, SYSTEM, file)
    finally:
        stop.set()
        for writer in writers:
            writer.join()
    assert not errors, errors[:2]
    assert result.size_bytes > 0 and file.is_file()
    after_backup = _count(db, Gesture)
    for _ in range(4):  # more writes after the backup
        _log(db, employee, customer, "2")
    assert _count(db, Gesture) == after_backup + 4

    restore(db, SYSTEM, file)
    restored = _count(db, Gesture)
    assert 5 <= restored <= after_backup  # the snapshot, not what came after it
    report = verify(db, SYSTEM)
    assert report.ok, report.as_text()
    assert report.ledger_entries == _count(db, LedgerEntry)
    with db.read() as session:
        assert session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(1)) == "database.restored"
    _log(db, employee, customer)  # and the restored database takes new work
    assert verify(db, SYSTEM).ok


def test_backup_refuses_to_overwrite_and_restore_refuses_a_stranger(db: Database, tmp_path: Path) -> None:
    _setup(db)
    existing = tmp_path / "there.backup"
    existing.write_bytes(b"keep me")
    with pytest.raises(InvalidInput, match="already exists"):
        backup(db, SYSTEM, existing)
    assert existing.read_bytes() == b"keep me"
    with pytest.raises(InvalidInput, match="is a folder"):
        backup(db, SYSTEM, tmp_path)
    with pytest.raises(InvalidInput, match="not a"):
        restore(db, SYSTEM, existing)
    with pytest.raises(PermissionDenied):
        backup(db, actor_of(db, "E1"), tmp_path / "staff.backup")
    assert verify(db, SYSTEM).ok


def test_backup_and_restore_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/live.db"
    assert main(["init", "--database-url", url]) == 0
    db = Database(url)
    employee, customer = _setup(db)
    _log(db, employee, customer)
    file = tmp_path / "nightly.backup"
    capsys.readouterr()
    assert main(["backup", str(file), "--database-url", url]) == 0
    assert "Backup written to" in capsys.readouterr().out
    _log(db, employee, customer)
    db.dispose()
    assert main(["restore", str(file), "--database-url", url]) == 2  # no terminal: needs --yes
    assert "add --yes" in capsys.readouterr().err
    assert _count(Database(url), Gesture) == 2
    assert main(["restore", str(file), "--database-url", url, "--yes"]) == 0
    out = capsys.readouterr().out
    assert "Restored" in out and "audit chain is whole" in out
    assert _count(Database(url), Gesture) == 1


# --- erasure ----------------------------------------------------------------------------------------

def _export_text(db: Database) -> str:
    parts = []
    for kind in ("customers", "incidents", "gestures"):
        buffer = io.StringIO()
        export_csv(db, kind, buffer, actor=SYSTEM)
        parts.append(buffer.getvalue())
    return "\n".join(parts)


def test_erasing_a_customer_keeps_the_money_and_removes_the_person(db: Database) -> None:
    employee, customer = _setup(db)
    other = make_customer(db, "C2", name="Alan Turing")
    with db.write() as session:
        person = session.scalar(select(Customer).where(Customer.code == customer))
        assert person is not None
        person.email, person.phone, person.room, person.segment = "grace@example.org", "+1 555 0100", "1204", "VIP"
    big = _log(db, employee, customer, "20", note="Grace Hopper in 1204 hated the noise")
    mark_reviewed(db, SYSTEM, big, "Fine for Ms Hopper")
    _log(db, employee, customer, "5", note="Called +1 555 0100")
    kept = _log(db, employee, other, "7", note="Alan's story")
    with db.write() as session:
        for incident in session.scalars(select(Incident).join(Customer)):
            incident.description = ("Alan waited" if incident.customer_id == 2
                                    else "Grace Hopper, room 1204, called twice")
    with db.read() as session:
        balance_before = session.scalar(select(func.sum(Budget.remaining_cents)))
        costs_before = sorted(session.scalars(select(Gesture.cost_cents)))
        categories_before = sorted(session.scalars(select(Incident.category)))

    with pytest.raises(InvalidInput, match="contains the customer's name"):
        erase_customer(db, SYSTEM, customer, "Request from Grace Hopper")
    result = erase_customer(db, SYSTEM, customer, "Ticket 4711")
    assert result.gestures == 2 and result.incidents == 2 and result.pseudonym.startswith("Erased customer ")

    with db.read() as session:
        erased = session.scalar(select(Customer).where(Customer.code == result.new_code))
        assert erased is not None and erased.erased_at is not None
        assert (erased.name, erased.email, erased.phone, erased.room) == (result.pseudonym, None, None, None)
        assert erased.segment == "VIP"  # a category, kept
        assert session.scalar(select(Customer).where(Customer.code == customer)) is None
        notes = list(session.scalars(select(Gesture.note).where(Gesture.customer_id == erased.id)))
        assert notes == [None, None]
        assert session.scalar(select(Gesture.review_comment).where(Gesture.code == big)) == "Erased on request"
        assert session.scalar(select(Gesture.note).where(Gesture.code == kept)) == "Alan's story"
        assert session.scalar(select(Incident.description).join(Gesture, Gesture.incident_id == Incident.id)
                              .where(Gesture.code == kept)) is not None
        assert session.scalar(select(func.sum(Budget.remaining_cents))) == balance_before
        assert sorted(session.scalars(select(Gesture.cost_cents))) == costs_before
        assert sorted(session.scalars(select(Incident.category))) == categories_before
        row = session.scalar(select(AuditEvent).where(AuditEvent.action == "customer.erased"))
        assert row is not None and row.detail is not None
        logged = " ".join(str(v) for v in session.execute(select(AuditEvent.detail, AuditEvent.entity_id)).all())
    for secret in ("Grace", "Hopper", "grace@example.org", "555 0100", "1204"):
        assert secret not in logged
    exported = _export_text(db)
    for secret in ("Grace", "Hopper", "grace@example.org", "555 0100", "1204", "hated the noise"):
        assert secret not in exported
    assert "Alan Turing" in exported and result.pseudonym in exported
    assert verify(db, SYSTEM).ok

    with pytest.raises(InvalidState, match="already erased"):
        erase_customer(db, SYSTEM, result.new_code, "Ticket 4711")


def test_only_admins_erase(db: Database) -> None:
    _, customer = _setup(db)
    manager = make_employee(db, "M1", role=Role.MANAGER)
    with pytest.raises(PermissionDenied):
        erase_customer(db, actor_of(db, manager), customer, "Ticket 1")
    admin = make_employee(db, "A1", role=Role.ADMIN)
    erase_customer(db, actor_of(db, admin), customer, "Ticket 1")


def test_erase_command_asks_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/e.db"
    assert main(["init", "--database-url", url]) == 0
    db = Database(url)
    _setup(db)
    db.dispose()
    assert main(["erase-customer", "C1", "--reference", "Ticket 9", "--database-url", url]) == 2
    assert "add --yes" in capsys.readouterr().err
    assert main(["erase-customer", "C1", "--reference", "Ticket 9", "--yes", "--database-url", url]) == 0
    assert "Erased: the customer is now Erased customer" in capsys.readouterr().out
