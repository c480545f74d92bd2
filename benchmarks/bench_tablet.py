"""The tablet page's rerun time with 1M gestures in the database (SQLite).

Builds the database with bulk inserts (100k customers, 1M incidents, 1M gestures), then drives
the real page with Streamlit's AppTest: sign-in state set, customer picked, form filled; times
reruns of the page as a person would trigger them (each widget change is one rerun).

    python benchmarks/bench_tablet.py [--gestures 1000000]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from empowerment.actor import Actor  # noqa: E402
from empowerment.db import Database, upgrade  # noqa: E402
from empowerment.models import Employee, Location, Period, Role, Team  # noqa: E402
from empowerment.services.policies import PolicyRequest, set_policy  # noqa: E402

TYPES = ["refund", "comp", "upgrade", "gift", "voucher", "personal_note", "time"]
CATEGORIES = ["Room not ready", "Noise", "Billing error", "Long wait", "Food & drink"]


def build(path: Path, gestures: int, customers: int = 100_000, employees: int = 60) -> Database:
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    with db.write() as session:
        session.add(Location(code="L1", name="Harbour Hotel"))
        session.flush()
        session.add(Team(code="FD", name="Front desk", location_id=1))
        session.flush()
        session.add_all(Employee(code=f"E{i}", name=f"Staff {i}", role=Role.STAFF, team_id=1)
                        for i in range(employees))
    set_policy(db, Actor.system("bench"), PolicyRequest("Default", allowance_cents=50_000, period=Period.MONTH))
    rng = np.random.default_rng(3)
    now = np.datetime64("2026-11-01T00:00:00")
    seconds = rng.integers(0, 2 * 365 * 86400, gestures)
    times = (now - seconds.astype("timedelta64[s]")).astype(str)
    customer_ids = rng.integers(1, customers + 1, gestures)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    conn.executemany("INSERT INTO customers (id, code, name, room, phone) VALUES (?, ?, ?, ?, ?)",
                     ((i, f"C{i}", f"Guest {i}", str(100 + i % 900), f"+44 7700 {i:06d}")
                      for i in range(1, customers + 1)))
    conn.executemany(
        "INSERT INTO incidents (id, code, customer_id, occurred_at, category, location_id, employee_id) "
        "VALUES (?, ?, ?, ?, ?, 1, ?)",
        ((i + 1, f"I{i}", int(customer_ids[i]), times[i], CATEGORIES[i % 5], i % employees + 1)
         for i in range(gestures)))
    conn.executemany(
        "INSERT INTO gestures (id, code, incident_id, customer_id, employee_id, occurred_at, type, "
        "cost_cents, note, status, source, needs_review, featured) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'logged', 'import', 0, 0)",
        ((i + 1, f"G{i}", i + 1, int(customer_ids[i]), i % employees + 1, times[i], TYPES[i % 7],
          int(i % 40) * 500, "Sorted it out" if i % 3 == 0 else None) for i in range(gestures)))
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()
    return db


def time_page(url: str, reruns: int) -> dict[str, float]:
    os.environ["EMPOWERMENT_DATABASE_URL"] = url
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "pages" / "log_recovery.py"), default_timeout=60)
    at.session_state["actor"] = Actor(employee_id=1, name="Staff 0", role=Role.STAFF, team_id=1)
    at.run()
    at.text_input(key="lr_query").set_value("C4242").run()
    at.button(key="lr_pick_C4242").click().run()
    at.pills(key="lr_category").set_value("Noise").run()
    at.pills(key="lr_type").set_value("comp").run()
    samples = []
    for i in range(reruns):
        at.text_input(key="lr_custom").set_value(f"{10 + i}.00")
        started = time.perf_counter()
        at.run()
        samples.append((time.perf_counter() - started) * 1000)
        assert not at.exception, at.exception
    samples.sort()
    return {"p50_ms": statistics.median(samples), "p95_ms": samples[int(0.95 * len(samples)) - 1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gestures", type=int, default=1_000_000)
    parser.add_argument("--reruns", type=int, default=30)
    args = parser.parse_args()
    path = Path(tempfile.mkdtemp()) / "tablet.db"
    started = time.perf_counter()
    build(path, args.gestures)
    built = time.perf_counter() - started
    figures = time_page(f"sqlite:///{path}", args.reruns)
    print(f"tablet page rerun with {args.gestures:,} gestures in SQLite: p50 {figures['p50_ms']:.0f} ms, "
          f"p95 {figures['p95_ms']:.0f} ms (AppTest, customer picked, amount typed; build {built:.0f} s)")


if __name__ == "__main__":
    main()
