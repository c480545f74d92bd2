"""`make bench`: every figure of docs/BENCHMARKS.md, at realistic scale, in one run.

Each benchmark runs in its own process so memory and caches do not leak between them.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHES = [
    ["benchmarks/bench_gestures.py", "--backend", "sqlite"],
    ["benchmarks/bench_gestures.py", "--backend", "postgresql"],
    ["benchmarks/bench_import.py"],
    ["benchmarks/bench_tablet.py"],
    ["benchmarks/bench_payoff.py", "--postgres-server", "postgresql+psycopg://postgres@127.0.0.1:5432/test"],
    ["benchmarks/bench_outcomes.py"],
    ["benchmarks/bench_coverage.py", "--seeds", "40"],
    ["benchmarks/bench_report.py"],
    ["benchmarks/bench_api.py"],
    ["benchmarks/bench_load.py"],
]


def main() -> int:
    print(f"# Empowerment benchmarks — {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"# {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f} at the start", flush=True)
    failures = 0
    for bench in BENCHES:
        if not (ROOT / bench[0]).exists():
            print(f"- {bench[0]}: missing")
            continue
        started = time.perf_counter()
        result = subprocess.run([sys.executable, *bench], cwd=ROOT, capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        if result.returncode:
            failures += 1
            for line in result.stdout.strip().splitlines():  # the figures of a missed floor too
                print(f"- {line}")
            print(f"- {' '.join(bench)}: FAILED after {elapsed:.0f} s\n{result.stderr[-2000:]}")
            continue
        for line in result.stdout.strip().splitlines():
            print(f"- {line}")
        print(f"  ({' '.join(bench)}: {elapsed:.0f} s, load average {os.getloadavg()[0]:.1f})", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
