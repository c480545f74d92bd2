"""The outcomes table (services.outcomes): kept incrementally by the import, the tablet and merges,
it always equals a rebuild (Hypothesis over interleaved batches, SQLite and PostgreSQL); the payoff
linked from it equals the payoff linked from the transactions; as-of snapshots and a table a writer
bypassed fall back to the transactions."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from empowerment.analytics import PayoffRequest
from empowerment.analytics.linking import Outcomes, link_incidents
from empowerment.db import Database
from empowerment.errors import EmpowermentError
from empowerment.models import IncidentOutcome, OutcomesState, Role, Transaction
from empowerment.queries.frames import load_analytics_frames
from empowerment.services import outcomes
from empowerment.services.customers import merge_customers
from empowerment.services.gestures import LogRequest, log_gesture
from empowerment.services.importing import import_csv
from tests.factories import SYSTEM, actor_of, make_customer, make_employee, make_policy, make_team

CUSTOMERS = [f"C{i}" for i in range(4)]
START = datetime(2024, 1, 1)

stamp = st.builds(lambda day, hour: (START + timedelta(days=day, hours=hour)).isoformat(),
                  st.integers(0, 420), st.integers(0, 23))
transaction_rows = st.lists(st.tuples(st.integers(0, 19), st.sampled_from(CUSTOMERS), stamp,
                                      st.integers(-2_000, 10_000)), min_size=1, max_size=8)
incident_rows = st.lists(st.tuples(st.integers(0, 9), st.sampled_from(CUSTOMERS), stamp), min_size=1, max_size=4)
gesture_rows = st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9), stamp), min_size=1, max_size=3)
batches = st.lists(st.one_of(
    st.tuples(st.just("transactions"), transaction_rows),
    st.tuples(st.just("incidents"), incident_rows),
    st.tuples(st.just("gestures"), gesture_rows),
    st.tuples(st.just("tablet"), st.sampled_from(CUSTOMERS)),
    st.tuples(st.just("merge"), st.tuples(st.sampled_from(CUSTOMERS), st.sampled_from(CUSTOMERS))),
), min_size=1, max_size=6)


def _csv(kind: str, rows: list[tuple]) -> bytes:
    seen: dict[object, tuple] = {}
    for row in rows:
        seen.setdefault(row[0], row)  # one row per id in a file
    if kind == "transactions":
        lines = [f"T{i},{c},{t},{a / 100:.2f}" for i, c, t, a in seen.values()]
        header = "transaction_id,customer_id,occurred_at,amount"
    elif kind == "incidents":
        lines = [f"I{i},{c},{t},Noise" for i, c, t in seen.values()]
        header = "incident_id,customer_id,occurred_at,category"
    else:
        lines = [f"G{i},I{incident},E0,{t},comp,5.00" for i, incident, t in seen.values()]
        header = "gesture_id,incident_id,employee_id,occurred_at,type,cost"
    return ("\n".join([header, *lines]) + "\n").encode()


def _rows(db: Database) -> list[tuple]:
    columns = IncidentOutcome.__table__.c
    with db.read() as session:
        return [tuple(r) for r in session.execute(select(*columns).order_by(columns.incident_id)).all()]


@pytest.fixture
def shop(db: Database) -> Database:
    team = make_team(db, "FD")
    make_employee(db, "E0", team_id=team, name="Ana Staff", role=Role.STAFF)
    for code in CUSTOMERS:
        make_customer(db, code)
    make_policy(db, allowance_cents=10_000_000)
    outcomes.rebuild(db, SYSTEM)
    return db


def _apply(db: Database, batch: tuple, keys: itertools.count) -> None:
    kind, payload = batch
    try:
        if kind in ("transactions", "incidents", "gestures"):
            import_csv(db, kind, _csv(kind, payload), actor=SYSTEM)
        elif kind == "tablet":
            log_gesture(db, actor_of(db, "E0"), LogRequest("E0", payload, "comp", 500, category="Noise",
                                                           idempotency_key=f"k{next(keys)}"))
        else:
            merge_customers(db, SYSTEM, payload[0], payload[1], "same person")
    except EmpowermentError:
        pass  # a refusal (unknown incident, a customer already merged) is a fine outcome


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=batches)
def test_any_interleaving_of_batches_leaves_the_table_equal_to_a_rebuild(shop: Database, sequence: list) -> None:
    keys = itertools.count(int(datetime.now().timestamp() * 1000))
    for batch in sequence:
        _apply(shop, batch, keys)
    kept, recorded = _rows(shop), _state(shop)
    outcomes.rebuild(shop, SYSTEM)
    assert kept == _rows(shop)
    assert recorded == _state(shop)  # what the payoff checks to trust the table (counted, not rescanned)


def _state(db: Database) -> tuple:
    with db.read() as session:
        return tuple(session.execute(select(OutcomesState.transactions_count, OutcomesState.transactions_max_id,
                                            OutcomesState.transactions_latest_at)).one())


def _linked(frames_transactions: pd.DataFrame, frames: object, horizon: int) -> pd.DataFrame:
    f = frames  # AnalyticsFrames
    return link_incidents(f.incidents, f.gestures, frames_transactions, f.customers, f.as_of,  # type: ignore[attr-defined]
                          horizon, 72, by_episode=True)


def test_the_payoff_linked_from_the_table_equals_the_one_linked_from_the_transactions(shop: Database) -> None:
    rng = np.random.default_rng(3)
    for batch in range(3):
        rows = [(int(i), CUSTOMERS[int(rng.integers(0, 4))],
                 (START + timedelta(days=int(rng.integers(0, 500)), hours=int(rng.integers(0, 24)))).isoformat(),
                 int(rng.integers(-500, 9_000))) for i in range(batch * 40, batch * 40 + 40)]
        _apply(shop, ("transactions", rows), itertools.count())
        _apply(shop, ("incidents", [(int(i), CUSTOMERS[int(i) % 4],
                                     (START + timedelta(days=int(rng.integers(0, 400)))).isoformat())
                                    for i in range(batch * 3, batch * 3 + 3)]), itertools.count())
    stored = load_analytics_frames(shop, outcomes=True)
    plain = load_analytics_frames(shop)
    assert isinstance(stored.transactions, Outcomes) and not isinstance(plain.transactions, Outcomes)
    assert stored.as_of == plain.as_of
    for horizon in (30, 90, 180, 365):
        pd.testing.assert_frame_equal(_linked(stored.transactions, stored, horizon),
                                      _linked(plain.transactions, plain, horizon))
    from empowerment.analytics import compute_payoff

    request = PayoffRequest(as_of=plain.as_of, bootstrap=20)
    assert (compute_payoff(stored.incidents, stored.gestures, stored.transactions, stored.customers, request).to_json()
            == compute_payoff(plain.incidents, plain.gestures, plain.transactions, plain.customers, request).to_json())


def test_as_of_snapshots_and_a_bypassed_table_read_the_transactions(shop: Database) -> None:
    _apply(shop, ("transactions", [(1, "C0", "2024-02-01T10:00:00", 1_000)]), itertools.count())
    _apply(shop, ("incidents", [(1, "C0", "2024-01-20T10:00:00")]), itertools.count())
    assert isinstance(load_analytics_frames(shop, outcomes=True).transactions, Outcomes)
    as_of = load_analytics_frames(shop, as_of="2024-01-25", outcomes=True)
    assert not isinstance(as_of.transactions, Outcomes)
    with shop.write() as session:  # a writer that does not keep the outcomes
        customer = session.scalar(select(Transaction.customer_id))
        session.execute(insert(Transaction).values(code="T-raw", customer_id=customer,
                                                   occurred_at=datetime(2024, 2, 2), amount_cents=5))
    assert not isinstance(load_analytics_frames(shop, outcomes=True).transactions, Outcomes)
    outcomes.rebuild(shop, SYSTEM)
    assert isinstance(load_analytics_frames(shop, outcomes=True).transactions, Outcomes)


def test_the_table_has_a_column_pair_for_each_horizon_the_analytics_keeps() -> None:
    from empowerment.analytics.linking import OUTCOME_HORIZONS
    from empowerment.models.tables import OUTCOME_HORIZONS as STORED

    columns = set(IncidentOutcome.__table__.c.keys())
    assert STORED == OUTCOME_HORIZONS
    assert all({f"revenue_after_{h}_cents", f"revenue_before_{h}_cents"} <= columns for h in OUTCOME_HORIZONS)


def test_a_purchase_landing_between_the_prepared_row_and_the_write_is_not_lost(
        shop: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    # The tablet works out a new incident's row before the write lock; a purchase committed in
    # between (an import on another process) must show in the row, not be missed.
    from empowerment.clock import utc_now
    from empowerment.services import gestures

    real = outcomes.prepare_new_incident
    customer = CUSTOMERS[0]

    def prepare_then_a_purchase_lands(session, customer_id, occurred_at):  # type: ignore[no-untyped-def]
        prepared = real(session, customer_id, occurred_at)
        yesterday = (utc_now() - timedelta(days=1)).isoformat()  # in the row's prior-year revenue
        import_csv(shop, "transactions", _csv("transactions", [(1, customer, yesterday, 9_900)]), actor=SYSTEM)
        return prepared

    monkeypatch.setattr(gestures.outcomes, "prepare_new_incident", prepare_then_a_purchase_lands)
    log_gesture(shop, actor_of(shop, "E0"), LogRequest("E0", customer, "comp", 500, category="Noise",
                                                       idempotency_key="between"))
    kept = _rows(shop)
    outcomes.rebuild(shop, SYSTEM)
    assert kept == _rows(shop)


def test_a_large_refresh_keeps_the_outcomes_foreign_key(shop: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL drops the outcome rows' foreign key for a large refresh and adds it again: the
    rows are the rebuild's and the key still refuses an outcome of no incident."""
    monkeypatch.setattr(outcomes, "CHECK_KEYS_AFTER_ROWS", 2)
    _apply(shop, ("incidents", [(i, CUSTOMERS[i % 4], f"2024-01-{10 + i}T10:00:00") for i in range(6)]),
           itertools.count())
    _apply(shop, ("transactions", [(i, CUSTOMERS[i % 4], f"2024-02-{10 + i}T10:00:00", 500) for i in range(8)]),
           itertools.count())
    kept = _rows(shop)
    assert len(kept) == 6
    outcomes.rebuild(shop, SYSTEM)
    assert kept == _rows(shop)
    with pytest.raises(Exception, match="(?i)foreign key"), shop.write() as session:
        session.execute(insert(IncidentOutcome).values(**{**dict(zip(IncidentOutcome.__table__.c.keys(), kept[0], strict=True)),
                                                          "incident_id": 999_999}))
