"""Payoff figures worked out once and read by every process (`reports.computed`), on SQLite and
PostgreSQL: the stored view equals a fresh one field for field, is read (not worked out) on the
same data, is worked out again after any change of data but not after a sign-in, may be shown
stale only briefly and then says when it was worked out, and the command line prints the same
JSON from the store as afresh."""

from __future__ import annotations

import json
import numbers
from dataclasses import fields
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select, update

from empowerment.analytics import codec
from empowerment.analytics.payoff import PayoffView
from empowerment.analytics.result import Figure, GroupSummary, PayoffResult
from empowerment.cli import main
from empowerment.clock import utc_now
from empowerment.db import Database
from empowerment.models import ComputedResult
from empowerment.queries import frames as frame_queries
from empowerment.reports import computed
from empowerment.services import computed as computed_service
from tests.factories import SYSTEM
from tests.integration.test_queries import store_synthetic, synthetic


@pytest.fixture
def stocked(db: Database) -> Database:
    store_synthetic(db, *synthetic(300, 11))
    return db


def _frames(db: Database, calls: list[int]) -> computed.Frames:
    def load() -> frame_queries.AnalyticsFrames:
        calls.append(1)
        return frame_queries.load_analytics_frames(db, outcomes=True)
    return load


def assert_same(stored: Any, fresh: Any) -> None:
    """Field for field: frames equal with their dtypes, numbers exactly, NaN where NaN."""
    if isinstance(fresh, numbers.Real) and not isinstance(fresh, bool):  # np.float64 is read back as float
        assert isinstance(stored, numbers.Real) and (stored == fresh or (stored != stored and fresh != fresh))
        return
    assert type(stored) is type(fresh)
    if isinstance(fresh, pd.DataFrame):
        pd.testing.assert_frame_equal(stored, fresh, check_exact=True)
    elif isinstance(fresh, PayoffView | PayoffResult | Figure | GroupSummary):
        for field in fields(fresh):
            assert_same(getattr(stored, field.name), getattr(fresh, field.name))
    elif isinstance(fresh, dict):
        assert stored.keys() == fresh.keys()
        for key in fresh:
            assert_same(stored[key], fresh[key])
    elif isinstance(fresh, tuple | list):
        assert len(stored) == len(fresh)
        for a, b in zip(stored, fresh, strict=True):
            assert_same(a, b)
    else:
        assert stored == fresh


def test_a_stored_view_decodes_to_the_view_worked_out(stocked: Database) -> None:
    scope = computed.PayoffScope.default()
    version = frame_queries.data_version(stocked)
    fresh, note, _ = computed.page_view(stocked, SYSTEM, version, scope, _frames(stocked, []))
    assert fresh.result.overall.incidents > 0 and not fresh.curves.empty and fresh.breakdowns
    calls: list[int] = []
    stored, stored_note, worked_out_at = computed.page_view(stocked, SYSTEM, version, scope, _frames(stocked, calls))
    assert calls == [] and worked_out_at is None  # read, not worked out
    assert_same(stored, fresh)
    assert stored_note == note
    assert stored.result.to_json() == fresh.result.to_json()


def test_the_codec_refuses_what_it_does_not_know() -> None:
    with pytest.raises(TypeError):
        codec.dumps(object())
    with pytest.raises(ValueError):
        codec.loads(json.dumps({"format": codec.FORMAT + 1, "value": None}))
    with pytest.raises(KeyError):  # a type outside the list is never built, whatever the document says
        codec.loads(json.dumps({"format": codec.FORMAT, "value": {"type": "Popen", "fields": {"args": "ls"}}}))
    assert codec.loads(codec.dumps({"nan": float("nan"), "t": (1, "a")}))["t"] == (1, "a")


def test_new_data_is_worked_out_again_a_sign_in_is_not(stocked: Database) -> None:
    from empowerment.actor import Actor
    from empowerment.models import Role
    from empowerment.services import accounts, signin

    scope = computed.PayoffScope.default()
    version = frame_queries.data_version(stocked)
    computed.page_view(stocked, SYSTEM, version, scope, _frames(stocked, []))
    accounts.create_user(stocked, Actor.system("test"), username="sam", name="Sam Signin", role=Role.ADMIN,
                         password="sam-signs-in-often-1")
    after_write = frame_queries.data_version(stocked)
    assert after_write != version  # a new employee is audited: figures may change (a new team, ...)
    signin.authenticate(stocked, "sam", "sam-signs-in-often-1")
    with pytest.raises(Exception):  # noqa: B017 - any refusal
        signin.authenticate(stocked, "sam", "wrong password")
    assert frame_queries.data_version(stocked) == after_write  # sign-ins are no change of data

    calls: list[int] = []
    computed.page_view(stocked, SYSTEM, after_write, scope, _frames(stocked, calls), stale_seconds=0)
    assert calls == [1]  # other data: worked out again


def test_a_slow_view_of_older_data_is_shown_briefly_and_says_when(stocked: Database) -> None:
    scope = computed.PayoffScope.default()
    computed.page_view(stocked, SYSTEM, "older data", scope, _frames(stocked, []))
    calls: list[int] = []
    computed.page_view(stocked, SYSTEM, "newer data", scope, _frames(stocked, calls), stale_seconds=900)
    assert calls == [1]  # it was quick to work out: worked out again, never shown stale
    with stocked.write() as session:  # as if it had taken a chain's time
        session.execute(update(ComputedResult).values(seconds=computed.SLOW_SECONDS))
    calls.clear()
    _, _, worked_out_at = computed.page_view(stocked, SYSTEM, "even newer", scope, _frames(stocked, calls),
                                             stale_seconds=900)
    assert calls == [] and worked_out_at is not None
    with stocked.write() as session:  # worked out 20 minutes ago
        session.execute(update(ComputedResult).values(computed_at=utc_now() - timedelta(minutes=20)))
    _, _, worked_out_at = computed.page_view(stocked, SYSTEM, "even newer", scope, _frames(stocked, calls),
                                             stale_seconds=900)
    assert calls == [1] and worked_out_at is None


def test_the_worker_works_out_the_opening_view_and_the_page_then_reads_it(stocked: Database) -> None:
    assert computed.due(stocked)
    assert computed.refresh_default(stocked) is True
    assert not computed.due(stocked)
    assert computed.refresh_default(stocked) is False  # stored for this data: nothing to do
    version = frame_queries.data_version(stocked)
    calls: list[int] = []
    computed.page_view(stocked, SYSTEM, version, computed.PayoffScope.default(), _frames(stocked, calls))
    computed.what_works_view(stocked, SYSTEM, version, computed.PayoffScope.default(), computed.DEFAULT_BREAKDOWN,
                             None, _frames(stocked, calls))
    computed.categories(stocked, SYSTEM, version, _frames(stocked, calls))
    assert calls == []


def test_only_the_newest_figures_are_kept(stocked: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(computed_service, "KEPT", 3)
    for n in range(5):
        computed_service.store(stocked, SYSTEM, f"key {n}", "test", "v", [n], 0.0)
    computed_service.store(stocked, SYSTEM, "key 4", "test", "v2", [44], 0.0)  # replaced, not added
    with stocked.read() as session:
        kept = session.query(ComputedResult.key, ComputedResult.data_version).order_by(ComputedResult.id).all()
    assert [tuple(row) for row in kept] == [("key 2", "v"), ("key 3", "v"), ("key 4", "v2")]


def test_the_command_line_prints_the_same_figures_from_the_store_as_afresh(
        stocked: Database, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["payoff", "--database-url", stocked.url, "--format", "json", "--location", "north"]
    assert main(args) == 0  # worked out and stored
    first = capsys.readouterr().out
    with stocked.read() as session:
        assert session.query(ComputedResult).count() == 1
    assert main(args) == 0  # read
    assert capsys.readouterr().out == first
    assert main([*args, "--fresh"]) == 0
    assert capsys.readouterr().out == first
    assert main([*args, "--seed", "1"]) == 0  # another request than the page's: worked out, not stored
    with stocked.read() as session:
        assert session.query(ComputedResult).count() == 1


def test_the_notification_worker_works_the_opening_view_out_in_the_background(
        stocked: Database, capsys: pytest.CaptureFixture[str]) -> None:
    from empowerment.cli import connect

    job: dict[str, Any] = {}
    connect._payoff_round(stocked, job)
    job["thread"].join(timeout=120)
    assert "Payoff worked out ahead in" in capsys.readouterr().out
    assert not computed.due(stocked)
    connect._payoff_round(stocked, job)  # within the minute: not even asked again
    assert not job["thread"].is_alive()


def test_figures_that_cannot_be_stored_are_still_shown(stocked: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(computed_service, "store", refuse)
    view, _, _ = computed.page_view(stocked, SYSTEM, frame_queries.data_version(stocked), computed.PayoffScope.default(),
                                    _frames(stocked, []))
    assert view.result.overall.incidents > 0


# --- what was read lately is kept fresh by the worker ----------------------------------------------


def _row(db: Database, key: str) -> ComputedResult | None:
    with db.read() as session:
        return session.query(ComputedResult).filter_by(key=key).one_or_none()


def _change_the_data(db: Database) -> None:
    """An audited write (a new employee): every stored figure is then on older data."""
    from empowerment.actor import Actor
    from empowerment.models import Role
    from empowerment.services import accounts

    accounts.create_user(db, Actor.system("test"), username=f"new{utc_now():%H%M%S%f}", name="New Person",
                         role=Role.ADMIN, password="a-new-person-joins-1")


def _worked_out_long_ago(db: Database) -> None:
    """As if every stored figure had been worked out 10 minutes ago (the worker waits 5)."""
    with db.write() as session:
        session.execute(update(ComputedResult).values(computed_at=utc_now() - timedelta(minutes=10)))


LOCATION = computed.PayoffScope(location="north")
MY_TEAMS = computed.PayoffScope(team=("front desk", "support"), horizon_days=30)


def _key(scope: computed.PayoffScope) -> str:
    return computed.key_of("payoff view", scope.parameters())


def test_a_read_is_recorded_with_what_was_asked(stocked: Database) -> None:
    version = frame_queries.data_version(stocked)
    computed.refresh_default(stocked)  # worked out ahead: nobody read it yet
    default = _row(stocked, _key(computed.PayoffScope.default()))
    assert default is not None and default.read_at is None
    assert json.loads(default.parameters or "") == json.loads(computed.parameters_text(
        computed.PayoffScope.default().parameters()))

    computed.page_view(stocked, SYSTEM, version, LOCATION, _frames(stocked, []))  # worked out by its reader
    row = _row(stocked, _key(LOCATION))
    assert row is not None and row.read_at is not None and json.loads(row.parameters or "")["location"] == "north"
    assert computed.PayoffScope.from_parameters(json.loads(row.parameters or "")) == LOCATION

    computed.page_view(stocked, SYSTEM, version, computed.PayoffScope.default(), _frames(stocked, []))
    read = _row(stocked, _key(computed.PayoffScope.default()))
    assert read is not None and read.read_at is not None  # read from the store: recorded

    a_minute_ago = utc_now() - timedelta(minutes=1)
    with stocked.write() as session:
        session.execute(update(ComputedResult).values(read_at=a_minute_ago))
    computed.page_view(stocked, SYSTEM, version, LOCATION, _frames(stocked, []))
    again = _row(stocked, _key(LOCATION))
    assert again is not None and again.read_at == a_minute_ago  # at most every few minutes: no write per rerun


def test_a_failing_read_mark_never_costs_the_reader_the_figures(stocked: Database,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    version = frame_queries.data_version(stocked)
    computed.refresh_default(stocked)

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise OSError("database is locked")

    monkeypatch.setattr(computed_service, "record_read", refuse)
    calls: list[int] = []
    view, _, _ = computed.page_view(stocked, SYSTEM, version, computed.PayoffScope.default(), _frames(stocked, calls))
    assert calls == [] and view.result.overall.incidents > 0


def test_a_read_mark_does_not_wait_behind_a_long_write(stocked: Database) -> None:
    """SQLite: while an import holds the writer's turn, a reader gets its figures at once and the
    mark is skipped (it would otherwise wait up to the database wait, 30 s)."""
    import time

    if stocked.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL has no single writer's turn")
    version = frame_queries.data_version(stocked)
    computed.refresh_default(stocked)
    key = computed.key_of("payoff view", computed.PayoffScope.default().parameters())
    with stocked.writer_turn():  # another writer's long unit
        started = time.perf_counter()
        view, _, _ = computed.page_view(stocked, SYSTEM, version, computed.PayoffScope.default(),
                                        _frames(stocked, []))
        waited = time.perf_counter() - started
    assert view.result.overall.incidents > 0
    assert waited < computed_service.READ_MARK_WAIT_SECONDS + 1.0
    with stocked.read() as session:
        assert session.scalar(select(ComputedResult.read_at).where(ComputedResult.key == key)) is None


def test_the_worker_works_out_again_what_was_read_lately_after_a_change(
        stocked: Database, capsys: pytest.CaptureFixture[str]) -> None:
    from empowerment.cli import connect

    version = frame_queries.data_version(stocked)
    computed.refresh_default(stocked)
    computed.page_view(stocked, SYSTEM, version, LOCATION, _frames(stocked, []))  # a reader's own scopes
    computed.what_works_view(stocked, SYSTEM, version, MY_TEAMS, "category", None, _frames(stocked, []))
    _change_the_data(stocked)
    assert not computed.due(stocked)  # worked out under five minutes ago: not yet
    _worked_out_long_ago(stocked)
    assert computed.due(stocked)
    read_before = _row(stocked, _key(LOCATION)).read_at  # type: ignore[union-attr]

    job: dict[str, Any] = {}
    connect._payoff_round(stocked, job)
    job["thread"].join(timeout=300)
    said = capsys.readouterr().out
    assert "Payoff worked out ahead" in said and "2 figures read lately worked out again" in said
    assert not computed.due(stocked)

    after = frame_queries.data_version(stocked)
    calls: list[int] = []
    view, _, worked_out_at = computed.page_view(stocked, SYSTEM, after, LOCATION, _frames(stocked, calls),
                                                stale_seconds=0)
    computed.what_works_view(stocked, SYSTEM, after, MY_TEAMS, "category", None, _frames(stocked, calls),
                             stale_seconds=0)
    assert calls == [] and worked_out_at is None  # read for today's data, not worked out
    assert _row(stocked, _key(LOCATION)).read_at == read_before  # type: ignore[union-attr]  # the worker is no reader
    assert_same(view, computed.page_view(stocked, SYSTEM, after, LOCATION, _frames(stocked, []), reading=False)[0])


def test_the_worker_keeps_to_its_time_and_to_what_was_read_in_the_last_day(stocked: Database) -> None:
    version = frame_queries.data_version(stocked)
    scopes = [LOCATION, MY_TEAMS, computed.PayoffScope(horizon_days=180), computed.PayoffScope(horizon_days=365)]
    for scope in scopes:
        computed.page_view(stocked, SYSTEM, version, scope, _frames(stocked, []))
    now = utc_now()
    with stocked.write() as session:  # read 1 and 2 hours ago, 2 days ago, and never (worked out ahead)
        for scope, read_at in zip(scopes, (now - timedelta(hours=1), now - timedelta(hours=2),
                                           now - timedelta(days=2), None), strict=True):
            session.execute(update(ComputedResult).where(ComputedResult.key == _key(scope)).values(read_at=read_at))
    _change_the_data(stocked)
    _worked_out_long_ago(stocked)

    assert computed.refresh_read_lately(stocked, seconds=0) == 1  # out of time: only the last read one
    after = frame_queries.data_version(stocked)
    assert [_row(stocked, _key(scope)).data_version == after for scope in scopes] == [  # type: ignore[union-attr]
        True, False, False, False]
    _worked_out_long_ago(stocked)
    assert computed.refresh_read_lately(stocked) == 1  # the other one read today; not the older or unread
    assert [_row(stocked, _key(scope)).data_version == after for scope in scopes] == [  # type: ignore[union-attr]
        True, True, False, False]  # the first was already on today's data: not worked out again


def test_a_figure_of_another_release_is_worked_out_under_its_new_key(stocked: Database) -> None:
    version = frame_queries.data_version(stocked)
    computed.page_view(stocked, SYSTEM, version, LOCATION, _frames(stocked, []))
    with stocked.write() as session:  # as if stored by the release before (the code is in the key)
        session.execute(update(ComputedResult).values(key="0" * 64))
    _change_the_data(stocked)
    _worked_out_long_ago(stocked)
    assert computed.refresh_read_lately(stocked) == 1
    assert _row(stocked, "0" * 64) is None
    assert _row(stocked, _key(LOCATION)).data_version == frame_queries.data_version(stocked)  # type: ignore[union-attr]


def test_pruning_keeps_what_was_read_lately(stocked: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(computed_service, "KEPT", 3)
    for n in range(3):
        computed_service.store(stocked, SYSTEM, f"key {n}", "test", "v", [n], 0.0)
    an_hour_ago = utc_now() - timedelta(hours=1)
    with stocked.write() as session:  # all worked out an hour ago; key 0 read just now
        session.execute(update(ComputedResult).values(computed_at=an_hour_ago, read_at=an_hour_ago))
        session.execute(update(ComputedResult).where(ComputedResult.key == "key 0").values(read_at=utc_now()))
    computed_service.store(stocked, SYSTEM, "key 3", "test", "v", [3], 0.0, read=False)  # worked out ahead
    with stocked.read() as session:
        kept = set(session.scalars(select(ComputedResult.key)))
    assert kept == {"key 0", "key 2", "key 3"}  # the one used longest ago went


# --- the joint report reads its stored figures -----------------------------------------------------


def test_the_joint_report_from_the_store_is_the_report_worked_out(db: Database,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import datetime

    from empowerment.reports import ReportRequest, assemble, build_joint_report
    from empowerment.reports.render_csv import render_csv
    from empowerment.reports.render_html import render_html
    from tests.integration.test_reports import PERIOD, SECRET, build_hotel, hr_actor

    build_hotel(db)
    reader = hr_actor(db)
    monkeypatch.setattr(assemble, "utc_now", lambda: datetime(2026, 11, 2, 9, 30))  # the one thing that differs
    request = ReportRequest(period=PERIOD, bootstrap=30, secret=SECRET)
    worked_out = build_joint_report(db, reader, request)
    with db.read() as session:
        kinds = list(session.scalars(select(ComputedResult.kind)))
    assert kinds == ["report payoff"]

    def no_analysis(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("worked out again instead of read")

    monkeypatch.setattr(computed, "analyse", no_analysis)
    from_store = build_joint_report(db, reader, request)
    assert render_csv(from_store) == render_csv(worked_out)
    for table in worked_out.tables:
        assert render_csv(from_store, table) == render_csv(worked_out, table)
    assert render_html(from_store) == render_html(worked_out)
    assert from_store.summary == worked_out.summary and from_store.warnings == worked_out.warnings
    assert_same(from_store.payoff, worked_out.payoff)

    monkeypatch.undo()
    _change_the_data(db)
    _worked_out_long_ago(db)
    assert computed.refresh_read_lately(db) == 1  # the worker keeps the report fresh too
    monkeypatch.setattr(computed, "analyse", no_analysis)
    monkeypatch.setattr(assemble, "utc_now", lambda: datetime(2026, 11, 2, 9, 30))
    assert render_html(build_joint_report(db, reader, request)) == render_html(worked_out)  # same data underneath
