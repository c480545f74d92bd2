"""Issue 11, finding 9 and "Ledger sealed": the database refuses TRUNCATE and a drifting balance,
SQLite money stays integer, the audit log is a hash chain, and `verify` names the row that fails.

Before the fix: TRUNCATE ledger_entries succeeded on PostgreSQL, `UPDATE budgets SET
remaining_cents = ...` succeeded on both, a REAL amount was stored on SQLite, the audit log had no
chain and there was no `verify`.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from empowerment import audit
from empowerment.actor import Actor
from empowerment.cli import main
from empowerment.db import Database
from empowerment.errors import InvalidAmount
from empowerment.models import AppSetting, AuditEvent, Budget, LedgerEntry, LedgerEntryType
from empowerment.queries.integrity import verify
from empowerment.services.gestures import LogRequest, log_gesture
from empowerment.services.ledger import MAX_BALANCE_CENTS, Adjustment, adjust_budget
from tests.factories import SYSTEM, make_customer, make_employee, make_policy, make_team

REFUSED = (DBAPIError, IntegrityError)


def _setup(db: Database, allowance_cents: int = 500_000) -> tuple[str, str]:
    team_id = make_team(db, "FD")
    employee = make_employee(db, "E1", team_id=team_id)
    customer = make_customer(db, "C1", name="Grace Guest")
    make_policy(db, allowance_cents, customer_daily_cap_cents=10_000_000)
    return employee, customer


def _log(db: Database, employee: str, customer: str, amount: str = "25", key: str | None = None) -> None:
    log_gesture(db, SYSTEM, LogRequest(employee, customer, "comp", amount, category="Noise",
                                       idempotency_key=key))


def _raw(db: Database, sql: str, *, skip_triggers: bool = False) -> None:
    """Write behind the app's back, as someone with database access would."""
    with db.engine.begin() as conn:
        if skip_triggers and db.dialect == "postgresql":
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        if skip_triggers and db.dialect == "sqlite":
            for name in ("ledger_entries_no_update", "audit_events_no_update", "audit_events_no_delete",
                         "budgets_follow_ledger"):
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        conn.exec_driver_sql(sql)


# --- the database refuses ---------------------------------------------------------------------------

def test_postgresql_refuses_truncate_of_the_ledger_and_the_audit_log(pg_db: Database) -> None:
    employee, customer = _setup(pg_db)
    _log(pg_db, employee, customer)
    for statement in ("TRUNCATE ledger_entries", "TRUNCATE audit_events", "TRUNCATE budgets CASCADE"):
        with pytest.raises(DBAPIError, match="TRUNCATE is refused"):
            _raw(pg_db, statement)
    assert verify(pg_db, SYSTEM).ok


def test_the_balance_cannot_be_edited_away_from_its_ledger(db: Database) -> None:
    employee, customer = _setup(db)
    _log(db, employee, customer)
    with pytest.raises(REFUSED, match="follows the ledger"):
        _raw(db, "UPDATE budgets SET remaining_cents = remaining_cents + 100000")
    with db.read() as session:
        assert session.scalar(select(Budget.remaining_cents)) == 500_000 - 2_500


def test_the_audit_log_refuses_update_and_delete(db: Database) -> None:
    employee, customer = _setup(db)
    _log(db, employee, customer)
    for statement in ("UPDATE audit_events SET actor_label = 'someone else'", "DELETE FROM audit_events"):
        with pytest.raises(REFUSED, match="append-only"):
            _raw(db, statement)


def test_sqlite_never_stores_money_as_a_real(sqlite_db: Database) -> None:
    employee, customer = _setup(sqlite_db)
    _log(sqlite_db, employee, customer)
    with pytest.raises(IntegrityError, match="whole cents"):  # 2**63 and beyond become REAL in SQLite
        _raw(sqlite_db, "INSERT INTO ledger_entries (budget_id, entry_type, amount_cents) "
                        "VALUES (1, 'adjustment', 99999999999999999999)")
    with pytest.raises(IntegrityError, match="whole cents"):
        _raw(sqlite_db, "INSERT INTO budgets (employee_id, policy_id, period, period_start, period_end, "
                        "remaining_cents) VALUES (1, 1, 'month', '2001-01-01', '2001-02-01', 1e19)")


def test_a_huge_adjustment_is_refused_by_the_one_posting_verb(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    employee, _ = _setup(db)
    with pytest.raises(InvalidAmount, match="more than the most one entry may move"):
        adjust_budget(db, SYSTEM, Adjustment(employee, 10**19, "typo"))
    # Entries of the largest size still stop at a budget's ceiling, far below 64 bits.
    import empowerment.services.ledger as ledger

    assert MAX_BALANCE_CENTS < 2**62
    monkeypatch.setattr(ledger, "MAX_BALANCE_CENTS", 600_000)
    adjust_budget(db, SYSTEM, Adjustment(employee, 100_000, "to the top"))
    with pytest.raises(InvalidAmount, match="above the most one budget may hold"):
        adjust_budget(db, SYSTEM, Adjustment(employee, 1, "over"))
    with db.read() as session:
        assert session.scalar(select(Budget.remaining_cents)) == 600_000
    assert verify(db, SYSTEM).ok


# --- the audit chain --------------------------------------------------------------------------------

def test_every_audit_row_chains_onto_the_one_before(db: Database) -> None:
    employee, customer = _setup(db)
    for _ in range(3):
        _log(db, employee, customer)
    with db.read() as session:
        rows = session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
    assert rows[0].prev_hash == audit.GENESIS_HASH
    for before, after in zip(rows, rows[1:], strict=False):
        assert after.prev_hash == before.row_hash
    result = verify(db, SYSTEM)
    assert result.ok and result.audit_rows == len(rows) and result.audit_head == rows[-1].row_hash


def test_concurrent_appends_keep_one_chain(db: Database) -> None:
    """16 threads logging at once (each gesture writes an audit row) never fork the chain."""
    employee, customer = _setup(db, allowance_cents=10_000_000)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for i in range(6):
                _log(db, employee, customer, "1", key=f"k-{worker}-{i}")
                with db.write() as session:  # an audit row without a spend, too
                    audit.record(session, SYSTEM, "test.appended", "test", f"{worker}-{i}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[:3]
    result = verify(db, SYSTEM)
    assert result.ok, result.as_text()
    with db.read() as session:
        assert session.scalar(select(func.count(func.distinct(AuditEvent.prev_hash)))) == result.audit_rows


# --- verify names what was tampered with -------------------------------------------------------------

def test_verify_names_an_edited_ledger_row(db: Database) -> None:
    employee, customer = _setup(db)
    _log(db, employee, customer, "25")
    with db.read() as session:
        spend_id = session.scalar(select(LedgerEntry.id).where(LedgerEntry.entry_type == LedgerEntryType.SPEND))
    _raw(db, f"UPDATE ledger_entries SET amount_cents = -500 WHERE id = {spend_id}", skip_triggers=True)
    result = verify(db, SYSTEM)
    assert not result.ok
    text_ = result.as_text()
    assert "budget 1: E1's budget" in text_ and "shows $4,975.00 but its ledger adds up to $4,995.00" in text_
    assert f"ledger entry {spend_id}: moves $5.00 for gesture" in text_ and "which cost $25.00" in text_


def test_verify_names_an_edited_removed_or_forged_audit_row(db: Database) -> None:
    employee, customer = _setup(db)
    for _ in range(3):
        _log(db, employee, customer)
    with db.read() as session:
        ids = list(session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))
    assert verify(db, SYSTEM).ok
    _raw(db, f"UPDATE audit_events SET actor_label = 'Nobody' WHERE id = {ids[1]}", skip_triggers=True)
    result = verify(db, SYSTEM)
    assert [p.row for p in result.problems] == [f"audit row {ids[1]}"]
    assert "was changed after it was written" in result.as_text()

    _raw(db, f"DELETE FROM audit_events WHERE id = {ids[2]}", skip_triggers=True)
    rows = [p.row for p in verify(db, SYSTEM).problems]
    assert rows == [f"audit row {ids[1]}", f"audit row {ids[3]}", "audit seal"]
    assert "a row was removed or inserted just before it" in verify(db, SYSTEM).as_text()

    # Someone with the database but not the installation's secret cannot recompute the chain.
    _raw(db, "INSERT INTO audit_events (occurred_at, actor_label, action, entity, prev_hash, row_hash) "
             f"VALUES ('2030-01-01 00:00:00', 'x', 'forged', 'x', '{'0' * 64}', '{'1' * 64}')")
    assert f"audit row {ids[-1] + 1}" in [p.row for p in verify(db, SYSTEM).problems]


def test_verify_finds_the_newest_audit_rows_cut_off(db: Database) -> None:
    # What is left of a chain cut short is still a whole chain: only the seal can tell.
    employee, customer = _setup(db)
    for _ in range(3):
        _log(db, employee, customer)
    with db.read() as session:
        last_id = session.scalar(select(func.max(AuditEvent.id)))
    assert verify(db, SYSTEM).ok
    _raw(db, f"DELETE FROM audit_events WHERE id >= {last_id - 1}", skip_triggers=True)
    result = verify(db, SYSTEM)
    assert [p.row for p in result.problems] == ["audit seal"]
    assert "rows were removed" in result.as_text()
    _log(db, employee, customer)  # a later append does not heal it: the seal counts on from itself
    assert [p.row for p in verify(db, SYSTEM).problems] == ["audit seal"]


def test_verify_refuses_a_seal_written_without_the_secret(db: Database) -> None:
    employee, customer = _setup(db)
    _log(db, employee, customer)
    with db.read() as session:
        seal = audit.read_seal(session)
    assert seal is not None and seal.authentic
    forged = f'{{"rows": {seal.rows - 1}, "head": "{seal.head}", "mac": "{"0" * 64}"}}'
    _raw(db, f"UPDATE app_settings SET value = '{forged}' WHERE key = '{AppSetting.AUDIT_SEAL}'")
    assert "was changed by someone without the installation's secret" in verify(db, SYSTEM).as_text()
    _raw(db, f"DELETE FROM app_settings WHERE key = '{AppSetting.AUDIT_SEAL}'")
    assert "audit seal: is missing" in verify(db, SYSTEM).as_text()


def test_init_seals_a_log_from_before_seals(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    assert main(["init", "--database-url", url]) == 0
    db = Database(url)
    employee, customer = _setup(db)
    _log(db, employee, customer)
    _raw(db, f"DELETE FROM app_settings WHERE key = '{AppSetting.AUDIT_SEAL}'")  # as before seals
    assert not verify(db, SYSTEM).ok
    db.dispose()
    assert main(["init", "--database-url", url]) == 0
    db = Database(url)
    assert verify(db, SYSTEM).ok
    _log(db, employee, customer)
    assert verify(db, SYSTEM).ok
    db.dispose()


def test_verify_command_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/v.db"
    assert main(["init", "--database-url", url]) == 0
    db = Database(url)
    employee, customer = _setup(db)
    _log(db, employee, customer)
    capsys.readouterr()
    assert main(["verify", "--database-url", url]) == 0
    assert "audit chain is whole" in capsys.readouterr().out
    _raw(db, "UPDATE budgets SET remaining_cents = 1", skip_triggers=True)
    db.dispose()
    assert main(["verify", "--database-url", url]) == 3
    out = capsys.readouterr().out
    assert "1 budgets whose balance differs from their ledger" in out and "budget 1:" in out


def test_verify_is_for_admins(db: Database) -> None:
    from empowerment.errors import PermissionDenied
    from empowerment.models import Role
    from tests.factories import actor_of

    staff = make_employee(db, "S9", role=Role.STAFF)
    with pytest.raises(PermissionDenied):
        verify(db, actor_of(db, staff))
    assert verify(db, Actor.system("test")).ok


def test_the_migration_chains_the_rows_written_before_it(tmp_path: Path) -> None:
    from alembic import command

    from empowerment.db import alembic_config

    db = Database(f"sqlite:///{tmp_path}/old.db")
    with db.engine.begin() as connection:
        config = alembic_config(db.url)
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")
        for n in range(3):
            connection.exec_driver_sql(
                "INSERT INTO audit_events (occurred_at, actor_label, action, entity, detail) "
                f"VALUES ('2026-01-0{n + 1} 10:00:00', 'cli', 'old.action', 'thing', '{{\"n\": {n}}}')")
    from empowerment.db import upgrade

    upgrade(db)
    assert "audit seal: is missing" in verify(db, SYSTEM).as_text()
    from empowerment.services.organisation import ensure_audit_seal

    assert ensure_audit_seal(db) == 3  # what `init` does after upgrading
    result = verify(db, SYSTEM)
    assert result.ok and result.audit_rows == 3, result.as_text()
    with db.write() as session:
        audit.record(session, SYSTEM, "new.action", "thing")
    assert verify(db, SYSTEM).audit_rows == 4 and verify(db, SYSTEM).ok
    db.dispose()
