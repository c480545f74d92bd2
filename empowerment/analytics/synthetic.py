"""Synthetic incidents, gestures and purchases with a known recovery effect.

Staff mostly help already-loyal customers (prior purchase count drives both the
chance of a gesture and the chance of returning), so the naive
recovered-vs-comparison gap overstates the effect; the true ATT on the H-day
return probability is ``true_effect`` (additive for recovered incidents).
The building blocks are public so the demo-data generator can reuse them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

CATEGORIES = ("delivery", "billing", "product", "service")
CATEGORY_SHARES = (0.4, 0.2, 0.3, 0.1)
CATEGORY_RETURN_SHIFT = np.array([0.0, -0.3, 0.2, -0.1])  # log-odds
CATEGORY_GESTURE_SHIFT = np.array([0.2, -0.4, 0.0, 0.3])  # log-odds
LOCATIONS = ("north", "south", "east", "west", "")
TEAMS = ("front desk", "support", "floor")
# type -> (probability, min cost, max cost) in cents; zero-cost gestures are real gestures
GESTURE_MENU = {
    "refund": (0.20, 500, 8000),
    "comp": (0.15, 1000, 5000),
    "upgrade": (0.10, 0, 3000),
    "gift": (0.10, 1500, 4000),
    "voucher": (0.20, 1000, 2500),
    "personal note": (0.15, 0, 0),
    "time": (0.10, 0, 0),
}
TYPICAL_LOG_PRIOR_COUNT = 1.7  # centre of log1p(prior purchases): keeps intercepts readable
MINUTE_NS = 60 * 10**9
DAY_NS = 86_400 * 10**9


@dataclass(frozen=True)
class Timeline:
    start: pd.Timestamp = pd.Timestamp("2023-01-01")
    history_days: int = 365  # purchases before the first possible incident
    incident_days: int = 365
    follow_up_days: int = 30  # after the last incident, up to as-of
    horizon_days: int = 90
    recovery_window_hours: int = 72  # follow-up starts when the window ends (analytics.linking)

    @property
    def window_days(self) -> float:
        return self.recovery_window_hours / 24.0

    @property
    def incident_start(self) -> pd.Timestamp:
        return self.start + pd.Timedelta(days=self.history_days)

    @property
    def as_of(self) -> pd.Timestamp:
        return self.incident_start + pd.Timedelta(days=self.incident_days + self.follow_up_days)


def _uniform_minutes(rng: np.random.Generator, low_ns: np.ndarray, high_ns: np.ndarray) -> np.ndarray:
    """Minute-resolution times uniformly in [low, high] (ns)."""
    span = np.maximum((high_ns - low_ns) // MINUTE_NS, 0)
    return np.asarray(low_ns + (rng.random(low_ns.size) * (span + 1)).astype(np.int64) * MINUTE_NS)


def _as_times(ns: np.ndarray) -> pd.Series:
    return pd.Series(ns.astype("datetime64[ns]"))


def purchase_amounts(rng: np.random.Generator, size: int, typical_cents: float = 3500) -> np.ndarray:
    return np.maximum(rng.lognormal(np.log(typical_cents), 0.6, size).astype(np.int64), 100)


def simulate_customers(rng: np.random.Generator, n: int, timeline: Timeline) -> pd.DataFrame:
    """Customers with a latent loyalty (purchases per year) and a first-seen date (some NA)."""
    loyalty = rng.gamma(1.5, 4.0, n)
    start_ns = np.full(n, pd.Timestamp(timeline.start).value - 1500 * DAY_NS)
    first_seen = _as_times(_uniform_minutes(rng, start_ns, start_ns + 1400 * DAY_NS))
    first_seen[rng.random(n) < 0.1] = pd.NaT
    return pd.DataFrame(
        {
            "customer_id": np.arange(1, n + 1, dtype=np.int64),
            "first_seen_at": first_seen,
            "loyalty": loyalty,
            "home_location": rng.choice(np.array(LOCATIONS, dtype=object), n),
        }
    )


def simulate_incidents(rng: np.random.Generator, customers: pd.DataFrame, timeline: Timeline) -> pd.DataFrame:
    """One incident per customer, uniformly over the incident window."""
    n = len(customers)
    low = np.full(n, timeline.incident_start.value)
    occurred = _uniform_minutes(rng, low, low + timeline.incident_days * DAY_NS)
    location = customers["home_location"].to_numpy().copy()
    location[rng.random(n) < 0.03] = None
    return pd.DataFrame(
        {
            "incident_id": np.arange(1, n + 1, dtype=np.int64),
            "customer_id": customers["customer_id"].to_numpy(),
            "occurred_at": _as_times(occurred),
            "category": rng.choice(np.array(CATEGORIES, dtype=object), n, p=CATEGORY_SHARES),
            "location": location,
            "team": rng.choice(np.array(TEAMS, dtype=object), n),
        }
    )


def simulate_purchases_between(
    rng: np.random.Generator,
    customer_ids: np.ndarray,
    start_ns: np.ndarray,
    end_ns: np.ndarray,
    yearly_rate: np.ndarray,
) -> pd.DataFrame:
    """Poisson purchases in [start, end] per row (vectorised with np.repeat)."""
    days = np.maximum(end_ns - start_ns, 0) / DAY_NS
    counts = rng.poisson(yearly_rate * days / 365.0)
    rows = np.repeat(np.arange(customer_ids.size), counts)
    times = _uniform_minutes(rng, start_ns[rows], end_ns[rows])
    return pd.DataFrame(
        {
            "customer_id": customer_ids[rows],
            "occurred_at": _as_times(times),
            "amount_cents": purchase_amounts(rng, rows.size),
        }
    )


def category_codes(incidents: pd.DataFrame) -> np.ndarray:
    return np.asarray(pd.Categorical(incidents["category"], categories=CATEGORIES).codes, dtype=np.int64)


def gesture_probability(
    prior_count: np.ndarray, category_code: np.ndarray, selection_bias: bool
) -> np.ndarray:
    """Staff favour loyal customers (and some categories) when selection_bias is on."""
    if not selection_bias:
        return np.full(prior_count.size, 0.35)
    loyalty_signal = np.log1p(prior_count) - TYPICAL_LOG_PRIOR_COUNT
    logit = -0.6 + 1.6 * loyalty_signal + CATEGORY_GESTURE_SHIFT[category_code]
    return np.asarray(1.0 / (1.0 + np.exp(-logit)))


def baseline_return_probability(prior_count: np.ndarray, category_code: np.ndarray) -> np.ndarray:
    """P(return within the horizon | no gesture); capped at 0.85 so +effect stays a probability."""
    loyalty_signal = np.log1p(prior_count) - TYPICAL_LOG_PRIOR_COUNT
    logit = -0.9 + 1.4 * loyalty_signal + CATEGORY_RETURN_SHIFT[category_code]
    return np.asarray(0.85 / (1.0 + np.exp(-logit)))


def simulate_returns(
    rng: np.random.Generator,
    incidents: pd.DataFrame,
    return_probability: np.ndarray,
    loyalty: np.ndarray,
    timeline: Timeline,
    extra_cents: np.ndarray | None = None,
) -> pd.DataFrame:
    """First purchase after the incident (within H with the given probability), then more;
    `extra_cents` (per incident): one more purchase of that amount a minute after a return
    within H (a known revenue effect; draws no random numbers, so the rest is unchanged)."""
    n = len(incidents)
    incident_ns = incidents["occurred_at"].to_numpy(dtype="datetime64[ns]").view("int64")
    horizon_ns = timeline.horizon_days * DAY_NS
    within = rng.random(n) < return_probability
    later = ~within & (rng.random(n) < 0.5)
    # The effect is on a return within H days of the end of the recovery window (where the
    # analysis starts its follow-up), so the truth is exactly `true_effect`.
    start = timeline.window_days
    delay = np.where(
        within,
        start + rng.uniform(1 / 24, timeline.horizon_days, n),
        start + timeline.horizon_days + rng.exponential(45.0, n) + 1 / 24,
    )
    return_ns = incident_ns + (delay * DAY_NS).astype(np.int64)
    returns = (within | later) & (return_ns <= timeline.as_of.value)
    customer_ids = incidents["customer_id"].to_numpy()
    first = pd.DataFrame(
        {
            "customer_id": customer_ids[returns],
            "occurred_at": _as_times(return_ns[returns]),
            "amount_cents": purchase_amounts(rng, int(returns.sum())),
        }
    )
    following = simulate_purchases_between(
        rng,
        customer_ids[returns],
        return_ns[returns] + MINUTE_NS,
        np.full(int(returns.sum()), timeline.as_of.value),
        loyalty[returns],
    )
    # Refunds / zero receipts between incident and return: never count as a return.
    noise = rng.random(n) < 0.08
    gap_end = np.where(returns, return_ns - MINUTE_NS, incident_ns + horizon_ns)[noise]
    noise_times = _uniform_minutes(rng, incident_ns[noise] + MINUTE_NS, gap_end)
    amounts = np.where(rng.random(int(noise.sum())) < 0.7, -rng.integers(500, 5000, int(noise.sum())), 0)
    non_purchases = pd.DataFrame(
        {
            "customer_id": customer_ids[noise],
            "occurred_at": _as_times(noise_times),
            "amount_cents": amounts.astype(np.int64),
        }
    )
    keep = non_purchases["occurred_at"] <= timeline.as_of
    pieces = [first, following, non_purchases[keep]]
    if extra_cents is not None:
        spends = within & returns & (extra_cents > 0)
        pieces.append(pd.DataFrame({"customer_id": customer_ids[spends],
                                    "occurred_at": _as_times(return_ns[spends] + MINUTE_NS),
                                    "amount_cents": np.round(extra_cents[spends]).astype(np.int64)}))
    return pd.concat(pieces, ignore_index=True)


def simulate_gestures(
    rng: np.random.Generator, incidents: pd.DataFrame, recovered: np.ndarray
) -> pd.DataFrame:
    """Gestures for recovered incidents, plus voided ones sprinkled on both groups."""
    gestures_per_incident = np.where(recovered, 1 + (rng.random(len(incidents)) < 0.25), 0)
    voided_extra = (rng.random(len(incidents)) < 0.05).astype(np.int64)
    rows = np.repeat(np.arange(len(incidents)), gestures_per_incident + voided_extra)
    is_voided = np.ones(rows.size, dtype=bool)
    is_voided[np.searchsorted(rows, np.flatnonzero(gestures_per_incident), side="left")] = False
    second = np.flatnonzero(gestures_per_incident == 2)
    is_voided[np.searchsorted(rows, second, side="left") + 1] = False
    names = np.array(list(GESTURE_MENU), dtype=object)
    menu = np.array([GESTURE_MENU[name][0] for name in names])
    kind = rng.choice(len(names), rows.size, p=menu / menu.sum())
    low = np.array([GESTURE_MENU[name][1] for name in names])[kind]
    high = np.array([GESTURE_MENU[name][2] for name in names])[kind]
    incident_ns = incidents["occurred_at"].to_numpy(dtype="datetime64[ns]").view("int64")[rows]
    return pd.DataFrame(
        {
            "gesture_id": np.arange(1, rows.size + 1, dtype=np.int64),
            "incident_id": incidents["incident_id"].to_numpy()[rows],
            "customer_id": incidents["customer_id"].to_numpy()[rows],
            "employee_id": rng.integers(1, 41, rows.size),
            "occurred_at": _as_times(_uniform_minutes(rng, incident_ns, incident_ns + DAY_NS)),
            "type": names[kind],
            "cost_cents": (low + rng.random(rows.size) * (high - low)).astype(np.int64),
            "voided": is_voided,
            "team": incidents["team"].to_numpy()[rows],
            "location": incidents["location"].to_numpy()[rows],
        }
    )


@dataclass(frozen=True)
class HardCases:
    """The ways real data goes wrong (issue 12), each switchable, for the coverage benchmark.

    - nonlinear_selection: staff choose by steps in prior activity (none / some / many purchases),
      which a linear-in-log propensity cannot follow exactly;
    - heterogeneous: the effect is larger for loyal customers, so the effect on the recovered (ATT)
      differs from the effect on the others (ATC); both are in the truth;
    - late_share: that share of the *unrecovered* customers who came back within 30 days of the
      window's end get a gesture logged an hour after they came back (immortal time: counting it
      would credit the gesture with the return);
    - heavy_tails: each customer's purchase amounts are scaled by a lognormal factor (sigma 1.2),
      so a few customers hold much of the revenue;
    - extra_spend_cents: recovered customers who come back within H spend that much more on the
      visit (one more purchase): with the return effect, a known revenue effect (truth
      "att_revenue_cents": expected revenue in the window with minus without recovery, over the
      recovered incidents with full follow-up);
    - dominant_incidents: one customer (the most loyal) gets that many more incidents over the
      window, half of them with a gesture (issue 12: 3,000 of 7,769 incidents);
    - huge_purchase_cents: a single purchase of that size 10 days into the follow-up of one
      recovered incident with full follow-up (issue 12: a $2M purchase).
    The last two are for tests of the warnings, not for coverage: they leave the truth as it is.
    """

    nonlinear_selection: bool = False
    heterogeneous: bool = False
    late_share: float = 0.0
    heavy_tails: bool = False
    extra_spend_cents: float = 0.0  # a known revenue effect: recovered customers back within H spend this more
    dominant_incidents: int = 0  # one customer (the most loyal) gets this many more incidents
    huge_purchase_cents: int = 0  # one purchase of this size after one recovered incident, in its window


def _nonlinear_probability(prior_count: np.ndarray, category_code: np.ndarray) -> np.ndarray:
    logit = (-1.3 + 1.1 * ((prior_count >= 4) & (prior_count < 10)) + 2.3 * (prior_count >= 10)
             - 1.2 * (prior_count == 0) + CATEGORY_GESTURE_SHIFT[category_code])
    return np.asarray(1.0 / (1.0 + np.exp(-logit)))


def _late_gestures(rng: np.random.Generator, incidents: pd.DataFrame, follow_up: pd.DataFrame,
                   recovered: np.ndarray, share: float, timeline: Timeline) -> pd.DataFrame:
    purchases = follow_up.loc[follow_up["amount_cents"] > 0]
    first_back = purchases.groupby("customer_id")["occurred_at"].min()
    back = pd.to_datetime(incidents["customer_id"].map(first_back)).to_numpy(dtype="datetime64[ns]")
    start = incidents["occurred_at"].to_numpy(dtype="datetime64[ns]") + np.timedelta64(
        int(timeline.window_days * DAY_NS), "ns")
    soon = ~np.isnat(back) & (back <= start + np.timedelta64(30 * DAY_NS, "ns"))
    chosen = soon & ~recovered & (rng.random(len(incidents)) < share)
    late = simulate_gestures(rng, incidents, chosen)
    late = late.loc[~late["voided"].to_numpy()]
    when = pd.Series(back, index=incidents["incident_id"].to_numpy())
    times = when.reindex(late["incident_id"].to_numpy()).to_numpy() + np.timedelta64(3_600 * 10**9, "ns")
    return late.assign(occurred_at=times)


MEAN_PURCHASE_CENTS = 3500 * float(np.exp(0.6**2 / 2)) - 0.5  # purchase_amounts: lognormal, floored


def _revenue_gain(treated: np.ndarray, baseline: np.ndarray, loyalty: np.ndarray, scale: np.ndarray,
                  extra: float, timeline: Timeline) -> np.ndarray:
    """Per incident, expected revenue in (window end, + H] with recovery minus without. Given a
    return within H (at u ~ U(1/24 day, H) into the follow-up): the first purchase plus the
    customer's purchases at their yearly rate over the H - u days left, plus `extra` when
    recovered; nothing in the window otherwise. (Refunds sprinkled before the return move it by
    well under a cent.)"""
    horizon = timeline.horizon_days
    per_return = MEAN_PURCHASE_CENTS * (1.0 + loyalty * (horizon - 1 / 24) / 2 / 365.0)
    return np.asarray(scale * (treated * (per_return + extra) - baseline * per_return))


def _dominant_customer(rng: np.random.Generator, incidents: pd.DataFrame, gestures: pd.DataFrame,
                       loyalty: np.ndarray, count: int, timeline: Timeline) -> tuple[pd.DataFrame, pd.DataFrame]:
    customer = int(np.argmax(loyalty)) + 1
    low = np.full(count, timeline.incident_start.value)
    extra = pd.DataFrame({
        "incident_id": np.arange(count, dtype=np.int64) + int(incidents["incident_id"].max()) + 1,
        "customer_id": np.full(count, customer, dtype=np.int64),
        "occurred_at": _as_times(_uniform_minutes(rng, low, low + timeline.incident_days * DAY_NS)),
        "category": rng.choice(np.array(CATEGORIES, dtype=object), count, p=CATEGORY_SHARES),
        "location": incidents.loc[incidents["customer_id"] == customer, "location"].iloc[0],
        "team": rng.choice(np.array(TEAMS, dtype=object), count),
    })
    helped = simulate_gestures(rng, extra, rng.random(count) < 0.5)
    helped = helped.assign(gesture_id=helped["gesture_id"] + int(gestures["gesture_id"].max()))
    return pd.concat([incidents, extra], ignore_index=True), pd.concat([gestures, helped], ignore_index=True)


def _huge_purchase(transactions: pd.DataFrame, incidents: pd.DataFrame, target: np.ndarray, cents: int,
                   timeline: Timeline) -> pd.DataFrame:
    first = int(np.flatnonzero(target)[0])
    when = incidents["occurred_at"].iloc[first] + pd.Timedelta(days=timeline.window_days + 10)
    huge = pd.DataFrame({"customer_id": [int(incidents["customer_id"].iloc[first])], "occurred_at": [when],
                         "amount_cents": [int(cents)]})
    return pd.concat([transactions, huge], ignore_index=True).sort_values(["customer_id", "occurred_at"],
                                                                          ignore_index=True)


def make_synthetic(
    n_customers: int,
    seed: int,
    true_effect: float = 0.10,
    selection_bias: bool = True,
    placebo: bool = False,
    timeline: Timeline | None = None,
    hard: HardCases | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """(incidents, gestures, transactions, customers, truth); truth["att_return"] is the effect on
    the recovered, truth["atc_return"] on the others (equal unless ``hard.heterogeneous``).

    ``placebo`` assigns gestures at random and sets the true effect to 0; ``hard`` switches on
    the hard cases (`HardCases`). With a zero effect the true revenue effect is zero too.
    """
    timeline = timeline or Timeline()
    hard = hard or HardCases()
    rng = np.random.default_rng(seed)
    effect = 0.0 if placebo else true_effect
    customers = simulate_customers(rng, n_customers, timeline)
    incidents = simulate_incidents(rng, customers, timeline)
    incident_ns = incidents["occurred_at"].to_numpy(dtype="datetime64[ns]").view("int64")
    loyalty = customers["loyalty"].to_numpy()
    prior = simulate_purchases_between(
        rng,
        incidents["customer_id"].to_numpy(),
        incident_ns - 365 * DAY_NS,
        incident_ns - MINUTE_NS,
        loyalty,
    )
    prior_count = np.bincount(prior["customer_id"].to_numpy() - 1, minlength=n_customers)
    codes = category_codes(incidents)
    if hard.nonlinear_selection and selection_bias and not placebo:
        propensity = _nonlinear_probability(prior_count, codes)
    else:
        propensity = gesture_probability(prior_count, codes, selection_bias and not placebo)
    recovered = rng.random(n_customers) < propensity
    baseline = baseline_return_probability(prior_count, codes)
    effects = effect * (0.4 + 1.2 * (prior_count >= 6)) if hard.heterogeneous else np.full(n_customers, effect)
    treated_probability = np.clip(baseline + effects, 0, 1)
    return_probability = np.where(recovered, treated_probability, baseline)
    extra = np.where(recovered, float(hard.extra_spend_cents), 0.0) if hard.extra_spend_cents else None
    follow_up = simulate_returns(rng, incidents, return_probability, loyalty, timeline, extra)
    transactions = pd.concat([prior, follow_up], ignore_index=True)
    scale = np.ones(n_customers)
    if hard.heavy_tails:
        scale = rng.lognormal(-0.72, 1.2, n_customers)  # mean 1: the same total, far more uneven
        factor = scale[transactions["customer_id"].to_numpy() - 1]
        transactions["amount_cents"] = np.round(transactions["amount_cents"].to_numpy() * factor).astype(np.int64)
    transactions = transactions.sort_values(["customer_id", "occurred_at"], ignore_index=True)
    gestures = simulate_gestures(rng, incidents, recovered)
    if hard.late_share > 0:
        late = _late_gestures(rng, incidents, follow_up, recovered, hard.late_share, timeline)
        late = late.assign(gesture_id=late["gesture_id"] + int(gestures["gesture_id"].max()))
        gestures = pd.concat([gestures, late], ignore_index=True)
    gain = treated_probability - baseline
    eligible = incident_ns + int(timeline.window_days * DAY_NS) + timeline.horizon_days * DAY_NS <= timeline.as_of.value
    revenue_gain = _revenue_gain(treated_probability, baseline, loyalty, scale, float(hard.extra_spend_cents), timeline)
    target = recovered & eligible
    if hard.dominant_incidents:
        incidents, gestures = _dominant_customer(rng, incidents, gestures, loyalty, hard.dominant_incidents, timeline)
    if hard.huge_purchase_cents:
        transactions = _huge_purchase(transactions, incidents, target, hard.huge_purchase_cents, timeline)
    truth = {
        "att_revenue_cents": float(revenue_gain[target].mean()) if target.any() else 0.0,
        "att_return": float(gain[recovered].mean()) if hard.heterogeneous and recovered.any() else effect,
        "atc_return": float(gain[~recovered].mean()) if hard.heterogeneous and (~recovered).any() else effect,
        "horizon_days": timeline.horizon_days,
        "as_of": timeline.as_of,
        "recovered_share": float(recovered.mean()),
    }
    return incidents, gestures, transactions, customers[["customer_id", "first_seen_at"]], truth
