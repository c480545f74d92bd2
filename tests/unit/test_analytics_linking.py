"""Incident linkage: what counts as recovered, as a return, as eligible, and the windows."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from empowerment.analytics import link_incidents as link_with_window
from empowerment.analytics.linking import _customer_time_order, episodes

# The window-free tests below check the return and revenue mechanics with follow-up from the
# incident itself (a zero-hour recovery window); the timing tests at the end use real windows.


def link_incidents(*args: Any, **kwargs: Any) -> pd.DataFrame:
    kwargs.setdefault("recovery_window_hours", 0)
    return link_with_window(*args, **kwargs)

T0 = pd.Timestamp("2024-03-01 12:00")


def _incidents(*rows: tuple[int, int, pd.Timestamp]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "incident_id": [r[0] for r in rows],
            "customer_id": [r[1] for r in rows],
            "occurred_at": pd.to_datetime([r[2] for r in rows]),
            "category": "delivery",
            "location": "north",
            "team": pd.Series([pd.NA] * len(rows), dtype="string"),
        }
    )


def _gestures(*rows: tuple[int, int, str, int, bool]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "gesture_id": np.arange(1, len(rows) + 1),
            "incident_id": [r[0] for r in rows],
            "customer_id": [r[1] for r in rows],
            "employee_id": 7,
            "occurred_at": pd.to_datetime([T0] * len(rows)),
            "type": [r[2] for r in rows],
            "cost_cents": np.array([r[3] for r in rows], dtype="int64"),
            "voided": [r[4] for r in rows],
            "team": "floor",
            "location": "north",
        }
    )


def _transactions(*rows: tuple[int, pd.Timestamp, int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "occurred_at": pd.to_datetime([r[1] for r in rows]),
            "amount_cents": np.array([r[2] for r in rows], dtype="int64"),
        }
    )


def _no_gestures() -> pd.DataFrame:
    return _gestures().iloc[0:0]


def _day(days: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(days=days)


def test_same_timestamp_and_non_positive_amounts_are_not_returns() -> None:
    linked = link_incidents(
        _incidents((1, 10, T0)),
        _no_gestures(),
        _transactions((10, T0, 5000), (10, _day(1), 0), (10, _day(2), -800), (10, _day(3.5), 1200)),
        as_of=_day(200),
    )
    row = linked.iloc[0]
    assert row["return_days"] == pytest.approx(3.5)
    assert bool(row["event"]) and row["duration_days"] == pytest.approx(3.5)
    assert row["returned_within"] == 1.0


def test_customer_with_no_later_purchase_is_censored_at_as_of() -> None:
    linked = link_incidents(
        _incidents((1, 10, T0)),
        _no_gestures(),
        _transactions((10, _day(-3), 900), (99, _day(5), 900)),  # someone else's purchase
        as_of=_day(120),
    )
    row = linked.iloc[0]
    assert math.isnan(row["return_days"]) and not row["event"]
    assert row["duration_days"] == pytest.approx(120)
    assert row["returned_within"] == 0.0


def test_voided_gestures_do_not_recover_and_zero_cost_ones_do() -> None:
    incidents = _incidents((1, 10, T0), (2, 11, T0), (3, 12, T0), (4, 13, T0))
    gestures = _gestures(
        (1, 10, "refund", 2500, True),  # voided only -> comparison
        (2, 11, "personal note", 0, False),  # zero cost -> recovered
        (3, 12, "voucher", 1500, False),
        (3, 12, "refund", 9000, True),  # voided cost is not spend
        (3, 12, "time", 0, False),
    )
    linked = link_incidents(incidents, gestures, _transactions((10, _day(1), 100)), as_of=_day(200))
    assert linked["recovered"].tolist() == [False, True, True, False]
    assert linked["spend_cents"].tolist() == [0, 0, 1500, 0]
    assert linked["gesture_count"].tolist() == [0, 1, 2, 0]
    assert linked["first_gesture_type"].iloc[1] == "personal note"


def test_incidents_without_full_follow_up_are_not_eligible_and_not_lost() -> None:
    incidents = _incidents((1, 10, T0), (2, 11, _day(100)), (3, 12, _day(150)))
    transactions = _transactions((10, _day(200), 100))  # as-of defaults to the latest purchase
    linked = link_incidents(incidents, _no_gestures(), transactions, horizon_days=90)
    assert linked["eligible"].tolist() == [True, True, False]
    assert linked["returned_within"].iloc[0] == 0.0 and linked["returned_within"].iloc[1] == 0.0
    assert math.isnan(linked["returned_within"].iloc[2])
    assert math.isnan(linked["revenue_after_cents"].iloc[2])
    assert linked.attrs["as_of"] == _day(200)


def test_return_exactly_at_the_horizon_counts_and_just_after_does_not() -> None:
    incidents = _incidents((1, 10, T0), (2, 11, T0))
    transactions = _transactions((10, _day(90), 100), (11, _day(90) + pd.Timedelta(seconds=1), 100))
    linked = link_incidents(incidents, _no_gestures(), transactions, as_of=_day(300))
    assert linked["returned_within"].tolist() == [1.0, 0.0]


def test_revenue_windows_and_prior_covariates() -> None:
    transactions = _transactions(
        (10, _day(-400), 7000),  # outside the prior 365 days
        (10, _day(-365), 300),  # exactly 365 days before: inside [t - 365d, t)
        (10, _day(-30), 2000),
        (10, _day(-5), -500),  # a return of goods: revenue, not a purchase
        (10, T0, 999),  # at the incident: neither before nor after
        (10, _day(10), 4000),
        (10, _day(90), 100),  # closed end of (t, t + 90d]
        (10, _day(91), 50_000),
    )
    customers = pd.DataFrame({"customer_id": [10], "first_seen_at": pd.to_datetime([_day(-1000)])})
    linked = link_incidents(_incidents((1, 10, T0)), _no_gestures(), transactions, customers, as_of=_day(400))
    row = linked.iloc[0]
    assert row["revenue_after_cents"] == 4100
    assert row["revenue_before_cents"] == 2000 - 500  # [t - 90d, t)
    assert row["prior_txn_count_365"] == 2  # purchases (amount > 0) in [t - 365d, t)
    assert row["prior_revenue_cents_365"] == 300 + 2000 - 500
    assert row["tenure_days"] == pytest.approx(1000)


def test_tenure_falls_back_to_first_transaction_when_first_seen_is_missing() -> None:
    customers = pd.DataFrame({"customer_id": [10], "first_seen_at": pd.to_datetime([pd.NaT])})
    linked = link_incidents(
        _incidents((1, 10, T0)),
        _no_gestures(),
        _transactions((10, _day(-42), 100), (10, _day(3), 100)),
        customers,
        as_of=_day(400),
    )
    assert linked["tenure_days"].iloc[0] == pytest.approx(42)


def test_explicit_as_of_hides_later_transactions() -> None:
    linked = link_incidents(
        _incidents((1, 10, T0)), _no_gestures(), _transactions((10, _day(50), 100)), as_of=_day(40)
    )
    row = linked.iloc[0]
    assert not row["event"] and row["duration_days"] == pytest.approx(40)
    assert not row["eligible"]


def test_unsorted_input_and_many_customers_match_a_plain_loop() -> None:
    rng = np.random.default_rng(5)
    n_customers, n_txn = 60, 3000
    incidents = _incidents(
        *[(i, int(rng.integers(0, n_customers)), _day(float(rng.uniform(0, 200)))) for i in range(150)]
    )
    transactions = _transactions(
        *[
            (
                int(rng.integers(0, n_customers)),
                _day(float(np.round(rng.uniform(-100, 400), 1))),
                int(rng.integers(-500, 3000)),
            )
            for _ in range(n_txn)
        ]
    )
    as_of = _day(400)
    linked = link_incidents(incidents, _no_gestures(), transactions, as_of=as_of, horizon_days=30)
    for row in linked.itertuples():
        mine = transactions[transactions["customer_id"] == row.customer_id]
        after = mine[(mine["occurred_at"] > row.occurred_at) & (mine["amount_cents"] > 0)]
        expected_return = (after["occurred_at"].min() - row.occurred_at) / pd.Timedelta(days=1)
        if after.empty:
            assert math.isnan(row.return_days)
        else:
            assert row.return_days == pytest.approx(expected_return)
        window = mine[
            (mine["occurred_at"] > row.occurred_at)
            & (mine["occurred_at"] <= row.occurred_at + pd.Timedelta(days=30))
        ]
        if row.eligible:
            assert row.revenue_after_cents == window["amount_cents"].sum()
        prior = mine[
            (mine["occurred_at"] >= row.occurred_at - pd.Timedelta(days=365))
            & (mine["occurred_at"] < row.occurred_at)
        ]
        assert row.prior_revenue_cents_365 == prior["amount_cents"].sum()
        assert row.prior_txn_count_365 == (prior["amount_cents"] > 0).sum()


@pytest.mark.parametrize("id_scale", [1, 10**15])  # the second forces the lexsort-like fallback
def test_customer_time_order_equals_lexsort(id_scale: int) -> None:
    rng = np.random.default_rng(8)
    customer = rng.integers(0, 50, 5000) * id_scale
    time = rng.integers(0, 10**6, 5000) * 10**9 + rng.integers(0, 3, 5000)  # ties and sub-second steps
    order = _customer_time_order(customer, time)
    expected = np.lexsort((time, customer))
    np.testing.assert_array_equal(customer[order], customer[expected])
    np.testing.assert_array_equal(time[order], time[expected])


# --- timing: the recovery window, late and early gestures, episodes ---------------------------------


def _timed_gestures(*rows: tuple[int, int, pd.Timestamp]) -> pd.DataFrame:
    gestures = _gestures(*[(incident, customer, "voucher", 1000, False) for incident, customer, _ in rows])
    return gestures.assign(occurred_at=pd.to_datetime([when for _, _, when in rows]))


def test_only_gestures_inside_the_window_recover_and_follow_up_starts_when_it_ends() -> None:
    incidents = _incidents((1, 10, T0), (2, 11, T0), (3, 12, T0))
    gestures = _timed_gestures(
        (1, 10, T0 + pd.Timedelta(minutes=30)),  # within the hour
        (2, 11, T0 + pd.Timedelta(days=5)),  # late: after the 72-hour window
        (3, 12, T0 - pd.Timedelta(hours=2)),  # before the incident: never counts
    )
    # Customer 11 is back on day 1, before the late gesture; all three return on day 10 as well.
    transactions = _transactions((10, _day(1), 900), (11, _day(1), 900), (10, _day(10), 100),
                                 (11, _day(10), 100), (12, _day(10), 100))
    linked = link_with_window(incidents, gestures, transactions, as_of=_day(300), recovery_window_hours=72)
    assert linked["recovered"].tolist() == [True, False, False]
    assert linked["late_gestures"].tolist() == [0, 1, 0] and linked["early_gestures"].tolist() == [0, 0, 1]
    assert linked["hours_to_gesture"].iloc[0] == pytest.approx(0.5)
    assert linked["gesture_speed"].iloc[0] == "Within the hour" and pd.isna(linked["gesture_speed"].iloc[1])
    # the day-1 purchases fall inside the window: neither group's return counts them
    assert linked["return_days"].tolist() == pytest.approx([7.0, 7.0, 7.0])
    assert linked["revenue_after_cents"].tolist() == [100.0, 100.0, 100.0]
    assert linked["spend_cents"].tolist() == [1000, 0, 0]


def test_late_gestures_no_longer_make_a_return_look_like_an_effect() -> None:
    """A gesture logged after the customer is already back must not turn that return into a recovery."""
    rng = np.random.default_rng(3)
    n = 400
    incidents = _incidents(*[(i, i, T0) for i in range(1, n + 1)])
    back = rng.random(n) < 0.5
    transactions = _transactions(*[(i + 1, _day(4), 500) for i in np.flatnonzero(back)])
    late_on_returners = [(i + 1, i + 1, _day(5)) for i in np.flatnonzero(back)]
    linked = link_with_window(incidents, _timed_gestures(*late_on_returners), transactions,
                              as_of=_day(300), recovery_window_hours=72)
    assert not linked["recovered"].any()


def test_incidents_of_one_customer_within_h_days_form_one_episode() -> None:
    incidents = _incidents((1, 10, T0), (2, 10, _day(30)), (3, 10, _day(100)), (4, 11, _day(5)),
                           (5, 10, _day(300)))
    grouped = episodes(incidents, horizon_days=90)
    assert grouped["incident_id"].tolist() == [1, 4, 5]
    assert grouped["incident_count"].tolist() == [3, 1, 1]  # 30 and 100 days chain within 90 of the last
    assert grouped.attrs["episode_of"].to_dict() == {1: 1, 2: 1, 3: 1, 4: 4, 5: 5}


def test_a_gesture_on_a_later_incident_of_the_episode_counts_from_the_episode_start() -> None:
    incidents = _incidents((1, 10, T0), (2, 10, _day(1)), (3, 11, T0), (4, 11, _day(20)))
    gestures = _timed_gestures((2, 10, _day(1.5)), (4, 11, _day(20)))
    linked = link_with_window(incidents, gestures, _transactions((10, _day(200), 100)), as_of=_day(400),
                              recovery_window_hours=72, by_episode=True)
    assert linked["incident_id"].tolist() == [1, 3] and linked["incident_count"].tolist() == [2, 2]
    assert linked["recovered"].tolist() == [True, False]  # day 20 is long after episode 3's window
    assert linked["hours_to_gesture"].iloc[0] == pytest.approx(36.0)
    assert linked["late_gestures"].tolist() == [0, 1]
