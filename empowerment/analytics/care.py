"""The proactive care list: customers at risk, ranked by value at risk, each with its reason.

A customer is **at risk** on day `as_of` when, within the last `window_days`:
- an incident got no recovery (no logged gesture) and no follow-up since, or
- they had `repeat_incidents` or more incidents, and nobody has followed up (or cared for them
  from the list) since the latest one.

**Value at risk** = the estimated chance the customer does not come back within `horizon_days`
of their latest incident × their typical revenue (what they spent in the year before it).

The chance comes from the payoff's own model shape (`linking.link_incidents` +
`design.covariate_matrix` + `models.fit_logistic`: prior visits, spend, tenure, category,
location), plus the number of incidents in the window before, fitted on incidents whose return
window closed before the care window opened (`as_of - window_days`). So nothing that happened
after any listed customer's incident is used: not for their features (all pre-incident), not for
the model's labels. Pure numpy/pandas; no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from empowerment.analytics.design import covariate_matrix
from empowerment.analytics.linking import NS_PER_DAY, link_incidents, to_ns
from empowerment.analytics.models import fit_logistic, sigmoid

MIN_TRAINING_INCIDENTS = 30
CARE_COLUMNS = ["customer_id", "incident_id", "occurred_at", "category", "reason_code", "reason", "incidents_in_window",
                "unrecovered", "chance_not_returning", "typical_revenue_cents", "value_at_risk_cents",
                "model", "rank"]


@dataclass(frozen=True)
class CareRules:
    window_days: int = 90
    repeat_incidents: int = 2
    horizon_days: int = 90

    def describe(self) -> str:
        return (f"An incident in the last {self.window_days} days with no recovery and no follow-up, or "
                f"{self.repeat_incidents} or more incidents in {self.window_days} days with no follow-up "
                f"since the latest. Ranked by the chance of not returning within {self.horizon_days} days "
                "(estimated from incidents before the window, using only what was known before each "
                "incident) times the customer's revenue in the year before.")


DEFAULT_RULES = CareRules()


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in CARE_COLUMNS})


def _prior_incidents(incidents: pd.DataFrame, window_ns: int) -> np.ndarray:
    """For each incident, how many of the same customer's incidents fell in the window before it."""
    order = np.lexsort((to_ns(incidents["occurred_at"]), incidents["customer_id"].to_numpy(dtype=np.int64)))
    customer = incidents["customer_id"].to_numpy(dtype=np.int64)[order]
    time = to_ns(incidents["occurred_at"])[order]
    # One sorted int64 key (customer, minute) makes "first incident of this customer at or after
    # t - window" a single vectorised binary search.
    minutes = (time - time.min()) // (60 * 10**9) if len(time) else time
    span = int(minutes.max()) + window_ns // (60 * 10**9) + 2 if len(time) else 1
    key = customer * span + minutes
    start = np.searchsorted(key, np.maximum(key - window_ns // (60 * 10**9), customer * span), side="left")
    counts = np.arange(len(order)) - start
    out = np.empty(len(order), dtype=np.int64)
    out[order] = counts
    return out


def _features(linked: pd.DataFrame, prior: np.ndarray) -> tuple[np.ndarray, list[str]]:
    X, names = covariate_matrix(linked)
    extra = np.log1p(prior.astype(float))
    spread = extra.std()
    if spread > 0:
        X = np.column_stack([X, (extra - extra.mean()) / spread])
        names = [*names, "log1p_prior_incidents_window"]
    return X, names


def chance_not_returning(
    incidents: pd.DataFrame, gestures: pd.DataFrame, transactions: pd.DataFrame,
    customers: pd.DataFrame | None, score_ids: np.ndarray, as_of: Any, rules: CareRules = DEFAULT_RULES,
) -> tuple[pd.DataFrame, str]:
    """For the incidents `score_ids`: (frame of incident_id, chance_not_returning,
    typical_revenue_cents), and which estimate was used ("model" or "base rate")."""
    as_of_ns = int(pd.Timestamp(as_of).as_unit("ns").value)
    cutoff_ns = as_of_ns - rules.window_days * NS_PER_DAY
    valid = gestures.loc[~gestures["voided"].astype(bool)] if "voided" in gestures else gestures
    # Features of every incident (pre-incident only by construction), labels as seen at the cutoff.
    linked = link_incidents(incidents, valid, transactions, customers, as_of=pd.Timestamp(cutoff_ns),
                            horizon_days=rules.horizon_days)
    prior = _prior_incidents(linked, rules.window_days * NS_PER_DAY)
    X, _names = _features(linked, prior)
    train = linked["eligible"].to_numpy(dtype=bool) & (to_ns(linked["occurred_at"]) < cutoff_ns)
    y_not = 1.0 - linked["returned_within"].to_numpy(dtype=float)
    score_rows = linked["incident_id"].isin(score_ids).to_numpy()
    method = "model"
    if train.sum() >= MIN_TRAINING_INCIDENTS and 0 < np.nansum(y_not[train]) < train.sum():
        fit = fit_logistic(X[train], y_not[train])
        chance = sigmoid(X[score_rows] @ fit.coef)
    else:
        base = float(np.nanmean(y_not[train])) if train.any() else 0.5
        chance = np.full(int(score_rows.sum()), base)
        method = "base rate"
    # Typical revenue: the year before the incident, from the same pre-incident ledger. The
    # link at the cutoff hides later purchases, so re-link the scored incidents as of `as_of`.
    scored = link_incidents(incidents.loc[incidents["incident_id"].isin(score_ids)], valid, transactions,
                            customers, as_of=pd.Timestamp(as_of_ns), horizon_days=rules.horizon_days)
    revenue = scored.set_index("incident_id")["prior_revenue_cents_365"]
    out = pd.DataFrame({"incident_id": linked.loc[score_rows, "incident_id"].to_numpy(),
                        "chance_not_returning": chance})
    out["typical_revenue_cents"] = np.maximum(out["incident_id"].map(revenue).fillna(0).to_numpy(), 0)
    return out, method


def _day(stamp: Any) -> str:
    return f"{pd.Timestamp(stamp):%-d %b}"


def build_care_list(
    incidents: pd.DataFrame,
    gestures: pd.DataFrame,
    transactions: pd.DataFrame,
    customers: pd.DataFrame | None,
    touches: pd.DataFrame,
    as_of: Any,
    *,
    rules: CareRules = DEFAULT_RULES,
    category_labels: dict[str, str] | None = None,
    candidates: np.ndarray | None = None,
) -> pd.DataFrame:
    """The list, best first. `touches`: follow-ups and gestures logged from the care list
    (customer_id, occurred_at). `candidates`: limit the list to these customers (a location's)."""
    if incidents.empty:
        return _empty()
    labels = category_labels or {}
    as_of_ts = pd.Timestamp(as_of)
    start = as_of_ts - pd.Timedelta(days=rules.window_days)
    times = pd.to_datetime(incidents["occurred_at"])
    recent = incidents.loc[(times > start) & (times <= as_of_ts)].copy()
    if candidates is not None:
        recent = recent.loc[recent["customer_id"].isin(candidates)]
    if recent.empty:
        return _empty()
    valid = gestures.loc[~gestures["voided"].astype(bool)] if "voided" in gestures else gestures
    recent["recovered"] = recent["incident_id"].isin(valid["incident_id"])
    recent["occurred_at"] = pd.to_datetime(recent["occurred_at"])
    recent["touched_after"] = False
    if len(touches):
        last_touch = pd.to_datetime(touches["occurred_at"]).groupby(touches["customer_id"].to_numpy()).max()
        touched_at = pd.to_datetime(recent["customer_id"].map(last_touch))
        recent["touched_after"] = (touched_at.notna() & (touched_at >= recent["occurred_at"])).to_numpy()
    recent = recent.sort_values(["customer_id", "occurred_at", "incident_id"])
    per = recent.groupby("customer_id")
    latest = per.tail(1).set_index("customer_id")
    count = per.size()
    open_unrecovered = recent.loc[~recent["recovered"] & ~recent["touched_after"]]
    unrecovered = open_unrecovered.groupby("customer_id").size()
    latest_touched = latest["touched_after"]
    repeat = (count >= rules.repeat_incidents) & ~latest_touched.reindex(count.index, fill_value=False)
    at_risk = sorted(set(unrecovered.index) | set(repeat[repeat].index))
    if not at_risk:
        return _empty()
    rows = latest.loc[at_risk, ["incident_id", "occurred_at", "category"]].reset_index()
    rows["incidents_in_window"] = count.reindex(at_risk).to_numpy()
    rows["unrecovered"] = unrecovered.reindex(at_risk, fill_value=0).to_numpy()
    chance, method = chance_not_returning(incidents, gestures, transactions, customers,
                                          rows["incident_id"].to_numpy(), as_of_ts, rules)
    rows = rows.merge(chance, on="incident_id", how="left")
    rows["value_at_risk_cents"] = np.round(rows["chance_not_returning"] * rows["typical_revenue_cents"]).astype(np.int64)
    rows["model"] = method
    details = recent.groupby("customer_id").apply(lambda g: _detail(g, labels), include_groups=False)
    rows["reason_code"] = np.where(rows["unrecovered"] > 0,
                                   np.where(rows["incidents_in_window"] >= rules.repeat_incidents, "both", "unrecovered"),
                                   "repeat")
    rows["reason"] = [_reason(code, n, u, details.get(cid, ""), rules)
                      for code, n, u, cid in zip(rows["reason_code"], rows["incidents_in_window"], rows["unrecovered"],
                                                 rows["customer_id"], strict=True)]
    rows = rows.sort_values(["value_at_risk_cents", "chance_not_returning", "occurred_at"],
                            ascending=[False, False, True], ignore_index=True)
    rows["rank"] = np.arange(1, len(rows) + 1)
    return rows[CARE_COLUMNS]


MAX_LISTED_INCIDENTS = 3


def _detail(incidents: pd.DataFrame, labels: dict[str, str]) -> str:
    """The latest few incidents in words ("Noise on 3 Nov (not recovered), ... and 4 earlier")."""
    shown = incidents.tail(MAX_LISTED_INCIDENTS)
    words = ", ".join(f"{labels.get(str(c), str(c))} on {_day(t)}" + ("" if r else " (not recovered)")
                      for c, t, r in zip(shown["category"], shown["occurred_at"], shown["recovered"], strict=True))
    earlier = len(incidents) - len(shown)
    return words + (f" and {earlier} earlier" if earlier else "")


def _reason(code: str, count: int, unrecovered: int, detail: str, rules: CareRules) -> str:
    if code == "unrecovered":
        head = "An incident with no recovery yet" if unrecovered == 1 else f"{unrecovered} incidents with no recovery yet"
    elif code == "repeat":
        head = f"{count} incidents in {rules.window_days} days, no follow-up since the last"
    else:
        head = (f"{count} incidents in {rules.window_days} days, "
                f"{'one' if unrecovered == 1 else unrecovered} not recovered")
    return f"{head}: {detail}."


# --- at the point of service ---------------------------------------------------------------------

OVERCOMPENSATION_SHARE = 1.5  # beyond ~150% of what was lost, compensation can backfire (Haesevoets 2017)
REPEAT_RECOVERIES = 2


def typical_visit_cents(lifetime_spend_cents: int, visits: int) -> int | None:
    """What the customer usually spends on a visit (None when they have no visits yet)."""
    return int(round(lifetime_spend_cents / visits)) if visits > 0 and lifetime_spend_cents > 0 else None


def is_overcompensation(amount_cents: int | None, typical_cents: int | None,
                        share: float = OVERCOMPENSATION_SHARE) -> bool:
    return amount_cents is not None and typical_cents is not None and amount_cents > share * typical_cents


def recent_recoveries(recovered_at: pd.Series, now: Any, days: int = 90) -> int:
    """How many recoveries (gesture times) fell in the `days` before `now`."""
    times = pd.to_datetime(recovered_at.dropna())
    stamp = pd.Timestamp(now)
    return int(((times > stamp - pd.Timedelta(days=days)) & (times <= stamp)).sum())
