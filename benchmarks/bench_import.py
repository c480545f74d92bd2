"""Import of transactions through the real import service (validation included), SQLite and
PostgreSQL (COPY), against the floors of issue 15: 5M rows in <= 20 s on SQLite (>= 250k rows/s)
and <= 15 s on PostgreSQL (>= 400k rows/s).

    python benchmarks/bench_import.py [--rows 5000000] [--backend sqlite|postgresql|both]
        [--postgres-server postgresql+psycopg://postgres@127.0.0.1:5432/test]

The database is not empty: `--incidents` incidents (over half the file's customers, so half the
customers are created by the import) are there and the outcomes table is built, so the timed
import also refreshes the outcomes of every incident of the customers it touches
(`services.outcomes`), as it does in use. `--incidents 0` measures the bare load.

Prints one line per backend with the time, the rate, the machine's load average before the run
and whether the floor is met; exit 1 when a floor is missed. `tests/integration/test_import_speed.py`
runs the same path at 50k rows in `make test`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from empowerment.actor import Actor  # noqa: E402
from empowerment.db import Database, upgrade  # noqa: E402
from empowerment.models import IncidentOutcome  # noqa: E402
from empowerment.services import outcomes  # noqa: E402
from empowerment.services.importing import import_csv  # noqa: E402

FLOORS_ROWS_PER_S = {"sqlite": 250_000, "postgresql": 400_000}
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def write_transactions_csv(path: Path, rows: int, customers: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-01-01T00:00:00")
    seconds = rng.integers(0, 2 * 365 * 86400, rows)
    frame = pd.DataFrame({
        "transaction_id": np.char.add("T", np.arange(rows).astype(str)),
        "customer_id": np.char.add("C", rng.integers(0, customers, rows).astype(str)),
        "occurred_at": pd.to_datetime(start + seconds.astype("timedelta64[s]")).strftime("%Y-%m-%dT%H:%M:%S"),
        "amount": (rng.gamma(2.0, 40.0, rows)).round(2),
    })
    frame.to_csv(path, index=False)


def write_incidents_csv(path: Path, incidents: int, customers: int, seed: int = 2) -> None:
    """Incidents of the first `customers` customers (ids as the transactions file writes them)."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-01-01T00:00:00")
    seconds = rng.integers(0, 2 * 365 * 86400, incidents)
    frame = pd.DataFrame({
        "incident_id": np.char.add("I", np.arange(incidents).astype(str)),
        "customer_id": np.char.add("C", rng.integers(0, customers, incidents).astype(str)),
        "occurred_at": pd.to_datetime(start + seconds.astype("timedelta64[s]")).strftime("%Y-%m-%dT%H:%M:%S"),
        "category": rng.choice(["Noise", "Billing", "Room", "Wait"], incidents),
    })
    frame.to_csv(path, index=False)


def _postgres_database(server: str) -> tuple[str, str]:
    import psycopg

    name = f"imports_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server.rsplit("/", 1)[0] + "/" + name, name


def _drop_postgres_database(server: str, name: str) -> None:
    import psycopg

    with psycopg.connect(server.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(rows: int, customers: int = 100_000, backend: str = "sqlite", server: str = DEFAULT_PG,
        repeat: bool = True, csv_path: Path | None = None, incidents: int = 200_000) -> dict[str, float]:
    workdir = Path(tempfile.mkdtemp())
    if csv_path is None:
        csv_path = workdir / "transactions.csv"
        write_transactions_csv(csv_path, rows, customers)
    pg_name = None
    if backend == "sqlite":
        url = f"sqlite:///{workdir}/import.db"
    else:
        url, pg_name = _postgres_database(server)
    db = Database(url)
    try:
        upgrade(db)
        if incidents:
            incidents_path = workdir / "incidents.csv"
            write_incidents_csv(incidents_path, incidents, customers // 2)
            import_csv(db, "incidents", incidents_path, actor=Actor.system("bench"))
            outcomes.rebuild(db, Actor.system("bench"))
        load = os.getloadavg()[0]
        started, cpu_started = time.perf_counter(), time.process_time()
        summary = import_csv(db, "transactions", csv_path, actor=Actor.system("bench"))
        first = time.perf_counter() - started
        cpu = time.process_time() - cpu_started  # this process only (not PostgreSQL's server)
        assert summary.inserted == rows, summary.as_text()
        figures: dict[str, float] = {"rows": rows, "first_s": first, "rows_per_s": rows / first,
                                     "load_before": load, "customers_created": summary.customers_created,
                                     "incidents": incidents, "cpu_s": cpu,
                                     "load_after": os.getloadavg()[0]}
        if incidents:
            with db.read() as session:
                figures["outcome_rows"] = session.scalar(select(func.count()).select_from(IncidentOutcome)) or 0
        if repeat:
            started = time.perf_counter()
            again = import_csv(db, "transactions", csv_path, actor=Actor.system("bench"))  # all unchanged
            figures["repeat_s"] = time.perf_counter() - started
            assert again.inserted == 0 and again.unchanged == rows
        return figures
    finally:
        db.dispose()
        if pg_name is not None:
            _drop_postgres_database(server, pg_name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--postgres-server", default=DEFAULT_PG)
    parser.add_argument("--no-repeat", action="store_true", help="skip importing the same file again")
    parser.add_argument("--incidents", type=int, default=200_000,
                        help="incidents in the database before the import (their outcomes are refreshed)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp())
    csv_path = workdir / "transactions.csv"
    write_transactions_csv(csv_path, args.rows, 100_000)
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    missed = False
    for backend in backends:
        figures = run(args.rows, backend=backend, server=args.postgres_server, repeat=not args.no_repeat,
                      csv_path=csv_path, incidents=args.incidents)
        floor = FLOORS_ROWS_PER_S[backend]
        met = figures["rows_per_s"] >= floor
        missed |= not met
        repeat = f"; repeat of the same file {figures['repeat_s']:.1f} s" if "repeat_s" in figures else ""
        print(f"import {figures['rows']:,.0f} transactions into {backend}: {figures['first_s']:.1f} s = "
              f"{figures['rows_per_s']:,.0f} rows/s (floor {floor:,} rows/s: {'met' if met else 'NOT met'}; "
              f"load average {figures['load_before']:.1f} before, {figures['load_after']:.1f} after, on "
              f"{os.cpu_count()} cores; {figures['cpu_s']:.1f} s of this process's CPU{repeat}; "
              f"{figures['customers_created']:,.0f} customers created; outcomes of "
              f"{figures.get('outcome_rows', 0):,.0f} incidents refreshed)", flush=True)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
