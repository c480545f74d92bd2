from __future__ import annotations

from datetime import date

import pytest

from empowerment.models import Period
from empowerment.periods import next_period_start, period_bounds, period_label


@pytest.mark.parametrize(
    ("period", "on", "start", "end"),
    [
        (Period.MONTH, date(2026, 2, 14), date(2026, 2, 1), date(2026, 3, 1)),
        (Period.MONTH, date(2026, 12, 31), date(2026, 12, 1), date(2027, 1, 1)),
        (Period.QUARTER, date(2026, 5, 2), date(2026, 4, 1), date(2026, 7, 1)),
        (Period.QUARTER, date(2026, 11, 30), date(2026, 10, 1), date(2027, 1, 1)),
        (Period.QUARTER, date(2026, 1, 1), date(2026, 1, 1), date(2026, 4, 1)),
        (Period.YEAR, date(2026, 7, 4), date(2026, 1, 1), date(2027, 1, 1)),
    ],
)
def test_period_bounds_are_half_open(period: Period, on: date, start: date, end: date) -> None:
    assert period_bounds(period, on) == (start, end)
    assert next_period_start(period, on) == end


def test_period_labels_read_naturally() -> None:
    assert period_label(Period.QUARTER, date(2026, 7, 1)) == "2026-Q3"
    assert period_label(Period.MONTH, date(2026, 7, 1)) == "July 2026"
    assert period_label(Period.YEAR, date(2026, 1, 1)) == "2026"
