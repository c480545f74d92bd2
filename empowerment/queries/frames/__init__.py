"""The read side of the payoff analytics: the four frames `empowerment.analytics` works on.

    frames = load_analytics_frames(db, date_from=date(2024, 1, 1), location="Harbour")
    report = compute_payoff(frames.incidents, frames.gestures, frames.transactions,
                            frames.customers, PayoffRequest(as_of=frames.as_of, ...))

Frames and dtypes (the contract the analytics relies on):
- incidents: incident_id, customer_id (int64), occurred_at (datetime64[ns]), category, location,
  team (categorical; NaN when unknown). `location` is the location's name; `team` is the team of
  the employee who recorded the incident, else of the employee who made its first gesture.
- gestures (of those incidents): gesture_id, incident_id, customer_id, employee_id (int64),
  occurred_at, type (categorical), cost_cents (int64), voided (bool: anything but "logged", so
  pending, rejected and voided gestures are not counted as recoveries), team (the gesture
  employee's), location (the incident's), valued_cents (what the gesture is worth for the
  payoff's spend: the cost as entered, or staff time at the type's hourly rate for an
  hourly-valued type logged at no cost; `analytics.linking.valued_cents`).
- transactions: customer_id, occurred_at, amount_cents, of the customers with incidents in scope,
  from `lookback_days` before their first incident in scope up to `as_of`, sorted by
  (customer_id, occurred_at).
- incidents also carry `followed_up` (bool): someone called, checked in on or wrote to the
  customer afterwards (issue 13), for breaking the payoff down by follow-up.
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

Modules: `statements` (the SELECTs), `reader` (running them as joined strings, in chunks and
threads), `parsing` (strings to arrays to frames); this module puts the frames together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, exists, func, select
from sqlalchemy.sql.selectable import ScalarSelect

from empowerment import settings
from empowerment.analytics.linking import OUTCOME_HORIZONS, PRIOR_WINDOW_DAYS, Outcomes, valued_cents
from empowerment.analytics.payoff import filter_incidents, in_id_order
from empowerment.db import Database
from empowerment.models import (
    AuditEvent,
    Customer,
    FollowUp,
    Gesture,
    Incident,
    IncidentOutcome,
    LedgerEntry,
    Location,
    OutcomesState,
    Team,
    Transaction,
)
from empowerment.models.vocabulary import load_vocabulary
from empowerment.queries.frames.currency import Conversion, converts, to_reporting
from empowerment.queries.frames.parsing import (
    CUSTOMER_KINDS,
    GESTURE_KINDS,
    INCIDENT_KINDS,
    TRANSACTION_KINDS,
    empty_frame,
)
from empowerment.queries.frames.reader import Reader, Snapshot, latest_incident
from empowerment.queries.frames.statements import gestures_select, incidents_select, naive

__all__ = ["CUSTOMER_KINDS", "DEFAULT_LOOKBACK_DAYS", "GESTURE_KINDS", "INCIDENT_KINDS", "TRANSACTION_KINDS",
           "OUTCOME_KINDS", "AnalyticsFrames", "Conversion", "FilterOptions", "data_version", "filter_options",
           "load_analytics_frames", "outcomes_current"]

DEFAULT_LOOKBACK_DAYS = PRIOR_WINDOW_DAYS + 1



@dataclass(frozen=True)
class AnalyticsFrames:
    incidents: pd.DataFrame
    gestures: pd.DataFrame
    transactions: pd.DataFrame  # or the stored outcomes (an `Outcomes`) with `outcomes=True`
    customers: pd.DataFrame
    as_of: pd.Timestamp | None = None
    # The currency the money columns are in (the reporting currency) and what was converted.
    conversion: Conversion | None = None


@dataclass(frozen=True)
class FilterOptions:
    locations: list[str]
    teams: list[str]
    first_incident: date | None
    last_incident: date | None



def load_analytics_frames(
    db: Database,
    *,
    date_from: Any = None,
    date_to: Any = None,
    location: str | Sequence[str] | None = None,
    team: str | Sequence[str] | None = None,
    as_of: Any = None,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    outcomes: bool | Sequence[int] = False,
) -> AnalyticsFrames:
    """The incidents in scope (same rules as `analytics.payoff.filter_incidents`), their gestures,
    customers and the transactions the analytics needs. With `as_of`, the data as known then:
    incidents, gestures and transactions dated after it are left out. `lookback_days` must cover the prior-365
    window and the horizon (pass horizon + 1 for horizons over a year).

    `outcomes`: the caller links with the installation's recovery window and one of
    `OUTCOME_HORIZONS` (the payoff): then, when the outcomes table is current and no `as_of` is
    asked for, `transactions` is that table's rows for the incidents in scope (an
    `analytics.linking.Outcomes`, one row per incident) instead of every transaction. An as-of
    snapshot always reads the transactions (the table knows only the latest data). `outcomes` may
    name the horizons wanted (e.g. `(90,)`): only their columns are read. On that path the
    customers' first-seen time is read without its fallback to their first purchase: the stored
    rows carry each customer's first transaction ever, and the linking falls back to it."""
    as_of_stamp = None if as_of is None else naive(pd.Timestamp(as_of))
    with Snapshot(db) as conn:
        reader = Reader(conn)
        incidents = reader.frame(incidents_select(date_from, date_to), INCIDENT_KINDS)
        gestures = reader.frame(gestures_select(date_from, date_to), GESTURE_KINDS)
        incidents = _fill_team_from_gestures(incidents, gestures)
        if as_of_stamp is not None:  # the data as known at as-of: nothing dated after it
            incidents = incidents.loc[incidents["occurred_at"] <= as_of_stamp]
            gestures = gestures.loc[gestures["occurred_at"] <= as_of_stamp]
        incidents = filter_incidents(incidents, date_from, date_to, location, team)
        # by id: the SELECT has no ORDER BY (a sort there costs SQLite a temporary b-tree), and the
        # order PostgreSQL's joins return must not reach the figures (`analytics.payoff.in_id_order`)
        incidents = in_id_order(incidents).reset_index(drop=True)
        gestures = gestures.loc[gestures["incident_id"].isin(incidents["incident_id"])]
        scope = np.unique(incidents["customer_id"].to_numpy(dtype=np.int64))
        since = None
        if len(incidents):
            since = incidents["occurred_at"].min() - pd.Timedelta(days=lookback_days)
        hours = settings.current().recovery_window_hours
        horizons = OUTCOME_HORIZONS if outcomes is True else tuple(outcomes or ())
        # The outcomes table sums each location's own currency: money in several currencies is
        # converted per purchase at its date's rate, so it is read purchase by purchase.
        state = (_current_state(conn, hours) if bool(horizons) and set(horizons) <= set(OUTCOME_HORIZONS)
                 and as_of_stamp is None and not converts(conn) else None)
        customers = (reader.customers(scope, first_purchase=state is None) if scope.size
                     else empty_frame(CUSTOMER_KINDS))
        if state is not None:
            transactions, latest = _stored_outcomes(reader, incidents, hours, horizons, state[0])
        else:
            transactions, latest = reader.transactions(scope, since, as_of_stamp)
        if as_of_stamp is None:
            as_of_stamp = latest if latest is not None else latest_incident(conn)
        gestures, transactions, conversion = to_reporting(conn, gestures, transactions)
    gestures = gestures.sort_values(["incident_id", "occurred_at", "gesture_id"], ignore_index=True)
    gestures["voided"] = gestures["voided"].astype(bool)
    gestures["valued_cents"] = valued_cents(gestures, _staff_hourly_rates(db))
    incidents["followed_up"] = _followed_up(db, incidents)
    return AnalyticsFrames(incidents, gestures, transactions, customers, as_of_stamp, conversion)


def _staff_hourly_rates(db: Database) -> dict[str, int]:
    """Gesture types valued at staff time and their hourly rates (the organisation's vocabulary):
    one small read."""
    with db.read() as session:
        return load_vocabulary(session).staff_hourly_rates()


OUTCOME_KINDS = {"incident_id": "int", "customer_id": "int", "occurred_at": "time", "first_return_at": "time",
                 "first_transaction_at": "time", "prior_txn_count_365": "int", "prior_revenue_cents_365": "int",
                 **{f"revenue_after_{h}_cents": "int" for h in OUTCOME_HORIZONS},
                 **{f"revenue_before_{h}_cents": "int" for h in OUTCOME_HORIZONS}}


def outcomes_current(conn: Connection, recovery_window_hours: int) -> bool:
    """Whether the outcomes table answers for the data as it is now: built for this recovery
    window, having seen every transaction (the highest id), and one row per incident
    with the incident's customer and time (a writer that bypassed `services.outcomes` shows here)."""
    return _current_state(conn, recovery_window_hours) is not None


_UNKNOWN = object()


def _current_state(conn: Connection, recovery_window_hours: int) -> tuple[Any] | None:
    """None unless `outcomes_current`; else (the latest transaction time the state recorded, or
    `_UNKNOWN` for a state written before it kept one)."""
    state = conn.execute(select(OutcomesState.recovery_window_hours, OutcomesState.transactions_count,
                                OutcomesState.transactions_max_id, OutcomesState.transactions_latest_at)
                         .where(OutcomesState.id == 1)).first()
    if state is None or state[0] != recovery_window_hours:
        return None
    # The highest id, not the count (a count walks 5M index entries): transactions are never
    # deleted, and the maintained writers record every insert and update.
    highest = conn.execute(select(func.coalesce(func.max(Transaction.id), 0))).scalar()
    if int(highest or 0) != int(state[2]):
        return None
    outcome = IncidentOutcome
    unmatched = conn.execute(select(func.count()).select_from(Incident).outerjoin(
        outcome, outcome.incident_id == Incident.id).where(
        (outcome.incident_id.is_(None)) | (outcome.customer_id != Incident.customer_id)
        | (outcome.occurred_at != Incident.occurred_at))).scalar()
    stray = conn.execute(select(func.count()).select_from(outcome)).scalar()
    incidents = conn.execute(select(func.count()).select_from(Incident)).scalar()
    if unmatched or stray != incidents:
        return None
    # with no transactions at all the recorded latest is None, and so is the table's
    return (state[3] if state[3] is not None or not highest else _UNKNOWN,)


def _stored_outcomes(reader: Reader, incidents: pd.DataFrame, hours: int, horizons: Sequence[int],
                     latest: Any) -> tuple[Outcomes, pd.Timestamp | None]:
    """The outcome rows of the incidents in scope (read whole and kept here: one row per incident
    is small), only the columns of `horizons`, and the latest transaction time (`latest`, as the
    state recorded it; `_UNKNOWN`: asked of the transactions)."""
    kinds = {name: kind for name, kind in OUTCOME_KINDS.items()
             if not name.startswith("revenue_") or int(name.split("_")[2]) in horizons}
    columns = [getattr(IncidentOutcome, name).label(name) for name in kinds]
    frame = reader.frame(select(*columns), kinds)
    frame = frame.loc[frame["incident_id"].isin(incidents["incident_id"].to_numpy())].reset_index(drop=True)
    if latest is _UNKNOWN:  # no index leads to the latest time: this walks every transaction
        latest = reader.conn.execute(select(func.max(Transaction.occurred_at))).scalar()
    latest_stamp = None if latest is None else pd.Timestamp(latest)
    return Outcomes.of(frame, latest_stamp, hours), latest_stamp


def _followed_up(db: Database, incidents: pd.DataFrame) -> np.ndarray:
    """Whether someone followed up on each incident (called, checked in, wrote): a column the
    payoff can break results down by. One small read (follow-ups are few)."""
    with db.engine.connect() as conn:
        ids = np.fromiter(conn.execute(select(FollowUp.incident_id).distinct()).scalars(), dtype=np.int64)
    return np.asarray(incidents["incident_id"].isin(ids).to_numpy(dtype=bool))


def data_version(db: Database) -> str:
    """A cheap fingerprint of everything the analytics reads (max ids, a few counts): use it as a
    cache key so cached figures refresh after a gesture, a void, an approval or an import."""
    probes: dict[str, tuple[Any, ...]] = {
        "incidents": (func.max(Incident.id), func.count(Incident.id)),
        "gestures": (func.max(Gesture.id), func.count(Gesture.id)),
        "transactions": (func.max(Transaction.id),),
        "customers": (func.max(Customer.id),),
        "ledger": (func.max(LedgerEntry.id),),  # voids and approvals add ledger entries
        # Every service write and import is audited (a merge or an edit changes no id above).
        # Sign-ins are audited too but change no figure; on a busy chain they would make every
        # cached figure stale every minute. The newest other event, read backwards along the key.
        "audit": (select(AuditEvent.id).where(AuditEvent.action.not_like("auth.%"))
                  .order_by(AuditEvent.id.desc()).limit(1).scalar_subquery(),),
    }
    columns = [probe if isinstance(probe, ScalarSelect) else select(probe).scalar_subquery() for probes_ in probes.values() for probe in probes_]
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



def _day(value: Any) -> date | None:
    if value is None:
        return None
    stamp = pd.Timestamp(value)
    return None if pd.isna(stamp) else stamp.date()
