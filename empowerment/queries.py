"""The read side of the payoff analytics: the four frames `empowerment.analytics` works on.

    frames = load_analytics_frames(db, date_from=date(2024, 1, 1), location="Harbour")
    report = compute_payoff(frames.incidents, frames.gestures, frames.transactions,
                            frames.customers, as_of=frames.as_of, ...)

Frames and dtypes (the contract the analytics relies on):
- incidents: incident_id, customer_id (int64), occurred_at (datetime64[ns]), category, location,
  team (categorical; NaN when unknown). `location` is the location's name; `team` is the team of
  the employee who recorded the incident, else of the employee who made its first gesture.
- gestures (of those incidents): gesture_id, incident_id, customer_id, employee_id (int64),
  occurred_at, type (categorical), cost_cents (int64), voided (bool: anything but "logged", so
  pending, rejected and voided gestures are not counted as recoveries), team (the gesture
  employee's), location (the incident's).
- transactions: customer_id, occurred_at, amount_cents, of the customers with incidents in scope,
  from `lookback_days` before their first incident in scope up to `as_of`, sorted by
  (customer_id, occurred_at).
- customers (with incidents in scope): customer_id, first_seen_at (else their first transaction
  ever, else NaT).

`AnalyticsFrames.as_of` is the caller's `as_of`, else the latest transaction in the WHOLE
database (else the latest incident): pass it on, because the analytics' own default (the latest
transaction it is given) would move with the filters.

Speed (200k incidents, 5M transactions): Python builds one object per fetched value, about a
microsecond each, so rows are never fetched one by one: each column comes back as ONE joined
string per chunk (SQLite `group_concat`, PostgreSQL `string_agg`) that numpy parses (integers with
`np.fromstring`, SQLite's fixed-width time text as a byte grid, PostgreSQL times as epoch
microseconds). Transaction chunks are read on a few connections at once; on SQLite they are
customer ranges walked along the (customer, time, amount) index, so they arrive in order. Separators
and other constants are written into the SQL, not bound (SQLite re-reads a bound group_concat
separator per row). Transactions come sorted by (customer, time), so the analytics (and every
later linking of the same frames) skips its sort.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    Connection,
    Select,
    String,
    any_,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    select,
    type_coerce,
)
from sqlalchemy.orm import aliased

from empowerment.analytics.linking import PRIOR_WINDOW_DAYS, is_sorted_by_customer_time
from empowerment.analytics.payoff import filter_incidents
from empowerment.db import Database
from empowerment.models import (
    AuditEvent,
    Customer,
    Employee,
    Gesture,
    GestureStatus,
    Incident,
    LedgerEntry,
    Location,
    Team,
    Transaction,
)

DEFAULT_LOOKBACK_DAYS = PRIOR_WINDOW_DAYS + 1
CHUNK_ROWS = 500_000  # transaction ids per query: ~14 MB of text per column
READ_THREADS = min(4, os.cpu_count() or 1)  # chunks read at once, one connection each
INDEX_PATH_SHARE = 0.10  # below this share of all customers, transactions are read through the index
NULL_STAMP = "0000-00-00 00:00:00"  # SQLite: month 00, parsed as NaT
NULL_US = -(2**62)  # PostgreSQL: no time
UNIT_SEPARATOR = "\x1f"
NAT = np.iinfo(np.int64).min

Kinds = dict[str, str]  # column name -> "int" | "time" | "text"
Stmt = Select[*tuple[Any, ...]]

INCIDENT_KINDS: Kinds = {"incident_id": "int", "customer_id": "int", "occurred_at": "time",
                         "category": "text", "location": "text", "team": "text"}
GESTURE_KINDS: Kinds = {"gesture_id": "int", "incident_id": "int", "customer_id": "int",
                        "employee_id": "int", "occurred_at": "time", "type": "text",
                        "cost_cents": "int", "voided": "int", "team": "text", "location": "text"}
TRANSACTION_KINDS: Kinds = {"customer_id": "int", "occurred_at": "time", "amount_cents": "int"}
CUSTOMER_KINDS: Kinds = {"customer_id": "int", "first_seen_at": "time"}


@dataclass(frozen=True)
class AnalyticsFrames:
    incidents: pd.DataFrame
    gestures: pd.DataFrame
    transactions: pd.DataFrame
    customers: pd.DataFrame
    as_of: pd.Timestamp | None = None


@dataclass(frozen=True)
class FilterOptions:
    locations: list[str]
    teams: list[str]
    first_incident: date | None
    last_incident: date | None


# --------------------------------------------------------------------------------------------
# Public API


def load_analytics_frames(
    db: Database,
    *,
    date_from: Any = None,
    date_to: Any = None,
    location: str | Sequence[str] | None = None,
    team: str | Sequence[str] | None = None,
    as_of: Any = None,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
) -> AnalyticsFrames:
    """The incidents in scope (same rules as `analytics.payoff.filter_incidents`), their gestures,
    customers and the transactions the analytics needs. `lookback_days` must cover the prior-365
    window and the horizon (pass horizon + 1 for horizons over a year)."""
    as_of_stamp = None if as_of is None else _naive(pd.Timestamp(as_of))
    with _snapshot(db) as conn:
        reader = _Reader(conn)
        incidents = reader.frame(_incidents_select(date_from, date_to), INCIDENT_KINDS)
        gestures = reader.frame(_gestures_select(date_from, date_to), GESTURE_KINDS)
        incidents = _fill_team_from_gestures(incidents, gestures)
        incidents = filter_incidents(incidents, date_from, date_to, location, team)
        incidents = incidents.reset_index(drop=True)
        gestures = gestures.loc[gestures["incident_id"].isin(incidents["incident_id"])]
        scope = np.unique(incidents["customer_id"].to_numpy(dtype=np.int64))
        customers = reader.frame(_customers_select(reader.ids_clause(Customer.id, scope)),
                                 CUSTOMER_KINDS) if scope.size else _empty(CUSTOMER_KINDS)
        since = None
        if len(incidents):
            since = incidents["occurred_at"].min() - pd.Timedelta(days=lookback_days)
        transactions, latest = reader.transactions(scope, since, as_of_stamp)
        if as_of_stamp is None:
            as_of_stamp = latest if latest is not None else _latest_incident(conn)
    gestures = gestures.sort_values(["incident_id", "occurred_at", "gesture_id"], ignore_index=True)
    gestures["voided"] = gestures["voided"].astype(bool)
    return AnalyticsFrames(incidents, gestures, transactions, customers, as_of_stamp)


def data_version(db: Database) -> str:
    """A cheap fingerprint of everything the analytics reads (max ids, a few counts): use it as a
    cache key so cached figures refresh after a gesture, a void, an approval or an import."""
    probes = {
        "incidents": (func.max(Incident.id), func.count(Incident.id)),
        "gestures": (func.max(Gesture.id), func.count(Gesture.id)),
        "transactions": (func.max(Transaction.id),),
        "customers": (func.max(Customer.id),),
        "ledger": (func.max(LedgerEntry.id),),  # voids and approvals add ledger entries
        "audit": (func.max(AuditEvent.id),),  # every service write and import is audited
    }
    columns = [select(probe).scalar_subquery() for probes_ in probes.values() for probe in probes_]
    with db.engine.connect() as conn:
        values = conn.execute(select(*columns)).one()
    parts, index = [], 0
    for name, probes_ in probes.items():
        parts.append(f"{name}=" + "/".join(str(v or 0) for v in values[index:index + len(probes_)]))
        index += len(probes_)
    return ";".join(parts)


def filter_options(db: Database) -> FilterOptions:
    """Locations and teams to choose from (incl. "(unknown)" when some incidents have none),
    and the first and last incident day."""
    from empowerment.analytics.linking import UNKNOWN_LABEL

    with db.engine.connect() as conn:
        locations = sorted({n for n in conn.execute(select(Location.name)).scalars() if n})
        teams = sorted({n for n in conn.execute(select(Team.name)).scalars() if n})
        first, last = conn.execute(
            select(func.min(Incident.occurred_at), func.max(Incident.occurred_at))
        ).one()
        unplaced = conn.execute(select(exists().where(Incident.location_id.is_(None)))).scalar()
    if unplaced:
        locations.append(UNKNOWN_LABEL)
    return FilterOptions(locations, teams, _day(first), _day(last))


def team_names(db: Database, team_ids: Sequence[int]) -> list[str]:
    """Names of these teams, sorted (a manager's teams for the team filter)."""
    if not team_ids:
        return []
    with db.engine.connect() as conn:
        names = conn.execute(select(Team.name).where(Team.id.in_(list(team_ids)))).scalars()
        return sorted(set(names))


# --------------------------------------------------------------------------------------------
# The statements (dialect-neutral Core)


def _time_bounds(date_from: Any, date_to: Any) -> list[ColumnElement[bool]]:
    """A loose SQL pre-filter; `filter_incidents` applies the exact rule afterwards."""
    conditions: list[ColumnElement[bool]] = []
    if date_from is not None:
        conditions.append(Incident.occurred_at >= _naive(pd.Timestamp(date_from)).to_pydatetime())
    if date_to is not None:
        end = _naive(pd.Timestamp(date_to)) + pd.Timedelta(days=1)
        conditions.append(Incident.occurred_at < end.to_pydatetime())
    return conditions


def _incidents_select(date_from: Any, date_to: Any) -> Stmt:
    recorder = aliased(Employee)
    recorder_team = aliased(Team)
    return (
        select(
            Incident.id.label("incident_id"),
            Incident.customer_id.label("customer_id"),
            Incident.occurred_at.label("occurred_at"),
            Incident.category.label("category"),
            Location.name.label("location"),
            recorder_team.name.label("team"),
        )
        .select_from(Incident)
        .outerjoin(Location, Location.id == Incident.location_id)
        .outerjoin(recorder, recorder.id == Incident.employee_id)
        .outerjoin(recorder_team, recorder_team.id == recorder.team_id)
        .where(*_time_bounds(date_from, date_to))
    )


def _gestures_select(date_from: Any, date_to: Any) -> Stmt:
    giver = aliased(Employee)
    giver_team = aliased(Team)
    not_logged = case((Gesture.status == literal(GestureStatus.LOGGED.value), 0), else_=1)
    return (
        select(
            Gesture.id.label("gesture_id"),
            Gesture.incident_id.label("incident_id"),
            Gesture.customer_id.label("customer_id"),
            Gesture.employee_id.label("employee_id"),
            Gesture.occurred_at.label("occurred_at"),
            type_coerce(Gesture.type, String).label("type"),
            Gesture.cost_cents.label("cost_cents"),
            not_logged.label("voided"),
            giver_team.name.label("team"),
            Location.name.label("location"),
        )
        .select_from(Gesture)
        .join(Incident, Incident.id == Gesture.incident_id)
        .outerjoin(Location, Location.id == Incident.location_id)
        .outerjoin(giver, giver.id == Gesture.employee_id)
        .outerjoin(giver_team, giver_team.id == giver.team_id)
        .where(*_time_bounds(date_from, date_to))
    )


def _customers_select(in_scope: ColumnElement[bool]) -> Stmt:
    first_purchase = (
        select(func.min(Transaction.occurred_at))
        .where(Transaction.customer_id == Customer.id)
        .scalar_subquery()
    )
    return select(
        Customer.id.label("customer_id"),
        func.coalesce(Customer.first_seen_at, first_purchase).label("first_seen_at"),
    ).where(in_scope)


def _transactions_select(*conditions: ColumnElement[bool]) -> Stmt:
    return select(
        Transaction.customer_id.label("customer_id"),
        Transaction.occurred_at.label("occurred_at"),
        Transaction.amount_cents.label("amount_cents"),
    ).where(*conditions)


def _transaction_window(since: pd.Timestamp | None, until: pd.Timestamp | None) -> list[Any]:
    conditions = []
    if since is not None:
        conditions.append(Transaction.occurred_at >= since.to_pydatetime())
    if until is not None:
        conditions.append(Transaction.occurred_at <= until.to_pydatetime())
    return conditions


def _few_customers(conn: Connection, scope: np.ndarray) -> bool:
    """Few enough customers in scope to read their transactions through the (customer, time)
    index; otherwise one scan of the table is cheaper than that many random reads."""
    customers = conn.execute(select(func.max(Customer.id))).scalar() or 0
    return scope.size < INDEX_PATH_SHARE * customers


def _separate_connections_allowed(conn: Connection) -> bool:
    """Other connections see the same data unless the database lives in this connection's memory."""
    database = conn.engine.url.database
    return bool(database) and database != ":memory:" and "mode=memory" not in str(conn.engine.url)


def _latest_incident(conn: Connection) -> pd.Timestamp | None:
    latest = conn.execute(select(func.max(Incident.occurred_at))).scalar()
    return None if latest is None else pd.Timestamp(latest)


# --------------------------------------------------------------------------------------------
# Reading: one joined string per column, parsed by numpy


class _snapshot:
    """One connection and one read transaction, so every frame sees the same data."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def __enter__(self) -> Connection:
        conn = self.db.engine.connect()
        if self.db.dialect == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        self.conn = conn
        conn.begin()
        return conn

    def __exit__(self, *exc: object) -> None:
        self.conn.rollback()
        self.conn.close()


class _Reader:
    """Reads a SELECT as one joined string per column (a few rows instead of millions), which numpy
    parses: one Python object per column instead of one per value.

    SQLite: `group_concat`, times as their stored fixed-width text. PostgreSQL: `string_agg`,
    times as exact epoch microseconds. Every aggregate of one query steps through the same rows in
    the same order, so the strings line up row for row.
    """

    def __init__(self, conn: Connection) -> None:
        if conn.dialect.name not in ("sqlite", "postgresql"):
            raise NotImplementedError(f"No analytics reader for {conn.dialect.name}.")
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"

    def ids_clause(self, column: Any, ids: np.ndarray) -> ColumnElement[bool]:
        if self.sqlite:
            listed: Any = select(literal_column("value")).select_from(
                func.json_each(literal(json.dumps(ids.tolist()), String)))
            return column.in_(listed)  # type: ignore[no-any-return]
        # A real array parameter: a constant PostgreSQL hashes for "= ANY" (a text literal cast to
        # an array would be parsed again for every row).
        return column == any_(bindparam("scope_ids", ids.tolist(), type_=ARRAY(BigInteger)))  # type: ignore[no-any-return]

    def frame(self, stmt: Stmt, kinds: Kinds) -> pd.DataFrame:
        return _as_frame(self._columns(self.conn, stmt, kinds)[0], kinds)

    def _columns(self, conn: Connection, stmt: Stmt, kinds: Kinds,
                 latest_of: str | None = None) -> tuple[dict[str, Any], Any]:
        """Parsed columns; `latest_of` also returns that column's maximum over the same rows."""
        inner = stmt.subquery()
        aggregates: list[Any] = [func.count()]
        aggregates += [self._joined(inner.c[name], kind) for name, kind in kinds.items()]
        if latest_of is not None:
            aggregates.append(func.max(inner.c[latest_of]))
        row = conn.execute(select(*aggregates)).one()
        count = int(row[0])
        columns = {name: self._parse(row[i + 1], kind, count) for i, (name, kind) in enumerate(kinds.items())}
        return columns, row[-1] if latest_of is not None else None

    def _joined(self, column: Any, kind: str) -> Any:
        text: Any
        if kind == "int":
            text = cast(column, String)
        elif kind == "time" and self.sqlite:
            text = func.coalesce(type_coerce(column, String), _constant(NULL_STAMP))
        elif kind == "time":
            text = cast(func.coalesce(_epoch_us(column), literal_column(str(NULL_US), BigInteger)), String)
        else:
            text = func.coalesce(cast(column, String), _constant(""))
        separator = _constant(UNIT_SEPARATOR if kind == "text" else ",")
        return (func.group_concat if self.sqlite else func.string_agg)(text, separator)

    def _parse(self, joined: str | None, kind: str, count: int) -> Any:
        if kind == "time" and not self.sqlite:
            micros = _parse(joined, "int", count)
            return np.where(micros == NULL_US, NAT, micros * 1000)
        return _parse(joined, kind, count)

    def transactions(
        self, scope: np.ndarray, since: pd.Timestamp | None, until: pd.Timestamp | None,
    ) -> tuple[pd.DataFrame, pd.Timestamp | None]:
        """The scope's transactions in the window, sorted, and the latest transaction time."""
        window = _transaction_window(since, until)
        if scope.size and _few_customers(self.conn, scope):  # walk the (customer, time) index
            stmt = _transactions_select(self.ids_clause(Transaction.customer_id, scope), *window)
            columns, _ = self._columns(self.conn, stmt, TRANSACTION_KINDS)
            return _sorted_transactions(columns), self._latest_transaction() if until is None else None
        parts, latest = self._scan_transactions(scope, window)
        merged = {name: np.concatenate([part[name] for part in parts]) for name in TRANSACTION_KINDS}
        if latest is None:  # nothing since the window start: the latest of all
            latest = self._latest_transaction()
        return _sorted_transactions(merged), None if latest is None else pd.Timestamp(latest)

    def _scan_transactions(self, scope: np.ndarray, window: list[Any]) -> tuple[list[dict[str, Any]], Any]:
        """Every transaction in the window, in chunks (each a range read), on up to READ_THREADS
        connections at once (the drivers release the GIL while the database works), filtered to
        the scope here; also the latest time read.

        SQLite: customer-id ranges walked along the (customer, time, amount) index, so the rows
        arrive in the order the analytics needs and are not sorted again. PostgreSQL: id ranges
        (sequential reads of the heap), sorted afterwards. Either way each row is read once."""
        column = Transaction.customer_id if self.sqlite else Transaction.id
        ranges = self._chunk_ranges(column)
        if not ranges:
            return [_empty_columns(TRANSACTION_KINDS)], None
        threads = min(READ_THREADS, len(ranges)) if _separate_connections_allowed(self.conn) else 1

        def chunk(bounds: tuple[int, int]) -> tuple[dict[str, Any], Any]:
            # No ORDER BY: SQLite would run the subquery as a co-routine (twice as slow); the
            # index walk gives the order anyway, and `_sorted_transactions` checks it.
            stmt = _transactions_select(column > bounds[0], column <= bounds[1], *window)
            if threads == 1:
                columns, latest = self._columns(self.conn, stmt, TRANSACTION_KINDS, "occurred_at")
            else:
                with self.conn.engine.connect() as conn:
                    columns, latest = self._columns(conn, stmt, TRANSACTION_KINDS, "occurred_at")
            keep = _isin(columns["customer_id"], scope)
            return {name: values[keep] for name, values in columns.items()}, latest

        if threads == 1:
            results = [chunk(bounds) for bounds in ranges]
        else:
            with ThreadPoolExecutor(threads, thread_name_prefix="payoff-read") as pool:
                results = list(pool.map(chunk, ranges))
        found = [pd.Timestamp(latest) for _, latest in results if latest is not None]
        return [part for part, _ in results], max(found, default=None)

    def _chunk_ranges(self, column: Any) -> list[tuple[int, int]]:
        """(after, up to) ranges of `column` with about CHUNK_ROWS transactions each, judged from
        the id span (customer ranges assume transactions spread evenly over customers)."""
        def ends(of: Any) -> tuple[int | None, int | None]:  # a lone min() or max() is read off
            return (self.conn.execute(select(func.min(of))).scalar(),  # an end of an index
                    self.conn.execute(select(func.max(of))).scalar())

        low_id, high_id = ends(Transaction.id)
        low, high = ends(column)
        if low_id is None or high_id is None or low is None or high is None:
            return []
        pieces = max(1, -(-(high_id - low_id + 1) // CHUNK_ROWS))
        edges = np.unique(np.linspace(low - 1, high, pieces + 1).round().astype(np.int64))
        return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]

    def _latest_transaction(self) -> pd.Timestamp | None:
        latest = self.conn.execute(select(func.max(Transaction.occurred_at))).scalar()
        return None if latest is None else pd.Timestamp(latest)


def _constant(text: str) -> Any:
    """A string written into the SQL, not bound: SQLite's group_concat reads a bound separator
    again for every row (60% slower over 500k rows). Only for the module's own constants."""
    assert "'" not in text
    return literal_column(f"'{text}'", String)


def _epoch_us(column: Any) -> Any:
    """PostgreSQL: a timestamp as exact integer microseconds since 1970 (whole seconds and the
    microseconds field separately: one double for both would round at about half a microsecond)."""
    seconds = cast(func.date_part("epoch", func.date_trunc("second", column)), BigInteger)
    micros = cast(func.date_part("microseconds", column), BigInteger)
    return seconds * 1_000_000 + micros % 1_000_000


# --------------------------------------------------------------------------------------------
# Parsing and shaping


def _parse(joined: str | None, kind: str, count: int) -> Any:
    if count == 0 or joined is None:
        return _empty_columns({"x": kind})["x"]
    if kind == "int":
        values = np.fromstring(joined, dtype=np.int64, sep=",")  # type: ignore[call-overload]
        if values.size != count:
            raise ValueError(f"expected {count} integers, read {values.size}")
        return values
    if kind == "time":
        return _parse_stamps(joined, count)
    return joined.split(UNIT_SEPARATOR)


def _parse_stamps(joined: str, count: int) -> np.ndarray:
    """Comma-joined 'YYYY-MM-DD HH:MM:SS[.ffffff]' -> int64 ns (NaT for NULL_STAMP).

    SQLAlchemy (and the importer) store one fixed width in SQLite, so the text is a (count x
    width) byte grid and every field is a column of digits; anything else takes pandas' parser.
    """
    try:
        raw = np.frombuffer(joined.encode("ascii"), dtype=np.uint8)
    except UnicodeEncodeError:
        return _parse_stamps_slowly(joined)
    width = (raw.size + 1) // count
    if (raw.size + 1) % count or not 19 < width <= 30 or width == 21:
        return _parse_stamps_slowly(joined)
    flat = np.empty(count * width, dtype=np.uint8)
    flat[:-1], flat[-1] = raw, ord(",")
    grid = flat.reshape(count, width)
    if not _separators_in_place(grid):
        return _parse_stamps_slowly(joined)
    not_digit = np.zeros(count, dtype=bool)

    def number(first: int, last: int) -> np.ndarray:
        value = np.zeros(count, dtype=np.int64)
        for position in range(first, last):
            digit = grid[:, position] - np.uint8(48)  # wraps above 9 for anything but 0-9
            not_digit[:] |= digit > 9
            value *= 10
            value += digit
        return value

    year, month, day = number(0, 4), number(5, 7), number(8, 10)
    seconds = number(11, 13) * 3600 + number(14, 16) * 60 + number(17, 19)
    digits = width - 21  # after "SS." and before the comma
    fraction = number(20, 20 + digits) * 10 ** (9 - digits) if digits > 0 else 0
    if not_digit.any():
        return _parse_stamps_slowly(joined)
    ns = (_days_from_civil(year, np.maximum(month, 1), day) * 86_400 + seconds) * 10**9 + fraction
    return np.where(month == 0, NAT, ns)


def _separators_in_place(grid: np.ndarray) -> bool:
    fixed = {4: "-", 7: "-", 13: ":", 16: ":", grid.shape[1] - 1: ","}
    if grid.shape[1] > 20:
        fixed[19] = "."
    separators_ok = all((grid[:, i] == ord(c)).all() for i, c in fixed.items())
    return bool(separators_ok and np.isin(grid[:, 10], (ord(" "), ord("T"))).all())


def _days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 (H. Hinnant's algorithm, proleptic Gregorian, vectorised)."""
    year = year - (month <= 2)
    era = np.floor_divide(year, 400)
    year_of_era = year - era * 400
    day_of_year = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146_097 + day_of_era - 719_468  # type: ignore[no-any-return]


def _parse_stamps_slowly(joined: str) -> np.ndarray:
    texts = pd.Series(joined.split(","), dtype=object).replace(NULL_STAMP, None)
    stamps = pd.to_datetime(texts, format="ISO8601", errors="coerce").astype("datetime64[ns]")
    return stamps.to_numpy().view(np.int64)


def _empty_columns(kinds: Kinds) -> dict[str, Any]:
    return {name: [] if kind == "text" else np.array([], dtype=np.int64) for name, kind in kinds.items()}


def _empty(kinds: Kinds) -> pd.DataFrame:
    return _as_frame(_empty_columns(kinds), kinds)


def _as_frame(columns: dict[str, Any], kinds: Kinds) -> pd.DataFrame:
    data: dict[str, Any] = {}
    for name, kind in kinds.items():
        values = columns[name]
        if kind == "time":
            data[name] = np.asarray(values, dtype=np.int64).view("datetime64[ns]")
        elif kind == "int":
            data[name] = np.asarray(values, dtype=np.int64)
        else:
            labels = pd.Categorical(values)
            if "" in labels.categories:
                labels = labels.remove_categories([""])
            data[name] = labels
    return pd.DataFrame(data)


def _isin(values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    if values.size == 0:
        return np.zeros(0, dtype=bool)
    span = int(max(values.max(), wanted.max())) - int(min(values.min(), wanted.min()))
    return np.isin(values, wanted, kind="table" if span < 50_000_000 else "sort")


def _sorted_transactions(columns: dict[str, Any]) -> pd.DataFrame:
    """Sorted by (customer_id, occurred_at): the analytics then skips its own sort. Rows read
    along the (customer, time) index already are (checked, not assumed)."""
    customer = np.asarray(columns["customer_id"], dtype=np.int64)
    stamps = np.asarray(columns["occurred_at"], dtype=np.int64)
    amounts = np.asarray(columns["amount_cents"], dtype=np.int64)
    if not is_sorted_by_customer_time(customer, stamps):
        order = _customer_time_order(customer, stamps)
        customer, stamps, amounts = customer[order], stamps[order], amounts[order]
    return _as_frame({"customer_id": customer, "occurred_at": stamps, "amount_cents": amounts},
                     TRANSACTION_KINDS)


def _customer_time_order(customer: np.ndarray, stamps: np.ndarray) -> np.ndarray:
    """The (customer, time) order. Rows usually arrive in time order (ids follow time), and then
    sorting one int64 key, customer in the high bits and row number in the low bits, gives it
    (numpy's vectorised sort: about 5x faster than lexsort at 5M rows)."""
    size = customer.size
    if size < 2:
        return np.arange(size)
    by_time = None if (np.diff(stamps) >= 0).all() else np.argsort(stamps, kind="stable")
    ranked = customer if by_time is None else customer[by_time]
    offset = ranked - ranked.min()
    bits = int(size - 1).bit_length()
    if int(offset.max()) >= 1 << (63 - bits):
        return np.lexsort((stamps, customer))
    key = (offset << bits) | np.arange(size, dtype=np.int64)
    key.sort()
    order = key & ((1 << bits) - 1)
    return order if by_time is None else by_time[order]


def _fill_team_from_gestures(incidents: pd.DataFrame, gestures: pd.DataFrame) -> pd.DataFrame:
    """Incidents nobody recorded (imports) take the team of the employee of their first gesture."""
    missing = incidents["team"].isna()
    if not missing.any() or gestures.empty:
        return incidents
    first = (gestures.loc[gestures["team"].notna()]
             .sort_values(["voided", "occurred_at", "gesture_id"])
             .drop_duplicates("incident_id").set_index("incident_id")["team"])
    teams = incidents["team"].astype(object).where(
        ~missing, incidents["incident_id"].map(first).astype(object))
    return incidents.assign(team=pd.Categorical(teams))


def _naive(stamp: pd.Timestamp) -> pd.Timestamp:
    return stamp.tz_convert(None) if stamp.tzinfo is not None else stamp


def _day(value: Any) -> date | None:
    if value is None:
        return None
    stamp = pd.Timestamp(value)
    return None if pd.isna(stamp) else stamp.date()
