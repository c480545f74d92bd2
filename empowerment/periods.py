"""Periods: a budget's month, quarter or year, and the windows reports and pages are read over
("2026-Q3", "2026-07", "2026" or explicit dates). End dates are exclusive; labels are written once
(`period_label`).

Business time is kept here too. Timestamps are stored in UTC (naive `datetime`s, `utc_now`); a
business *day* (the daily cap's day, the day that picks a budget period, a report's dates) is a
calendar day in the business's time zone: the location's (`Location.time_zone`) or else the
installation's (`EMPOWERMENT_TIME_ZONE`). `business_date` turns a stored time into its business
day and `day_bounds_utc` a business day into the stored times it covers, so a 23- or 25-hour day
at a daylight-saving change is counted exactly. The server's own clock zone (`TZ`) never matters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from empowerment import settings
from empowerment.errors import InvalidInput
from empowerment.models import Period

# --- business time --------------------------------------------------------------------------------

def utc_now() -> datetime:
    """Now, as stored: naive UTC to the second (whatever the server's TZ)."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def as_utc(moment: datetime) -> datetime:
    """An aware datetime as stored (naive UTC); a naive one is taken as already UTC."""
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


def zone(name: str | None = None) -> ZoneInfo:
    """The time zone called `name` (an IANA name such as Europe/Paris), by default the
    installation's; an unknown name is refused with what to give instead."""
    return _zone((name or "").strip() or settings.current().time_zone)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"'{name}' is not a time zone; use an IANA name such as "
                           "Europe/London or America/New_York.") from None


def business_date(moment_utc: datetime, tz: ZoneInfo | None = None) -> date:
    """The business day a stored (UTC) time falls on."""
    return as_utc(moment_utc).replace(tzinfo=UTC).astimezone(tz or zone()).date()


def business_today(tz: ZoneInfo | None = None) -> date:
    return business_date(utc_now(), tz)


def local_time(moment_utc: datetime, tz: ZoneInfo | None = None) -> datetime:
    """A stored (UTC) time as the business's wall clock shows it (naive), for people to read."""
    return as_utc(moment_utc).replace(tzinfo=UTC).astimezone(tz or zone()).replace(tzinfo=None)


def day_bounds_utc(day: date, tz: ZoneInfo | None = None) -> tuple[datetime, datetime]:
    """The stored (UTC) times [start, end) of business day `day`: local midnight to the next
    local midnight, so 23 or 25 hours on a daylight-saving change."""
    tz = tz or zone()

    def midnight(d: date) -> datetime:
        return datetime.combine(d, time.min, tzinfo=tz).astimezone(UTC).replace(tzinfo=None)

    return midnight(day), midnight(day + timedelta(days=1))


def window_bounds_utc(start: date, end: date, tz: ZoneInfo | None = None) -> tuple[datetime, datetime]:
    """The stored (UTC) times of the business days [start, end) (end exclusive, as windows are)."""
    return day_bounds_utc(start, tz)[0], day_bounds_utc(end, tz)[0]


def period_bounds(period: Period, on: date) -> tuple[date, date]:
    if period == Period.MONTH:
        start = on.replace(day=1)
        end = date(on.year + (on.month == 12), on.month % 12 + 1, 1)
    elif period == Period.QUARTER:
        first_month = 3 * ((on.month - 1) // 3) + 1
        start = date(on.year, first_month, 1)
        end = date(on.year + (first_month == 10), (first_month + 2) % 12 + 1, 1)
    else:
        start, end = date(on.year, 1, 1), date(on.year + 1, 1, 1)
    return start, end


def next_period_start(period: Period, on: date) -> date:
    return period_bounds(period, on)[1]


def period_label(period: Period, start: date) -> str:
    if period == Period.MONTH:
        return start.strftime("%B %Y")
    if period == Period.QUARTER:
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


# --- windows a report or a page is read over ------------------------------------------------------

@dataclass(frozen=True)
class ReportWindow:
    start: date
    end: date  # exclusive
    label: str

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)


_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")


def _month_end(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1)


def parse_period(period: str) -> ReportWindow:
    """'2026-Q3', '2026-07' or '2026' -> the window [start, end)."""
    text = period.strip()
    if match := _QUARTER.match(text):
        year, quarter = int(match[1]), int(match[2])
        start = date(year, 3 * quarter - 2, 1)
        return ReportWindow(start, _month_end(year, 3 * quarter), period_label(Period.QUARTER, start))
    if (match := _MONTH.match(text)) and 1 <= int(match[2]) <= 12:
        year, month = int(match[1]), int(match[2])
        start = date(year, month, 1)
        return ReportWindow(start, _month_end(year, month), period_label(Period.MONTH, start))
    if match := _YEAR.match(text):
        year = int(match[1])
        return ReportWindow(date(year, 1, 1), date(year + 1, 1, 1), period_label(Period.YEAR, date(year, 1, 1)))
    raise InvalidInput(f"'{period}' is not a period; use a quarter (2026-Q3), a month (2026-07) or a year (2026).")


def _as_date(value: date | str, what: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput(f"'{value}' is not a date for '{what}'; use YYYY-MM-DD.") from None


def resolve_window(
    period: str | None, date_from: date | str | None, date_to: date | str | None, today: date | None = None
) -> ReportWindow:
    """A named period, or explicit dates (both inclusive), or by default the current quarter."""
    if period and (date_from or date_to):
        raise InvalidInput("Give either a period or dates (from/to), not both.")
    if period:
        return parse_period(period)
    today = today or date.today()
    if date_from or date_to:
        start = _as_date(date_from, "from") if date_from else date(today.year, 1, 1)
        last = _as_date(date_to, "to") if date_to else today
        if last < start:
            raise InvalidInput(f"The report ends ({last:%d %b %Y}) before it starts ({start:%d %b %Y}).")
        return ReportWindow(start, last + timedelta(days=1), f"{start:%d %b %Y} – {last:%d %b %Y}")
    return parse_period(f"{today.year}-Q{(today.month - 1) // 3 + 1}")


def period_choices(first: date, last: date, kind: str) -> list[str]:
    """Period names from the newest to the oldest that touch [first, last]: kind is "Quarter",
    "Month" or "Year"."""
    names: list[str] = []
    year, month = last.year, last.month
    while (year, month) >= (first.year, first.month):
        if kind == "Month":
            name = f"{year}-{month:02d}"
        elif kind == "Quarter":
            name = f"{year}-Q{(month - 1) // 3 + 1}"
        else:
            name = str(year)
        if name not in names:
            names.append(name)
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return names


def default_period(choices: list[str], today: date | None = None) -> str | None:
    """The newest period that has already ended (reports are read after the fact), else the newest."""
    today = today or date.today()
    finished = [name for name in choices if parse_period(name).end <= today]
    candidates = finished or choices
    return candidates[0] if candidates else None
