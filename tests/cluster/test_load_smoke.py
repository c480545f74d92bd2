"""The load benchmark's smoke (`benchmarks/bench_load.py`; the full run is in `make bench`): one
staff member and one manager in real Chromium against one Streamlit process on PostgreSQL, every
step finished and timed, memory read from the server process. The benchmark runs as its own
process, as `make bench` runs it (its asyncio loop cannot run inside the sync Playwright loop the
other browser tests keep open)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PG_AVAILABLE
from tests.e2e.conftest import _need_browser

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.serial]


def test_two_browser_users_sign_in_log_and_open_team_and_payoff_all_timed(tmp_path: Path) -> None:
    _need_browser()
    if not PG_AVAILABLE:
        pytest.skip("PostgreSQL not reachable")
    out = tmp_path / "load.json"
    # the demo at scale 0.05 is kept as a template database: about 15 s the first time
    result = subprocess.run(
        [sys.executable, "benchmarks/bench_load.py", "--users", "2", "--targets", "single", "--rounds", "1",
         "--scale", "0.05", "--no-warm-up", "--seed", "5", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=280)
    assert result.returncode == 0, result.stderr[-3000:]
    [level] = json.loads(out.read_text())
    assert level["failures"] == [] and level["success_rate"] == 1.0
    assert level["staff"] == 1 and level["managers"] == 1
    # staff: open, PIN, find, log, switch; manager: open, sign in, Payoff, Team
    assert level["attempted"] == level["succeeded"] == 9
    assert set(level["steps"]) == {"open the tablet", "PIN sign-in", "find a customer", "log a gesture",
                                   "switch user", "open the sign-in screen", "password sign-in (to Team)",
                                   "open Payoff", "open Team"}
    assert level["page load"]["n"] == 4 and level["action"]["n"] == 5
    assert level["rss_peak_mb"][0] >= level["rss_before_mb"][0] > 50
    assert "| one process | 2 (1 + 1) | 100% (9/9) |" in result.stdout
    assert "largest passing level" in result.stdout
