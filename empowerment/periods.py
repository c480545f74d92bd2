"""Periods: a budget's month, quarter or year, and the windows reports and pages are read over
("2026-Q3", "2026-07", "2026" or explicit dates). End dates are exclusive; labels are written once
(`period_label`).

A period is closed once its exclusive end date is today's business day or earlier
(`period_closed`): money given back after that goes to the current period, never into it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from empowerment.clock import as_utc as as_utc
from empowerment.clock import business_date as business_date

# Business time is one rule, in `empowerment.clock` (below the models, so `models.lookups` can
# count a business day too); re-exported here with the periods it decides.
from empowerment.clock import business_today
from empowerment.clock import day_bounds_utc as day_bounds_utc
from empowerment.clock import local_time as local_time
from empowerment.clock import utc_now as utc_now
from empowerment.clock import window_bounds_utc as window_bounds_utc
from empowerment.clock import zone as zone
from empowerment.errors import InvalidInput
from empowerment.models import Period


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


def period_closed(period_end: date, today: date) -> bool:
    """A budget period [start, period_end) is over on `today` (a business day)."""
    return today >= period_end


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
    today = today or business_today()
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
    today = today or business_today()
    finished = [name for name in choices if parse_period(name).end <= today]
    candidates = finished or choices
    return candidates[0] if candidates else None
