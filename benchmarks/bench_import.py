"""Import of 1M transactions into SQLite through the real import service (validation included).

    python benchmarks/bench_import.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from empowerment.actor import Actor
from empowerment.db import Database, upgrade  # noqa: E402
from empowerment.services.importing import import_csv  # noqa: E402


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


def run(rows: int, customers: int = 100_000) -> dict[str, float]:
    workdir = Path(tempfile.mkdtemp())
    csv_path = workdir / "transactions.csv"
    write_transactions_csv(csv_path, rows, customers)
    db = Database(f"sqlite:///{workdir}/import.db")
    upgrade(db)
    started = time.perf_counter()
    summary = import_csv(db, "transactions", csv_path, actor=Actor.system("test"))
    first = time.perf_counter() - started
    started = time.perf_counter()
    again = import_csv(db, "transactions", csv_path, actor=Actor.system("test"))  # safe to repeat: all unchanged
    repeat = time.perf_counter() - started
    assert summary.inserted == rows and again.inserted == 0
    return {"rows": rows, "first_s": first, "repeat_s": repeat,
            "customers_created": summary.customers_created}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    figures = run(args.rows)
    print(f"import {figures['rows']:,} transactions into SQLite: {figures['first_s']:.1f} s "
          f"(repeat of the same file: {figures['repeat_s']:.1f} s; "
          f"{figures['customers_created']:,} customers created)")


if __name__ == "__main__":
    main()
