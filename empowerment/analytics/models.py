"""Small ridge-penalised regressions (numpy only) and their bootstrap refits.

Bootstrap refits of the logistic model use the chord method: Newton steps that
reuse the full-sample Hessian. Resampled Hessians differ from it by
O(1/sqrt(n)), so a few steps reach the per-draw optimum while every draw in a
chunk is updated with two matrix products instead of one (n x p x p) Hessian
per draw; draws that have not settled after a few steps are solved exactly.
Linear fits are exact for every draw, from weighted sufficient statistics.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RIDGE = 1.0  # a little L2 on non-intercept coefficients: keeps separated fits finite
MAX_NEWTON_STEPS = 50
MAX_CHORD_STEPS = 6
CONVERGED_STEP = 1e-9
CHORD_TOLERANCE = 1e-3  # last chord step's RMS shift in the fitted log-odds


@dataclass(frozen=True)
class Fit:
    coef: np.ndarray
    inverse_hessian: np.ndarray
    penalty: np.ndarray  # per-coefficient ridge (0 for the intercept)
    converged: bool


def penalty_vector(n_columns: int, ridge: float = RIDGE) -> np.ndarray:
    penalty = np.full(n_columns, ridge)
    penalty[0] = 0.0  # column 0 is the intercept
    return penalty


def sigmoid(linear: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * linear))  # overflow-free logistic


def _logistic_objective(
    X: np.ndarray, y: np.ndarray, weights: np.ndarray, coef: np.ndarray, penalty: np.ndarray
) -> float:
    linear = X @ coef
    log_likelihood = np.sum(weights * (y * linear - np.logaddexp(0.0, linear)))
    return float(log_likelihood - 0.5 * np.sum(penalty * coef**2))


def _logistic_hessian(
    X: np.ndarray, weights: np.ndarray, coef: np.ndarray, penalty: np.ndarray
) -> np.ndarray:
    prob = sigmoid(X @ coef)
    return np.asarray((X * (weights * prob * (1.0 - prob))[:, None]).T @ X + np.diag(penalty))


def fit_logistic(
    X: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None = None,
    start: np.ndarray | None = None,
    ridge: float = RIDGE,
) -> Fit:
    """Penalised (weighted) maximum likelihood by Newton-Raphson with step halving."""
    weights = np.ones(X.shape[0]) if weights is None else weights
    penalty = penalty_vector(X.shape[1], ridge)
    coef = np.zeros(X.shape[1]) if start is None else start.copy()
    objective = _logistic_objective(X, y, weights, coef, penalty)
    converged = False
    for _ in range(MAX_NEWTON_STEPS):
        gradient = X.T @ (weights * (y - sigmoid(X @ coef))) - penalty * coef
        step = np.linalg.solve(_logistic_hessian(X, weights, coef, penalty), gradient)
        for _halving in range(30):
            candidate = _logistic_objective(X, y, weights, coef + step, penalty)
            if candidate >= objective - 1e-12:
                break
            step = step / 2.0
        coef, objective = coef + step, candidate
        if np.max(np.abs(step)) < CONVERGED_STEP:
            converged = True
            break
    inverse = np.linalg.inv(_logistic_hessian(X, weights, coef, penalty))
    return Fit(coef, inverse, penalty, converged)


def _prediction_shift(gram: np.ndarray, step: np.ndarray) -> np.ndarray:
    """RMS change of the fitted linear predictor per draw: the scale that matters.

    (Coefficient steps can stay large along collinear directions that barely
    move any prediction.)
    """
    return np.asarray(np.sqrt(np.maximum(np.einsum("bi,ij,bj->b", step, gram, step), 0.0)))


def weighted_residual_in_place(linear: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """weights * (y - sigmoid(linear)), overwriting ``linear`` (saves big temporaries)."""
    np.negative(linear, out=linear)
    np.clip(linear, -700.0, 700.0, out=linear)
    np.exp(linear, out=linear)
    linear += 1.0
    np.reciprocal(linear, out=linear)  # now the fitted probability
    np.subtract(y, linear, out=linear)
    linear *= weights
    return linear


def refit_logistic(
    X: np.ndarray, y: np.ndarray, weights: np.ndarray, fit: Fit, start: np.ndarray | None = None,
    max_steps: int = MAX_CHORD_STEPS,
) -> np.ndarray:
    """Coefficients (draws x p) for each row of case weights (draws x n).

    ``start`` (draws x p) is a better first guess than the full-sample fit, e.g.
    one exact Newton step; the chord steps then mostly just confirm it. Rows not settled after
    ``max_steps`` chord steps are solved exactly, from where the chord steps got to.
    """
    coef = np.tile(fit.coef, (weights.shape[0], 1)) if start is None else start.copy()
    gram = X.T @ X / max(X.shape[0], 1)
    unsettled = np.ones(weights.shape[0], dtype=bool)
    for _ in range(max_steps):
        rows = np.flatnonzero(unsettled)
        residual = weighted_residual_in_place(coef[rows] @ X.T, y, weights[rows])
        step = (residual @ X - coef[rows] * fit.penalty) @ fit.inverse_hessian
        coef[rows] += step
        unsettled[rows] = _prediction_shift(gram, step) > CHORD_TOLERANCE
        if not unsettled.any():
            return coef
    for draw in np.flatnonzero(unsettled):
        # rare: this draw's Hessian is too far from the full-sample one; solve it exactly
        coef[draw] = fit_logistic(X, y, weights[draw], start=coef[draw]).coef
    return coef


def upper_triangle(p: int) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.triu_indices(p)
    return rows.astype(np.intp), cols.astype(np.intp)


def unpack_gram(cross_products: np.ndarray, p: int, ridge: float = RIDGE) -> np.ndarray:
    """(draws, p(p+1)/2) upper-triangle sums -> (draws, p, p) ridge-penalised Gram matrices."""
    rows, cols = upper_triangle(p)
    gram = np.zeros((cross_products.shape[0], p, p))
    gram[:, rows, cols] = cross_products
    gram[:, cols, rows] = cross_products
    gram += np.diag(penalty_vector(p, ridge) + 1e-9)  # jitter: a draw may miss an arm level
    return gram


def solve_linear_from_sums(
    cross_products: np.ndarray, moments: np.ndarray, p: int, ridge: float = RIDGE
) -> np.ndarray:
    """Weighted ridge least squares for many draws from their sufficient statistics.

    cross_products: (draws, p(p+1)/2) weighted sums of x_i x_j (upper triangle);
    moments: (draws, k, p) weighted sums of x * y for k outcomes. Returns (draws, k, p).
    """
    solution = np.linalg.solve(unpack_gram(cross_products, p, ridge), np.swapaxes(moments, 1, 2))
    return np.swapaxes(solution, 1, 2)
