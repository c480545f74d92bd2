"""The payoff read from the outcomes table (issue 15): 200k incidents / 5M transactions <= 2 s, with
app-process memory that does not grow with the number of transactions.

    python benchmarks/bench_outcomes.py [--incidents 200000] [--transactions 5000000 1000000]
                                        [--db-dir /tmp] [--bootstrap 200]

For each transaction count: the data of `bench_payoff` (its generator and file, reused when it
exists), migrated, then in child processes (peak RSS from the go-between of `bench_payoff`):
`python -m empowerment outcomes-rebuild` once, and `python -m empowerment payoff --format json`
(reading the table) `bench_payoff.RUNS` times. Prints one table; the load average is printed too,
because this machine is shared.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_payoff import GENERATOR, MEASURE, RUNS, synthesise, tables, time_cli, write_sqlite  # noqa: E402
from empowerment.db import Database, upgrade  # noqa: E402

FLOOR_SECONDS = {5_000_000: 2.0, 25_000_000: 5.0}  # the issue's: 200k / 5M <= 2 s (1M / 25M <= 5 s)


def prepared(path: Path, incidents: int, transactions: int) -> None:
    stamp = Path(f"{path}.generator")
    if not path.exists() or not stamp.exists() or stamp.read_text() != GENERATOR:
        stamp.unlink(missing_ok=True)
        write_sqlite(path, tables(synthesise(incidents, transactions)))
        stamp.write_text(GENERATOR)
    db = Database(f"sqlite:///{path}")
    try:
        upgrade(db)
    finally:
        db.dispose()


def rebuild(url: str) -> tuple[float, float, str]:
    command = [sys.executable, "-m", "empowerment", "outcomes-rebuild", "--database-url", url]
    done = subprocess.run([sys.executable, "-c", MEASURE, *command], cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"outcomes-rebuild failed: {done.stderr[-2000:]}")
    seconds, peak_kb = done.stderr.rsplit("MEASURED ", 1)[1].split()
    return float(seconds), int(peak_kb) / 1024, done.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=200_000)
    parser.add_argument("--transactions", type=int, nargs="+", default=[5_000_000, 1_000_000])
    parser.add_argument("--db-dir", type=Path, default=Path("/tmp"))
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--horizon", type=int, default=90)
    args = parser.parse_args(argv)
    figures: list[tuple[str, str]] = [("machine", f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")]
    missed = False
    for count in args.transactions:
        path = args.db_dir / f"emp_outcomes_{args.incidents}_{count}.db"
        started = time.perf_counter()
        prepared(path, args.incidents, count)
        label = f"{args.incidents:,} incidents / {count:,} transactions"
        figures.append((f"{label}: data ready (s)", f"{time.perf_counter() - started:.1f}"))
        url = f"sqlite:///{path}"
        seconds, peak, said = rebuild(url)
        figures.append((f"{label}: outcomes-rebuild, child (s / peak MB)", f"{seconds:.1f} / {peak:,.0f} ({said})"))
        runs = [time_cli(url, args.horizon, args.bootstrap) for _ in range(RUNS)]
        times = sorted(s for s, _, _ in runs)
        median = times[len(times) // 2]
        floor = FLOOR_SECONDS.get(count)
        verdict = "" if floor is None else f"; floor {floor:.0f} s {'met' if median <= floor else 'NOT met'}"
        missed |= floor is not None and median > floor
        figures.append((f"{label}: payoff from the table, CLI child, B={args.bootstrap}, median of {RUNS} (s)",
                        f"{median:.2f} ({', '.join(f'{s:.2f}' for s, _, _ in runs)}){verdict}"))
        figures.append((f"{label}: peak RSS of those children (MB)", f"{max(p for _, p, _ in runs):,.0f}"))
        figures.append((f"{label}: load average after", f"{os.getloadavg()[0]:.1f}"))
    width = max(len(name) for name, _ in figures)
    for name, value in figures:
        print(f"{name:<{width}}  {value}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
