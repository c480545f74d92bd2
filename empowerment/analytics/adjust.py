"""Covariate-adjusted effect of recovery: doubly-robust (AIPW) ATT / ATC with overlap checks.

Among eligible incidents (full follow-up), a ridge logistic propensity model
P(recovered | pre-incident covariates) reweights the comparison group to look
like the recovered group (ATT: treated weight 1, comparison weight p/(1-p)); a
linear outcome model fitted on the comparison group adds the regression
correction (augmented IPW), so the estimate stays consistent if either model is
right. For the ATC (effect on the comparison group, used for the cost of
inaction) the roles swap. Units with propensity outside [0.01, 0.99] are
trimmed. CIs: percentile bootstrap over incidents, seeded, refitting all models.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from empowerment.analytics.design import covariate_matrix
from empowerment.analytics.models import Fit, fit_linear, fit_logistic, refit_linear, refit_logistic

SUPPORT = (0.01, 0.99)
MAX_OUTSIDE_SUPPORT_SHARE = 0.10  # of the target group (treated for ATT)
MIN_EFFECTIVE_SAMPLE = 30.0  # reweighted group's effective sample size
MIN_GROUP_FOR_RELIABLE = 30
MIN_GROUP_FOR_ESTIMATE = 5
DRAW_CELLS_PER_CHUNK = 2_000_000  # draws x incidents per chunk: bounds memory at ~16 MB/array
MAX_FAILED_DRAW_SHARE = 0.05

Request = tuple[str, str]  # (outcome column, "att" | "atc")


@dataclass(frozen=True)
class EffectEstimate:
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    method: str
    reliable: bool
    warnings: list[str] = field(default_factory=list)
    naive: float | None = None
    outcome: str = "returned_within"
    estimand: str = "att"
    n_treated: int = 0
    n_control: int = 0
    effective_sample_size: float | None = None  # of the reweighted group
    outside_support_share: float | None = None  # of the target group, trimmed


@dataclass(frozen=True)
class _Problem:
    X: np.ndarray  # eligible incidents x covariates
    treated: np.ndarray  # float 0/1
    outcomes: dict[str, np.ndarray]
    propensity: Fit
    in_support: np.ndarray  # bool, from the full-sample propensity
    outcome_fits: dict[Request, Fit]


def _arm(problem: _Problem, estimand: str) -> np.ndarray:
    """Rows the outcome model is fitted on: comparison for ATT, recovered for ATC."""
    wanted = 0.0 if estimand == "att" else 1.0
    return problem.in_support & (problem.treated == wanted)


def _build_problem(eligible: pd.DataFrame, requests: Sequence[Request]) -> _Problem:
    X, _names = covariate_matrix(eligible)
    treated = eligible["recovered"].to_numpy(dtype=float)
    outcomes = {out: eligible[out].to_numpy(dtype=float) for out, _ in requests}
    propensity = fit_logistic(X, treated)
    score = X @ propensity.coef
    low, high = np.log(SUPPORT[0] / (1 - SUPPORT[0])), np.log(SUPPORT[1] / (1 - SUPPORT[1]))
    in_support = (score >= low) & (score <= high)
    partial = _Problem(X, treated, outcomes, propensity, in_support, {})
    fits = {}
    for outcome, estimand in requests:
        rows = _arm(partial, estimand)
        fits[(outcome, estimand)] = fit_linear(X[rows], outcomes[outcome][rows])
    return _Problem(X, treated, outcomes, propensity, in_support, fits)


def _draw_effects(problem: _Problem, weights: np.ndarray) -> dict[Request, np.ndarray]:
    """AIPW effect for every row of case weights (draws x incidents), all models refitted."""
    coef = refit_logistic(problem.X, problem.treated, weights, problem.propensity)
    support = problem.in_support
    X = problem.X[support]
    odds = np.exp(np.clip(coef @ X.T, -30.0, 30.0))
    case = weights[:, support]
    treated = problem.treated[support]
    results = {}
    for (outcome, estimand), fit in problem.outcome_fits.items():
        arm = _arm(problem, estimand)
        model = refit_linear(problem.X[arm], problem.outcomes[outcome][arm], weights[:, arm], fit)
        residual = problem.outcomes[outcome][support] - model @ X.T
        if estimand == "att":
            treated_w, control_w = case * treated, case * (1 - treated) * odds
        else:
            treated_w, control_w = case * treated / odds, case * (1 - treated)
        with np.errstate(invalid="ignore", divide="ignore"):
            results[(outcome, estimand)] = (treated_w * residual).sum(1) / treated_w.sum(1) - (
                control_w * residual
            ).sum(1) / control_w.sum(1)
    return results


def _bootstrap_weights(n: int, draws: int, seed: int) -> Iterator[np.ndarray]:
    """Multinomial case weights (classic bootstrap over incidents), in bounded chunks."""
    rng = np.random.default_rng(seed)
    chunk = max(1, min(draws, DRAW_CELLS_PER_CHUNK // max(n, 1)))
    for first in range(0, draws, chunk):
        size = min(chunk, draws - first)
        picks = rng.integers(0, n, size=(size, n)) + (np.arange(size) * n)[:, None]
        yield np.bincount(picks.ravel(), minlength=size * n).reshape(size, n).astype(float)


def _diagnostics(problem: _Problem, estimand: str) -> tuple[float, float]:
    """(share of the target group outside support, effective size of the reweighted group)."""
    odds = np.exp(np.clip(problem.X @ problem.propensity.coef, -30.0, 30.0))
    is_target = problem.treated == (1.0 if estimand == "att" else 0.0)
    outside = float(np.mean(~problem.in_support[is_target])) if is_target.any() else 1.0
    reweighted = problem.in_support & ~is_target
    weights = odds[reweighted] if estimand == "att" else 1.0 / odds[reweighted]
    ess = float(weights.sum() ** 2 / np.sum(weights**2)) if weights.size else 0.0
    return outside, ess


def describe_method(estimand: str, bootstrap: int, seed: int) -> str:
    target = "recovered (ATT)" if estimand == "att" else "comparison (ATC)"
    return (
        f"Doubly-robust AIPW effect on {target} incidents: ridge-logistic propensity on "
        "prior-365-day purchases and revenue, tenure, category and location; "
        "comparison weighted p/(1-p) (ATT) or recovered (1-p)/p (ATC), plus a linear "
        f"outcome model; propensities outside [{SUPPORT[0]}, {SUPPORT[1]}] trimmed; "
        f"95% percentile bootstrap over incidents (B={bootstrap}, seed={seed})"
    )


def _naive(eligible: pd.DataFrame, outcome: str) -> float | None:
    recovered = eligible["recovered"].to_numpy(dtype=bool)
    values = eligible[outcome].to_numpy(dtype=float)
    if not recovered.any() or recovered.all():
        return None
    return float(values[recovered].mean() - values[~recovered].mean())


def _reliability_warnings(
    problem: _Problem, estimand: str, outside: float, ess: float, failed_share: float
) -> list[str]:
    n_treated = int(problem.treated.sum())
    n_control = problem.treated.size - n_treated
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
    if not problem.propensity.converged:
        notes.append("The propensity model did not converge.")
    if failed_share > MAX_FAILED_DRAW_SHARE:
        notes.append(f"{failed_share:.0%} of bootstrap draws failed; no interval reported.")
    return notes


def _insufficient(outcome: str, estimand: str, method: str, naive: float | None,
                  n_treated: int, n_control: int) -> EffectEstimate:
    message = (
        f"Not enough eligible incidents to adjust ({n_treated} recovered, "
        f"{n_control} comparison; need {MIN_GROUP_FOR_ESTIMATE} of each)."
    )
    return EffectEstimate(None, None, None, method, False, [message], naive, outcome, estimand,
                          n_treated, n_control)


def adjusted_effects(
    linked: pd.DataFrame,
    requests: Sequence[Request] = (("returned_within", "att"),),
    bootstrap: int = 200,
    seed: int = 0,
) -> dict[Request, EffectEstimate]:
    """Several adjusted effects from one shared set of bootstrap draws (paired CIs)."""
    eligible = linked.loc[linked["eligible"].to_numpy(dtype=bool)]
    n_treated = int(eligible["recovered"].sum())
    n_control = len(eligible) - n_treated
    methods = {req: describe_method(req[1], bootstrap, seed) for req in requests}
    naives = {req: _naive(eligible, req[0]) for req in requests}
    if min(n_treated, n_control) < MIN_GROUP_FOR_ESTIMATE:
        return {req: _insufficient(*req, methods[req], naives[req], n_treated, n_control)
                for req in requests}
    problem = _build_problem(eligible, requests)
    point = _draw_effects(problem, np.ones((1, len(eligible))))
    draws: dict[Request, list[np.ndarray]] = {req: [] for req in requests}
    for weights in _bootstrap_weights(len(eligible), bootstrap, seed):
        for req, values in _draw_effects(problem, weights).items():
            draws[req].append(values)
    results = {}
    for req in requests:
        values = np.concatenate(draws[req]) if bootstrap else np.array([])
        finite = values[np.isfinite(values)]
        failed = 1.0 - finite.size / values.size if values.size else 1.0
        outside, ess = _diagnostics(problem, req[1])
        notes = _reliability_warnings(problem, req[1], outside, ess, failed if bootstrap else 0.0)
        low, high = (np.percentile(finite, [2.5, 97.5]) if finite.size and failed <= MAX_FAILED_DRAW_SHARE
                     else (np.nan, np.nan))
        estimate = float(point[req][0])
        reliable = not notes and bool(np.isfinite([estimate, low, high]).all())
        results[req] = EffectEstimate(
            _finite_or_none(estimate), _finite_or_none(low), _finite_or_none(high),
            methods[req], reliable, notes, naives[req], req[0], req[1],
            n_treated, n_control, ess, outside,
        )
    return results


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
