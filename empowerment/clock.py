"""Business time: timestamps are stored in UTC (naive `datetime`s, `utc_now`); a business *day*
(the daily cap's day, the day that picks a budget period, a report's dates) is a calendar day in
the business's time zone: the location's (`Location.time_zone`) or else the installation's
(`EMPOWERMENT_TIME_ZONE`). `business_date` turns a stored time into its business day and
`day_bounds_utc` a business day into the stored times it covers, so a 23- or 25-hour day at a
daylight-saving change is counted exactly. The server's own clock zone (`TZ`) never matters.

Below the models (it needs only the settings), so `models.lookups` and `periods` share it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from empowerment import settings
from empowerment.errors import InvalidInput


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


