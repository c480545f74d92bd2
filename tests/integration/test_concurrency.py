"""Sixteen processes spending against one budget at once can never overdraw it, and a key sent
by many tablets at once logs one gesture. Real processes, real connections, both backends."""

from __future__ import annotations

import multiprocessing as mp
from typing import Any

from sqlalchemy import func, select

from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.errors import SpendRefused
from empowerment.models import Gesture
from empowerment.services.gestures import LogRequest, log_gesture
from tests.factories import make_customer, make_employee, make_policy, make_team
from tests.integration.test_ledger_and_gestures import assert_ledger_matches_balances

WORKERS = 16
ATTEMPTS_PER_WORKER = 6
AMOUNT = "7.00"
ALLOWANCE_CENTS = 50_000  # 71 spends of 7.00 fit; 96 are attempted


def _spend_worker(url: str, employee: str, customers: list[str], key_prefix: str | None,
                  barrier: Any, results: Any) -> None:
    db = Database(url)
    barrier.wait()
    logged = refused = 0
    for attempt in range(ATTEMPTS_PER_WORKER):
        key = f"{key_prefix}" if key_prefix else None
        request = LogRequest(employee, customers[attempt % len(customers)], "comp", AMOUNT,
                             category="Noise", idempotency_key=key)
        try:
            result = log_gesture(db, Actor.system("worker"), request)
            logged += 0 if result.already_logged else 1
        except SpendRefused:
            refused += 1
    results.put((logged, refused))
    db.dispose()


def _run_workers(db: Database, employee: str, customers: list[str], key: str | None) -> list[tuple[int, int]]:
    db.dispose()  # no pooled connection may cross a fork
    ctx = mp.get_context("fork")
    barrier, results = ctx.Barrier(WORKERS), ctx.Queue()
    processes = [
        ctx.Process(target=_spend_worker, args=(db.url, employee, customers, key, barrier, results))
        for _ in range(WORKERS)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    return outcomes


def _setup(db: Database, **policy: int) -> tuple[str, list[str]]:
    employee = make_employee(db, "E1", team_id=make_team(db))
    customers = [make_customer(db, f"C{i}") for i in range(WORKERS)]
    make_policy(db, ALLOWANCE_CENTS, **policy)
    return employee, customers


def test_sixteen_tablets_spending_at_once_never_overdraw_the_budget(db: Database) -> None:
    employee, customers = _setup(db)
    outcomes = _run_workers(db, employee, customers, key=None)
    logged = sum(o[0] for o in outcomes)
    refused = sum(o[1] for o in outcomes)
    assert logged + refused == WORKERS * ATTEMPTS_PER_WORKER
    assert logged == ALLOWANCE_CENTS // 700  # every cent that fits is spent, and no more
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Gesture)) == logged
    assert_ledger_matches_balances(db)


def test_the_same_key_from_sixteen_tablets_logs_one_gesture(db: Database) -> None:
    employee, customers = _setup(db)
    outcomes = _run_workers(db, employee, customers, key="double-tap-1")
    assert sum(o[0] for o in outcomes) == 1
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Gesture)) == 1
    assert_ledger_matches_balances(db)


def test_sixteen_tablets_serving_one_guest_at_once_never_pass_the_daily_cap(db: Database) -> None:
    # The cap is a read-then-write check (sum today's gestures, then insert): only the budget-row
    # lock (PostgreSQL) or the single writer (SQLite) keeps it true under concurrency.
    employee, customers = _setup(db, customer_daily_cap_cents=5_000)
    outcomes = _run_workers(db, employee, customers[:1], key=None)
    assert sum(o[0] for o in outcomes) == 5_000 // 700
    with db.read() as session:
        total = session.scalar(select(func.sum(Gesture.cost_cents)))
        assert total is not None and total <= 5_000
