"""Covariate-adjusted effect of recovery: doubly-robust (AIPW) ATT / ATC with overlap checks.

Two engines. The default, "crossfit" (`analytics.crossfit`): flexible propensity and outcome
models (decile steps and quartile hinges of prior activity and tenure), cross-fitted over folds of
customers, revenue by a two-part model, the bootstrap with the models held fixed. The "linear"
engine, described below, is kept for comparison and its exactness tests.

Among eligible incidents (full follow-up), a ridge logistic propensity model
P(recovered | pre-incident covariates) reweights the comparison group to look
like the recovered group (ATT: treated weight 1, comparison weight p/(1-p)); a
linear outcome model fitted on the comparison group adds the regression
correction (augmented IPW), so the estimate stays consistent if either model is
right. For the ATC (effect on the comparison group, used for the cost of
inaction) the roles swap. Units with propensity outside [0.01, 0.99] are
trimmed. CIs: percentile bootstrap over customers (all of a customer's incidents are drawn
together), seeded, refitting all models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from empowerment.analytics import crossfit
from empowerment.analytics.aipw import AipwData, aipw_draws, case_weights
from empowerment.analytics.design import covariate_matrix
from empowerment.analytics.diagnostics import (
    MAX_SMD,
    Influence,
    balance_table,
    imbalance_reason,
    influence,
    overlap_frame,
)
from empowerment.analytics.models import fit_logistic
from empowerment.analytics.result import Figure

SUPPORT = (0.01, 0.99)
MAX_OUTSIDE_SUPPORT_SHARE = 0.10  # of the target group (treated for ATT)
MIN_EFFECTIVE_SAMPLE = 30.0  # reweighted group's effective sample size
MIN_GROUP_FOR_RELIABLE = 30
MIN_GROUP_FOR_ESTIMATE = 5
MAX_FAILED_DRAW_SHARE = 0.05

Request = tuple[str, str]  # (outcome column, "att" | "atc")
ENGINES = ("crossfit", "linear")
DEFAULT_ENGINE = "crossfit"


@dataclass(frozen=True)
class EffectEstimate:
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    method: str
    reliable: bool
    warnings: tuple[str, ...] = ()
    naive: float | None = None
    outcome: str = "returned_within"
    estimand: str = "att"
    n_treated: int = 0
    n_control: int = 0
    effective_sample_size: float | None = None  # of the reweighted group
    outside_support_share: float | None = None  # of the target group, trimmed

    def to_figure(self) -> Figure:
        """The estimate as a figure with its verdict (the warnings are its reasons)."""
        return Figure(self.estimate, self.ci_low, self.ci_high, self.reliable, tuple(self.warnings))


def _build_data(eligible: pd.DataFrame, outcomes: Sequence[str]) -> AipwData:
    X, _names = covariate_matrix(eligible)
    treated = eligible["recovered"].to_numpy(dtype=bool)
    propensity = fit_logistic(X, treated.astype(float))
    score = X @ propensity.coef
    low, high = (float(np.log(bound / (1 - bound))) for bound in SUPPORT)
    in_support = (score >= low) & (score <= high)
    values = np.column_stack([eligible[o].to_numpy(dtype=float) for o in outcomes])
    return AipwData(X, treated, values, in_support, propensity)


def _diagnostics(data: AipwData, estimand: str) -> tuple[float, float]:
    """(share of the target group outside support, effective size of the reweighted group)."""
    odds = np.exp(np.clip(data.score(), -30.0, 30.0))
    is_target = data.treated == (estimand == "att")
    outside = float(np.mean(~data.in_support[is_target])) if is_target.any() else 1.0
    reweighted = data.in_support & ~is_target
    weights = odds[reweighted] if estimand == "att" else 1.0 / odds[reweighted]
    ess = float(weights.sum() ** 2 / np.sum(weights**2)) if weights.size else 0.0
    return outside, ess


def describe_method(estimand: str, bootstrap: int, seed: int, engine: str = "crossfit") -> str:
    if engine == "crossfit":
        target = "recovered episodes (ATT)" if estimand == "att" else "comparison episodes (ATC)"
        weighting = ("comparison episodes weighted p/(1-p)" if estimand == "att"
                     else "recovered episodes weighted (1-p)/p")
        return (
            f"Doubly-robust AIPW effect on {target}, cross-fitted over {crossfit.FOLDS} folds of customers (a "
            "customer's episodes never straddle folds; each model predicts only for the fold it did not see): "
            "ridge-logistic propensity p and outcome models on prior-365-day purchases and revenue and tenure "
            "(log and raw scale, decile steps and quartile hinges: a piecewise-linear spline), the "
            "no-purchase and top-decile indicators, category and location; revenue by a two-part model "
            "(P(any revenue) x revenue given some), a 0/1 outcome by a logistic model; "
            f"{weighting}; propensities outside [{SUPPORT[0]}, {SUPPORT[1]}] trimmed; balance after weighting "
            f"must be within {MAX_SMD} SMD on every feature; 95% percentile bootstrap over customers with the "
            f"cross-fitted models held fixed (B={bootstrap}, seed={seed})"
        )
    if estimand == "att":
        target, weighting = "recovered incidents (ATT)", "comparison incidents weighted p/(1-p)"
        model_arm = "comparison"
    else:
        target, weighting = "comparison incidents (ATC)", "recovered incidents weighted (1-p)/p"
        model_arm = "recovered"
    return (
        f"Doubly-robust AIPW effect on {target}: ridge-logistic propensity p on prior-365-day "
        f"purchases and revenue (log and raw scale, no-purchase and top-decile indicators), "
        f"tenure, category and location; {weighting}; linear outcome "
        f"model fitted on {model_arm} incidents; propensities outside [{SUPPORT[0]}, {SUPPORT[1]}] "
        f"trimmed; balance after weighting must be within {MAX_SMD} SMD on every feature; 95% percentile "
        f"bootstrap over customers, all models refitted (B={bootstrap}, seed={seed})"
    )


def _naive(eligible: pd.DataFrame, outcome: str) -> float | None:
    recovered = eligible["recovered"].to_numpy(dtype=bool)
    values = eligible[outcome].to_numpy(dtype=float)
    if not recovered.any() or recovered.all():
        return None
    return float(values[recovered].mean() - values[~recovered].mean())


def _reliability_warnings(
    data: AipwData, estimand: str, outside: float, ess: float, failed_share: float
) -> list[str]:
    n_treated = int(data.treated.sum())
    n_control = data.treated.size - n_treated
    target = "recovered" if estimand == "att" else "comparison"
    notes = []
    if min(n_treated, n_control) < MIN_GROUP_FOR_RELIABLE:
        notes.append(
            f"Few eligible incidents ({n_treated} recovered, {n_control} comparison): "
            "the adjusted effect is not reliable."
        )
    if outside > MAX_OUTSIDE_SUPPORT_SHARE:
        notes.append(
            f"Poor overlap: {outside:.0%} of {target} incidents have no comparable "
            f"incidents in the other group (propensity outside {SUPPORT}) and were trimmed."
        )
    if ess < MIN_EFFECTIVE_SAMPLE:
        notes.append(
            f"Poor overlap: after reweighting, the other group counts as only {ess:.0f} "
            "incidents (effective sample size)."
        )
    if not data.propensity.converged:
        notes.append("The propensity model did not converge.")
    if failed_share > MAX_FAILED_DRAW_SHARE:
        notes.append(f"{failed_share:.0%} of bootstrap draws failed; no interval reported.")
    return notes


def _insufficient(
    outcome: str, estimand: str, method: str, naive: float | None, n_treated: int, n_control: int
) -> EffectEstimate:
    message = (
        f"Not enough eligible incidents to adjust ({n_treated} recovered, "
        f"{n_control} comparison; need {MIN_GROUP_FOR_ESTIMATE} of each)."
    )
    return EffectEstimate(
        estimate=None, ci_low=None, ci_high=None, method=method, reliable=False, warnings=(message,),
        naive=naive, outcome=outcome, estimand=estimand, n_treated=n_treated, n_control=n_control,
    )


@dataclass(frozen=True)
class Adjustment:
    """The adjusted effects and the diagnostics behind their verdicts."""

    effects: dict[Request, EffectEstimate]
    balance: pd.DataFrame  # diagnostics.balance_table (empty when nothing could be fitted)
    overlap: pd.DataFrame  # diagnostics.overlap_frame
    influence: dict[Request, Influence | None]


def adjusted_effects(
    linked: pd.DataFrame,
    requests: Sequence[Request] = (("returned_within", "att"),),
    bootstrap: int = 200,
    seed: int = 0,
) -> dict[Request, EffectEstimate]:
    """Several adjusted effects from one shared set of bootstrap draws (paired CIs)."""
    return adjust(linked, requests, bootstrap, seed).effects


def adjust(
    linked: pd.DataFrame,
    requests: Sequence[Request] = (("returned_within", "att"),),
    bootstrap: int = 200,
    seed: int = 0,
    weights: np.ndarray | None = None,
    engine: str = DEFAULT_ENGINE,
) -> Adjustment:
    """`adjusted_effects` with the balance table, the overlap histogram and the influence check;
    an imbalance above 0.1 SMD after weighting makes the effects it concerns unreliable.

    `weights`: customer-bootstrap case weights over the *eligible* rows (row 0 all ones), to share
    draws with other figures; None draws them here. `engine`: "crossfit" (`analytics.crossfit`:
    flexible, cross-fitted, two-part revenue) or "linear" (one linear-in-log fit, refitted per draw)."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}")
    eligible = linked.loc[linked["eligible"].to_numpy(dtype=bool)]
    n_treated = int(eligible["recovered"].sum())
    n_control = len(eligible) - n_treated
    methods = {req: describe_method(req[1], bootstrap, seed, engine) for req in requests}
    naives = {req: _naive(eligible, req[0]) for req in requests}
    if min(n_treated, n_control) < MIN_GROUP_FOR_ESTIMATE:
        effects = {req: _insufficient(*req, methods[req], naives[req], n_treated, n_control) for req in requests}
        return Adjustment(effects, pd.DataFrame(columns=["feature", "smd_before", "smd_after_att", "smd_after_atc"]),
                          pd.DataFrame(columns=["start", "end", "group", "episodes"]), dict.fromkeys(requests))
    outcomes = list(dict.fromkeys(outcome for outcome, _ in requests))
    estimands = [e for _, e in requests]
    customers = eligible["customer_id"].to_numpy() if "customer_id" in eligible else None
    if weights is None:
        weights = case_weights(len(eligible), bootstrap, seed, clusters=customers)
    if engine == "crossfit":
        data = crossfit.build(eligible, outcomes, requests)
        draws = crossfit.crossfit_draws(data, weights, estimands)
    else:
        data = _build_data(eligible, outcomes)
        draws = aipw_draws(data, weights, estimands)
    balance = balance_table(eligible, data)
    results = {}
    spread = {}
    for outcome, estimand in requests:
        column = draws[estimand][:, outcomes.index(outcome)]
        results[(outcome, estimand)] = _summarise(
            column[0],
            column[1:],
            data,
            estimand,
            methods[(outcome, estimand)],
            naives[(outcome, estimand)],
            outcome,
            imbalance_reason(balance, estimand),
        )
        spread[(outcome, estimand)] = influence(data, outcomes.index(outcome), estimand, customers) \
            if customers is not None else None
    return Adjustment(results, balance, overlap_frame(data), spread)


def _summarise(
    point: float,
    draws: np.ndarray,
    data: AipwData,
    estimand: str,
    method: str,
    naive: float | None,
    outcome: str,
    imbalance: str | None = None,
) -> EffectEstimate:
    finite = draws[np.isfinite(draws)]
    failed = 1.0 - finite.size / draws.size if draws.size else 0.0
    outside, ess = _diagnostics(data, estimand)
    notes = _reliability_warnings(data, estimand, outside, ess, failed)
    if imbalance:
        notes.append(imbalance)
    low, high = np.nan, np.nan
    if finite.size and failed <= MAX_FAILED_DRAW_SHARE:
        low, high = (float(v) for v in np.percentile(finite, [2.5, 97.5]))
    reliable = not notes and bool(np.isfinite([point, low, high]).all())
    n_treated = int(data.treated.sum())
    return EffectEstimate(
        estimate=_finite_or_none(point),
        ci_low=_finite_or_none(low),
        ci_high=_finite_or_none(high),
        method=method,
        reliable=reliable,
        warnings=tuple(notes),
        naive=naive,
        outcome=outcome,
        estimand=estimand,
        n_treated=n_treated,
        n_control=data.treated.size - n_treated,
        effective_sample_size=ess,
        outside_support_share=outside,
    )


def adjusted_effect(
    linked: pd.DataFrame,
    outcome: str = "returned_within",
    bootstrap: int = 200,
    seed: int = 0,
    estimand: str = "att",
) -> EffectEstimate:
    """Adjusted recovered-minus-comparison difference in ``outcome`` (ATT by default)."""
    if estimand not in ("att", "atc"):
        raise ValueError("estimand must be 'att' or 'atc'")
    return adjusted_effects(linked, [(outcome, estimand)], bootstrap, seed)[(outcome, estimand)]


def _finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
