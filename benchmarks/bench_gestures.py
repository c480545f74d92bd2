"""Gesture commit latency with 16 concurrent writers (separate processes, as 16 tablets).

Each writer logs gestures for its own employee; we time each `log_gesture` call (the whole
server-side unit of work: validation, lock, checks, ledger, audit, commit). The outcomes table
is built first, as `init` builds it, so each gesture (which opens an incident) also writes its
outcome row (`--no-outcomes`: as measured before the table existed).

    python benchmarks/bench_gestures.py [--backend sqlite|postgresql] [--per-writer 200]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from empowerment.actor import Actor  # noqa: E402
from empowerment.db import Database, upgrade  # noqa: E402
from empowerment.models import Customer, Employee, Period, Role  # noqa: E402
from empowerment.services import outcomes  # noqa: E402
from empowerment.services.gestures import LogRequest, log_gesture  # noqa: E402
from empowerment.services.policies import PolicyRequest, set_policy  # noqa: E402

WRITERS = 16


def _writer(url: str, index: int, per_writer: int, interval_ms: float, barrier: Any, out: Any) -> None:
    import random

    db = Database(url)
    actor = Actor.system("bench")
    log_gesture(db, actor, LogRequest(f"E{index}", "C0", "comp", "1", category="Noise"))  # warm-up
    pace = random.Random(index)
    barrier.wait()
    latencies = []
    for i in range(per_writer):
        if interval_ms:  # open loop: a tablet submits at random times, `interval_ms` apart on average
            time.sleep(pace.expovariate(1000 / interval_ms))
        request = LogRequest(f"E{index}", f"C{(index * per_writer + i) % 500}", "comp", "1.00",
                             category="Noise", idempotency_key=f"b-{index}-{i}")
        started = time.perf_counter()
        log_gesture(db, actor, request)
        latencies.append((time.perf_counter() - started) * 1000)
    out.put(latencies)


def prepare(url: str, outcomes_built: bool = True) -> Database:
    db = Database(url)
    upgrade(db)
    with db.write() as session:
        session.add_all(Employee(code=f"E{i}", name=f"Writer {i}", role=Role.STAFF) for i in range(WRITERS))
        session.add_all(Customer(code=f"C{i}", name=f"Guest {i}") for i in range(500))
    set_policy(db, Actor.system("bench"), PolicyRequest("Bench", allowance_cents=100_000_000, period=Period.YEAR))
    if outcomes_built:
        outcomes.rebuild(db, Actor.system("bench"))
    db.dispose()
    return db


def run(url: str, per_writer: int, interval_ms: float = 0, outcomes_built: bool = True) -> dict[str, float]:
    prepare(url, outcomes_built)
    ctx = mp.get_context("fork")
    barrier, out = ctx.Barrier(WRITERS + 1), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(url, i, per_writer, interval_ms, barrier, out)) for i in range(WRITERS)]
    for proc in procs:
        proc.start()
    barrier.wait()
    started = time.perf_counter()
    latencies = [x for _ in procs for x in out.get(timeout=600)]
    elapsed = time.perf_counter() - started
    for proc in procs:
        proc.join()
    latencies.sort()
    return {
        "commits": len(latencies),
        "p50_ms": statistics.median(latencies),
        "p95_ms": latencies[int(0.95 * len(latencies)) - 1],
        "max_ms": latencies[-1],
        "throughput_per_s": len(latencies) / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--per-writer", type=int, default=150)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--interval-ms", type=float, default=250,
                        help="mean time between one tablet's submits (open loop)")
    parser.add_argument("--pg-prefix", default="bench", help="name prefix of the PostgreSQL databases made (and dropped)")
    parser.add_argument("--no-outcomes", action="store_true", help="leave the outcomes table unbuilt")
    args = parser.parse_args()
    built = "outcomes built" if not args.no_outcomes else "outcomes not built"
    for label, interval in ((f"each tablet every ~{args.interval_ms:.0f} ms", args.interval_ms),
                            ("saturated, closed loop", 0.0)):
        url = _new_database(args)
        try:
            figures = run(url, args.per_writer, interval, not args.no_outcomes)
        finally:
            _drop_database(args, url)
        print(f"gesture commit, {WRITERS} concurrent writers, {args.backend} ({built}), {label}: "
              f"p50 {figures['p50_ms']:.1f} ms, p95 {figures['p95_ms']:.1f} ms, "
              f"max {figures['max_ms']:.1f} ms, {figures['throughput_per_s']:.0f} commits/s "
              f"({figures['commits']} commits)")


def _new_database(args: argparse.Namespace) -> str:
    if args.backend == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    import psycopg

    name = f"{args.pg_prefix}_{time.time_ns()}"
    with psycopg.connect(args.pg_url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return args.pg_url.rsplit("/", 1)[0] + "/" + name


def _drop_database(args: argparse.Namespace, url: str) -> None:
    if args.backend != "postgresql":
        return
    import psycopg

    with psycopg.connect(args.pg_url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


if __name__ == "__main__":
    main()
