"""AppTests for the Payoff page on a migrated SQLite copy stocked with a synthetic organisation."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import empowerment.analytics.payoff as payoff_module
from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.models import Employee, Role, TeamManager
from empowerment.queries import frames as frame_queries
from empowerment.reports.wording import OBSERVATIONAL as OBSERVATIONAL_WORDS
from empowerment.ui import components as ui
from empowerment.ui.session import get_db
from tests.conftest import fresh_sqlite
from tests.integration.test_queries import store_synthetic, synthetic

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "payoff.py")
LEAD = Actor(employee_id=None, name="Cleo Lead", role=Role.CX_LEAD)
OBSERVATIONAL = ui.md(OBSERVATIONAL_WORDS)


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _sqlite_template: str) -> Iterator[Database]:
    database = fresh_sqlite(_sqlite_template, tmp_path)
    store_synthetic(database, *synthetic(600, 3))  # a size and seed where the groups balance within 0.1 (cross-fitted engine)
    monkeypatch.setenv("EMPOWERMENT_DATABASE_URL", database.url)
    get_db.clear()
    st.cache_resource.clear()
    yield database
    get_db.clear()
    st.cache_resource.clear()
    database.dispose()


def page(actor: Actor | None = LEAD) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    if actor is not None:
        at.session_state["actor"] = actor
    return at.run()


def texts(at: AppTest) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption])


def test_visitors_sign_in_and_staff_are_refused(db: Database) -> None:
    assert "Sign in" in [t.value for t in page(None).title]
    staff = page(Actor(employee_id=1, name="Sam", role=Role.STAFF, team_id=1))
    assert not staff.exception
    assert "not available to your role" in staff.error[0].value


def test_the_headline_answers_in_plain_words_with_its_uncertainty(db: Database) -> None:
    at = page()
    assert not at.exception
    headline = [m.value for m in at.markdown]
    assert any("Recovery over all time is associated with customers coming back **" in line
               and "than comparable unrecovered ones (between " in line for line in headline)
    assert not any("95% CI" in line for line in headline)
    assert any(line.startswith("Gestures cost ") and "of extra margin (at a 30% contribution margin)" in line
               for line in headline)
    assert any(line.startswith("Of the first 90 days, recovered customers spent on average ")
               and "(between " in line and "as observed, not adjusted" in line for line in headline), headline
    assert [m.label for m in at.metric][:3] == ["90-day return, recovered",
                                                 "90-day return, others", "Adjusted uplift"]


def test_every_chart_has_a_caption_and_adjusted_ones_say_what_they_are(db: Database) -> None:
    at = page()
    captions = [c.value for c in at.caption]
    chart_count = len(at.get("arrow_vega_lite_chart")) or len(at.get("vega_lite_chart"))
    assert chart_count >= 8  # rates, curves, money, cost bands, 4 breakdowns
    adjusted = [c for c in captions if c.startswith(("Share of customers back within", "Spend on gestures per"))]
    assert len(adjusted) == 2 and all(OBSERVATIONAL in c and "not a randomised trial" in c for c in adjusted)
    for start in ("Share of customers back by each day", "Share back within 90 days by what was spent",
                  "Share back within 90 days by gesture type", "Share back within 90 days by team",
                  "How soon the first gesture came", "Share back within 90 days by speed"):
        assert any(c.startswith(start) for c in captions), start


def test_when_the_groups_do_not_overlap_the_page_says_so_instead_of_a_number(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    real = payoff_module.analyse

    def no_overlap(*args: Any, **kwargs: Any) -> Any:
        report, linked = real(*args, **kwargs)
        reason = "Poor overlap: 40% of recovered incidents have no comparable incidents."
        withheld = {name: getattr(report, name).with_reasons(reason) for name in report.figures}
        return dataclasses.replace(report, **withheld), linked

    monkeypatch.setattr(payoff_module, "analyse", no_overlap)
    at = page()
    words = texts(at)
    assert "**No adjusted estimate**" in words and "Poor overlap" in words
    assert "coming back **" not in words and "lost margin" not in words and "extra margin (" not in words
    assert at.metric[2].value == at.metric[4].value == at.metric[5].value == "—"
    assert "Not shown: Poor overlap" in at.metric[4].help
    assert ui.md("Average time without return up to 90 days: not shown: Poor overlap") in words
    assert "recovered customers spent on average" not in words


def test_filters_change_the_scope_and_the_horizon(db: Database) -> None:
    at = page()
    at.segmented_control(key="po_kind").set_value("Quarter").run()
    assert at.selectbox(key="po_quarter").options[0] == "2024-Q4"
    at.selectbox(key="po_quarter").set_value("2024-Q2").run()
    assert "in 2024-Q2" in at.markdown[0].value
    at.segmented_control(key="po_horizon").set_value(30).run()
    assert at.metric[0].label == "30-day return, recovered"
    at.selectbox(key="po_location").set_value("north").run()
    at.selectbox(key="po_team").set_value("support").run()
    assert not at.exception


def test_a_date_range_scopes_the_figures_and_half_a_range_asks_for_the_end(db: Database) -> None:
    at = page()
    at.segmented_control(key="po_kind").set_value("Dates").run()
    at.date_input(key="po_dates").set_value((date(2024, 3, 1), date(2024, 6, 30))).run()
    assert not at.exception
    assert "from 01 Mar 2024 to 30 Jun 2024" in texts(at)
    at.date_input(key="po_dates").set_value((date(2024, 3, 1),)).run()
    assert not at.exception and "Pick the last day too." in texts(at)


def test_a_manager_sees_only_their_teams(db: Database) -> None:
    with db.write() as session:  # the page re-reads the signed-in person's role and teams
        employee = session.get(Employee, 2)
        assert employee is not None and employee.team_id == 2
        employee.role = Role.MANAGER
        session.add(TeamManager(employee_id=2, team_id=2))
    manager = Actor(employee_id=2, name="Mo Manager", role=Role.MANAGER, team_id=2, managed_team_ids=frozenset({2}))
    at = page(manager)
    assert not at.exception
    assert at.selectbox(key="po_team").options == ["All my teams", "support"]


def test_a_warm_rerun_redraws_from_the_cache(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[int] = []
    real = frame_queries.load_analytics_frames
    monkeypatch.setattr(frame_queries, "load_analytics_frames", lambda *a, **k: loads.append(1) or real(*a, **k))
    at = page()
    assert len(loads) == 1
    # CPU time of this process, not wall time: other work on a shared machine does not count.
    started = time.process_time()
    at.run()
    warm = time.process_time() - started
    assert len(loads) == 1 and not at.exception
    assert warm < 2.0, warm  # about 0.2-0.5 s here; the benchmark measures it at 200k incidents
    at.segmented_control(key="po_horizon").set_value(180).run()
    at.selectbox(key="po_location").set_value("north").run()
    assert len(loads) == 1  # another horizon or filter reuses the frames


def test_the_method_is_named_in_plain_words_with_the_technical_detail_one_click_away(db: Database) -> None:
    at = page()
    assert not at.exception
    method = next(e for e in at.expander if e.label == "How this is worked out")
    words = "\n".join(m.value for m in method.markdown)
    assert ui.md("Observational estimate, not a randomised trial.") in words
    assert "doubly robust" in words and "fitted without that customer" in words
    assert not any("cross-fitted" in c.value for c in at.caption)  # the detail waits for the click
    from empowerment.reports.wording import CAUSAL_PHRASES

    flat = " ".join(texts(at).lower().replace("\\", "").split())
    assert not any(phrase in flat for phrase in CAUSAL_PHRASES)
    at.toggle(key="po_technical").set_value(True).run()
    assert any("cross-fitted over 3 folds of customers" in c.value and "two-part" in c.value for c in at.caption)


def test_what_works_is_adjusted_with_holm_named_and_raw_breakdowns_labelled_raw(db: Database) -> None:
    at = page()
    assert "What works?" in [s.value for s in at.subheader]
    words = texts(at)
    assert "Holm's correction" in words and "not enough cases yet" in words
    for column in ("first_gesture_type", "category", "team", "cost_band", "follow_up"):
        at.segmented_control(key="po_ww_by").set_value(column).run()
        assert not at.exception, column
        rows = [m.value for m in at.markdown if m.value.startswith("- **")]
        assert rows, column
        assert all(("associated with" in r and " points " in r) or "not enough cases yet" in r
                   or "no estimate" in r for r in rows), rows
    at.segmented_control(key="po_ww_by").set_value("first_gesture_type").run()
    at.selectbox(key="po_ww_within").set_value(at.selectbox(key="po_ww_within").options[1]).run()
    assert not at.exception
    assert "Raw shares by group, as observed (not adjusted)" in [e.label for e in at.expander]
    raw = [line for line in texts(at).splitlines() if line.startswith("Share back within 90 days by")]
    assert raw and all(line.endswith("as observed, not adjusted.") and "Raw" in line for line in raw)


def test_an_unreliable_group_shows_its_reason_never_a_number(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    import pandas as pd

    from empowerment.analytics import what_works

    frame = pd.DataFrame([
        {"level": "refund", "cases": 80, "estimate": 0.123, "low": 0.05, "high": 0.2, "p_value": 0.01,
         "p_holm": 0.02, "reliable": False, "reason": "Poor overlap: no comparable customers."},
        {"level": "comp", "cases": 12, "estimate": None, "low": None, "high": None, "p_value": None,
         "p_holm": None, "reliable": False, "reason": "Not enough data: 12 followed-up episodes (need 30)."}])
    monkeypatch.setattr(what_works, "payoff_breakdown", lambda *a, **k: frame)
    at = page()
    rows = [m.value for m in at.markdown if m.value.startswith("- **")]
    assert any("no estimate" in r and "Poor overlap" in r for r in rows) and any("not enough cases yet (12 so far" in r
                                                                       for r in rows)
    assert not any("12.3" in r or "+5.0" in r for r in rows)


def test_another_process_reads_the_stored_figures_and_says_when_they_are_of_older_data(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import update

    from empowerment.models import ComputedResult
    from empowerment.reports import computed

    def new_process() -> None:
        st.cache_data.clear()
        st.cache_resource.clear()
        get_db.clear()

    loads: list[int] = []
    real = frame_queries.load_analytics_frames
    monkeypatch.setattr(frame_queries, "load_analytics_frames", lambda *a, **k: loads.append(1) or real(*a, **k))
    first = texts(page())
    assert len(loads) == 1  # worked out here, and stored
    new_process()
    again = page()
    assert not again.exception and len(loads) == 1  # read: no incident loaded
    assert texts(again) == first and "Worked out at" not in first
    with db.write() as session:  # as if a gesture had come in since, on a chain where it took a while
        session.execute(update(ComputedResult).values(data_version="older", seconds=computed.SLOW_SECONDS))
    new_process()
    stale = texts(page())
    assert len(loads) == 1 and "Worked out at" in stale and "on the data as it was then" in stale
