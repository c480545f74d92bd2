"""The JSON API through the running server (`streamlit run app.py`): batch ingest throughput
(transactions per second, 10,000-row batches) and the gesture call's latency with 16 concurrent
clients (each its own token and its own budget, as 16 integrations or tablets would be).

    python benchmarks/bench_api.py [--batches 10] [--per-client 50] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from empowerment.actor import Actor  # noqa: E402
from empowerment.db import Database, upgrade  # noqa: E402
from empowerment.models import Customer, Employee, Period, Role  # noqa: E402
from empowerment.services import api_tokens  # noqa: E402
from empowerment.services.policies import PolicyRequest, set_policy  # noqa: E402

CLIENTS = 16
ROWS_PER_BATCH = 10_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _fill(db: Database) -> tuple[str, list[str]]:
    system = Actor.system("bench")
    with db.write() as session:
        session.add(Employee(code="A1", name="Bench Admin", role=Role.ADMIN))
        session.add_all(Employee(code=f"E{i}", name=f"Writer {i}", role=Role.STAFF) for i in range(CLIENTS))
        session.add_all(Customer(code=f"C{i}", name=f"Guest {i}") for i in range(200))
    set_policy(db, system, PolicyRequest(name="Bench", allowance_cents=100_000_000, period=Period.MONTH,
                                         customer_daily_cap_cents=100_000_000))
    ingest = api_tokens.create_token(db, system, "bench ingest", "ingest", "A1", 1_000_000).token
    writers = [api_tokens.create_token(db, system, f"bench {i}", "log", f"E{i}", 1_000_000).token
               for i in range(CLIENTS)]
    return ingest, writers


def _start(url: str, folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "EMPOWERMENT_DATABASE_URL": url, "EMPOWERMENT_SECRET_KEY": "bench-" + "x" * 40,
           "EMPOWERMENT_DEMO_ON_EMPTY": "0", "PYTHONPATH": str(ROOT)}
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address",
         "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
                if answer.read().strip() == b"ok":
                    return process, base
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not start")


def _ingest(base: str, token: str, batches: int) -> float:
    headers = {"Authorization": f"Bearer {token}"}
    total, seconds = 0, 0.0
    with httpx.Client(base_url=f"{base}/api/v1", headers=headers, timeout=300) as client:
        for b in range(batches):
            rows = [{"transaction_id": f"B{b}-{i}", "customer_id": f"C{i % 200}",
                     "occurred_at": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T12:00:00", "amount": f"{5 + i % 300}.25"}
                    for i in range(ROWS_PER_BATCH)]
            started = time.perf_counter()
            answer = client.post("/transactions/batch", json={"rows": rows})
            seconds += time.perf_counter() - started
            answer.raise_for_status()
            total += answer.json()["inserted"]
    return total / seconds


def _gestures(base: str, tokens: list[str], per_client: int) -> list[float]:
    latencies: list[float] = []
    lock, barrier = threading.Lock(), threading.Barrier(len(tokens))

    def client(index: int) -> None:
        mine = []
        with httpx.Client(base_url=f"{base}/api/v1", headers={"Authorization": f"Bearer {tokens[index]}"},
                          timeout=60) as http:
            http.get("/me")  # warm the connection
            barrier.wait()
            for i in range(per_client):
                body = {"employee_id": f"E{index}", "customer_id": f"C{(index * 7 + i) % 200}", "type": "comp",
                        "amount": "3.50", "category": "Long wait"}
                started = time.perf_counter()
                answer = http.post("/gestures", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
                mine.append(time.perf_counter() - started)
                assert answer.status_code == 201, answer.text
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(tokens))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--per-client", type=int, default=50)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-api-"))
    url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
    db = Database(url)
    upgrade(db)
    ingest_token, writer_tokens = _fill(db)
    process, base = _start(db.url, folder)
    backend = db.dialect
    try:
        rate = _ingest(base, ingest_token, args.batches)
        print(f"API batch ingest ({backend}): {rate:,.0f} transactions/s "
              f"({args.batches} batches of {ROWS_PER_BATCH:,} rows through POST /api/v1/transactions/batch)")
        started = time.perf_counter()
        latencies = sorted(_gestures(base, writer_tokens, args.per_client))
        wall = time.perf_counter() - started
        p95 = latencies[int(0.95 * (len(latencies) - 1))]
        print(f"API gesture call ({backend}, {CLIENTS} concurrent clients, {len(latencies):,} calls): "
              f"p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
              f"max {latencies[-1] * 1000:.0f} ms, {len(latencies) / wall:,.0f} calls/s")
    finally:
        process.terminate()
        process.wait(timeout=20)
        db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
