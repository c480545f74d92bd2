"""Payoff at scale: 200k incidents and 5M transactions in SQLite, end to end.

    python benchmarks/bench_payoff.py [--incidents 200000 --transactions 5000000] [--keep]

1. Generates the data with the analytics' own synthetic model (selection bias, a known
   effect), tops the transactions up to the requested count with background purchases of the
   same customers (the worst case for the loader: every row is in scope), and bulk-inserts it
   into a migrated SQLite file under /tmp (vectorised, one transaction per table).
2. Times `python -m empowerment payoff --format json` in a child process, end to end from the
   database (import, SQL read, linking, adjusted effects with the bootstrap), and reports the
   child's peak RSS from `resource.getrusage(RUSAGE_CHILDREN)`.
3. Times the same naive figures (H-day return rate by group and revenue in the H days after)
   in DuckDB SQL over the same DataFrames: the yardstick for what a columnar engine does.
4. Times the Payoff page's warm rerun with AppTest (cache hit, charts rebuilt).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from empowerment.analytics.synthetic import DAY_NS, MINUTE_NS, Timeline, make_synthetic  # noqa: E402
from empowerment.analytics.synthetic import purchase_amounts as _amounts  # noqa: E402
from empowerment.db import Database  # noqa: E402
from empowerment.schema import upgrade  # noqa: E402

EMPLOYEES = 40
TEAMS = ("front desk", "support", "floor")
LOCATIONS = ("north", "south", "east", "west")
INSERT_CHUNK = 500_000


def _stamps(ns: np.ndarray) -> np.ndarray:
    """int64 ns -> 'YYYY-MM-DD HH:MM:SS.ffffff', the text SQLAlchemy stores in SQLite."""
    text = np.datetime_as_string(ns.view("datetime64[ns]").astype("datetime64[us]"), unit="us")
    return np.char.replace(text, "T", " ")


def _ns(series: pd.Series) -> np.ndarray:
    return series.to_numpy(dtype="datetime64[ns]").view("int64")


def _insert(conn: sqlite3.Connection, table: str, columns: dict[str, np.ndarray]) -> None:
    names = list(columns)
    sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    size = len(next(iter(columns.values())))
    for start in range(0, size, INSERT_CHUNK):
        stop = min(start + INSERT_CHUNK, size)
        parts = [columns[name][start:stop].tolist() for name in names]
        conn.executemany(sql, zip(*parts, strict=True))


def synthesise(n_incidents: int, n_transactions: int, seed: int = 7) -> dict[str, pd.DataFrame]:
    timeline = Timeline()
    incidents, gestures, txns, customers, _truth = make_synthetic(n_incidents, seed, timeline=timeline)
    rng = np.random.default_rng(seed + 1)
    missing = n_transactions - len(txns)
    if missing > 0:  # background purchases of the same customers over the whole timeline
        start = pd.Timestamp(timeline.start).value
        span = (timeline.as_of.value - start) // MINUTE_NS
        extra = pd.DataFrame({
            "customer_id": rng.integers(1, n_incidents + 1, missing),
            "occurred_at": pd.Series(
                (start + rng.integers(0, span, missing) * MINUTE_NS).astype("datetime64[ns]")),
            "amount_cents": _amounts(rng, missing),
        })
        txns = pd.concat([txns, extra], ignore_index=True)
    # rows arrive in time order, as a till or a nightly import writes them
    txns = txns.iloc[rng.permutation(len(txns))[:n_transactions]]
    txns = txns.sort_values("occurred_at", kind="stable", ignore_index=True)
    return {"incidents": incidents, "gestures": gestures, "transactions": txns,
            "customers": customers}


def write_sqlite(path: Path, frames: dict[str, pd.DataFrame]) -> None:
    if path.exists():
        path.unlink()
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    database = Database(f"sqlite:///{path}")
    upgrade(database)
    database.dispose()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    loc_ids = np.arange(1, len(LOCATIONS) + 1)
    _insert(conn, "locations", {"id": loc_ids, "code": np.array(LOCATIONS), "name": np.array(LOCATIONS)})
    team_ids = np.arange(1, len(TEAMS) + 1)
    _insert(conn, "teams", {"id": team_ids, "code": np.array(TEAMS), "name": np.array(TEAMS),
                            "location_id": (team_ids - 1) % len(LOCATIONS) + 1})
    emp_ids = np.arange(1, EMPLOYEES + 1)
    _insert(conn, "employees", {
        "id": emp_ids, "code": np.array([f"E{i:03d}" for i in emp_ids]),
        "name": np.array([f"Staff {i}" for i in emp_ids]), "role": np.full(EMPLOYEES, "staff"),
        "team_id": (emp_ids - 1) % len(TEAMS) + 1,
    })
    customers = frames["customers"]
    ids = customers["customer_id"].to_numpy()
    first_seen = customers["first_seen_at"]
    _insert(conn, "customers", {
        "id": ids, "code": np.char.add("C", ids.astype(str)), "name": np.char.add("Guest ", ids.astype(str)),
        "first_seen_at": np.where(first_seen.isna().to_numpy(), None,
                                  _stamps(_ns(first_seen.fillna(pd.Timestamp(0))))),
    })
    incidents = frames["incidents"]
    ids = incidents["incident_id"].to_numpy()
    location = pd.Categorical(incidents["location"].replace("", None), categories=LOCATIONS).codes
    team = pd.Categorical(incidents["team"], categories=TEAMS).codes
    # the employee who recorded the incident belongs to the incident's team
    employee = team + 1 + len(TEAMS) * (ids % (EMPLOYEES // len(TEAMS)))
    _insert(conn, "incidents", {
        "id": ids, "code": np.char.add("I", ids.astype(str)),
        "customer_id": incidents["customer_id"].to_numpy(),
        "occurred_at": _stamps(_ns(incidents["occurred_at"])),
        "category": incidents["category"].to_numpy().astype(str),
        "location_id": np.where(location >= 0, location + 1, None), "employee_id": employee,
    })
    gestures = frames["gestures"]
    ids = gestures["gesture_id"].to_numpy()
    _insert(conn, "gestures", {
        "id": ids, "code": np.char.add("G", ids.astype(str)),
        "incident_id": gestures["incident_id"].to_numpy(),
        "customer_id": gestures["customer_id"].to_numpy(),
        "employee_id": gestures["employee_id"].to_numpy(),
        "occurred_at": _stamps(_ns(gestures["occurred_at"])),
        "type": np.char.replace(gestures["type"].to_numpy().astype(str), " ", "_"),
        "cost_cents": gestures["cost_cents"].to_numpy(),
        "status": np.where(gestures["voided"].to_numpy(dtype=bool), "voided", "logged"),
        "source": np.full(len(gestures), "import"),
    })
    txns = frames["transactions"]
    ids = np.arange(1, len(txns) + 1)
    _insert(conn, "transactions", {
        "id": ids, "code": np.char.add("T", ids.astype(str)),
        "customer_id": txns["customer_id"].to_numpy(),
        "occurred_at": _stamps(_ns(txns["occurred_at"])),
        "amount_cents": txns["amount_cents"].to_numpy(),
    })
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
