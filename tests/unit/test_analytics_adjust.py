"""Adjusted effects: bias removal, CI coverage, placebo, overlap warnings, the bootstrap engine."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

from empowerment.analytics import adjusted_effect, adjusted_effects, link_incidents, make_synthetic, models
from empowerment.analytics.adjust import _build_data
from empowerment.analytics.aipw import AipwData, aipw_draws, case_weights
from empowerment.analytics.models import penalty_vector

COVERAGE_SIZE = 2000  # customers (one incident each) per synthetic data set
COVERAGE_BOOTSTRAP = 200


def _linked(n_customers: int, seed: int, **options: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    incidents, gestures, transactions, customers, truth = make_synthetic(n_customers, seed, **options)
    linked = link_incidents(
        incidents, gestures, transactions, customers, as_of=truth["as_of"], horizon_days=truth["horizon_days"]
    )
    return linked, truth


def test_naive_difference_is_biased_by_selection() -> None:
    linked, truth = _linked(COVERAGE_SIZE, 0)
    effect = adjusted_effect(linked, bootstrap=50, seed=0)
    assert effect.naive is not None and effect.estimate is not None
    assert effect.naive > truth["att_return"] + 0.08  # staff helped the already-loyal
    assert abs(effect.estimate - truth["att_return"]) < abs(effect.naive - truth["att_return"]) / 2


@pytest.mark.slow  # ~8 s on 2 cores: 20 data sets x 200 bootstrap refits
def test_adjusted_ci_covers_the_true_effect_in_at_least_18_of_20_seeds() -> None:
    covered = 0
    for seed in range(20):
        linked, truth = _linked(COVERAGE_SIZE, seed)
        effect = adjusted_effect(linked, bootstrap=COVERAGE_BOOTSTRAP, seed=seed)
        # the only reason allowed here is the strict balance rule (noise at ~270 effective controls)
        assert all("standardised mean difference" in note for note in effect.warnings), effect.warnings
        assert effect.ci_low is not None and effect.ci_high is not None
        covered += effect.ci_low <= truth["att_return"] <= effect.ci_high
    assert covered >= 18


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_placebo_gestures_ci_covers_zero(seed: int) -> None:
    linked, truth = _linked(COVERAGE_SIZE, seed, placebo=True)
    assert truth["att_return"] == 0.0
    effect = adjusted_effect(linked, bootstrap=COVERAGE_BOOTSTRAP, seed=seed)
    assert effect.ci_low is not None and effect.ci_high is not None
    assert effect.ci_low <= 0.0 <= effect.ci_high


def test_same_seed_same_interval_and_draws_are_shared_across_outcomes() -> None:
    linked, _ = _linked(600, 4)
    requests = [("returned_within", "att"), ("revenue_after_cents", "att"), ("revenue_after_cents", "atc")]
    first = adjusted_effects(linked, requests, bootstrap=40, seed=9)
    again = adjusted_effects(linked, requests, bootstrap=40, seed=9)
    other = adjusted_effects(linked, requests, bootstrap=40, seed=10)
    assert first == again
    assert first[requests[0]].ci_low != other[requests[0]].ci_low
    assert first[requests[0]].estimate == other[requests[0]].estimate
    assert "AIPW" in first[requests[0]].method and "ATC" in first[requests[2]].method


def _hand_made_linked(prior_counts: np.ndarray, recovered: np.ndarray, returned: np.ndarray) -> pd.DataFrame:
    n = prior_counts.size
    return pd.DataFrame(
        {
            "eligible": True,
            "recovered": recovered,
            "returned_within": returned.astype(float),
            "revenue_after_cents": returned * 4000.0,
            "prior_txn_count_365": prior_counts,
            "prior_revenue_cents_365": prior_counts * 3500,
            "tenure_days": np.linspace(30, 900, n),
            "category": np.where(np.arange(n) % 3 == 0, "billing", "delivery"),
            "location": "north",
        }
    )


def test_poor_overlap_warns_and_is_not_reliable() -> None:
    rng = np.random.default_rng(3)
    prior_counts = rng.poisson(5, 1500)
    recovered = prior_counts >= 6  # staff helped exactly the loyal ones: no comparable controls
    returned = rng.random(1500) < 0.2 + 0.05 * np.minimum(prior_counts, 10)
    effect = adjusted_effect(_hand_made_linked(prior_counts, recovered, returned), bootstrap=50)
    assert effect.reliable is False
    assert any("overlap" in note.lower() for note in effect.warnings)
    assert effect.outside_support_share is not None and effect.outside_support_share > 0.1


def test_good_overlap_is_reliable_without_warnings() -> None:
    rng = np.random.default_rng(4)
    prior_counts = rng.poisson(5, 1500)
    recovered = rng.random(1500) < 0.4
    returned = rng.random(1500) < 0.3
    effect = adjusted_effect(_hand_made_linked(prior_counts, recovered, returned), bootstrap=50)
    assert effect.reliable and effect.warnings == ()
    assert effect.effective_sample_size is not None and effect.effective_sample_size > 500


def test_too_few_recovered_incidents_gives_no_estimate() -> None:
    prior_counts = np.arange(100) % 7
    recovered = np.arange(100) < 3
    effect = adjusted_effect(_hand_made_linked(prior_counts, recovered, np.arange(100) % 2 == 0))
    assert effect.estimate is None and effect.ci_low is None and not effect.reliable
    assert effect.warnings and "Not enough" in effect.warnings[0]


# --- the vectorised bootstrap engine against plain per-draw refits (scipy + lstsq) ---------------


def _logistic_by_scipy(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    penalty = penalty_vector(X.shape[1])

    def objective(beta: np.ndarray) -> tuple[float, np.ndarray]:
        linear = X @ beta
        prob = 1 / (1 + np.exp(-linear))
        value = -np.sum(w * (y * linear - np.logaddexp(0, linear))) + 0.5 * np.sum(penalty * beta**2)
        return value, -(X.T @ (w * (y - prob))) + penalty * beta

    result = minimize(objective, np.zeros(X.shape[1]), jac=True, method="BFGS", options={"gtol": 1e-10})
    return np.asarray(result.x)


def _ridge_by_lstsq(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    root = np.sqrt(w)[:, None]
    design = np.vstack([X * root, np.diag(np.sqrt(penalty_vector(X.shape[1])))])
    target = np.concatenate([y * root[:, 0], np.zeros(X.shape[1])])
    return np.linalg.lstsq(design, target, rcond=None)[0]


def _brute_force(data: AipwData, w: np.ndarray) -> dict[str, np.ndarray]:
    odds = np.exp(data.X @ _logistic_by_scipy(data.X, data.treated.astype(float), w))
    inside, treated = data.in_support, data.treated
    effects = {}
    for estimand in ("att", "atc"):
        arm = inside & (treated == (estimand == "atc"))
        result = []
        for k in range(data.outcomes.shape[1]):
            y = data.outcomes[:, k]
            residual = y - data.X @ _ridge_by_lstsq(data.X[arm], y[arm], w[arm])
            t_weight = w * (inside & treated) * (1 if estimand == "att" else 1 / odds)
            c_weight = w * (inside & ~treated) * (odds if estimand == "att" else 1)
            result.append(
                np.sum(t_weight * residual) / t_weight.sum() - np.sum(c_weight * residual) / c_weight.sum()
            )
        effects[estimand] = np.array(result)
    return effects


def test_bootstrap_engine_matches_plain_per_draw_refits(monkeypatch: pytest.MonkeyPatch) -> None:
    linked, _ = _linked(700, 11)
    eligible = linked[linked["eligible"]]
    data = _build_data(eligible, ["returned_within", "revenue_after_cents"])
    weights = case_weights(len(eligible), 5, seed=2)
    expected = [_brute_force(data, row.astype(float)) for row in weights]

    # Default settings: the chord refit stops early; the error must be negligible next to the spread.
    default = aipw_draws(data, weights, ["att", "atc"])
    for estimand in ("att", "atc"):
        spread = np.std(np.array([e[estimand] for e in expected]), axis=0)
        for row, plain in enumerate(expected):
            assert np.all(np.abs(default[estimand][row] - plain[estimand]) < 1e-3 * spread)

    # Run to convergence: the sufficient-statistics algebra is exact.
    monkeypatch.setattr(models, "CHORD_TOLERANCE", 1e-10)
    converged = aipw_draws(data, weights, ["att", "atc"])
    for estimand in ("att", "atc"):
        for row, plain in enumerate(expected):
            np.testing.assert_allclose(converged[estimand][row], plain[estimand], rtol=1e-8, atol=1e-9)


def test_cluster_weights_draw_whole_customers() -> None:
    customers = np.array([7, 7, 3, 9, 3, 7])
    weights = case_weights(len(customers), 50, seed=1, clusters=customers)
    assert (weights[0] == 1).all()
    for same in ([0, 1, 5], [2, 4]):  # a customer's incidents always weigh alike
        assert (weights[:, same] == weights[:, [same[0]]]).all()
    drawn = weights[1:, [0, 2, 3]].sum(axis=1)  # one row per customer: as many draws as customers
    assert (drawn == 3).all()


def test_one_incident_per_customer_keeps_the_plain_bootstrap() -> None:
    plain = case_weights(40, 10, seed=5)
    assert (case_weights(40, 10, seed=5, clusters=np.arange(100, 140)) == plain).all()


def test_repeat_incidents_of_one_customer_do_not_narrow_the_interval() -> None:
    # Every customer's incident three times over (same customer, same outcome): no new evidence.
    # Resampling incidents one by one would shrink the interval by about sqrt(3).
    linked, _ = _linked(1500, 6)
    tripled = pd.concat([linked] * 3, ignore_index=True)
    as_if_independent = tripled.assign(customer_id=np.arange(len(tripled)))
    width = {}
    for name, frame in (("once", linked), ("tripled", tripled), ("independent", as_if_independent)):
        effect = adjusted_effect(frame, bootstrap=120, seed=3)
        assert effect.ci_low is not None and effect.ci_high is not None
        width[name] = effect.ci_high - effect.ci_low
    assert width["tripled"] > 1.4 * width["independent"]
    assert width["tripled"] == pytest.approx(width["once"], rel=0.25)


def test_imbalance_after_weighting_above_a_tenth_makes_the_effect_unreliable() -> None:
    """Selection on a feature the models do not see in its raw form: the balance table shows it."""
    from empowerment.analytics.adjust import adjust

    rng = np.random.default_rng(8)
    prior_counts = rng.poisson(4, 3000)
    tenure = rng.exponential(400, 3000)
    recovered = rng.random(3000) < np.where(tenure > 900, 0.8, 0.3)  # a step the log-linear model smooths over
    returned = rng.random(3000) < 0.3
    linked = _hand_made_linked(prior_counts, recovered, returned).assign(tenure_days=tenure)
    result = adjust(linked, [("returned_within", "att")], bootstrap=30)
    balance = result.balance.set_index("feature")
    assert {"Purchases in the year before", "Days as a customer", "No purchase in the year before",
            "Top tenth by revenue in the year before"} <= set(balance.index)
    assert abs(balance.loc["Days as a customer", "smd_before"]) > 0.3
    effect = result.effects[("returned_within", "att")]
    worst = balance["smd_after_att"].abs().max()
    assert (worst > 0.1) == (not effect.reliable)
    if worst > 0.1:
        assert any("standardised mean difference" in note for note in effect.warnings)
    overlap = result.overlap
    assert set(overlap["group"]) == {"Recovered", "Not recovered"}
    assert overlap["episodes"].sum() == 2 * 0 + len(linked)


def test_the_coverage_benchmark_runs_on_every_hard_case() -> None:
    """make test's smoke of benchmarks/bench_coverage.py (make bench runs 40 seeds at full size)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from benchmarks.bench_coverage import SCENARIOS, run

    for scenario in SCENARIOS:
        rates = run(scenario, seeds=1, customers=600, bootstrap=30)
        assert set(rates) == {"covered", "revenue_covered", "return_fp", "revenue_fp", "roi_fp", "withheld",
                              "revenue_withheld"}


def test_late_gestures_on_customers_already_back_create_no_effect() -> None:
    from empowerment.analytics import PayoffRequest, compute_payoff
    from empowerment.analytics.synthetic import HardCases

    incidents, gestures, transactions, customers, truth = make_synthetic(
        2000, 5, true_effect=0.0, hard=HardCases(late_share=1.0))
    result = compute_payoff(incidents, gestures, transactions, customers,
                            PayoffRequest(bootstrap=60, as_of=truth["as_of"]))
    assert result.late_gestures > 50
    uplift = result.return_uplift
    assert uplift.low is not None and uplift.high is not None and uplift.low <= 0.0 <= uplift.high


def test_effects_that_differ_by_customer_give_different_att_and_atc_truths() -> None:
    from empowerment.analytics.synthetic import HardCases

    *_, truth = make_synthetic(2000, 2, hard=HardCases(nonlinear_selection=True, heterogeneous=True))
    assert truth["att_return"] > truth["atc_return"] + 0.02  # staff help the loyal, who gain more


def test_what_works_is_adjusted_with_intervals_holm_and_a_minimum() -> None:
    from empowerment.analytics.what_works import MIN_CASES, holm, what_works

    linked, truth = _linked(3000, 6)
    table = what_works(linked, "first_gesture_type", bootstrap=40)
    assert set(table["level"]) == set(linked.loc[linked["recovered"], "first_gesture_type"])
    estimated = table[table["cases"] >= MIN_CASES]
    assert len(estimated) >= 3 and estimated["low"].le(estimated["estimate"]).all()
    # every type has the same true effect here: most intervals cover it
    assert ((estimated["low"] <= truth["att_return"]) & (truth["att_return"] <= estimated["high"])).mean() >= 0.7
    assert (estimated["p_holm"] >= estimated["p_value"]).all()
    small = what_works(linked, "first_gesture_type", within=("category", "service"), bootstrap=20)
    few = small[small["cases"] < MIN_CASES]
    assert len(few) and few["reason"].str.startswith("Not enough data").all() and few["estimate"].isna().all()
    assert holm(np.array([0.01, 0.04, 0.03])).tolist() == pytest.approx([0.03, 0.06, 0.06])


# --- the hard cases that should warn (issue 12) ---------------------------------------------------


def test_a_known_revenue_effect_is_covered_and_its_truth_is_the_expected_gain() -> None:
    from empowerment.analytics import PayoffRequest, compute_payoff
    from empowerment.analytics.synthetic import HardCases

    plain = make_synthetic(2000, 3)[4]
    richer = make_synthetic(2000, 3, hard=HardCases(extra_spend_cents=2000))
    # the extra spend is paid by recovered returners only: the truth grows by about P(return | recovered) x $20
    assert 500 < richer[4]["att_revenue_cents"] - plain["att_revenue_cents"] < 2000
    assert make_synthetic(2000, 3, placebo=True)[4]["att_revenue_cents"] == pytest.approx(0.0)
    result = compute_payoff(*richer[:4], request=PayoffRequest(bootstrap=100, as_of=richer[4]["as_of"]))
    revenue = result.revenue_uplift_cents
    assert revenue.low is not None and revenue.high is not None
    assert revenue.low <= richer[4]["att_revenue_cents"] <= revenue.high
    assert "cross-fitted" in result.method and "two-part" in result.method


def test_a_single_huge_purchase_triggers_the_influence_warning_and_the_capped_figure_holds() -> None:
    from empowerment.analytics import PayoffRequest, compute_payoff
    from empowerment.analytics.synthetic import HardCases

    request = PayoffRequest(bootstrap=100, seed=2)
    clean = make_synthetic(2000, 7)
    huge = make_synthetic(2000, 7, hard=HardCases(huge_purchase_cents=200_000_000))  # one $2M purchase
    assert len(huge[2]) == len(clean[2]) + 1
    before = compute_payoff(*clean[:4], request=request)
    after = compute_payoff(*huge[:4], request=request)
    for figure in (after.incremental_revenue_cents, after.revenue_uplift_cents, after.return_on_spend):
        assert not figure.shown and any("One customer drives this figure" in r for r in figure.reasons)
    capped, capped_before = after.incremental_revenue_winsorised_cents, before.incremental_revenue_winsorised_cents
    assert capped_before.low is not None and capped_before.high is not None and capped.estimate is not None
    assert capped_before.low <= capped.estimate <= capped_before.high
    assert not any("One customer drives" in r for r in capped.reasons)


def test_one_dominant_customer_triggers_a_warning() -> None:
    from empowerment.analytics import PayoffRequest, compute_payoff
    from empowerment.analytics.synthetic import HardCases

    incidents, gestures, transactions, customers, truth = make_synthetic(
        4800, 9, hard=HardCases(dominant_incidents=3000))
    assert len(incidents) == 7800 and incidents["customer_id"].value_counts().iloc[0] == 3001
    result = compute_payoff(incidents, gestures, transactions, customers,
                            PayoffRequest(bootstrap=40, as_of=truth["as_of"]))
    assert any(note.startswith("Warning: one customer has 3,001 of the 7,800 incidents (38%)")
               for note in result.warnings)
    plain = compute_payoff(*make_synthetic(4800, 9)[:4], request=PayoffRequest(bootstrap=20))
    assert not any("one customer has" in note for note in plain.warnings)
