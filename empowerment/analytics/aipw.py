"""Numeric core of the doubly-robust (AIPW) estimates, for the point estimate and all draws.

A "draw" is a row of case weights (row 0 = all ones = the point estimate). Per
draw, AIPW needs the propensity refit, a weighted least-squares outcome model
and weighted means of residuals. Apart from the propensity, all of it is linear
in the case weights once written as sums of per-incident statistics
(1, y, x, x*y, x x^T), so every draw comes out of one matrix product
``weights @ statistics`` instead of a pass over the data per draw.

ATT = mean over recovered of (y - m0(x)) - mean over comparison, weighted
p/(1-p), of (y - m0(x)), with m0 fitted on the comparison group. ATC swaps the
roles: recovered weighted (1-p)/p, m1 fitted on the recovered group.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from empowerment.analytics.models import (
    Fit,
    refit_logistic,
    solve_linear_from_sums,
    unpack_gram,
    upper_triangle,
)

CELLS_PER_BLOCK = 2_000_000  # bounds each temporary at ~16 MB
MAX_LOG_ODDS = 30.0


@dataclass(frozen=True)
class AipwData:
    X: np.ndarray  # eligible incidents x p, intercept first
    treated: np.ndarray  # bool
    outcomes: np.ndarray  # eligible incidents x k
    in_support: np.ndarray  # bool: propensity within the trimming bounds
    propensity: Fit
    log_odds: np.ndarray | None = None  # cross-fitted propensity (analytics.crossfit); None: X @ coef
    fitted: dict[str, np.ndarray] | None = None  # cross-fitted outcome model per estimand (n x k)

    def score(self) -> np.ndarray:
        """The propensity's log-odds per row: cross-fitted when known, else the one fit's."""
        return self.log_odds if self.log_odds is not None else self.X @ self.propensity.coef


def case_weights(n: int, draws: int, seed: int, clusters: np.ndarray | None = None) -> np.ndarray:
    """(1 + draws) x n bootstrap counts; row 0 (all ones) is the point estimate.

    With `clusters` (one label per row, e.g. the customer), whole clusters are resampled and
    every row weighs as often as its cluster was drawn: a customer's incidents share that
    customer's habits, so resampling them one by one would make the intervals too narrow.
    Clusters are numbered in order of first appearance, so when every row is its own cluster
    the draws equal the plain bootstrap's."""
    if clusters is None:
        codes, size = np.arange(n), n
    else:
        codes, uniques = pd.factorize(np.asarray(clusters), sort=False)
        size = len(uniques)
    rng = np.random.default_rng(seed)
    weights = np.ones((draws + 1, n), dtype=np.uint16)
    chunk = max(1, CELLS_PER_BLOCK // max(size, 1))
    for first in range(0, draws, chunk):
        picks = rng.integers(0, size, size=(min(chunk, draws - first), size), dtype=np.int64)
        for offset, row in enumerate(picks, start=1 + first):
            weights[offset] = np.bincount(row, minlength=size)[codes]
    return weights


def _arm(data: AipwData, recovered: bool) -> np.ndarray:
    return np.flatnonzero(data.in_support & (data.treated == recovered))


def _first_moments(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    return np.hstack([np.ones((X.shape[0], 1)), Y, X])


def _all_moments(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    n, p = X.shape
    rows, cols = upper_triangle(p)
    x_times_y = (Y[:, :, None] * X[:, None, :]).reshape(n, -1)
    return np.hstack([_first_moments(X, Y), x_times_y, X[:, rows] * X[:, cols]])


def _weighted_sums(weights: np.ndarray, data: AipwData, arm: np.ndarray) -> np.ndarray:
    """weights[:, arm] @ moments(arm), in row blocks so the moments never exist in full."""
    p, k = data.X.shape[1], data.outcomes.shape[1]
    width = 1 + k + p + k * p + p * (p + 1) // 2
    total = np.zeros((weights.shape[0], width))
    block = max(1, CELLS_PER_BLOCK // max(width, weights.shape[0]))
    for start in range(0, arm.size, block):
        rows = arm[start : start + block]
        total += weights[:, rows].astype(float) @ _all_moments(data.X[rows], data.outcomes[rows])
    return total


def _newton_step_from_sums(weights: np.ndarray, data: AipwData) -> np.ndarray:
    """One exact Newton step of the propensity fit per draw, from the full-sample fit.

    At the full-sample coefficients the score (y - p) x and curvature p(1-p) x x^T
    are fixed per incident, so each draw's gradient and Hessian are weighted sums
    of them: one matrix product for all draws, error O(1/n) after the step.
    """
    X, fit = data.X, data.propensity
    n, p = X.shape
    rows, cols = upper_triangle(p)
    totals = np.zeros((weights.shape[0], p + rows.size))
    block = max(1, CELLS_PER_BLOCK // max(p + rows.size, weights.shape[0]))
    for start in range(0, n, block):
        part = slice(start, start + block)
        x = X[part]
        prob = 1.0 / (1.0 + np.exp(-np.clip(x @ fit.coef, -700.0, 700.0)))
        score = x * (data.treated[part] - prob)[:, None]
        curvature = (x[:, rows] * x[:, cols]) * (prob * (1.0 - prob))[:, None]
        totals += weights[:, part].astype(float) @ np.hstack([score, curvature])
    gradient = totals[:, :p] - fit.penalty * fit.coef
    hessian = unpack_gram(totals[:, p:], p)
    return fit.coef + np.linalg.solve(hessian, gradient[:, :, None])[:, :, 0]


def _odds_weighted_sums(
    weights: np.ndarray, data: AipwData, estimands: Iterable[str]
) -> dict[str, np.ndarray]:
    """Per draw: refit the propensity, then odds-weighted sums of (1, y, x) of the reweighted arm.

    Comparison incidents get p/(1-p) (ATT), recovered ones (1-p)/p (ATC); rows
    outside the arm get weight 0, which avoids copying column subsets per draw.
    """
    wanted = list(dict.fromkeys(estimands))
    firsts = _first_moments(data.X, data.outcomes)
    arm_masks = {"att": _mask(data, _arm(data, False)), "atc": _mask(data, _arm(data, True))}
    pieces: dict[str, list[np.ndarray]] = {e: [] for e in wanted}
    chunk = max(1, CELLS_PER_BLOCK // max(data.X.shape[0], 1))
    treated = data.treated.astype(float)
    first_guess = _newton_step_from_sums(weights, data)
    for start in range(0, weights.shape[0], chunk):
        case = weights[start : start + chunk].astype(float)
        coef = refit_logistic(data.X, treated, case, data.propensity, first_guess[start : start + chunk])
        odds = coef @ data.X.T
        np.clip(odds, -MAX_LOG_ODDS, MAX_LOG_ODDS, out=odds)
        np.exp(odds, out=odds)
        for estimand in wanted:
            arm_case = case * arm_masks[estimand]
            arm_case = arm_case * odds if estimand == "att" else arm_case / odds
            pieces[estimand].append(arm_case @ firsts)
    return {e: np.vstack(parts) for e, parts in pieces.items()}


def _mask(data: AipwData, rows: np.ndarray) -> np.ndarray:
    mask = np.zeros(data.X.shape[0])
    mask[rows] = 1.0
    return mask


def _mean_residual(sums: np.ndarray, coef: np.ndarray, k: int) -> np.ndarray:
    """From weighted sums (1, y, x): weighted mean of y - x @ coef, per draw and outcome."""
    one, ys, xs = sums[:, 0], sums[:, 1 : 1 + k], sums[:, 1 + k :]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray((ys - np.einsum("bp,bkp->bk", xs, coef)) / one[:, None])


def aipw_draws(data: AipwData, weights: np.ndarray, estimands: Iterable[str]) -> dict[str, np.ndarray]:
    """Effect per draw (rows of ``weights``) and outcome: {estimand: (draws, k)}."""
    wanted = list(dict.fromkeys(estimands))
    p, k = data.X.shape[1], data.outcomes.shape[1]
    first_width = 1 + k + p
    plain = {
        False: _weighted_sums(weights, data, _arm(data, False)),
        True: _weighted_sums(weights, data, _arm(data, True)),
    }
    reweighted = _odds_weighted_sums(weights, data, wanted)
    effects = {}
    for estimand in wanted:
        model_arm = estimand == "atc"  # comparison group for ATT, recovered for ATC
        sums = plain[model_arm]
        x_times_y = sums[:, first_width : first_width + k * p].reshape(-1, k, p)
        coef = solve_linear_from_sums(sums[:, first_width + k * p :], x_times_y, p)
        plain_side = _mean_residual(plain[not model_arm][:, :first_width], coef, k)
        weighted_side = _mean_residual(reweighted[estimand], coef, k)
        effects[estimand] = plain_side - weighted_side if estimand == "att" else weighted_side - plain_side
    return effects
