"""The load benchmark's smoke (`benchmarks/bench_load.py`; the full run is in `make bench`): one
staff member and one manager in real Chromium against one Streamlit process on PostgreSQL, every
step finished and timed, memory read from the server process."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import PG_AVAILABLE
from tests.e2e.conftest import _need_browser

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_load", ROOT / "benchmarks" / "bench_load.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_two_browser_users_sign_in_log_and_open_team_and_payoff_all_timed() -> None:
    _need_browser()
    if not PG_AVAILABLE:
        pytest.skip("PostgreSQL not reachable")
    bench = _bench()
    template = bench.ensure_template(0.05)  # kept between runs: about 15 s the first time
    [level] = bench.run_target(template, "single", 1, [2], 1, False, seed=5, warm_up=False)
    assert level["failures"] == [] and level["success_rate"] == 1.0
    assert level["staff"] == 1 and level["managers"] == 1
    # staff: open, PIN, find, log, switch; manager: open, sign in, Payoff, Team
    assert level["attempted"] == level["succeeded"] == 9
    assert set(level["steps"]) == {"open the tablet", "PIN sign-in", "find a customer", "log a gesture",
                                   "switch user", "open the sign-in screen", "password sign-in (to Team)",
                                   "open Payoff", "open Team"}
    assert level["page load"]["n"] == 4 and level["action"]["n"] == 5
    assert level["rss_peak_mb"][0] >= level["rss_before_mb"][0] > 50
    assert "| one process | 2 (1 + 1) | 100% (9/9) |" in bench.table([level])
