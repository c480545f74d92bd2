"""The cross-fitted flexible engine: folds by customer, out-of-fold predictions, the two-part
revenue model, and the bootstrap with the models held fixed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from empowerment.analytics import link_incidents, make_synthetic
from empowerment.analytics.aipw import case_weights
from empowerment.analytics.crossfit import (
    FOLDS,
    build,
    crossfit_draws,
    customer_folds,
    flexible_design,
    outcome_model,
)


@pytest.fixture(scope="module")
def eligible() -> pd.DataFrame:
    incidents, gestures, transactions, customers, truth = make_synthetic(2500, 12)
    linked = link_incidents(incidents, gestures, transactions, customers, truth["as_of"], 90, 72, by_episode=True)
    return linked.loc[linked["eligible"].to_numpy(dtype=bool)].reset_index(drop=True)


def test_folds_keep_each_customer_whole_and_stay_put_whatever_else_is_in_scope() -> None:
    customers = np.array([4, 9, 4, 4, 11, 9, 30, 30])
    folds = customer_folds(customers)
    for customer in np.unique(customers):
        assert len(set(folds[customers == customer])) == 1
    assert (customer_folds(customers[2:]) == folds[2:]).all()  # fewer customers: the same folds
    assert set(np.bincount(customer_folds(np.arange(9000)), minlength=FOLDS)) <= set(range(2700, 3300))


def test_an_episode_own_outcome_never_shapes_its_own_prediction(eligible: pd.DataFrame) -> None:
    X, _ = flexible_design(eligible)
    folds = customer_folds(eligible["customer_id"].to_numpy())
    arm = ~eligible["recovered"].to_numpy(dtype=bool)
    y = eligible["revenue_after_cents"].to_numpy(dtype=float)
    before = outcome_model(X, y, arm, folds, FOLDS)
    row = int(np.flatnonzero(arm)[0])
    changed = y.copy()
    changed[row] = 10_000_000.0  # a huge purchase on this one episode
    after = outcome_model(X, changed, arm, folds, FOLDS)
    assert after[row] == pytest.approx(before[row], rel=1e-3)  # up to the fold fits' tolerance
    other = folds != folds[row]
    assert not np.allclose(after[other], before[other])  # the models that saw it did move


def test_the_design_bends_where_selection_does_and_stays_small_for_small_groups(eligible: pd.DataFrame) -> None:
    X, names = flexible_design(eligible)
    assert any(name.startswith("prior purchases above") for name in names)
    assert any("hinge" in name for name in names) and X.shape == (len(eligible), len(names))
    small = pd.concat([eligible.loc[eligible["recovered"]].head(60), eligible.loc[~eligible["recovered"]]])
    _, few = flexible_design(small)
    assert not any(name.startswith("prior purchases above") for name in few)


def test_draws_are_weighted_sums_and_row_zero_is_the_point_estimate(eligible: pd.DataFrame) -> None:
    outcomes = ["returned_within", "revenue_after_cents"]
    data = build(eligible, outcomes, [("returned_within", "att"), ("revenue_after_cents", "att"),
                                      ("revenue_after_cents", "atc")])
    assert data.log_odds is not None and data.fitted is not None
    assert ((data.fitted["att"][:, 0] >= 0) & (data.fitted["att"][:, 0] <= 1)).all()  # logistic for 0/1
    weights = case_weights(len(eligible), 30, seed=3, clusters=eligible["customer_id"].to_numpy())
    draws = crossfit_draws(data, weights, ["att", "atc"])
    inside, treated = data.in_support, data.treated
    odds = np.exp(data.log_odds)
    residual = data.outcomes[:, 1] - data.fitted["att"][:, 1]
    control = inside & ~treated
    expected = residual[inside & treated].mean() - np.average(residual[control], weights=odds[control])
    assert draws["att"][0, 1] == pytest.approx(expected)
    assert np.isfinite(draws["atc"][:, 1]).all() and draws["att"].shape == (31, 2)
