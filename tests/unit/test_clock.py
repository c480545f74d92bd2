"""Business time (issue 11, finding 10): month-end and daylight-saving edges of the one rule."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from empowerment.errors import InvalidInput
from empowerment.periods import as_utc, business_date, day_bounds_utc, period_closed, window_bounds_utc, zone


def test_days_at_daylight_saving_changes_are_23_and_25_hours() -> None:
    ny = zone("America/New_York")
    start, end = day_bounds_utc(date(2026, 3, 8), ny)
    assert (start, end) == (datetime(2026, 3, 8, 5), datetime(2026, 3, 9, 4))
    start, end = day_bounds_utc(date(2026, 11, 1), ny)
    assert (end - start).total_seconds() == 25 * 3600
    london = zone("Europe/London")
    assert day_bounds_utc(date(2026, 3, 29), london) == (datetime(2026, 3, 29, 0), datetime(2026, 3, 29, 23))


def test_a_stored_time_falls_on_its_business_day() -> None:
    ny, tokyo = zone("America/New_York"), zone("Asia/Tokyo")
    moment = datetime(2026, 1, 1, 3, 30)  # UTC
    assert business_date(moment, ny) == date(2025, 12, 31)
    assert business_date(moment, tokyo) == date(2026, 1, 1)
    assert business_date(datetime(2026, 2, 28, 23, 0), zone("UTC")) == date(2026, 2, 28)


def test_windows_and_closing() -> None:
    ny = zone("America/New_York")
    assert window_bounds_utc(date(2026, 1, 1), date(2026, 2, 1), ny) == (datetime(2026, 1, 1, 5), datetime(2026, 2, 1, 5))
    assert period_closed(date(2026, 1, 1), date(2026, 1, 1)) and not period_closed(date(2026, 1, 1), date(2025, 12, 31))


def test_aware_times_are_stored_as_utc_and_bad_zones_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    aware = datetime(2026, 7, 1, 12, 0, tzinfo=zone("Europe/Paris"))
    assert as_utc(aware) == datetime(2026, 7, 1, 10, 0)
    with pytest.raises(InvalidInput, match="not a time zone"):
        zone("Mars/Olympus")
    monkeypatch.setenv("EMPOWERMENT_TIME_ZONE", "Asia/Kolkata")
    assert zone().key == "Asia/Kolkata"
