"""The recovery payoff report: rates, curves, adjusted uplift and money, JSON-ready.

Scaling choices (the product brief's): customers kept and incremental revenue
multiply the per-incident ATT by *all* recovered incidents in scope, including
recent ones without full follow-up (assumed to benefit alike). Cost of inaction
multiplies the effect on the comparison group (ATC, revenue) by all comparison
incidents in scope.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from empowerment.analytics.adjust import EffectEstimate, adjusted_effects
from empowerment.analytics.linking import default_as_of_ns, label_or_unknown, link_incidents
from empowerment.analytics.survival import kaplan_meier

RETURN_ATT = ("returned_within", "att")
REVENUE_ATT = ("revenue_after_cents", "att")
REVENUE_ATC = ("revenue_after_cents", "atc")


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


def group_summary(linked: pd.DataFrame) -> dict[str, Any]:
    """Counts, H-day return rate among eligible, KM median (with CI) and revenue after H."""
    eligible = linked["eligible"].to_numpy(dtype=bool)
    returned = int(np.nansum(linked["returned_within"].to_numpy(dtype=float)[eligible]))
    curve = kaplan_meier(linked["duration_days"].to_numpy(), linked["event"].to_numpy())
    return {
        "incidents": len(linked),
        "eligible": int(eligible.sum()),
        "returned": returned,
        "return_rate": returned / eligible.sum() if eligible.any() else None,
        "km_median_days": curve.median,
        "km_median_ci": list(curve.median_ci),
        "revenue_after_cents": int(round(float(np.nansum(linked["revenue_after_cents"])))),
    }


def _scaled(effect: EffectEstimate, count: int) -> tuple[float | None, ...]:
    return tuple(None if v is None else v * count for v in (effect.estimate, effect.ci_low, effect.ci_high))


def _return_on_spend(incremental: float | None, spend: int) -> float | None:
    return None if incremental is None or spend == 0 else (incremental - spend) / spend


def _money_block(name: str, values: tuple[float | None, ...]) -> dict[str, int | None]:
    estimate, low, high = (_rounded_or_none(v) for v in values)
    return {name: estimate, f"{name}_ci_low": low, f"{name}_ci_high": high}


def _warnings(
    effects: dict[tuple[str, str], EffectEstimate], linked: pd.DataFrame, horizon_days: int
) -> list[str]:
    notes: list[str] = []
    too_recent = int((~linked["eligible"].to_numpy(dtype=bool)).sum())
    if too_recent:
        notes.append(
            f"{too_recent} incidents are too recent for a full {horizon_days}-day follow-up; "
            "they are left out of return rates and effects (not counted as lost)."
        )
    labels = {RETURN_ATT: "Return uplift", REVENUE_ATT: "Revenue effect", REVENUE_ATC: "Cost of inaction"}
    for key, effect in effects.items():
        notes.extend(f"{labels[key]}: {note}" for note in effect.warnings)
    return notes


def compute_payoff(
    incidents: pd.DataFrame,
    gestures: pd.DataFrame,
    transactions: pd.DataFrame,
    customers: pd.DataFrame | None = None,
    horizon_days: int = 90,
    as_of: Any = None,
    date_from: Any = None,
    date_to: Any = None,
    location: str | Sequence[str] | None = None,
    team: str | Sequence[str] | None = None,
    bootstrap: int = 200,
    seed: int = 0,
) -> dict[str, Any]:
    """Did recovery keep customers, and did it pay? One JSON-ready dict (see module doc)."""
    as_of_stamp = (
        pd.Timestamp(as_of) if as_of is not None else pd.Timestamp(default_as_of_ns(incidents, transactions))
    )
    scoped = filter_incidents(incidents, date_from, date_to, location, team)
    linked = link_incidents(scoped, gestures, transactions, customers, as_of_stamp, horizon_days)
    recovered = linked["recovered"].to_numpy(dtype=bool)
    effects = adjusted_effects(linked, [RETURN_ATT, REVENUE_ATT, REVENUE_ATC], bootstrap, seed)
    uplift = effects[RETURN_ATT]
    n_recovered, n_comparison = int(recovered.sum()), int((~recovered).sum())
    spend = int(linked.loc[recovered, "spend_cents"].sum())
    incremental = _scaled(effects[REVENUE_ATT], n_recovered)
    kept = _scaled(uplift, n_recovered)
    report: dict[str, Any] = {
        "horizon_days": horizon_days,
        "as_of": as_of_stamp.isoformat(),
        "overall": group_summary(linked),
        "recovered": group_summary(linked.loc[recovered]),
        "comparison": group_summary(linked.loc[~recovered]),
        "naive_uplift": uplift.naive,
        "adjusted_uplift": {
            "estimate": uplift.estimate,
            "ci_low": uplift.ci_low,
            "ci_high": uplift.ci_high,
            "method": uplift.method,
            "reliable": uplift.reliable,
        },
        "spend_cents": spend,
        **_money_block("incremental_revenue_cents", incremental),
        "customers_kept": kept[0],
        "customers_kept_ci_low": kept[1],
        "customers_kept_ci_high": kept[2],
        "return_on_spend": _return_on_spend(incremental[0], spend),
        "return_on_spend_ci_low": _return_on_spend(incremental[1], spend),
        "return_on_spend_ci_high": _return_on_spend(incremental[2], spend),
        **_money_block("cost_of_inaction_cents", _scaled(effects[REVENUE_ATC], n_comparison)),
        "warnings": _warnings(effects, linked, horizon_days),
    }
    return json_safe(report)  # type: ignore[no-any-return]
