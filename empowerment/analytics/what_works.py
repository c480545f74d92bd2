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
