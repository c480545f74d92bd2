"""Cross-fitted, flexible doubly-robust effects (the payoff's default engine).

Why: a fixed linear outcome specification left prior revenue imbalanced and the revenue interval
covering the truth in only about half the seeds under nonlinear selection (issue 12). Here:

- **Flexible models.** The design adds, to the log/raw/indicator terms of `design.covariate_matrix`,
  steps at the deciles (bins) and linear hinges at the quartiles (a piecewise-linear spline) of
  prior purchases, prior revenue and tenure, so both models can bend where selection does.
- **Cross-fitting.** Customers are split at random into `FOLDS` folds (a customer's episodes are
  always in one fold). Every model is fitted on the other folds and predicts for this one, so no
  episode's own outcome shapes the prediction used for it (no overfitting bias).
- **Two-part revenue.** Revenue after (and before) the incident is P(any revenue | x) x
  E[revenue | some, x]: a ridge-logistic part and a ridge-linear part, multiplied; a 0/1 outcome
  (returned within H) gets a ridge-logistic model.
- **Estimate.** AIPW (ATT: comparison episodes weighted p/(1-p) with the cross-fitted propensity;
  ATC: the roles swapped), trimmed to propensities within [0.01, 0.99].
- **Intervals.** Percentile bootstrap over customers with the cross-fitted models held fixed: the
  AIPW score is orthogonal to both models, so their own noise does not move the estimate to first
  order. Every draw is a weighted sum, so all draws come out of one matrix product per block.

Fold fits start from the fit on every row of the arm (a few chord steps, `fold_fits`); the
training rows are weighted K/(K-1) so the full fit's curvature matches theirs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from empowerment.analytics.aipw import AipwData
from empowerment.analytics.design import covariate_matrix
from empowerment.analytics.models import (
    Fit,
    fit_logistic,
    penalty_vector,
    sigmoid,
    weighted_residual_in_place,
)

FOLDS = 3
FOLD_SEED = 104_729  # the warm start's subsample
FOLD_KEY = "empowermentfolds"  # pandas hashing key (16 characters; used for text ids)
SUPPORT = (0.01, 0.99)
BIN_QUANTILES = np.linspace(0.1, 0.9, 9)
HINGE_QUANTILES = (0.25, 0.5, 0.75)
DRAWS_PER_BLOCK = 25
WARM_START_ROWS = 10_000
SAME_TARGET_SHARE = 0.005
MIN_PER_CLASS = 5
FOLD_STEPS = 8  # at most, chord steps per fold fit (`fold_fits`), until a step moves no prediction
FOLD_TOLERANCE = 1e-3  # RMS log-odds: far below the models' own noise (a few hundredths at best)
EPISODES_PER_TERM = 20


def customer_folds(customers: np.ndarray, folds: int = FOLDS) -> np.ndarray:
    """Fold number per row from a hash of the customer: all rows of one customer share it, and a
    customer stays in the same fold whatever else is in scope (a filter, an as-of, the bootstrap's
    seed do not reshuffle the folds)."""
    hashed = pd.util.hash_array(np.asarray(customers), hash_key=FOLD_KEY)
    return np.asarray(hashed % np.uint64(folds)).astype(np.intp)


def _flexible_terms(eligible: pd.DataFrame, steps: bool = True) -> dict[str, np.ndarray]:
    count = np.log1p(np.maximum(eligible["prior_txn_count_365"].to_numpy(dtype=float), 0.0))
    revenue = eligible["prior_revenue_cents_365"].to_numpy(dtype=float) / 100.0
    revenue = np.sign(revenue) * np.log1p(np.abs(revenue))
    tenure = np.log1p(np.maximum(np.nan_to_num(eligible["tenure_days"].to_numpy(dtype=float)), 0.0))
    terms: dict[str, np.ndarray] = {}
    for name, values in (("prior purchases", count), ("prior revenue", revenue), ("tenure", tenure)):
        if values.size == 0:
            continue
        for edge in np.unique(np.quantile(values, BIN_QUANTILES)) if steps else ():
            step = (values > edge).astype(float)
            if 0 < step.mean() < 1:
                terms[f"{name} above {edge:.3g}"] = step
        spread = values.std() or 1.0
        for knot in np.unique(np.quantile(values, HINGE_QUANTILES)):
            hinge = np.maximum(values - knot, 0.0) / spread
            if hinge.std() > 0:
                terms[f"{name} hinge {knot:.3g}"] = hinge
    return terms


def flexible_design(eligible: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """`design.covariate_matrix` plus decile steps and quartile hinges of the three activity terms,
    as far as the data can carry them: at least `EPISODES_PER_TERM` episodes of the smaller group
    per added term (a small subgroup, as in "what works", gets the hinges only, or neither)."""
    X, names = covariate_matrix(eligible)
    treated = eligible["recovered"].to_numpy(dtype=bool)
    smaller = min(int(treated.sum()), int((~treated).sum()))
    extra = _flexible_terms(eligible)
    if len(extra) * EPISODES_PER_TERM > smaller:
        extra = _flexible_terms(eligible, steps=False)
    if not extra or not len(eligible) or len(extra) * EPISODES_PER_TERM > smaller:
        return X, names
    return np.column_stack([X, *extra.values()]), names + list(extra)


def _training_weights(arm: np.ndarray, folds: np.ndarray, k: int) -> np.ndarray:
    """K x n: the arm's rows outside fold f, weighted K/(K-1) (see the module note)."""
    return np.stack([(arm & (folds != f)) for f in range(k)]).astype(float) * (k / max(k - 1, 1))


def _out_of_fold(X: np.ndarray, coef: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """Each row's linear predictor from the fit that did not see its fold (coef: K x p)."""
    return np.asarray(np.take_along_axis(X @ coef.T, folds[:, None], axis=1)[:, 0])


def crossfit_log_odds(X: np.ndarray, y: np.ndarray, arm: np.ndarray, folds: np.ndarray, k: int,
                      full: Fit | None = None) -> np.ndarray:
    """Out-of-fold log-odds of P(y = 1 | x), fitted on the rows of `arm` (ridge logistic); `full`:
    the fit on every row of the arm, if already made."""
    target = y[arm]
    if target.size == 0 or target.min() == target.max():  # nothing to learn: the arm's own constant
        share = float(target.mean()) if target.size else 0.5
        share = min(max(share, 1e-6), 1 - 1e-6)
        return np.full(X.shape[0], float(np.log(share / (1 - share))))
    full = full or warm_start(X[arm], target)
    if not _each_fold_can_learn(y, arm, folds, k):  # tiny arms: one fit for every row
        return np.asarray(X @ full.coef)
    return _out_of_fold(X, fold_fits(X, np.where(arm, y, 0.0), _training_weights(arm, folds, k), full), folds)


def fold_fits(X: np.ndarray, y: np.ndarray, weights: np.ndarray, full: Fit, steps: int = FOLD_STEPS) -> np.ndarray:
    """Coefficients (K x p) for each fold's training weights: up to `steps` chord steps from the full fit
    (its inverse curvature reused): each step shrinks the distance to the fold's own maximum-likelihood
    fit by about the relative error of that curvature (a few per cent). Every fold at once."""
    coef = np.tile(full.coef, (weights.shape[0], 1))
    linear = coef @ X.T  # kept current: each step adds its own move (two products a step, not three)
    for _ in range(steps):
        residual = weighted_residual_in_place(linear.copy(), y, weights)
        step = (residual @ X - coef * full.penalty) @ full.inverse_hessian
        coef += step
        moved = step @ X.T
        linear += moved
        # settled when no fold's fitted log-odds move (RMS): coefficients can keep drifting along
        # collinear columns (steps, hinges and logs of one quantity) without changing any prediction
        if np.sqrt(np.mean(moved**2, axis=1)).max() < FOLD_TOLERANCE:
            break
    return coef


def _each_fold_can_learn(y: np.ndarray, arm: np.ndarray, folds: np.ndarray, k: int) -> bool:
    """Every fold's training rows hold both outcomes, at least `MIN_PER_CLASS` of each."""
    for f in range(k):
        training = y[arm & (folds != f)]
        positives = int((training > 0).sum())
        if min(positives, training.size - positives) < MIN_PER_CLASS:
            return False
    return True


def warm_start(X: np.ndarray, y: np.ndarray) -> Fit:
    """A fit to start the fold fits from: on every row up to `WARM_START_ROWS`, else on a fixed
    random subsample, then one exact Newton step on every row (the chord steps then converge on
    each fold's own optimum in a few steps: its curvature is the one they need)."""
    n = X.shape[0]
    if n <= WARM_START_ROWS:
        return fit_logistic(X, y)
    rows = np.random.default_rng(FOLD_SEED).choice(n, WARM_START_ROWS, replace=False)
    if y[rows].min() == y[rows].max():
        return fit_logistic(X, y)
    sub = fit_logistic(X[rows], y[rows])
    # One exact Newton step on every row: the start is then close, and its curvature exact.
    prob = sigmoid(X @ sub.coef)
    hessian = (X * (prob * (1.0 - prob))[:, None]).T @ X + np.diag(sub.penalty)
    inverse = np.linalg.inv(hessian)
    coef = sub.coef + inverse @ (X.T @ (y - prob) - sub.penalty * sub.coef)
    return Fit(coef, inverse, sub.penalty, sub.converged)


def crossfit_linear(X: np.ndarray, y: np.ndarray, arm: np.ndarray, folds: np.ndarray, k: int) -> np.ndarray:
    """Out-of-fold ridge least-squares predictions of y, fitted on the rows of `arm`."""
    p = X.shape[1]
    coef = np.zeros((k, p))
    penalty = np.diag(penalty_vector(p) + 1e-9)
    # Each fold's own sums once (one pass over the arm, not K-1): a fold's training sums are the
    # arm's minus its own.
    grams, moments = np.zeros((k, p, p)), np.zeros((k, p))
    for f in range(k):
        design = X[arm & (folds == f)]
        grams[f] = design.T @ design
        moments[f] = design.T @ y[arm & (folds == f)]
    gram, moment = grams.sum(axis=0), moments.sum(axis=0)
    for f in range(k):
        if (arm & (folds != f)).any():
            coef[f] = np.linalg.solve(gram - grams[f] + penalty, moment - moments[f])
        else:  # a tiny arm: fit on all of it
            coef[f] = np.linalg.solve(gram + penalty, moment)
    return _out_of_fold(X, coef, folds)


def outcome_model(X: np.ndarray, y: np.ndarray, arm: np.ndarray, folds: np.ndarray, k: int,
                  cache: list[tuple[str, np.ndarray, np.ndarray]] | None = None, key: str = "") -> np.ndarray:
    """Cross-fitted E[y | x] in `arm`: logistic for a 0/1 outcome; otherwise two-part,
    P(y != 0 | x) x E[y | y != 0, x]. `cache` (by `key` and the 0/1 target) saves refitting a
    logistic part another outcome already needed, when the targets differ on at most
    `SAME_TARGET_SHARE` of the arm (the outcome model need not be exact: the estimate is doubly robust)."""
    cache = [] if cache is None else cache

    def probability(target: np.ndarray) -> np.ndarray:
        flags = target.astype(bool)
        for name, known, fitted in cache:  # e.g. capped revenue: "any revenue" barely moves
            if name == key and np.mean(known[arm] != flags[arm]) <= SAME_TARGET_SHARE:
                return fitted
        fitted = np.asarray(sigmoid(crossfit_log_odds(X, flags.astype(float), arm, folds, k)))
        cache.append((key, flags, fitted))
        return fitted

    if np.isin(y[arm], (0.0, 1.0)).all():
        return probability(y)
    some = y != 0
    share = probability(some)
    if not (arm & some).any():
        return np.zeros(X.shape[0])
    return np.asarray(share * crossfit_linear(X, y, arm & some, folds, k))


def build(eligible: pd.DataFrame, outcomes: Sequence[str], requests: Sequence[tuple[str, str]],
          folds: int = FOLDS) -> AipwData:
    """The design, the cross-fitted propensity and the outcome models each (outcome, estimand)
    request needs, as `AipwData` (with `log_odds` and `fitted` set, so the diagnostics read the
    cross-fitted models; columns nobody asked for are NaN). Models of the same target on the same
    arm are fitted once (raw and capped revenue share their "any revenue" part)."""
    X, _names = flexible_design(eligible)
    treated = eligible["recovered"].to_numpy(dtype=bool)
    customers = eligible["customer_id"].to_numpy() if "customer_id" in eligible else np.arange(len(eligible))
    fold = customer_folds(customers, folds)
    everyone = np.ones(treated.size, dtype=bool)
    propensity = warm_start(X, treated.astype(float))
    log_odds = crossfit_log_odds(X, treated.astype(float), everyone, fold, folds, propensity)
    low, high = (float(np.log(bound / (1 - bound))) for bound in SUPPORT)
    in_support = (log_odds >= low) & (log_odds <= high)
    values = np.column_stack([eligible[o].to_numpy(dtype=float) for o in outcomes])
    fitted = {estimand: np.full(values.shape, np.nan) for _, estimand in requests}
    cache: list[tuple[str, np.ndarray, np.ndarray]] = []
    for outcome, estimand in requests:
        arm = in_support & (treated == (estimand == "atc"))  # comparison arm for ATT, recovered for ATC
        column = list(outcomes).index(outcome)
        fitted[estimand][:, column] = outcome_model(X, values[:, column], arm, fold, folds, cache, estimand)
    return AipwData(X, treated, values, in_support, propensity, log_odds=log_odds, fitted=fitted)


def crossfit_draws(data: AipwData, weights: np.ndarray, estimands: Sequence[str]) -> dict[str, np.ndarray]:
    """Effect per row of case weights and outcome, models held fixed: {estimand: (draws, k)}."""
    assert data.log_odds is not None and data.fitted is not None
    odds = np.exp(np.clip(data.log_odds, -30.0, 30.0))
    inside = data.in_support.astype(float)
    treated = data.treated.astype(float) * inside
    control = (~data.treated).astype(float) * inside
    effects = {}
    for estimand in dict.fromkeys(estimands):
        residual = data.outcomes - data.fitted[estimand]
        if estimand == "att":
            plain, weighted = treated, control * odds
        else:
            plain, weighted = control, treated / odds
        stats = np.column_stack([plain, plain[:, None] * residual, weighted, weighted[:, None] * residual])
        k = residual.shape[1]
        sums = np.vstack([weights[start:start + DRAWS_PER_BLOCK].astype(float) @ stats
                          for start in range(0, weights.shape[0], DRAWS_PER_BLOCK)])
        with np.errstate(invalid="ignore", divide="ignore"):
            plain_mean = sums[:, 1:1 + k] / sums[:, [0]]
            weighted_mean = sums[:, 2 + k:] / sums[:, [1 + k]]
        effects[estimand] = plain_mean - weighted_mean if estimand == "att" else weighted_mean - plain_mean
    return effects
