"""The one-incident fast path (`outcome_row`, and the service's `_new_row` over stored purchases)
gives exactly the general vectorised path's outcome row (`outcome_columns`)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from hypothesis import example, given, settings
from hypothesis import strategies as st

from empowerment.analytics.linking import (
    HOUR_NS,
    NS_PER_DAY,
    OUTCOME_HORIZONS,
    PRIOR_WINDOW_DAYS,
    outcome_columns,
    outcome_row,
    to_ns,
)
from empowerment.services.outcomes import _first_record, _frame, _new_row

INCIDENT = datetime(2025, 6, 1, 9, 30)
INCIDENT_NS = int(pd.Timestamp(INCIDENT).as_unit("ns").value)
WINDOW_HOURS = (0, 1, 24, 72)


def _edges(hours: int) -> list[int]:
    """Offsets (ns from the incident) on every window edge, and one microsecond either side."""
    window = hours * HOUR_NS
    centres = [0, window, -PRIOR_WINDOW_DAYS * NS_PER_DAY]
    for horizon in OUTCOME_HORIZONS:
        centres += [window + horizon * NS_PER_DAY, -horizon * NS_PER_DAY]
    return [c + d for c in centres for d in (-1000, 0, 1000)]


@st.composite
def cases(draw: st.DrawFn) -> tuple[int, list[int], list[int]]:
    hours = draw(st.sampled_from(WINDOW_HOURS))
    offset = st.one_of(st.sampled_from(_edges(hours)),
                       st.integers(-500 * NS_PER_DAY, 800 * NS_PER_DAY).map(lambda ns: ns // 1000 * 1000))
    offsets = draw(st.lists(offset, max_size=12))
    amount = st.one_of(st.sampled_from([0, 1, -1]), st.integers(-50_000, 200_000))  # refunds, zero rows
    amounts = draw(st.lists(amount, min_size=len(offsets), max_size=len(offsets)))
    return hours, offsets, amounts


def _general(customer: int, hours: int, offsets: list[int], amounts: list[int], other: bool) -> dict[str, object]:
    incidents = pd.DataFrame({"incident_id": [7], "customer_id": [customer],
                              "occurred_at": pd.Series([INCIDENT], dtype="datetime64[us]")})
    times = (np.array(offsets, dtype=np.int64) + INCIDENT_NS).astype("datetime64[ns]")
    transactions = pd.DataFrame({"customer_id": np.full(len(offsets), customer, dtype=np.int64),
                                 "occurred_at": times, "amount_cents": np.array(amounts, dtype=np.int64)})
    if other:  # another customer's rows, on both sides, must not count
        extra = pd.DataFrame({"customer_id": [customer - 1, customer + 1],
                              "occurred_at": [INCIDENT + timedelta(hours=hours, days=1)] * 2,
                              "amount_cents": [999, 999]})
        transactions = pd.concat([transactions, extra], ignore_index=True)
    frame = outcome_columns(incidents, transactions, hours)
    assert len(frame) == 1
    row: dict[str, object] = {}
    for name in frame.columns:
        if frame[name].dtype.kind == "M":
            ns = int(to_ns(frame[name])[0])
            row[name] = None if ns == np.iinfo(np.int64).min else ns
        else:
            row[name] = int(frame[name].iloc[0])
    return row


@settings(max_examples=400, deadline=None)
@given(cases(), st.booleans())
@example((72, [], []), False)  # no purchases at all
@example((72, [-NS_PER_DAY, -400 * NS_PER_DAY], [500, 800]), False)  # only before the incident
@example((72, [72 * HOUR_NS, 72 * HOUR_NS + 30 * NS_PER_DAY], [100, 200]), False)  # exactly on window ends
@example((72, [80 * HOUR_NS, 90 * HOUR_NS], [-300, 0]), True)  # refunds and zero rows only: no return
def test_outcome_row_is_the_general_row(case: tuple[int, list[int], list[int]], other: bool) -> None:
    hours, offsets, amounts = case
    fast = outcome_row(7, 42, INCIDENT_NS, [INCIDENT_NS + o for o in offsets], amounts, hours)
    assert fast == _general(42, hours, offsets, amounts, other)


def _stored(offsets: list[int], amounts: list[int]) -> tuple[tuple[object, ...], ...]:
    """Purchases as SQLite hands them back: ISO text, in id order (not time order)."""
    return tuple((42, str(INCIDENT + timedelta(microseconds=o // 1000)), a) for o, a in zip(offsets, amounts, strict=True))


@settings(max_examples=200, deadline=None)
@given(cases(), st.booleans())
@example((72, [], []), False)
def test_new_row_is_the_prepared_general_row(case: tuple[int, list[int], list[int]], datetimes: bool) -> None:
    hours, offsets, amounts = case
    purchases = _stored(offsets, amounts)
    if datetimes:  # PostgreSQL hands back datetimes
        purchases = tuple((c, datetime.fromisoformat(str(t)), a) for c, t, a in purchases)
    incident = pd.DataFrame({"incident_id": [0], "customer_id": [42],
                             "occurred_at": pd.Series([INCIDENT], dtype="datetime64[us]")})
    general = _first_record(outcome_columns(incident, _frame(list(purchases), ["customer_id", "occurred_at",
                                                                               "amount_cents"]), hours))
    assert _new_row(42, INCIDENT, purchases, hours) == general


def test_new_row_declines_a_time_it_cannot_read() -> None:
    assert _new_row(42, INCIDENT, ((42, b"2025-06-01", 100),), 72) is None
