"""The recovery payoff: rates, curves, adjusted uplift and money, each figure with its verdict.

Scaling choices: incremental revenue multiplies the per-episode ATT by *all* recovered episodes in
scope, including recent ones without full follow-up (assumed to benefit alike); customers kept
multiplies the return uplift by the distinct customers with a recovered episode (a customer is
kept once). Money is on the contribution margin (`PayoffRequest.margin`): return on spend is
(incremental margin - spend) / spend, and the cost of inaction is the margin the comparison
episodes lost (ATC) net of what recovering them would have cost at the observed spend per
recovered episode.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from empowerment.analytics.adjust import Adjustment, EffectEstimate, adjust
from empowerment.analytics.aipw import case_weights
from empowerment.analytics.breakdowns import (
    km_curves_frame,
    return_rate_by_cost_band,
    return_rates_by,
    spend_vs_revenue_over_time,
    time_to_gesture_frame,
)
from empowerment.analytics.diagnostics import Influence
from empowerment.analytics.linking import default_as_of_ns, label_or_unknown, link_incidents
from empowerment.analytics.result import Figure, GroupSummary, PayoffRequest, PayoffResult
from empowerment.analytics.sensitivity import sensitivity
from empowerment.analytics.survival import kaplan_meier
from empowerment.analytics.time_to_return import time_to_return

RETURN_ATT = ("returned_within", "att")
REVENUE_ATT = ("revenue_after_cents", "att")
REVENUE_ATC = ("revenue_after_cents", "atc")
WINSORISED_ATT = ("revenue_after_winsorised_cents", "att")
NEGATIVE_CONTROL = ("revenue_before_cents", "att")  # the H days before: recovery cannot have moved it
WINSOR_PERCENTILE = 99.0


def winsorised(linked: pd.DataFrame, percentile: float = WINSOR_PERCENTILE) -> np.ndarray:
    """Revenue after, clipped at the stated percentiles (both tails) of the eligible episodes."""
    values = linked["revenue_after_cents"].to_numpy(dtype=float)
    known = values[np.isfinite(values)]
    if not known.size:
        return values
    low, high = np.percentile(known, [100.0 - percentile, percentile])
    return np.asarray(np.clip(values, low, high))


MAX_CUSTOMER_SHARE_OF_EFFECT = 0.5  # of the estimate, when the shift is also a real part of the range
MIN_SHIFT_SHARE_OF_RANGE = 0.5  # of the interval's half-width
MAX_CUSTOMER_SHARE_OF_INCIDENTS = 0.10


def _verdict(effect: EffectEstimate, spread: Influence | None) -> Figure:
    """The effect as a figure; unreliable too when one customer drives it: leaving that customer
    out moves it outside its range, or takes away more than half of it (and more than half
    of the range's half-width, so that an estimate near zero is not flagged for small shifts)."""
    figure = effect.to_figure()
    if spread is None or figure.low is None or figure.high is None or figure.estimate is None:
        return figure
    share = f"{spread.customer_share:.1%} of the episodes"
    if not figure.low <= spread.without_largest <= figure.high:
        return figure.with_reasons(
            f"One customer drives this figure: leaving out that single customer ({share}) moves it outside "
            "its 95% range.")
    half_width = (figure.high - figure.low) / 2
    if (spread.largest_shift > MAX_CUSTOMER_SHARE_OF_EFFECT * abs(figure.estimate)
            and spread.largest_shift > MIN_SHIFT_SHARE_OF_RANGE * half_width):
        return figure.with_reasons(
            f"One customer drives this figure: that single customer ({share}) accounts for "
            f"{min(spread.largest_shift / max(abs(figure.estimate), 1e-12), 1.0):.0%} of it.")
    return figure


def json_safe(value: Any) -> Any:
    """Plain Python types for json.dumps: NaN/inf -> None, numpy scalars unwrapped."""
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _as_list(value: str | Sequence[str] | None) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


def filter_incidents(
    incidents: pd.DataFrame,
    date_from: Any = None,
    date_to: Any = None,
    location: str | Sequence[str] | None = None,
    team: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Scope by incident time (date_to inclusive; a bare date means the whole day), place, team."""
    occurred = pd.to_datetime(incidents["occurred_at"])
    keep = pd.Series(True, index=incidents.index)
    if date_from is not None:
        keep &= occurred >= pd.Timestamp(date_from)
    if date_to is not None:
        end = pd.Timestamp(date_to)
        keep &= occurred < end + pd.Timedelta(days=1) if end == end.normalize() else occurred <= end
    for column, wanted in (("location", _as_list(location)), ("team", _as_list(team))):
        if wanted is not None:
            keep &= label_or_unknown(incidents[column]).isin(wanted) | incidents[column].isin(wanted)
    return incidents.loc[keep.to_numpy()]


def _rounded_or_none(value: float | None) -> int | None:
    return None if value is None or not math.isfinite(value) else int(round(value))


def _finite_or_none(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def group_summary(linked: pd.DataFrame) -> GroupSummary:
    """Counts, H-day return rate among eligible, KM median (with CI) and revenue after H."""
    eligible = linked["eligible"].to_numpy(dtype=bool)
    returned = int(np.nansum(linked["returned_within"].to_numpy(dtype=float)[eligible]))
    curve = kaplan_meier(linked["duration_days"].to_numpy(), linked["event"].to_numpy())
    raw = linked["incident_count"].to_numpy() if "incident_count" in linked else np.ones(len(linked))
    low, high = curve.median_ci
    return GroupSummary(
        incidents=len(linked),
        raw_incidents=int(raw.sum()),
        customers=int(linked["customer_id"].nunique()),
        eligible=int(eligible.sum()),
        returned=returned,
        return_rate=returned / eligible.sum() if eligible.any() else None,
        km_median_days=_finite_or_none(curve.median),
        km_median_ci=(_finite_or_none(low), _finite_or_none(high)),
        revenue_after_cents=int(round(float(np.nansum(linked["revenue_after_cents"])))),
    )


def return_on_spend(margin: Figure, spend_cents: int) -> Figure:
    """(incremental margin - spend) / spend, with the margin figure's interval and verdict."""
    if spend_cents <= 0:
        return Figure.withheld("Nothing was spent on gestures, so there is no return on spend to work out.")

    def ratio(value: float | None) -> float | None:
        return None if value is None else (value - spend_cents) / spend_cents

    return Figure(ratio(margin.estimate), ratio(margin.low), ratio(margin.high), margin.reliable, margin.reasons)


def cost_of_inaction(atc_revenue: Figure, margin: float, cost_per_recovery: float, comparison: int) -> Figure:
    """Margin lost by the comparison episodes (ATC x margin), net of what recovering each would
    have cost at the observed spend per recovered episode, times the comparison episodes."""

    def net(value: float | None) -> float | None:
        return None if value is None else (value * margin - cost_per_recovery) * comparison

    return Figure(net(atc_revenue.estimate), net(atc_revenue.low), net(atc_revenue.high),
                  atc_revenue.reliable, atc_revenue.reasons)


def _warnings(linked: pd.DataFrame, request: PayoffRequest) -> list[str]:
    notes: list[str] = []
    horizon, window = request.horizon_days, request.recovery_window_hours
    too_recent = int((~linked["eligible"].to_numpy(dtype=bool)).sum())
    if too_recent:
        notes.append(
            f"{too_recent:,} {_plural(too_recent, 'episode is', 'episodes are')} too recent for a full {horizon}-day follow-up after the "
            f"{window}-hour recovery window; they are left out of return rates and effects (not counted as lost)."
        )
    late, early = int(linked["late_gestures"].sum()), int(linked["early_gestures"].sum())
    if late:
        notes.append(f"{late:,} {_plural(late, 'gesture was', 'gestures were')} logged more than {window} hours after their incident; they are "
                     "not counted as recoveries (the customer may already have been back).")
    if early:
        notes.append(f"{early:,} {_plural(early, 'gesture is', 'gestures are')} dated before their incident; they never count.")
    per_customer = linked.groupby("customer_id", sort=False)["incident_count"].sum()
    if len(per_customer) and per_customer.max() > MAX_CUSTOMER_SHARE_OF_INCIDENTS * per_customer.sum():
        most = int(per_customer.max())
        notes.append(f"Warning: one customer has {most:,} of the {int(per_customer.sum()):,} incidents "
                     f"({most / per_customer.sum():.0%}); their incidents within {horizon} days of each other count "
                     f"as one episode, but check whether that customer's records are right (a shared or default "
                     "customer record?) before relying on any figure.")
    merged = int(linked["incident_count"].sum()) - len(linked)
    if merged:
        notes.append(f"{merged:,} {_plural(merged, 'incident', 'incidents')} came within {horizon} days of the same customer's "
                     f"previous one and {_plural(merged, 'is', 'are')} counted with it, as one episode.")
    return notes


def _diagnostic_warnings(adjustment: Adjustment, figures: dict[tuple[str, str], Figure]) -> list[str]:
    notes = []
    control = figures[NEGATIVE_CONTROL]
    if control.low is not None and control.high is not None and not control.low <= 0 <= control.high:
        notes.append("Warning: revenue in the days *before* the incident, which recovery cannot have changed, "
                     "still differs between the adjusted groups (its interval excludes zero): hidden "
                     "selection probably remains, so treat every figure with extra care.")
    return notes


PLAIN_METHOD = (
    "Observational estimate, not a randomised trial. Recovered customers are compared with "
    "unrecovered customers who looked alike before the incident: their purchases and spend in the "
    "year before, how long they had been customers, the kind of incident and the place. The method "
    "(doubly robust: weighting plus an outcome model) is right if either part is right. Both parts "
    "can follow uneven patterns (steps and bends in prior activity, not just straight lines), each "
    "customer's figures come from models fitted without that customer, and revenue is modelled as "
    "whether the customer spent at all times how much. It cannot see anything else that made staff "
    "choose whom to help; a hidden factor like that would bias every figure."
)


def in_id_order(incidents: pd.DataFrame) -> pd.DataFrame:
    """The incidents by id. Every figure must depend on the data, not on the order a database
    happened to return its rows in: the bootstrap numbers customers by first appearance, the warm
    start subsamples rows by position, tied category counts pick the reference level by order, and
    float sums round differently in another order (PostgreSQL's hash joins return 200k incidents in
    another order than SQLite, and the payoff's intervals differed)."""
    if "incident_id" not in incidents or incidents["incident_id"].is_monotonic_increasing:
        return incidents
    return incidents.sort_values("incident_id", kind="stable")


def linked_rows(
    incidents: pd.DataFrame,
    gestures: pd.DataFrame,
    transactions: pd.DataFrame,
    customers: pd.DataFrame | None,
    request: PayoffRequest,
) -> pd.DataFrame:
    """The payoff's analysis rows (episodes) for a request: scoped, frozen at as-of, linked. Every
    breakdown of the payoff (and the tablet's inline evidence) starts from these rows."""
    as_of_stamp = (
        pd.Timestamp(request.as_of) if request.as_of is not None
        else pd.Timestamp(default_as_of_ns(incidents, transactions))
    )
    scoped = in_id_order(filter_incidents(incidents, request.date_from, request.date_to, request.location,
                                          request.team))
    if request.as_of is not None:  # the data as known at as-of: nothing dated after it
        scoped = scoped.loc[pd.to_datetime(scoped["occurred_at"]).to_numpy() <= as_of_stamp.to_datetime64()]
        gestures = gestures.loc[pd.to_datetime(gestures["occurred_at"]).to_numpy() <= as_of_stamp.to_datetime64()]
    linked = link_incidents(scoped, gestures, transactions, customers, as_of_stamp, request.horizon_days,
                            request.recovery_window_hours, by_episode=True)
    linked.attrs["as_of"] = as_of_stamp
    return linked


def compute_payoff(
    incidents: pd.DataFrame,
    gestures: pd.DataFrame,
    transactions: pd.DataFrame,
    customers: pd.DataFrame | None = None,
    request: PayoffRequest | None = None,
) -> PayoffResult:
    """Did recovery keep customers, and did it pay? Every figure with its verdict (module doc)."""
    return analyse(incidents, gestures, transactions, customers, request)[0]


def analyse(
    incidents: pd.DataFrame,
    gestures: pd.DataFrame,
    transactions: pd.DataFrame,
    customers: pd.DataFrame | None = None,
    request: PayoffRequest | None = None,
) -> tuple[PayoffResult, pd.DataFrame]:
    """`compute_payoff`'s result and the linked analysis rows it came from (for charts and files)."""
    request = request or PayoffRequest()
    linked = linked_rows(incidents, gestures, transactions, customers, request)
    as_of_stamp = linked.attrs["as_of"]
    recovered = linked["recovered"].to_numpy(dtype=bool)
    linked["revenue_after_winsorised_cents"] = winsorised(linked)
    # One set of customer-bootstrap draws for every figure (adjusted effects and time to return).
    draws = case_weights(len(linked), request.bootstrap, request.seed, clusters=linked["customer_id"].to_numpy())
    eligible = linked["eligible"].to_numpy(dtype=bool)
    adjustment = adjust(linked, [RETURN_ATT, REVENUE_ATT, REVENUE_ATC, WINSORISED_ATT, NEGATIVE_CONTROL],
                        request.bootstrap, request.seed, weights=draws[:, eligible])
    effects = adjustment.effects
    uplift = effects[RETURN_ATT]
    figures = {key: _verdict(effects[key], adjustment.influence[key]) for key in effects}
    n_recovered, n_comparison = int(recovered.sum()), int((~recovered).sum())
    kept_customers = int(linked.loc[recovered, "customer_id"].nunique())
    spend = int(linked.loc[recovered, "valued_spend_cents"].sum())  # non-cash gestures at their value
    revenue = figures[REVENUE_ATT]
    incremental = revenue.scaled(n_recovered)
    margin = incremental.scaled(request.margin)
    cost_per_recovery = spend / n_recovered if n_recovered else 0.0
    late, early = int(linked["late_gestures"].sum()), int(linked["early_gestures"].sum())
    roi = return_on_spend(margin, spend)
    waiting = time_to_return(linked, request.horizon_days, request.bootstrap, request.seed, weights=draws)
    hidden = sensitivity(figures[RETURN_ATT], group_summary(linked.loc[recovered]).return_rate,
                         margin if roi.shown else Figure.withheld(), spend)
    result = PayoffResult(
        horizon_days=request.horizon_days,
        recovery_window_hours=request.recovery_window_hours,
        margin=request.margin,
        as_of=as_of_stamp.isoformat(),
        overall=group_summary(linked),
        recovered=group_summary(linked.loc[recovered]),
        comparison=group_summary(linked.loc[~recovered]),
        naive_uplift=uplift.naive,
        return_uplift=figures[RETURN_ATT],
        revenue_uplift_cents=revenue,
        incremental_revenue_cents=incremental,
        incremental_margin_cents=margin,
        customers_kept=figures[RETURN_ATT].scaled(kept_customers),
        return_on_spend=roi,
        e_value=hidden.e_value,
        e_value_limit=hidden.e_value_limit,
        roi_tipping_share=hidden.roi_tipping_share,
        cost_of_inaction_cents=cost_of_inaction(figures[REVENUE_ATC], request.margin,
                                                cost_per_recovery, n_comparison),
        spend_cents=spend,
        method=uplift.method,
        assumptions=PLAIN_METHOD,
        incremental_revenue_winsorised_cents=figures[WINSORISED_ATT].scaled(n_recovered),
        winsor_percentile=WINSOR_PERCENTILE,
        negative_control_cents=figures[NEGATIVE_CONTROL],
        balance=adjustment.balance,
        overlap=adjustment.overlap,
        warnings=tuple(_warnings(linked, request) + _diagnostic_warnings(adjustment, figures)),
        late_gestures=late,
        early_gestures=early,
        rmst_recovered_days=waiting.recovered_days,
        rmst_comparison_days=waiting.comparison_days,
        rmst_difference_days=waiting.difference_days,
    )
    return result, linked


BREAKDOWN_COLUMNS = ("first_gesture_type", "gesture_speed", "category", "location", "team")


@dataclass(frozen=True)
class PayoffView:
    """What the Payoff page shows: the result and the small frames its charts draw."""

    result: PayoffResult
    curves: pd.DataFrame
    bands: pd.DataFrame
    over_time: pd.DataFrame
    breakdowns: dict[str, pd.DataFrame]
    gesture_delays: pd.DataFrame


def payoff_view(
    incidents: pd.DataFrame,
    gestures: pd.DataFrame,
    transactions: pd.DataFrame,
    customers: pd.DataFrame | None,
    request: PayoffRequest,
) -> PayoffView:
    result, linked = analyse(incidents, gestures, transactions, customers, request)
    span = linked["occurred_at"].max() - linked["occurred_at"].min() if len(linked) else pd.Timedelta(0)
    return PayoffView(
        result=result,
        curves=km_curves_frame(linked),
        bands=return_rate_by_cost_band(linked),
        over_time=spend_vs_revenue_over_time(linked, "W" if span <= pd.Timedelta(days=120) else "M"),
        breakdowns={column: return_rates_by(linked, column) for column in BREAKDOWN_COLUMNS},
        gesture_delays=time_to_gesture_frame(linked),
    )


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many
