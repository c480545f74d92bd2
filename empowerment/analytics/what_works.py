"""What works, adjusted: the effect of each kind of recovery (gesture type, cost band, team, ...)
from the same doubly-robust estimator as the headline, each level's recovered episodes against
the whole comparison group, with intervals, a Holm correction for looking at many levels at once,
and "not enough data" below a minimum.

    what_works(linked, "first_gesture_type", within=("category", "Noise"))

is the function issue 13's inline "what tends to work" reads: adjusted effects by gesture type
within one incident category.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from empowerment.analytics.adjust import adjusted_effect
from empowerment.analytics.linking import label_or_unknown
from empowerment.analytics.payoff import linked_rows
from empowerment.analytics.result import PayoffRequest

MIN_CASES = 30  # recovered episodes with full follow-up a level needs for an estimate of its own
COLUMNS = ["level", "cases", "estimate", "low", "high", "p_value", "p_holm", "reliable", "reason"]


def _p_value(estimate: float, low: float, high: float) -> float:
    """Two-sided, from the normal approximation to the percentile interval (z from its width)."""
    from math import erf, sqrt

    se = (high - low) / (2 * 1.959964)
    if se <= 0:
        return 0.0 if estimate != 0 else 1.0
    z = abs(estimate) / se
    return float(2 * (1 - 0.5 * (1 + erf(z / sqrt(2)))))


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (NaN stays NaN)."""
    p = np.asarray(p_values, dtype=float)
    known = np.flatnonzero(np.isfinite(p))
    adjusted = np.full(p.size, np.nan)
    if not known.size:
        return adjusted
    order = known[np.argsort(p[known])]
    m = order.size
    running = 0.0
    for rank, index in enumerate(order):  # a handful of levels: not a per-customer loop
        running = max(running, min(1.0, (m - rank) * p[index]))
        adjusted[index] = running
    return adjusted


def what_works(
    linked: pd.DataFrame,
    column: str,
    within: tuple[str, str] | None = None,
    outcome: str = "returned_within",
    bootstrap: int = 100,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per level of ``column`` among recovered episodes: cases (recovered, followed up),
    the adjusted effect on ``outcome`` with its 95% interval, Holm-adjusted p-values across the
    levels, and reliable/reason ("Not enough data" below `MIN_CASES`)."""
    scope = linked
    if within is not None:
        name, value = within
        scope = linked.loc[(label_or_unknown(linked[name]) == value).to_numpy()]
    recovered = scope["recovered"].to_numpy(dtype=bool)
    eligible = scope["eligible"].to_numpy(dtype=bool)
    labels = label_or_unknown(scope[column]).to_numpy()
    rows = []
    for level in pd.unique(labels[recovered]):
        members = recovered & (labels == level)
        cases = int((members & eligible).sum())
        if cases < MIN_CASES:
            rows.append({"level": level, "cases": cases, "reliable": False,
                         "reason": f"Not enough data: {cases} followed-up episodes (need {MIN_CASES})."})
            continue
        subset = scope.loc[members | ~recovered]
        effect = adjusted_effect(subset, outcome, bootstrap=bootstrap, seed=seed)
        row = {"level": level, "cases": cases, "estimate": effect.estimate, "low": effect.ci_low,
               "high": effect.ci_high, "reliable": effect.reliable,
               "reason": "" if effect.reliable else (effect.warnings[0] if effect.warnings else "Not reliable.")}
        if effect.estimate is not None and effect.ci_low is not None and effect.ci_high is not None:
            row["p_value"] = _p_value(effect.estimate, effect.ci_low, effect.ci_high)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["p_holm"] = holm(frame["p_value"].to_numpy(dtype=float))
    return frame.sort_values("cases", ascending=False, ignore_index=True)


# --- the breakdowns the Payoff page and the tablet read ---------------------------------------------

WHAT_WORKS_BOOTSTRAP = 100  # draws per level: the page's breakdowns and the tablet's evidence alike
FOLLOWED_UP, NOT_FOLLOWED_UP = "Followed up", "Not followed up"
BREAKDOWN_LABELS = {"first_gesture_type": "Gesture type", "category": "Incident category", "team": "Team",
                    "cost_band": "Cost band", "follow_up": "Follow-up"}
MULTIPLICITY = ("Holm's correction for looking at several groups at once: a group's difference counts as "
                "clear only if it stays clear after that correction.")


def with_breakdown_columns(linked: pd.DataFrame) -> pd.DataFrame:
    """`linked` with the columns the breakdowns need beyond linking's own: `cost_band` (what was
    spent on a recovered episode, in the bands of the raw cost-band chart) and `follow_up`
    (whether someone called, checked in or wrote afterwards; False when the frames do not say)."""
    from empowerment.analytics.breakdowns import DEFAULT_COST_BANDS, _band_labels

    labels = np.asarray(_band_labels(DEFAULT_COST_BANDS), dtype=object)
    spend = linked["spend_cents"].to_numpy(dtype=float)
    index = np.clip(np.searchsorted(np.asarray(DEFAULT_COST_BANDS, float), spend, side="right") - 1,
                    0, labels.size - 1)
    recovered = linked["recovered"].to_numpy(dtype=bool)
    followed = (linked["followed_up"].astype("boolean").fillna(False).to_numpy(dtype=bool)
                if "followed_up" in linked else np.zeros(len(linked), dtype=bool))
    return linked.assign(cost_band=np.where(recovered, labels[index], None),
                         follow_up=np.where(followed, FOLLOWED_UP, NOT_FOLLOWED_UP))


def breakdown(
    linked: pd.DataFrame,
    column: str,
    within: tuple[str, str] | None = None,
    bootstrap: int = WHAT_WORKS_BOOTSTRAP,
    seed: int = 0,
) -> pd.DataFrame:
    """`what_works` over the payoff's rows by one of `BREAKDOWN_LABELS` (optionally within one
    category): one row per level with cases, the adjusted difference in the H-day return share
    and its interval, Holm-adjusted p-values, and reliable/reason."""
    table = what_works(with_breakdown_columns(linked), column, within=within, bootstrap=bootstrap, seed=seed)
    if column == "follow_up":  # both answers always, so "no follow-ups yet" reads as such
        missing = [level for level in (FOLLOWED_UP, NOT_FOLLOWED_UP) if level not in set(table["level"])]
        extra = pd.DataFrame([{"level": level, "cases": 0, "reliable": False,
                               "reason": f"Not enough data: 0 followed-up episodes (need {MIN_CASES})."}
                              for level in missing], columns=COLUMNS)
        table = pd.concat([table, extra], ignore_index=True) if missing else table
    return table


def by_category(linked: pd.DataFrame, bootstrap: int = WHAT_WORKS_BOOTSTRAP, seed: int = 0) -> pd.DataFrame:
    """For every incident category: the adjusted effect of each first gesture type (`breakdown`
    within that category), stacked with a `category` column: the tablet's inline evidence."""
    columns = ["category", "gesture_type", *[c for c in COLUMNS if c != "level"]]
    if linked.empty:
        return pd.DataFrame(columns=columns)
    rows = with_breakdown_columns(linked)
    categories = pd.unique(label_or_unknown(rows["category"]).to_numpy())
    parts = [what_works(rows, "first_gesture_type", within=("category", str(category)), bootstrap=bootstrap,
                        seed=seed).assign(category=str(category)) for category in categories]
    parts = [part for part in parts if len(part)]
    if not parts:
        return pd.DataFrame(columns=columns)
    stacked = pd.concat(parts, ignore_index=True).rename(columns={"level": "gesture_type"})
    return stacked[columns]


def payoff_breakdown(
    incidents: pd.DataFrame,
    gestures: pd.DataFrame,
    transactions: pd.DataFrame,
    customers: pd.DataFrame | None,
    request: PayoffRequest,
    column: str,
    within: tuple[str, str] | None = None,
    bootstrap: int = WHAT_WORKS_BOOTSTRAP,
) -> pd.DataFrame:
    """The payoff's adjusted breakdown by ``column`` for a request (the payoff's own rows,
    `linked_rows`): what the Payoff page's "What works?" and `payoff --by` show."""
    if column not in BREAKDOWN_LABELS:
        raise ValueError(f"unknown breakdown {column!r}")
    linked = linked_rows(incidents, gestures, transactions, customers, request)
    return breakdown(linked, column, within=within, bootstrap=bootstrap, seed=request.seed)


def records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Rows for JSON: a number only where the row is reliable with an interval; else its reason."""
    out: list[dict[str, object]] = []
    for row in frame.itertuples():
        shown = bool(row.reliable) and all(pd.notna(v) for v in (row.estimate, row.low, row.high))
        item: dict[str, object] = {"level": str(row.level), "cases": int(row.cases), "reliable": shown}
        if shown:
            item.update(estimate=float(row.estimate), low=float(row.low), high=float(row.high),
                        p_holm=None if pd.isna(row.p_holm) else float(row.p_holm))
        else:
            item["reason"] = str(row.reason or "Not reliable.")
        out.append(item)
    return out


def levels(frame: pd.DataFrame, column: str) -> list[str]:
    """The distinct labels of ``column`` (unknown as one level), sorted: what a breakdown can be within."""
    return sorted(pd.unique(label_or_unknown(frame[column]).to_numpy()).tolist()) if len(frame) else []
