"""The tablet benchmark's smoke (`benchmarks/bench_tablet.py`; 1M gestures in `make bench`): every
step of the desk's flow runs on a small bulk-built database, the gestures are logged and the walk-ins
created, and no step is absurdly slow even on a busy machine."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from sqlalchemy import func, select

from empowerment.models import Customer, Gesture
from empowerment.ui.session import get_db

ROOT = Path(__file__).resolve().parents[2]


def test_every_tablet_step_runs_at_small_scale(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_tablet", ROOT / "benchmarks" / "bench_tablet.py")
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    db = bench.build(tmp_path / "tablet.db", 2_000, customers=300)
    monkeypatch.setenv("EMPOWERMENT_DATABASE_URL", db.url)
    get_db.clear()
    try:
        samples = bench.time_page(db.url, rounds=2, customers=300)
    finally:
        get_db.clear()
    assert set(bench.STEPS) <= set(samples) and all(len(samples[s]) == 2 for s in bench.STEPS)
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Gesture).where(Gesture.source == "app")) == 2
        assert session.scalar(select(func.count()).select_from(Customer).where(Customer.name.like("Walk-in%"))) == 2
    slowest = max(max(v) for v in samples.values())
    print(f"slowest tablet step at 2,000 gestures: {slowest:.0f} ms")
    assert slowest < 5_000  # a smoke on a shared machine; the 300 ms floor is measured in make bench
    db.dispose()
