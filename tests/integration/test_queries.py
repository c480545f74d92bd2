"""The analytics read side on SQLite and PostgreSQL: frames equal a plain read, the payoff from the
database equals the payoff from the same data in memory, filters scope everything, and the data
version moves after every kind of write."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import insert, select, update

from empowerment.actor import Actor
from empowerment.analytics import PayoffRequest, compute_payoff, make_synthetic
from empowerment.db import Database
from empowerment.models import (
    AuditEvent,
    Customer,
    Employee,
    Gesture,
    Incident,
    Location,
    Team,
    Transaction,
)
from empowerment.queries import frames as frame_queries
from empowerment.queries.frames import parsing, reader
from empowerment.services.importing import import_csv

TEAMS = ("front desk", "support", "floor")
EMPLOYEES = 12


# --- writing a synthetic organisation -------------------------------------------------------------

def _py(value: Any) -> Any:
    return None if pd.isna(value) else pd.Timestamp(value).to_pydatetime()


def store_synthetic(db: Database, incidents: pd.DataFrame, gestures: pd.DataFrame,
                    transactions: pd.DataFrame, customers: pd.DataFrame) -> None:
    """Write analytics.synthetic frames with their own ids (employees of the incident's team record
    it; gesture employees keep their number, their team is (number - 1) % 3)."""
    names = sorted({str(x) for x in incidents["location"].dropna() if str(x)})
    location_id = {name: i + 1 for i, name in enumerate(names)}
    with db.write() as session:
        conn = session.connection()
        if names:
            conn.execute(insert(Location.__table__), [{"id": i, "code": n, "name": n} for n, i in location_id.items()])
        conn.execute(insert(Team.__table__), [{"id": i + 1, "code": t, "name": t} for i, t in enumerate(TEAMS)])
        conn.execute(insert(Employee.__table__), [
            {"id": e, "code": f"E{e:03d}", "name": f"Staff {e}", "role": "staff", "team_id": (e - 1) % len(TEAMS) + 1}
            for e in range(1, EMPLOYEES + 1)])
        conn.execute(insert(Customer.__table__), [
            {"id": int(c), "code": f"C{c}", "name": f"Guest {c}", "first_seen_at": _py(f)}
            for c, f in zip(customers["customer_id"], customers["first_seen_at"], strict=True)])
        conn.execute(insert(Incident.__table__), [
            {"id": int(r.incident_id), "code": f"I{r.incident_id}", "customer_id": int(r.customer_id),
             "occurred_at": _py(r.occurred_at), "category": r.category,
             "location_id": location_id.get(r.location) if isinstance(r.location, str) else None,
             "employee_id": TEAMS.index(r.team) + 1 if isinstance(r.team, str) else None}
            for r in incidents.itertuples()])
        if len(gestures):
            conn.execute(insert(Gesture.__table__), [
                {"id": int(r.gesture_id), "code": f"G{r.gesture_id}", "incident_id": int(r.incident_id),
                 "customer_id": int(r.customer_id), "employee_id": (int(r.employee_id) - 1) % EMPLOYEES + 1,
                 "occurred_at": _py(r.occurred_at), "type": str(r.type).replace(" ", "_"),
                 "cost_cents": int(r.cost_cents), "status": "voided" if r.voided else "logged", "source": "import"}
                for r in gestures.itertuples()])
        conn.execute(insert(Transaction.__table__), [
            {"id": i + 1, "code": f"T{i + 1}", "customer_id": int(c), "occurred_at": _py(t), "amount_cents": int(a)}
            for i, (c, t, a) in enumerate(zip(transactions["customer_id"], transactions["occurred_at"],
                                              transactions["amount_cents"], strict=True))])
        if db.dialect == "postgresql":
            for table in ("locations", "teams", "employees", "customers", "incidents", "gestures", "transactions"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 1)) FROM {table}")


def synthetic(n: int = 400, seed: int = 3) -> tuple[pd.DataFrame, ...]:
    """Synthetic frames as the database holds them: times to the microsecond, 12 employees."""
    incidents, gestures, transactions, customers, _ = make_synthetic(n, seed)
    gestures = gestures.assign(employee_id=(gestures["employee_id"] - 1) % EMPLOYEES + 1)
    frames = []
    for frame in (incidents, gestures, transactions, customers):
        column = "first_seen_at" if "first_seen_at" in frame else "occurred_at"
        frames.append(frame.assign(**{column: frame[column].dt.floor("us")}))
    return tuple(frames)


def assert_same_report(got: Any, want: Any) -> None:
    """Equal, numbers to 1e-9 relative (float sums may run in another order)."""
    if isinstance(want, dict):
        assert got.keys() == want.keys()
        for key in want:
            assert_same_report(got[key], want[key])
    elif isinstance(want, list):
        assert len(got) == len(want)
        for a, b in zip(got, want, strict=True):
            assert_same_report(a, b)
    elif isinstance(want, float):
        assert got == pytest.approx(want, rel=1e-9, abs=1e-12)
    else:
        assert got == want


@pytest.fixture
def org(db: Database) -> tuple[Database, tuple[pd.DataFrame, ...]]:
    frames = synthetic()
    store_synthetic(db, *frames)
    return db, valued(frames)


def valued(frames: tuple[pd.DataFrame, ...]) -> tuple[pd.DataFrame, ...]:
    """The in-memory frames as the database reads them: non-cash gestures at their value (the
    default vocabulary: staff time at its hourly rate)."""
    from empowerment.analytics.linking import valued_cents
    from empowerment.models.vocabulary import build_vocabulary

    incidents, gestures, *rest = frames
    values = valued_cents(gestures, build_vocabulary([]).staff_hourly_rates())
    return (incidents, gestures.assign(valued_cents=values), *rest)


# --- frames ---------------------------------------------------------------------------------------

def test_frames_have_the_contract_dtypes_and_transactions_come_sorted(org) -> None:  # type: ignore[no-untyped-def]
    db, (incidents, gestures, transactions, customers) = org
    frames = frame_queries.load_analytics_frames(db)
    assert list(frames.incidents.columns) == ["incident_id", "customer_id", "occurred_at", "category",
                                              "location", "team", "followed_up"]
    assert frames.incidents["followed_up"].dtype == bool  # issue 13: for the payoff's follow-up breakdown
    assert list(frames.gestures.columns) == [*frame_queries.GESTURE_KINDS, "valued_cents"]  # non-cash at value
    assert frames.gestures["valued_cents"].dtype == np.int64
    assert list(frames.transactions.columns) == ["customer_id", "occurred_at", "amount_cents"]
    assert list(frames.customers.columns) == ["customer_id", "first_seen_at"]
    for frame in (frames.incidents, frames.gestures, frames.transactions):
        assert frame["occurred_at"].dtype == "datetime64[ns]"
        assert frame["customer_id"].dtype == np.int64
    assert frames.transactions["amount_cents"].dtype == np.int64
    assert frames.gestures["voided"].dtype == bool
    assert isinstance(frames.incidents["category"].dtype, pd.CategoricalDtype)
    order = frames.transactions[["customer_id", "occurred_at"]]
    assert order.equals(order.sort_values(["customer_id", "occurred_at"], ignore_index=True))
    assert len(frames.incidents) == len(incidents) and len(frames.gestures) == len(gestures)
    assert len(frames.transactions) == len(transactions)
    assert frames.as_of == transactions["occurred_at"].max()


def test_frames_hold_exactly_the_stored_values(org) -> None:  # type: ignore[no-untyped-def]
    db, (incidents, gestures, transactions, customers) = org
    frames = frame_queries.load_analytics_frames(db)
    got = frames.transactions
    want = transactions.sort_values(["customer_id", "occurred_at", "amount_cents"], ignore_index=True)
    got = got.sort_values(["customer_id", "occurred_at", "amount_cents"], ignore_index=True)
    assert (got["occurred_at"].to_numpy() == want["occurred_at"].to_numpy().astype("datetime64[ns]")).all()
    assert (got["amount_cents"].to_numpy() == want["amount_cents"].to_numpy()).all()
    loaded = frames.incidents.set_index("incident_id")
    original = incidents.set_index("incident_id")
    assert (loaded["occurred_at"] == original["occurred_at"]).all()
    assert (loaded["category"].astype(str) == original["category"]).all()
    placed = original["location"].fillna("").astype(str)
    assert (loaded["location"].astype(object).fillna("") == placed).all()
    assert (loaded["team"].astype(str) == original["team"]).all()
    by_id = frames.gestures.set_index("gesture_id").sort_index()
    assert (by_id["voided"].to_numpy() == gestures.set_index("gesture_id").sort_index()["voided"].to_numpy()).all()
    assert (by_id["cost_cents"].to_numpy() == gestures.sort_values("gesture_id")["cost_cents"].to_numpy()).all()
    first_seen = frames.customers.set_index("customer_id")["first_seen_at"]
    known = customers.set_index("customer_id")["first_seen_at"]
    assert (first_seen[known.notna()] == known[known.notna()]).all()
    first_purchase = transactions.groupby("customer_id")["occurred_at"].min()
    unknown = known.index[known.isna()]
    pd.testing.assert_series_equal(first_seen[unknown], first_purchase.reindex(unknown), check_names=False)


def test_payoff_from_the_database_equals_payoff_in_memory(org) -> None:  # type: ignore[no-untyped-def]
    db, (incidents, gestures, transactions, customers) = org
    frames = frame_queries.load_analytics_frames(db)
    request = PayoffRequest(horizon_days=60, as_of=frames.as_of, bootstrap=30, seed=1)
    from_db = compute_payoff(frames.incidents, frames.gestures, frames.transactions, frames.customers, request)
    in_memory = compute_payoff(incidents, gestures, transactions, customers, request)
    assert_same_report(from_db.to_json(), in_memory.to_json())


@pytest.mark.parametrize("scope", [
    {"date_from": "2024-03-01", "date_to": "2024-06-30"},
    {"location": "north"},
    {"location": "(unknown)"},
    {"team": "support"},
    {"team": ["support", "floor"], "location": ["east", "west"]},
])
def test_filters_scope_incidents_exactly_as_the_analytics_does(org, scope: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    db, (incidents, gestures, transactions, customers) = org
    frames = frame_queries.load_analytics_frames(db, **scope)
    request = PayoffRequest(as_of=frames.as_of, bootstrap=0, **scope)
    from_db = compute_payoff(frames.incidents, frames.gestures, frames.transactions, frames.customers, request)
    in_memory = compute_payoff(incidents, gestures, transactions, customers, request)
    assert_same_report(from_db.to_json(), in_memory.to_json())
    assert 0 < len(frames.incidents) < len(incidents)
    scoped_customers = set(frames.incidents["customer_id"])
    assert set(frames.transactions["customer_id"]) <= scoped_customers
    assert set(frames.customers["customer_id"]) == scoped_customers
    assert set(frames.gestures["incident_id"]) <= set(frames.incidents["incident_id"])


def test_transactions_are_limited_to_the_lookback_window_and_as_of(org) -> None:  # type: ignore[no-untyped-def]
    db, (incidents, _, transactions, _) = org
    as_of = pd.Timestamp("2024-10-01")
    frames = frame_queries.load_analytics_frames(db, date_from="2024-06-01", as_of=as_of, lookback_days=30)
    first = frames.incidents["occurred_at"].min()
    assert frames.transactions["occurred_at"].min() >= first - pd.Timedelta(days=30)
    assert frames.transactions["occurred_at"].max() <= as_of
    assert frames.as_of == as_of


def test_sqlite_index_path_and_chunked_scan_read_the_same_rows(sqlite_db: Database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    store_synthetic(sqlite_db, *synthetic(150, 5))
    scan = frame_queries.load_analytics_frames(sqlite_db, location="north")
    monkeypatch.setattr(reader, "CHUNK_ROWS", 97)
    chunked = frame_queries.load_analytics_frames(sqlite_db, location="north")
    monkeypatch.setattr(reader, "INDEX_PATH_SHARE", 1.1)
    indexed = frame_queries.load_analytics_frames(sqlite_db, location="north")
    for other in (chunked, indexed):
        assert other.transactions.equals(scan.transactions)
        assert other.as_of == scan.as_of


def test_small_chunks_read_the_same_frames_on_both_backends(db: Database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    store_synthetic(db, *synthetic(150, 5))
    whole = frame_queries.load_analytics_frames(db)
    scoped = {str(scope): frame_queries.load_analytics_frames(db, **scope) for scope in ({}, {"location": "north"})}
    monkeypatch.setattr(reader, "CHUNK_ROWS", 53)  # many ranges, some of them empty
    chunked = frame_queries.load_analytics_frames(db)
    assert chunked.transactions.equals(whole.transactions)
    assert chunked.as_of == whole.as_of
    for share in (0.0, 1.1):  # customers and transactions read by id, or all and filtered here
        monkeypatch.setattr(reader, "INDEX_PATH_SHARE", share)
        for scope in ({}, {"location": "north"}):
            frames, reference = frame_queries.load_analytics_frames(db, **scope), scoped[str(scope)]
            assert frames.customers.equals(reference.customers)
            assert frames.transactions.equals(reference.transactions)


def test_sqlite_reads_transactions_in_index_order_and_does_not_sort_them(sqlite_db: Database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    incidents, gestures, transactions, customers = synthetic(150, 5)
    by_time = transactions.sort_values("occurred_at", ignore_index=True)  # ids follow time, as at a till
    store_synthetic(sqlite_db, incidents, gestures, by_time, customers)
    monkeypatch.setattr(reader, "CHUNK_ROWS", 97)

    def no_sort(*_: object) -> None:
        raise AssertionError("rows read along the (customer, time, amount) index were sorted again")

    monkeypatch.setattr(parsing, "customer_time_order", no_sort)
    frames = frame_queries.load_analytics_frames(sqlite_db)
    order = frames.transactions[["customer_id", "occurred_at"]]
    assert order.equals(order.sort_values(["customer_id", "occurred_at"], ignore_index=True))


def test_transactions_out_of_order_are_sorted() -> None:
    columns = {"customer_id": np.array([3, 1, 2, 1]), "amount_cents": np.array([30, 11, 20, 10]),
               "occurred_at": np.array([5, 9, 7, 2])}
    frame = parsing.sorted_transactions(columns)
    assert frame["customer_id"].tolist() == [1, 1, 2, 3]
    assert frame["amount_cents"].tolist() == [10, 11, 20, 30]


def test_sqlite_times_in_other_text_formats_are_still_read(sqlite_db: Database) -> None:
    store_synthetic(sqlite_db, *synthetic(20, 2))
    with sqlite_db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE transactions SET occurred_at = '2024-05-06T07:08:09' WHERE id = 1")
        conn.exec_driver_sql("UPDATE transactions SET occurred_at = '2024-05-06 07:08' WHERE id = 2")
        customer = conn.exec_driver_sql("SELECT customer_id FROM transactions WHERE id = 1").scalar()
    frames = frame_queries.load_analytics_frames(sqlite_db, lookback_days=3650)
    times = frames.transactions.loc[frames.transactions["customer_id"] == customer, "occurred_at"]
    assert pd.Timestamp("2024-05-06 07:08:09") in set(times)


@pytest.mark.parametrize("text, expected", [
    ("2024-02-29 23:59:59.123456", "2024-02-29 23:59:59.123456"),
    ("1999-12-31 00:00:00.000", "1999-12-31"),
    ("2100-03-01 12:00:00", "2100-03-01 12:00"),
    ("1970-01-01T00:00:01", "1970-01-01 00:00:01"),
])
def test_fixed_width_timestamps_parse_like_pandas(text: str, expected: str) -> None:
    parsed = parsing.parse_stamps(",".join([text] * 3), 3)
    assert (parsed == pd.Timestamp(expected).value).all()


def test_null_stamps_become_nat() -> None:
    parsed = parsing.parse_stamps(f"2024-01-01 00:00:00.000000,{parsing.NULL_STAMP}.000000", 2)
    assert parsed[1] == parsing.NAT and parsed[0] == pd.Timestamp("2024-01-01").value


def test_an_empty_database_gives_empty_frames(db: Database) -> None:
    frames = frame_queries.load_analytics_frames(db)
    assert frames.as_of is None
    assert all(len(f) == 0 for f in (frames.incidents, frames.gestures, frames.transactions, frames.customers))
    assert frames.transactions["occurred_at"].dtype == "datetime64[ns]"
    report = compute_payoff(frames.incidents, frames.gestures, frames.transactions, frames.customers,
                            PayoffRequest(bootstrap=0))
    assert report.overall.incidents == 0


def test_incidents_nobody_recorded_take_the_team_of_their_first_gesture(org) -> None:  # type: ignore[no-untyped-def]
    db, (_, gestures, _, _) = org
    live = gestures.loc[~gestures["voided"]].sort_values(["occurred_at", "gesture_id"])
    incident_id = int(live.iloc[0]["incident_id"])
    with db.write() as session:
        session.execute(update(Incident).where(Incident.id == incident_id).values(employee_id=None))
    frames = frame_queries.load_analytics_frames(db)
    team = frames.incidents.set_index("incident_id").loc[incident_id, "team"]
    first_live = live.loc[live["incident_id"] == incident_id].iloc[0]
    assert team == TEAMS[(int(first_live["employee_id"]) - 1) % len(TEAMS)]


def test_pending_rejected_and_voided_gestures_are_not_recoveries(org) -> None:  # type: ignore[no-untyped-def]
    db, _ = org
    with db.write() as session:
        ids = session.scalars(select(Gesture.id).where(Gesture.status == "logged").order_by(Gesture.id).limit(3)).all()
        for gesture_id, status in zip(ids, ("pending_approval", "rejected", "voided"), strict=True):
            session.execute(update(Gesture).where(Gesture.id == gesture_id).values(status=status))
    voided = frame_queries.load_analytics_frames(db).gestures.set_index("gesture_id")["voided"]
    assert voided.loc[list(ids)].all()


# --- data version and filter options ---------------------------------------------------------------

def test_data_version_moves_after_each_kind_of_write(org, tmp_path) -> None:  # type: ignore[no-untyped-def]
    db, _ = org
    seen = {frame_queries.data_version(db)}

    def changed() -> bool:
        version = frame_queries.data_version(db)
        fresh = version not in seen
        seen.add(version)
        return fresh

    assert frame_queries.data_version(db) in seen  # stable without writes
    with db.write() as session:
        session.add(Transaction(code="T-new", customer_id=1, occurred_at=datetime(2025, 1, 2), amount_cents=500))
    assert changed()
    with db.write() as session:
        session.add(AuditEvent(actor_label="test", action="gesture.voided", entity="gesture", entity_id="G1"))
        session.execute(update(Gesture).where(Gesture.id == 1).values(status="voided"))
    assert changed()
    csv = tmp_path / "transactions.csv"
    csv.write_text("transaction_id,customer_id,occurred_at,amount\nT-import,C1,2025-01-03 10:00,12.50\n")
    import_csv(db, "transactions", csv, actor=Actor.system("test"))
    assert changed()
    with db.write() as session:
        session.add(Incident(code="I-new", customer_id=1, occurred_at=datetime(2025, 1, 4), category="x"))
    assert changed()


def test_filter_options_list_places_teams_and_the_incident_span(org) -> None:  # type: ignore[no-untyped-def]
    db, (incidents, *_) = org
    options = frame_queries.filter_options(db)
    assert options.locations == ["east", "north", "south", "west", "(unknown)"]
    assert options.teams == sorted(TEAMS)
    assert options.first_incident == incidents["occurred_at"].min().date()
    assert options.last_incident == incidents["occurred_at"].max().date()


def test_times_keep_their_microseconds_on_both_backends(db: Database) -> None:
    stamps = [datetime(2024, 3, 4, 5, 6, 7, 999_999), datetime(1969, 12, 31, 23, 59, 59, 1),
              datetime(2024, 3, 4, 5, 6, 8)]
    with db.write() as session:
        session.add(Customer(id=1, code="C1", name="Guest", first_seen_at=None))
        session.add(Incident(id=1, code="I1", customer_id=1, occurred_at=stamps[0], category="x"))
        session.add_all(Transaction(code=f"T{i}", customer_id=1, occurred_at=at, amount_cents=100)
                        for i, at in enumerate(stamps))
    frames = frame_queries.load_analytics_frames(db, lookback_days=40_000)
    assert list(frames.transactions["occurred_at"]) == sorted(pd.Timestamp(s) for s in stamps)
    assert frames.incidents["occurred_at"][0] == pd.Timestamp(stamps[0])
    assert frames.customers["first_seen_at"][0] == pd.Timestamp(stamps[1])  # the first purchase
    assert frames.as_of == pd.Timestamp(stamps[2])


@pytest.mark.parametrize("time_sorted", [True, False])
def test_the_customer_time_order_equals_a_lexsort(time_sorted: bool) -> None:
    rng = np.random.default_rng(1)
    customer = rng.integers(1, 50, 5_000)
    stamps = np.sort(rng.integers(0, 1_000, 5_000))  # many ties
    if not time_sorted:
        stamps = rng.permutation(stamps)
    order = parsing.customer_time_order(customer, stamps)
    expected = np.lexsort((stamps, customer))
    assert (customer[order] == customer[expected]).all() and (stamps[order] == stamps[expected]).all()
    assert (order == expected).all()  # stable: ties keep their row order, like lexsort
