"""The import at engine speed, as a smoke in `make test` (the 5M-row floors are `make bench`'s:
benchmarks/bench_import.py): 50k transactions through the real path on SQLite and PostgreSQL,
validated, all or nothing at this size too, and never pathologically slow."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from benchmarks.bench_import import write_transactions_csv
from empowerment.db import Database
from empowerment.errors import ImportFailed
from empowerment.models import Customer, Transaction
from empowerment.services.importing import import_csv
from tests.factories import SYSTEM
from tests.integration.importing_support import snapshot

ROWS = 50_000
SMOKE_FLOOR_ROWS_PER_S = 5_000  # far under the 250k/400k floors: this machine is shared; catches a row-by-row path


def _count(db: Database, model: type) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.serial  # asserts a rate: alone, not beside the parallel run
def test_fifty_thousand_transactions_land_whole_and_fast(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "transactions.csv"
    write_transactions_csv(path, ROWS, customers=5_000)
    started = time.perf_counter()
    summary = import_csv(db, "transactions", path, actor=SYSTEM)
    elapsed = time.perf_counter() - started
    assert (summary.inserted, _count(db, Transaction)) == (ROWS, ROWS)
    assert summary.customers_created == _count(db, Customer) > 4_000
    assert ROWS / elapsed >= SMOKE_FLOOR_ROWS_PER_S, f"{ROWS / elapsed:,.0f} rows/s"
    again = import_csv(db, "transactions", path, actor=SYSTEM)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, ROWS)


def test_one_bad_row_in_fifty_thousand_refuses_the_file_with_the_same_message(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "transactions.csv"
    write_transactions_csv(path, ROWS, customers=5_000)
    lines = path.read_text().splitlines()
    lines[40_000] = lines[40_000].rsplit(",", 1)[0] + ",12.345"
    path.write_text("\n".join(lines) + "\n")
    before = snapshot(db)
    with pytest.raises(ImportFailed) as refused:
        import_csv(db, "transactions", path, actor=SYSTEM)
    assert str(refused.value) == "1 problem in transactions.csv; nothing was imported."
    assert refused.value.problems[0]["line"] == 40_001 and refused.value.problems[0]["column"] == "amount"
    assert snapshot(db) == before
