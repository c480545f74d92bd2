"""Shared data and helpers for the CSV import and export tests (not a test module)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from empowerment.db import Database
from empowerment.errors import ImportFailed
from empowerment.models import AppSetting, Base
from empowerment.services.exporting import export_csv
from empowerment.services.importing import ImportSummary, import_csv
from tests.conftest import PG_ADMIN_URL, PG_AVAILABLE, _truncate_all, fresh_sqlite
from tests.factories import SYSTEM

EMPLOYEES = """employee_id,name,role,team,location
E1,Ana Staff,staff,FD,Harbour
E2,Bo Manager,manager,FD,Harbour
E3,Cy Admin,admin,,
"""

CUSTOMERS = """customer_id,name,segment,email,phone
C1,Guest One,gold,one@example.com,+1 555 0100
C2,Guest Two,,,
"""

INCIDENTS = """incident_id,customer_id,occurred_at,category,location,description,employee_id
I1,C1,2024-03-01T10:00:00,Noise,Harbour,"Loud party next door,
room 12",E1
I2,C2,2024-03-02,Food & drink,,,
"""

GESTURES = """gesture_id,incident_id,employee_id,occurred_at,type,cost,note
G1,I1,E1,2024-03-01T11:00:00,comp,25.50,Sorry 🙏
G2,I2,E2,2024-03-02T09:30:00.250000,voucher,0,
"""

TRANSACTIONS = """transaction_id,customer_id,occurred_at,amount
T1,C1,2024-04-01T10:00:00,120.00
T2,C1,2024-04-03T18:30:00,-20.00
T3,C2,2024-05-01,1234.56
"""

EXCHANGE_RATES = """date,currency,to_currency,rate
2024-03-01,JPY,EUR,0.0061
2024-03-01,USD,EUR,0.92
"""

SEED = {
    "employees": EMPLOYEES,
    "customers": CUSTOMERS,
    "incidents": INCIDENTS,
    "gestures": GESTURES,
    "transactions": TRANSACTIONS,
    "exchange_rates": EXCHANGE_RATES,
}


def run(db: Database, kind: str, text: str | bytes, **kwargs: object) -> ImportSummary:
    data = text.encode("utf-8") if isinstance(text, str) else text
    kwargs.setdefault("actor", SYSTEM)
    return import_csv(db, kind, data, **kwargs)  # type: ignore[arg-type]


def seed(db: Database, *kinds: str) -> None:
    for kind in kinds or tuple(SEED):
        run(db, kind, SEED[kind])


def counts(db: Database) -> dict[str, int]:
    with db.read() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


def exported(db: Database, kind: str) -> str:
    out = io.StringIO()
    export_csv(db, kind, out, actor=SYSTEM)
    return out.getvalue()


def snapshot(db: Database) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table: equal snapshots mean nothing changed. The audit log's seal (an
    app setting) is left out: it moves with every audit row, which the tests count themselves."""
    with db.read() as session:
        return {
            table.name: [
                tuple(row)
                for row in session.execute(select(table).order_by(*table.primary_key.columns))
                if not (table.name == "app_settings" and row[0] == AppSetting.AUDIT_SEAL)
            ]
            for table in Base.metadata.sorted_tables
        }


def refused(db: Database, kind: str, text: str | bytes, **kwargs: object) -> ImportFailed:
    """Import that must be refused whole: returns the error after checking nothing changed."""
    before = snapshot(db)
    with pytest.raises(ImportFailed) as caught:
        run(db, kind, text, **kwargs)
    assert snapshot(db) == before, "a refused import changed the database"
    assert "nothing was imported" in str(caught.value).lower() or kind == "ledger"
    return caught.value


def where(problems: list[dict[str, object]]) -> list[tuple[object, object]]:
    return [(p["line"], p["column"]) for p in problems]


def fresh_db(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: str) -> Iterator[Database]:
    """Like conftest's `db`, but empties PostgreSQL with DELETEs (a few ms) instead of TRUNCATE
    (0.3-0.5 s per test on this machine). Used by `db` fixtures in the import/export tests."""
    if request.param == "sqlite":
        database = fresh_sqlite(sqlite_template, tmp_path)
    else:
        if not PG_AVAILABLE:
            pytest.skip("PostgreSQL not reachable at " + PG_ADMIN_URL)
        database = Database(request.getfixturevalue("_pg_session_database"))
        _delete_all(database)
    yield database
    database.dispose()


def _delete_all(database: Database) -> None:
    try:
        with database.engine.begin() as conn:
            # Skips the ledger's append-only triggers and FK checks; needs a superuser.
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            for table in reversed(Base.metadata.sorted_tables):
                conn.exec_driver_sql(f'DELETE FROM "{table.name}"')
    except Exception:
        _truncate_all(database)
