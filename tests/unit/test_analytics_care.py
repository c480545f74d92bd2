"""The proactive care list on synthetic data where the at-risk customers and their true chance of
not returning are known."""

from __future__ import annotations

import pandas as pd
from scipy.stats import spearmanr

from empowerment.analytics.care import CareRules, build_care_list
from empowerment.analytics.synthetic import baseline_return_probability, category_codes, make_synthetic

NO_TOUCHES = pd.DataFrame({"customer_id": pd.Series(dtype="int64"), "occurred_at": pd.Series(dtype="datetime64[ns]")})


def _synthetic(n: int = 6000, seed: int = 7):
    incidents, gestures, transactions, customers, truth = make_synthetic(n, seed)
    return incidents, gestures, transactions, customers, truth["as_of"]


def _true_chance_not_returning(incidents: pd.DataFrame, transactions: pd.DataFrame) -> pd.Series:
    """The simulation's own P(no return within 90 days | no gesture): from purchases before the incident."""
    joined = transactions.merge(incidents[["customer_id", "occurred_at"]], on="customer_id", suffixes=("", "_incident"))
    before = joined.loc[(joined["occurred_at"] < joined["occurred_at_incident"])
                        & (joined["occurred_at"] >= joined["occurred_at_incident"] - pd.Timedelta(days=365))
                        & (joined["amount_cents"] > 0)]
    prior = before.groupby("customer_id").size().reindex(incidents["customer_id"], fill_value=0).to_numpy()
    chance = 1 - baseline_return_probability(prior, category_codes(incidents))
    return pd.Series(chance, index=incidents["customer_id"].to_numpy())


def test_customers_truly_less_likely_to_return_rank_higher() -> None:
    incidents, gestures, transactions, customers, as_of = _synthetic()
    listed = build_care_list(incidents, gestures, transactions, customers, NO_TOUCHES, as_of)
    # Known at-risk customers: an incident in the last 90 days with no valid gesture.
    window = incidents["occurred_at"] > as_of - pd.Timedelta(days=90)
    recovered = incidents["incident_id"].isin(gestures.loc[~gestures["voided"], "incident_id"])
    known = set(incidents.loc[window & ~recovered, "customer_id"])
    assert set(listed["customer_id"]) == known
    assert (listed["reason_code"] == "unrecovered").all() and listed["model"].eq("model").all()
    truth = _true_chance_not_returning(incidents, transactions)
    rho = spearmanr(listed["chance_not_returning"], truth.loc[listed["customer_id"]].to_numpy()).statistic
    print(f"care list: {len(listed)} at-risk customers, Spearman rank correlation with the true chance "
          f"of not returning = {rho:.2f}")
    assert rho > 0.6
    # Ranked by value at risk, best first, with the reason in words.
    assert listed["value_at_risk_cents"].is_monotonic_decreasing
    assert listed["rank"].tolist() == list(range(1, len(listed) + 1))
    assert listed["reason"].str.startswith("An incident with no recovery yet: ").all()


def test_nothing_after_a_listed_customers_incident_is_used() -> None:
    incidents, gestures, transactions, customers, as_of = _synthetic(3000, 11)
    listed = build_care_list(incidents, gestures, transactions, customers, NO_TOUCHES, as_of)
    latest = listed.set_index("customer_id")["occurred_at"]
    # Remove (and, separately, double) everything listed customers bought after their incident.
    after = transactions["customer_id"].map(latest).notna() & (
        transactions["occurred_at"] >= transactions["customer_id"].map(latest))
    assert after.any()
    for changed in (transactions.loc[~after],
                    pd.concat([transactions, transactions.loc[after]]).sort_values(["customer_id", "occurred_at"])):
        again = build_care_list(incidents, gestures, changed, customers, NO_TOUCHES, as_of)
        pd.testing.assert_frame_equal(listed, again)


def _frames(rows: list[tuple[int, int, str, bool]]):
    incidents = pd.DataFrame({"incident_id": [r[0] for r in rows], "customer_id": [r[1] for r in rows],
                              "occurred_at": pd.to_datetime([r[2] for r in rows]), "category": "Noise",
                              "location": "Harbour", "team": "FD"})
    recovered = [r for r in rows if r[3]]
    gestures = pd.DataFrame({"gesture_id": range(1, len(recovered) + 1), "incident_id": [r[0] for r in recovered],
                             "customer_id": [r[1] for r in recovered],
                             "occurred_at": pd.to_datetime([r[2] for r in recovered]), "voided": False,
                             "type": "comp", "cost_cents": 100})
    transactions = pd.DataFrame({"customer_id": [1, 2, 3], "occurred_at": pd.to_datetime(["2024-01-05"] * 3),
                                 "amount_cents": [50_000, 10_000, 20_000]})
    return incidents, gestures, transactions


def test_repeat_customers_are_listed_until_someone_follows_up() -> None:
    incidents, gestures, transactions = _frames([
        (1, 1, "2024-05-01", True), (2, 1, "2024-05-20", True),  # two in 90 days, both recovered
        (3, 2, "2024-05-25", False),  # one, not recovered
        (4, 3, "2024-05-25", True),  # one, recovered: fine
        (5, 3, "2023-10-01", True),  # outside the window
    ])
    as_of = pd.Timestamp("2024-06-01")
    rules = CareRules()
    listed = build_care_list(incidents, gestures, transactions, None, NO_TOUCHES, as_of, rules=rules)
    assert dict(zip(listed["customer_id"], listed["reason_code"], strict=True)) == {1: "repeat", 2: "unrecovered"}
    assert listed.loc[listed["customer_id"] == 1, "reason"].item() == (
        "2 incidents in 90 days, no follow-up since the last: Noise on 1 May, Noise on 20 May.")
    assert listed["model"].eq("base rate").all()  # too few closed incidents to fit a model
    # Customer 1 gets a call; customer 2 a follow-up too: both leave the list.
    touches = pd.DataFrame({"customer_id": [1, 2], "occurred_at": pd.to_datetime(["2024-05-21", "2024-05-26"])})
    assert build_care_list(incidents, gestures, transactions, None, touches, as_of).empty
    # A follow-up before the latest incident does not count.
    early = pd.DataFrame({"customer_id": [1], "occurred_at": pd.to_datetime(["2024-05-02"])})
    assert 1 in set(build_care_list(incidents, gestures, transactions, None, early, as_of)["customer_id"])


def test_what_tends_to_work_is_the_payoffs_adjusted_breakdown_within_each_category() -> None:
    from empowerment.analytics import PayoffRequest
    from empowerment.analytics.care import is_overcompensation, recent_recoveries
    from empowerment.analytics.payoff import linked_rows
    from empowerment.analytics.what_works import MIN_CASES, by_category, what_works

    incidents, gestures, transactions, customers, as_of = _synthetic(3000, 5)
    linked = linked_rows(incidents, gestures, transactions, customers, PayoffRequest(as_of=as_of))
    evidence = by_category(linked, bootstrap=20)
    eligible = linked.loc[linked["eligible"] & linked["recovered"]]
    expected = eligible.groupby(["category", "first_gesture_type"]).size()
    got = evidence.set_index(["category", "gesture_type"])["cases"]
    assert got.sort_index().to_dict() == {k: v for k, v in expected.sort_index().to_dict().items() if v}
    few = evidence["cases"] < MIN_CASES
    assert evidence.loc[few, "estimate"].isna().all() and evidence.loc[few, "reason"].str.startswith("Not enough").all()
    shown = evidence.loc[~few & evidence["reliable"].astype(bool)]
    assert len(shown) and ((shown["low"] <= shown["estimate"]) & (shown["estimate"] <= shown["high"])).all()
    for category in evidence["category"].unique():  # each category's rows are what_works within it
        own = what_works(linked, "first_gesture_type", within=("category", category), bootstrap=20)
        mine = evidence.loc[evidence["category"] == category].drop(columns="category").reset_index(drop=True)
        pd.testing.assert_frame_equal(mine.rename(columns={"gesture_type": "level"}), own, check_dtype=False)
    assert is_overcompensation(15_100, 10_000) and not is_overcompensation(15_000, 10_000)
    assert not is_overcompensation(99_999, None)
    times = pd.Series(pd.to_datetime(["2024-05-01", "2024-05-20", "2024-01-01", None]))
    assert recent_recoveries(times, "2024-06-01") == 2
