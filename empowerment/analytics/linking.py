"""Turn incidents, gestures and purchases into one analysis row per incident.

Everything is vectorised: transactions are sorted once by (customer, time) and
every window question ("first purchase after t", "revenue in (t, t + H]") is a
binary search inside the customer's block plus a prefix-sum difference. The one exception
is `outcome_row`: the same windows for ONE incident in plain Python (the tablet's new
incident, where pandas' set-up would be most of the gesture's CPU); batches use the
vectorised `outcome_columns`, and a property test holds the two equal.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

NS_PER_DAY = 86_400 * 10**9
PRIOR_WINDOW_DAYS = 365
UNKNOWN_LABEL = "(unknown)"
DEFAULT_RECOVERY_WINDOW_HOURS = 72


def to_ns(values: Any) -> np.ndarray:
    """Datetimes as int64 nanoseconds; tz-aware values become naive UTC, NaT -> int64 min."""
    stamps = pd.to_datetime(pd.Series(values))
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):
        stamps = stamps.dt.tz_convert(None)
    return np.asarray(stamps.astype("datetime64[ns]").to_numpy().view("int64"))


def timestamp_to_ns(value: Any) -> int:
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(None)
    return int(stamp.as_unit("ns").value)


def label_or_unknown(values: pd.Series) -> pd.Series:
    """Group labels for charts and models: NA and blank strings become one explicit level."""
    labels = values.astype("string").str.strip()
    return labels.mask(labels.isna() | (labels == ""), UNKNOWN_LABEL).astype(str)


@dataclass(frozen=True)
class Ledger:
    """Transactions sorted by (customer, time), with prefix sums for O(log n) window sums."""

    customer: np.ndarray  # int64, sorted
    time: np.ndarray  # int64 ns, sorted within each customer
    amount_prefix: np.ndarray  # len n + 1; amount_prefix[j] = sum of amounts[:j]
    purchase_prefix: np.ndarray  # len n + 1; number of amount > 0 rows in [:j]
    next_purchase: np.ndarray  # len n + 1; first index >= j with amount > 0 (n if none)

    @classmethod
    def build(cls, transactions: pd.DataFrame, as_of_ns: int | None = None) -> Ledger:
        customer = transactions["customer_id"].to_numpy(dtype="int64")
        time = to_ns(transactions["occurred_at"])
        amount = transactions["amount_cents"].to_numpy(dtype="int64")
        keep = time != np.iinfo(np.int64).min
        if as_of_ns is not None:
            keep &= time <= as_of_ns  # later data is "not yet seen" at as-of
        customer, time, amount = customer[keep], time[keep], amount[keep]
        if not is_sorted_by_customer_time(customer, time):
            order = _customer_time_order(customer, time)
            customer, time, amount = customer[order], time[order], amount[order]
        is_purchase = amount > 0
        n = amount.size
        purchase_index = np.where(is_purchase, np.arange(n), n)
        # reverse running minimum = index of the next purchase at or after j
        next_purchase = np.minimum.accumulate(np.append(purchase_index, n)[::-1])[::-1]
        return cls(
            customer=customer,
            time=time,
            amount_prefix=np.concatenate(([0], np.cumsum(amount))),
            purchase_prefix=np.concatenate(([0], np.cumsum(is_purchase, dtype=np.int64))),
            next_purchase=next_purchase,
        )

    def blocks(self, customer_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """[start, end) of each customer's rows."""
        return (
            np.searchsorted(self.customer, customer_ids, side="left"),
            np.searchsorted(self.customer, customer_ids, side="right"),
        )

    def count_through(self, start: np.ndarray, end: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Index of the first row in [start, end) with time > target (a per-block searchsorted).

        One vectorised binary search for all rows at once; a strict bound
        ("time < t") is the same question asked for t - 1 ns.
        """
        low, high = start.copy(), end.copy()
        while self.time.size:
            open_rows = low < high
            if not open_rows.any():
                break
            middle = (low + high) >> 1
            go_right = self.time[np.where(open_rows, middle, 0)] <= targets
            low = np.where(open_rows & go_right, middle + 1, low)
            high = np.where(open_rows & ~go_right, middle, high)
        return low

    def time_at(self, index: np.ndarray, valid: np.ndarray) -> np.ndarray:
        if self.time.size == 0:
            return np.zeros(index.size, dtype=np.int64)
        return np.where(valid, self.time[np.minimum(index, self.time.size - 1)], 0)


def _customer_time_order(customer: np.ndarray, time: np.ndarray) -> np.ndarray:
    """Row order by (customer, time).

    Replacing times by their dense rank lets one int64 key (customer, time-rank)
    do the job; two quicksorts beat np.lexsort ~3x at millions of rows.
    """
    by_time = np.argsort(time)
    sorted_time = time[by_time]
    new_time = np.empty(time.size, dtype=np.int64)
    new_time[0] = 0
    np.not_equal(sorted_time[1:], sorted_time[:-1], out=new_time[1:])
    time_rank = np.empty(time.size, dtype=np.int64)
    time_rank[by_time] = np.cumsum(new_time)
    ranks = int(time_rank.max()) + 1
    customer_offset = customer - customer.min()
    if (int(customer_offset.max()) + 1) * ranks < 2**62:
        return np.argsort(customer_offset * ranks + time_rank)
    return by_time[np.argsort(customer[by_time], kind="stable")]


def is_sorted_by_customer_time(customer: np.ndarray, time: np.ndarray) -> bool:
    if customer.size < 2:
        return True
    customer_step = np.diff(customer)
    same_customer = customer_step == 0
    return bool((customer_step >= 0).all() and (np.diff(time)[same_customer] >= 0).all())


SPEED_BANDS = ("Within the hour", "Same day", "Later")  # "later": still inside the recovery window
HOUR_NS = 3_600 * 10**9


def gesture_timing(gestures: pd.DataFrame, incidents: pd.DataFrame, window_ns: int) -> pd.DataFrame:
    """Every live (non-voided) gesture with its delay after its incident and whether it counts.

    A gesture counts as a recovery only from the incident's time to the end of the recovery
    window; one dated before its incident never counts (a clock or entry mistake), one logged
    after the window is "late" (the customer may already have come back: counting it would credit
    the gesture with a return that happened before it).
    """
    columns = ["incident_id", "gesture_id", "occurred_at", "type", "cost_cents", "valued_cents", "delay_ns", "timing"]
    if gestures is None or gestures.empty or incidents.empty:
        return pd.DataFrame(columns=columns)
    voided = gestures["voided"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    live = gestures.loc[~voided]
    position = pd.Index(incidents["incident_id"]).get_indexer(live["incident_id"])
    live = live.loc[position >= 0]
    position = position[position >= 0]
    delay = to_ns(live["occurred_at"]) - to_ns(incidents["occurred_at"]).take(position)
    timing = np.where(delay < 0, "early", np.where(delay > window_ns, "late", "counts"))
    gesture_ids = live["gesture_id"].to_numpy() if "gesture_id" in live else np.arange(len(live))
    return pd.DataFrame({
        "incident_id": live["incident_id"].to_numpy(), "gesture_id": gesture_ids,
        "occurred_at": live["occurred_at"].to_numpy(), "type": live["type"].to_numpy(),
        "cost_cents": live["cost_cents"].to_numpy(dtype="int64"),
        "valued_cents": (live["valued_cents"] if "valued_cents" in live else live["cost_cents"]).to_numpy(dtype="int64"),
        "delay_ns": delay, "timing": timing,
    })


STAFF_MINUTES_DEFAULT = 15  # models.vocabulary.DEFAULT_STAFF_MINUTES (analytics import nothing of the package)


def valued_cents(gestures: pd.DataFrame, hourly_rates: Mapping[str, int]) -> np.ndarray:
    """What each gesture is worth for the payoff's spend: its cost as entered (an upgrade is
    entered as the rate difference), or for a gesture of an hourly-valued type logged at no cost
    its recorded minutes (`staff_minutes`, 15 where none were recorded) at the type's hourly rate
    (`hourly_rates`: type -> cents an hour, `Vocabulary.staff_hourly_rates`), rounded to the cent."""
    cost = gestures["cost_cents"].to_numpy(dtype="int64")
    if not hourly_rates or not len(gestures):
        return cost
    rate = gestures["type"].astype(object).map(dict(hourly_rates)).fillna(0).to_numpy(dtype="float64")
    if "staff_minutes" in gestures:
        minutes = pd.to_numeric(gestures["staff_minutes"]).fillna(STAFF_MINUTES_DEFAULT).to_numpy(dtype="float64")
    else:
        minutes = np.full(len(gestures), float(STAFF_MINUTES_DEFAULT))
    time_value = np.round(rate * minutes / 60).astype("int64")
    return np.asarray(np.where(cost == 0, time_value, cost))


def summarise_gestures(timed: pd.DataFrame) -> pd.DataFrame:
    """Per incident, of the gestures that count: spend, count, first type, hours to the first;
    and how many live gestures were late or early (not counted)."""
    columns = ["spend_cents", "valued_spend_cents", "gesture_count", "first_gesture_type", "hours_to_gesture",
               "late", "early"]
    if timed.empty:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="incident_id"))
    counted = timed.loc[timed["timing"].to_numpy() == "counts"]
    counted = counted.sort_values(["incident_id", "occurred_at", "gesture_id"], kind="stable")
    grouped = counted.groupby("incident_id", sort=False)
    summary = pd.DataFrame({
        "spend_cents": grouped["cost_cents"].sum().astype("int64"),
        "valued_spend_cents": grouped["valued_cents"].sum().astype("int64"),
        "gesture_count": grouped.size().astype("int64"),
        "first_gesture_type": grouped["type"].first(),
        "hours_to_gesture": grouped["delay_ns"].min() / HOUR_NS,
    })
    index = summary.index.union(pd.Index(pd.unique(timed["incident_id"].to_numpy())))
    summary = summary.reindex(index)
    codes = index.get_indexer(timed["incident_id"].to_numpy())
    timing = timed["timing"].to_numpy()
    for name in ("late", "early"):  # one bincount each: no per-incident Python
        summary[name] = np.bincount(codes[timing == name], minlength=len(index)).astype("int64")
    return summary


def speed_band(hours: np.ndarray) -> np.ndarray:
    """Within the hour, same day (24 h), later: for recovered incidents; NaN hours give None."""
    bands = np.where(hours <= 1.0, SPEED_BANDS[0], np.where(hours <= 24.0, SPEED_BANDS[1], SPEED_BANDS[2]))
    labelled = bands.astype(object)
    labelled[np.isnan(hours)] = None
    return np.asarray(labelled)


def episodes(incidents: pd.DataFrame, horizon_days: float) -> pd.DataFrame:
    """Incidents of one customer within H days of the one before form one episode: the unit of
    analysis, at its first incident's time (with that incident's id, category, place and team).

    Returns the first incident of each episode with `incident_count`, and `episode_of` (every
    incident's episode, by the first incident's id) in ``attrs``.
    """
    if incidents.empty:
        first = incidents.assign(incident_count=np.zeros(0, dtype="int64"))
        first.attrs["episode_of"] = pd.Series(dtype="int64")
        return first
    ordered = incidents.assign(_ns=to_ns(incidents["occurred_at"]))
    ordered = ordered.sort_values(["customer_id", "_ns", "incident_id"], kind="stable")
    customer = ordered["customer_id"].to_numpy()
    stamp = ordered["_ns"].to_numpy()
    gap = np.diff(stamp, prepend=stamp[0])
    starts = np.ones(len(ordered), dtype=bool)
    starts[1:] = (customer[1:] != customer[:-1]) | (gap[1:] > horizon_days * NS_PER_DAY)
    number = np.cumsum(starts) - 1
    first_ids = ordered["incident_id"].to_numpy()[starts]
    first = ordered.loc[starts].drop(columns="_ns")
    first["incident_count"] = np.bincount(number).astype("int64")
    first = first.sort_index()
    first.attrs["episode_of"] = pd.Series(first_ids[number], index=ordered["incident_id"].to_numpy())
    return first


def _first_seen_ns(
    customer_ids: np.ndarray,
    customers: pd.DataFrame | None,
    first_txn_ns: np.ndarray,
    incident_ns: np.ndarray,
) -> np.ndarray:
    """first_seen_at, else the first transaction, else the incident itself."""
    missing = np.iinfo(np.int64).min
    first_seen = np.full(customer_ids.size, missing, dtype=np.int64)
    if customers is not None and not customers.empty:
        known = customers.drop_duplicates("customer_id").set_index("customer_id")
        first_seen = to_ns(known["first_seen_at"].reindex(customer_ids).reset_index(drop=True))
    first_seen = np.where(first_seen == missing, first_txn_ns, first_seen)
    return np.where(first_seen == missing, incident_ns, first_seen)


def default_as_of_ns(incidents: pd.DataFrame, transactions: pd.DataFrame) -> int:
    """Latest transaction time; falls back to the latest incident when there are none."""
    if isinstance(transactions, Outcomes):
        if transactions.latest_transaction is not None:
            return timestamp_to_ns(transactions.latest_transaction)
        transactions = None
    for frame in (transactions, incidents):
        if frame is not None and len(frame):
            latest = pd.to_datetime(frame["occurred_at"]).max()
            if pd.notna(latest):
                return timestamp_to_ns(latest)
    return timestamp_to_ns(pd.Timestamp.now())


def _window_columns(
    ledger: Ledger, customer_ids: np.ndarray, incident_ns: np.ndarray, start_ns: np.ndarray, horizon_ns: int
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Return time and money/purchase sums in the windows around each incident (follow-up from
    ``start_ns``, the end of the recovery window), plus each customer's first transaction time.
    Not yet masked for eligibility."""
    start, end = ledger.blocks(customer_ids)
    # All window edges in one batched search; "before t" is "at or before t - 1 ns".
    prior_ns = PRIOR_WINDOW_DAYS * NS_PER_DAY
    targets = np.concatenate(
        [start_ns, start_ns + horizon_ns, incident_ns - 1, incident_ns - horizon_ns - 1,
         incident_ns - prior_ns - 1]
    )  # fmt: skip
    edges = ledger.count_through(np.tile(start, 5), np.tile(end, 5), targets)
    after_start, after_end, before_end, before_start, prior_start = edges.reshape(5, -1)
    # Return = first purchase (amount > 0) strictly after the incident.
    candidate = ledger.next_purchase[after_start]
    has_return = candidate < end
    return_ns = ledger.time_at(candidate, has_return)
    money, purchases = ledger.amount_prefix, ledger.purchase_prefix
    columns = {
        "event": has_return,
        "return_ns": np.where(has_return, return_ns, NO_TIME),
        "return_days": np.where(has_return, (return_ns - start_ns) / NS_PER_DAY, np.nan),
        "revenue_after_cents": (money[after_end] - money[after_start]).astype(float),
        "revenue_before_cents": money[before_end] - money[before_start],
        "prior_txn_count_365": purchases[before_end] - purchases[prior_start],
        "prior_revenue_cents_365": money[before_end] - money[prior_start],
    }
    has_rows = start < end
    first_txn_ns = np.where(has_rows, ledger.time_at(start, has_rows), np.iinfo(np.int64).min)
    return columns, first_txn_ns


NO_TIME = np.iinfo(np.int64).min  # int64 nanoseconds of a missing time (NaT)
# The horizons whose windows the outcomes table keeps (the Payoff page's choices); another
# horizon is linked from the transactions.
OUTCOME_HORIZONS = (30, 90, 180, 365)


def outcome_columns(
    incidents: pd.DataFrame,
    transactions: pd.DataFrame,
    recovery_window_hours: float = DEFAULT_RECOVERY_WINDOW_HOURS,
    horizons: tuple[int, ...] = OUTCOME_HORIZONS,
) -> pd.DataFrame:
    """What the transactions say about each incident, as the outcomes table keeps it: one row per
    incident (incident_id, customer_id, occurred_at) with the first return after the recovery
    window (`first_return_at`, NaT if none yet), the customer's first transaction, the purchases
    and revenue of the 365 days before, and for each horizon H the revenue in (window end,
    window end + H] (`revenue_after_H_cents`) and in the H days before (`revenue_before_H_cents`).
    `transactions` must hold every transaction of these customers (none after as-of is left
    out): the same windows `link_incidents` computes, so a stored row links exactly as the
    transactions would."""
    ledger = Ledger.build(transactions)
    customer_ids = incidents["customer_id"].to_numpy(dtype="int64")
    incident_ns = to_ns(incidents["occurred_at"])
    start_ns = incident_ns + int(round(recovery_window_hours * HOUR_NS))
    out = pd.DataFrame({"incident_id": incidents["incident_id"].to_numpy(dtype="int64"),
                        "customer_id": customer_ids, "occurred_at": incident_ns.astype("datetime64[ns]")})
    for position, horizon in enumerate(horizons):
        windows, first_txn_ns = _window_columns(ledger, customer_ids, incident_ns, start_ns,
                                                int(round(horizon * NS_PER_DAY)))
        if position == 0:
            out["first_return_at"] = windows["return_ns"].astype("datetime64[ns]")
            out["first_transaction_at"] = first_txn_ns.astype("datetime64[ns]")
            out["prior_txn_count_365"] = windows["prior_txn_count_365"].astype("int64")
            out["prior_revenue_cents_365"] = windows["prior_revenue_cents_365"].astype("int64")
        out[f"revenue_after_{horizon}_cents"] = windows["revenue_after_cents"].astype("int64")
        out[f"revenue_before_{horizon}_cents"] = windows["revenue_before_cents"].astype("int64")
    return out


def outcome_row(
    incident_id: int,
    customer_id: int,
    incident_ns: int,
    times_ns: Sequence[int],
    amounts_cents: Sequence[int],
    recovery_window_hours: float = DEFAULT_RECOVERY_WINDOW_HOURS,
    horizons: tuple[int, ...] = OUTCOME_HORIZONS,
) -> dict[str, int | None]:
    """`outcome_columns` for ONE incident, in plain Python over its customer's transactions
    (`times_ns`, `amounts_cents`: that customer's only, any order): the same row, column for
    column, with times as int64 nanoseconds (None for NaT). The tablet works out one new
    incident per gesture, where the vectorised path's pandas set-up is most of the cost; the
    same windows: sorted times, a bisect per edge and a prefix-sum difference."""
    pairs = sorted(zip((int(t) for t in times_ns), (int(a) for a in amounts_cents), strict=True))
    times = [t for t, _ in pairs]
    money = [0]
    purchases = [0]
    for _, amount in pairs:
        money.append(money[-1] + amount)
        purchases.append(purchases[-1] + (amount > 0))
    start_ns = incident_ns + int(round(recovery_window_hours * HOUR_NS))
    after_start = bisect_right(times, start_ns)  # rows at or before the window's end
    return_ns = next((t for t, amount in pairs[after_start:] if amount > 0), None)
    before_end = bisect_left(times, incident_ns)  # rows strictly before the incident
    prior_start = bisect_left(times, incident_ns - PRIOR_WINDOW_DAYS * NS_PER_DAY)
    row: dict[str, int | None] = {
        "incident_id": int(incident_id), "customer_id": int(customer_id), "occurred_at": int(incident_ns),
        "first_return_at": return_ns, "first_transaction_at": times[0] if times else None,
        "prior_txn_count_365": purchases[before_end] - purchases[prior_start],
        "prior_revenue_cents_365": money[before_end] - money[prior_start],
    }
    for horizon in horizons:
        horizon_ns = int(round(horizon * NS_PER_DAY))
        after_end = bisect_right(times, start_ns + horizon_ns)
        before_start = bisect_left(times, incident_ns - horizon_ns)
        row[f"revenue_after_{horizon}_cents"] = money[after_end] - money[after_start]
        row[f"revenue_before_{horizon}_cents"] = money[before_end] - money[before_start]
    return row


class Outcomes(pd.DataFrame):
    """The outcomes table as read (`outcome_columns`' frame), passed where the transactions go
    (`link_incidents`, `compute_payoff`): the windows are looked up, not computed. Valid only for
    an as-of at or after `latest_transaction` (the data's latest transaction when it was read),
    for its recovery window and its horizons; `link_incidents` refuses anything else."""

    _metadata = ["latest_transaction", "recovery_window_hours"]
    latest_transaction: pd.Timestamp | None
    recovery_window_hours: float

    @property
    def _constructor(self) -> type[Outcomes]:
        return Outcomes

    @classmethod
    def of(cls, frame: pd.DataFrame, latest_transaction: Any, recovery_window_hours: float) -> Outcomes:
        outcomes = cls(frame)
        outcomes.latest_transaction = None if latest_transaction is None else pd.Timestamp(latest_transaction)
        outcomes.recovery_window_hours = float(recovery_window_hours)
        return outcomes

    def serves(self, as_of_ns: int | None, horizon_days: float, recovery_window_hours: float) -> bool:
        latest = self.latest_transaction
        return (
            float(recovery_window_hours) == self.recovery_window_hours
            and horizon_days in OUTCOME_HORIZONS and f"revenue_after_{int(horizon_days)}_cents" in self.columns
            and (as_of_ns is None or latest is None or as_of_ns >= timestamp_to_ns(latest))
        )

    def windows(self, incident_ids: np.ndarray, horizon_days: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """`_window_columns`' answer for these incidents, from the stored rows."""
        rows = self.set_index("incident_id").reindex(incident_ids)
        missing = rows["customer_id"].isna().to_numpy()
        if missing.any():
            raise ValueError(f"{int(missing.sum()):,} incidents have no stored outcome; rebuild the outcomes")
        incident_ns = to_ns(rows["occurred_at"])
        return_ns = to_ns(rows["first_return_at"])
        has_return = return_ns != NO_TIME
        start_ns = incident_ns + int(round(self.recovery_window_hours * HOUR_NS))
        columns = {
            "event": has_return,
            "return_ns": return_ns,
            "return_days": np.where(has_return, (return_ns - start_ns) / NS_PER_DAY, np.nan),
            "revenue_after_cents": rows[f"revenue_after_{horizon_days}_cents"].to_numpy(dtype="int64").astype(float),
            "revenue_before_cents": rows[f"revenue_before_{horizon_days}_cents"].to_numpy(dtype="int64"),
            "prior_txn_count_365": rows["prior_txn_count_365"].to_numpy(dtype="int64"),
            "prior_revenue_cents_365": rows["prior_revenue_cents_365"].to_numpy(dtype="int64"),
        }
        return columns, to_ns(rows["first_transaction_at"])


def _gesture_columns(timed: pd.DataFrame, incident_ids: pd.Series) -> dict[str, np.ndarray]:
    summary = summarise_gestures(timed).reindex(incident_ids)
    hours = summary["hours_to_gesture"].to_numpy(dtype=float)
    return {
        "recovered": summary["gesture_count"].fillna(0).to_numpy() > 0,
        "spend_cents": summary["spend_cents"].fillna(0).to_numpy(dtype="int64"),
        "valued_spend_cents": summary["valued_spend_cents"].fillna(0).to_numpy(dtype="int64"),
        "gesture_count": summary["gesture_count"].fillna(0).to_numpy(dtype="int64"),
        "first_gesture_type": summary["first_gesture_type"].to_numpy(),
        "hours_to_gesture": hours,
        "gesture_speed": speed_band(hours),
        "late_gestures": summary["late"].fillna(0).to_numpy(dtype="int64"),
        "early_gestures": summary["early"].fillna(0).to_numpy(dtype="int64"),
    }


def link_incidents(
    incidents: pd.DataFrame,
    gestures: pd.DataFrame,
    transactions: pd.DataFrame,
    customers: pd.DataFrame | None = None,
    as_of: Any = None,
    horizon_days: int = 90,
    recovery_window_hours: float = DEFAULT_RECOVERY_WINDOW_HOURS,
    by_episode: bool = False,
) -> pd.DataFrame:
    """One row per incident (or episode) with recovery, return, revenue-window and covariate columns.

    Recovered: a live gesture from the incident's time to the end of the recovery window (one
    before the incident never counts, one after the window is late). Follow-up for every row,
    recovered or not, starts when the window ends: the return is the first purchase after it, the
    revenue is over (window end, window end + H], and a row is eligible once that lies before
    as-of. With ``by_episode`` the rows are episodes (`episodes`: a customer's incidents within H
    days of each other), and a gesture on any incident of the episode counts for it, timed from the
    episode's start (``incident_count`` says how many incidents each row stands for).

    Transactions after ``as_of`` are ignored (not yet observed). Incidents after
    ``as_of`` stay in the output with duration 0, censored and not eligible.
    ``returned_within`` is 1.0 / 0.0, NaN when not eligible; ``revenue_after_cents``
    is NaN when not eligible; ``prior_txn_count_365`` counts purchases (amount > 0);
    ``revenue_before_cents`` (the H days before the incident) is the negative-control outcome.
    """
    as_of_ns = timestamp_to_ns(as_of) if as_of is not None else None
    stored = transactions if isinstance(transactions, Outcomes) else None
    if stored is not None and not stored.serves(as_of_ns, horizon_days, recovery_window_hours):
        raise ValueError("the stored outcomes cannot answer this as-of, horizon or recovery window; "
                         "link from the transactions")
    ledger = Ledger.build(transactions, as_of_ns) if stored is None else None
    if as_of_ns is None:
        as_of_ns = default_as_of_ns(incidents, transactions)
    every_incident = incidents.reset_index(drop=True)
    episode_of = None
    if by_episode:
        rows = episodes(every_incident, horizon_days)
        episode_of = rows.attrs["episode_of"]
    else:
        rows = every_incident.assign(incident_count=np.ones(len(every_incident), dtype="int64"))
    linked = rows.reset_index(drop=True).copy()
    linked.attrs = {}
    customer_ids = linked["customer_id"].to_numpy(dtype="int64")
    incident_ns = to_ns(linked["occurred_at"])
    horizon_ns = int(round(horizon_days * NS_PER_DAY))
    window_ns = int(round(recovery_window_hours * HOUR_NS))
    start_ns = incident_ns + window_ns  # follow-up starts when the recovery window ends
    if stored is not None:
        windows, first_txn_ns = stored.windows(linked["incident_id"].to_numpy(), int(horizon_days))
    else:
        assert ledger is not None
        windows, first_txn_ns = _window_columns(ledger, customer_ids, incident_ns, start_ns, horizon_ns)
    eligible = start_ns + horizon_ns <= as_of_ns
    timed = _timed_gestures(gestures, every_incident, linked, window_ns, episode_of)
    for name, values in _gesture_columns(timed, linked["incident_id"]).items():
        linked[name] = values
    linked["return_days"] = windows["return_days"]
    linked["duration_days"] = np.where(
        windows["event"], windows["return_days"], np.maximum(as_of_ns - start_ns, 0) / NS_PER_DAY
    )
    linked["event"] = windows["event"]
    linked["eligible"] = eligible
    linked["returned_within"] = np.where(eligible, (windows["return_days"] <= horizon_days) * 1.0, np.nan)
    linked["revenue_after_cents"] = np.where(eligible, windows["revenue_after_cents"], np.nan)
    for name in ("revenue_before_cents", "prior_txn_count_365", "prior_revenue_cents_365"):
        linked[name] = windows[name]
    first_seen = _first_seen_ns(customer_ids, customers, first_txn_ns, incident_ns)
    linked["tenure_days"] = np.maximum(incident_ns - first_seen, 0) / NS_PER_DAY
    for column in ("category", "location", "team"):
        if column not in linked.columns:
            linked[column] = pd.NA
    linked.attrs["as_of"] = pd.Timestamp(as_of_ns)
    linked.attrs["horizon_days"] = horizon_days
    linked.attrs["recovery_window_hours"] = recovery_window_hours
    return linked


def _timed_gestures(gestures: pd.DataFrame, incidents: pd.DataFrame, linked: pd.DataFrame, window_ns: int,
                    episode_of: pd.Series | None) -> pd.DataFrame:
    """Gestures timed against their own incident (early ones never count), then, for episodes,
    credited to the episode and re-timed from its start."""
    if episode_of is None:
        return gesture_timing(gestures, linked, window_ns)
    own = gesture_timing(gestures, incidents, window_ns)
    early = own.loc[own["timing"].to_numpy() == "early"].assign(incident_id=lambda f: f["incident_id"].map(episode_of))
    valid = own.loc[own["timing"].to_numpy() != "early"]
    moved = valid.assign(incident_id=valid["incident_id"].map(episode_of).to_numpy(), voided=False)
    timed = gesture_timing(moved, linked, window_ns)
    return pd.concat([timed, early], ignore_index=True) if len(early) else timed
