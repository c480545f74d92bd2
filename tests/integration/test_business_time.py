"""Issue 11, finding 10: business time. The daily cap, budget periods and "today" follow the
business's time zone (the location's, else EMPOWERMENT_TIME_ZONE), times are stored in UTC, and
money freed after a period closed goes to the current period.

Before the fix: `datetime.now()` (the server's TZ) chose the day, so two $1,500 gestures 1 s apart
under different TZ both passed a $2,000 cap, and a hold released in January went back into the
closed December budget.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from empowerment.db import Database
from empowerment.errors import CustomerDailyCapExceeded
from empowerment.models import Budget, Gesture, GestureStatus, LedgerEntry, LedgerEntryType, Location
from empowerment.periods import business_today
from empowerment.queries.integrity import verify
from empowerment.services.gestures import LogRequest, decide_gesture, log_gesture, void_gesture
from tests.factories import SYSTEM, make_customer, make_employee, make_policy, make_team


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMPOWERMENT_TIME_ZONE", "America/New_York")


def _setup(db: Database, **policy: object) -> tuple[str, str]:
    team_id = make_team(db, "FD")
    employee = make_employee(db, "E1", team_id=team_id)
    customer = make_customer(db, "C1")
    policy.setdefault("today", date(2025, 1, 1))
    make_policy(db, 1_000_000, customer_daily_cap_cents=200_000, **policy)
    return employee, customer


def _log(db: Database, employee: str, customer: str, amount: str, at: datetime | None = None) -> str:
    return log_gesture(db, SYSTEM, LogRequest(employee, customer, "refund", amount, category="Noise"),
                       at=at).gesture_code


@pytest.fixture
def server_tz() -> Iterator[None]:
    before = os.environ.get("TZ")
    yield
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_two_gestures_a_second_apart_under_different_tz_share_one_cap(db: Database, server_tz: None) -> None:
    employee, customer = _setup(db)
    os.environ["TZ"] = "Pacific/Kiritimati"  # UTC+14
    time.tzset()
    _log(db, employee, customer, "1500")
    os.environ["TZ"] = "Pacific/Pago_Pago"  # UTC-11: a different calendar day on this clock
    time.tzset()
    with pytest.raises(CustomerDailyCapExceeded, match="over the limit of \\$2,000.00"):
        _log(db, employee, customer, "1500")
    with db.read() as session:
        stored = session.scalar(select(Gesture.occurred_at))
    assert stored is not None and abs(stored - datetime.now(UTC).replace(tzinfo=None)) < timedelta(minutes=1)


def test_the_cap_day_is_the_business_day_in_the_installation_zone(db: Database, new_york: None) -> None:
    employee, customer = _setup(db)
    # 01:00 and 03:59 UTC on 10 March are both 9 March in New York: one day, one cap.
    _log(db, employee, customer, "1500", at=datetime(2026, 3, 10, 1, 0))
    with pytest.raises(CustomerDailyCapExceeded):
        _log(db, employee, customer, "1500", at=datetime(2026, 3, 10, 3, 59))
    # 04:30 UTC is 00:30 on 10 March in New York (EDT, UTC-4 from 8 March): a new day.
    _log(db, employee, customer, "1500", at=datetime(2026, 3, 10, 4, 30))


def test_a_location_zone_overrides_the_installation(db: Database, new_york: None) -> None:
    employee, customer = _setup(db)
    with db.write() as session:
        for location in session.scalars(select(Location)):
            location.time_zone = "Asia/Tokyo"
    # 14:30 and 15:30 UTC on 1 June: 23:30 on the 1st and 00:30 on the 2nd in Tokyo.
    _log(db, employee, customer, "1500", at=datetime(2026, 6, 1, 14, 30))
    _log(db, employee, customer, "1500", at=datetime(2026, 6, 1, 15, 30))
    with pytest.raises(CustomerDailyCapExceeded):
        _log(db, employee, customer, "1500", at=datetime(2026, 6, 2, 14, 59))


def test_a_dst_day_is_counted_whole(db: Database, new_york: None) -> None:
    """1 November 2026 in New York has 25 hours: 04:00 UTC on the 1st to 05:00 UTC on the 2nd."""
    employee, customer = _setup(db)
    _log(db, employee, customer, "1500", at=datetime(2026, 11, 1, 4, 0))
    with pytest.raises(CustomerDailyCapExceeded):
        _log(db, employee, customer, "1500", at=datetime(2026, 11, 2, 4, 59))  # 23:59 EST on the 1st
    _log(db, employee, customer, "1500", at=datetime(2026, 11, 2, 5, 0))  # midnight: the 2nd


def test_month_end_follows_the_business_day(db: Database, new_york: None) -> None:
    employee, customer = _setup(db)
    _log(db, employee, customer, "10", at=datetime(2026, 2, 1, 3, 0))  # 22:00 on 31 January in New York
    _log(db, employee, customer, "10", at=datetime(2026, 2, 1, 5, 0))  # 00:00 on 1 February
    with db.read() as session:
        starts = sorted(session.scalars(select(Budget.period_start)))
    assert starts == [date(2026, 1, 1), date(2026, 2, 1)]


@pytest.mark.parametrize("decision", ["reject", "void"])
def test_a_hold_freed_after_its_period_closed_goes_to_the_current_period(db: Database, decision: str) -> None:
    employee, customer = _setup(db, approval_above_cents=10_000)
    today = business_today()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=15)
    code = _log(db, employee, customer, "300", at=datetime.combine(last_month, datetime.min.time()))
    with db.read() as session:
        closed = session.scalars(select(Budget)).one()
        closed_remaining = closed.remaining_cents
    assert closed_remaining == 1_000_000 - 30_000
    if decision == "reject":
        decide_gesture(db, SYSTEM, code, approve=False, reason="Not needed")
    else:
        void_gesture(db, SYSTEM, code, "Logged twice")
    with db.read() as session:
        budgets = {b.period_start: b for b in session.scalars(select(Budget))}
        release = session.scalars(select(LedgerEntry).where(LedgerEntry.entry_type == LedgerEntryType.RELEASE)).one()
        status = session.scalar(select(Gesture.status))
    assert budgets[closed.period_start].remaining_cents == closed_remaining  # the closed one is untouched
    current = budgets[today.replace(day=1)]
    assert release.budget_id == current.id and current.remaining_cents == 1_000_000 + 30_000
    assert status in (GestureStatus.REJECTED, GestureStatus.VOIDED)
    assert verify(db, SYSTEM).ok


def test_an_approval_after_the_period_closed_spends_in_its_own_period(db: Database) -> None:
    employee, customer = _setup(db, approval_above_cents=10_000)
    today = business_today()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=15)
    code = _log(db, employee, customer, "300", at=datetime.combine(last_month, datetime.min.time()))
    decide_gesture(db, SYSTEM, code, approve=True)
    with db.read() as session:
        budgets = list(session.scalars(select(Budget)))
    assert [b.remaining_cents for b in budgets] == [1_000_000 - 30_000]  # no budget opened or credited
    assert verify(db, SYSTEM).ok


def test_my_budgets_daily_spend_follows_the_business_day(db: Database, new_york: None) -> None:
    from empowerment.queries.my_budget import daily_spend

    employee, customer = _setup(db)
    _log(db, employee, customer, "10", at=datetime(2026, 2, 1, 3, 0))  # 22:00 on 31 January in New York
    frame = daily_spend(db, SYSTEM, employee, date(2026, 1, 1), date(2026, 2, 1))
    assert len(frame) == 31 and int(frame["spent_cents"].iloc[-1]) == 1_000 and int(frame["spent_cents"].sum()) == 1_000


def test_an_admin_sets_a_locations_zone_on_the_command_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from empowerment.cli import main

    url = f"sqlite:///{tmp_path}/z.db"
    assert main(["init", "--database-url", url]) == 0
    db = Database(url)
    employee, customer = _setup(db)
    with db.read() as session:
        code = session.scalars(select(Location.code)).one()
    capsys.readouterr()
    assert main(["location-zone", code, "Asia/Tokyo", "--database-url", url]) == 0
    assert "Asia/Tokyo" in capsys.readouterr().out
    _log(db, employee, customer, "1500", at=datetime(2026, 6, 1, 14, 30))  # 23:30 in Tokyo
    _log(db, employee, customer, "1500", at=datetime(2026, 6, 1, 15, 30))  # 00:30 the next day
    assert main(["location-zone", code, "Mars/Base", "--database-url", url]) == 2
    assert "not a time zone" in capsys.readouterr().err
    assert main(["location-zone", "Nowhere", "UTC", "--database-url", url]) == 2
    assert main(["location-zone", code, "--installation", "--database-url", url]) == 0
    with pytest.raises(CustomerDailyCapExceeded):  # back on UTC: 15:30 and 16:00 are one day
        _log(db, employee, customer, "1500", at=datetime(2026, 6, 1, 16, 0))
    db.dispose()
