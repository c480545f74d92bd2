"""Diagnostics that decide whether an adjusted figure may be shown.

- **Balance**: standardised mean differences (SMD) between the groups before and after the
  propensity weighting, on the raw scale (prior purchases, prior revenue, tenure) and for
  indicator features (no purchase in the year before, the top decile of prior revenue, each
  category and location). After weighting, any |SMD| above 0.1 makes the figure unreliable.
- **Overlap**: the propensity score's distribution in each group (a small histogram frame).
- **Influence**: leave-one-customer-out with the fitted models held fixed: how far the estimate
  moves without its most influential customer. Outside the figure's interval, one customer drives
  the result.

Pure numpy/pandas; vectorised (per-customer sums by one `np.bincount`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from empowerment.analytics.aipw import AipwData
from empowerment.analytics.design import top_decile
from empowerment.analytics.linking import label_or_unknown
from empowerment.analytics.models import penalty_vector

MAX_SMD = 0.10
OVERLAP_BINS = 20
RAW_FEATURES = (("prior_txn_count_365", "Purchases in the year before"),
                ("prior_revenue_cents_365", "Revenue in the year before"),
                ("tenure_days", "Days as a customer"))


def _features(eligible: pd.DataFrame) -> pd.DataFrame:
    count = eligible["prior_txn_count_365"].to_numpy(dtype=float)
    revenue = eligible["prior_revenue_cents_365"].to_numpy(dtype=float)
    columns: dict[str, np.ndarray] = {label: eligible[name].to_numpy(dtype=float) for name, label in RAW_FEATURES}
    columns["No purchase in the year before"] = (count <= 0).astype(float)
    columns["Top tenth by revenue in the year before"] = top_decile(revenue)
    enough = max(20, int(0.002 * len(eligible)))  # the design's own rule for a level of its own
    for column, word in (("category", "Category"), ("location", "Location")):
        if column in eligible:
            labels = label_or_unknown(eligible[column])
            counts = labels.value_counts()
            for level in counts.index[:12]:
                if counts[level] >= enough:
                    columns[f"{word}: {level}"] = (labels == level).to_numpy(dtype=float)
    return pd.DataFrame(columns)


def _smd(values: np.ndarray, treated: np.ndarray, weights: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """Weighted mean difference (treated - comparison) over the unweighted pooled SD, per column."""
    w = weights[:, None]
    t, c = treated, ~treated
    mean_t = (values[t] * w[t]).sum(axis=0) / max(w[t].sum(), 1e-12)
    mean_c = (values[c] * w[c]).sum(axis=0) / max(w[c].sum(), 1e-12)
    with np.errstate(invalid="ignore", divide="ignore"):
        smd = np.where(spread > 0, (mean_t - mean_c) / spread, 0.0)
    return np.asarray(smd)


def odds(data: AipwData) -> np.ndarray:
    return np.asarray(np.exp(np.clip(data.score(), -30.0, 30.0)))


def estimand_weights(data: AipwData, estimand: str) -> np.ndarray:
    """ATT: recovered 1, comparison p/(1-p); ATC: comparison 1, recovered (1-p)/p; trimmed 0."""
    ratio = odds(data)
    if estimand == "att":
        weights = np.where(data.treated, 1.0, ratio)
    else:
        weights = np.where(data.treated, 1.0 / ratio, 1.0)
    return np.where(data.in_support, weights, 0.0)


def balance_table(eligible: pd.DataFrame, data: AipwData) -> pd.DataFrame:
    """feature, smd_before, smd_after_att, smd_after_atc (recovered minus comparison)."""
    features = _features(eligible)
    values = features.to_numpy(dtype=float)
    treated = data.treated
    if not treated.any() or treated.all():
        return pd.DataFrame(columns=["feature", "smd_before", "smd_after_att", "smd_after_atc"])
    spread = np.sqrt((values[treated].var(axis=0) + values[~treated].var(axis=0)) / 2.0)
    ones = np.ones(treated.size)
    return pd.DataFrame({
        "feature": list(features.columns),
        "smd_before": _smd(values, treated, ones, spread),
        "smd_after_att": _smd(values, treated, estimand_weights(data, "att"), spread),
        "smd_after_atc": _smd(values, treated, estimand_weights(data, "atc"), spread),
    })


def imbalance_reason(balance: pd.DataFrame, estimand: str) -> str | None:
    column = f"smd_after_{estimand}"
    if balance.empty:
        return None
    worst = balance.loc[balance[column].abs().idxmax()]
    if abs(worst[column]) <= MAX_SMD:
        return None
    return (f"After weighting, the groups still differ on {worst['feature'].lower()} by "
            f"{abs(worst[column]):.2f} standardised mean difference (more than {MAX_SMD}): the comparison "
            "is not like for like.")


def overlap_frame(data: AipwData) -> pd.DataFrame:
    """Propensity histogram: bin start, end, group, episodes (20 bins over [0, 1])."""
    score = 1.0 / (1.0 + 1.0 / odds(data))
    edges = np.linspace(0.0, 1.0, OVERLAP_BINS + 1)
    index = np.clip(np.searchsorted(edges, score, side="right") - 1, 0, OVERLAP_BINS - 1)
    pieces = []
    for group, rows in (("Recovered", data.treated), ("Not recovered", ~data.treated)):
        counts = np.bincount(index[rows], minlength=OVERLAP_BINS)
        pieces.append(pd.DataFrame({"start": edges[:-1], "end": edges[1:], "group": group,
                                    "episodes": counts.astype("int64")}))
    return pd.concat(pieces, ignore_index=True)


@dataclass(frozen=True)
class Influence:
    largest_shift: float  # |estimate without the most influential customer - estimate|
    without_largest: float  # that estimate
    customer_share: float  # that customer's share of the episodes


def _outcome_fit(data: AipwData, arm: np.ndarray, column: int) -> np.ndarray:
    X = data.X[arm]
    y = data.outcomes[arm, column]
    gram = X.T @ X + np.diag(penalty_vector(X.shape[1]) + 1e-9)
    return np.asarray(np.linalg.solve(gram, X.T @ y))


def influence(data: AipwData, column: int, estimand: str, customers: np.ndarray) -> Influence | None:
    """Leave-one-customer-out with the propensity and outcome models held fixed (a first-order
    check: cheap, for every customer at once)."""
    modelled = data.in_support & (data.treated == (estimand == "atc"))
    target = data.in_support & (data.treated == (estimand == "att"))
    if not modelled.any() or not target.any():
        return None
    if data.fitted is not None:  # the cross-fitted outcome model
        residual = data.outcomes[:, column] - data.fitted[estimand][:, column]
    else:
        residual = data.outcomes[:, column] - data.X @ _outcome_fit(data, modelled, column)
    weights = estimand_weights(data, estimand)
    codes, uniques = pd.factorize(customers)
    size = len(uniques)

    def per_customer(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return np.bincount(codes[rows], weights=values[rows], minlength=size)

    target_sum, target_n = per_customer(residual, target), per_customer(np.ones(codes.size), target)
    other_sum, other_w = per_customer(weights * residual, modelled), per_customer(weights, modelled)
    with np.errstate(invalid="ignore", divide="ignore"):
        full = target_sum.sum() / target_n.sum() - other_sum.sum() / other_w.sum()
        left = ((target_sum.sum() - target_sum) / (target_n.sum() - target_n)
                - (other_sum.sum() - other_sum) / (other_w.sum() - other_w))
    if estimand == "atc":
        full, left = -full, -left
    shift = np.where(np.isfinite(left), np.abs(left - full), 0.0)
    top = int(np.argmax(shift))
    rows = np.bincount(codes, minlength=size)
    return Influence(float(shift[top]), float(left[top]), float(rows[top] / codes.size))
