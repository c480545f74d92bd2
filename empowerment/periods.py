"""Budget periods: month, quarter, year. End dates are exclusive."""

from __future__ import annotations

from datetime import date

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


def next_period_start(period: Period, on: date) -> date:
    return period_bounds(period, on)[1]


def period_label(period: Period, start: date) -> str:
    if period == Period.MONTH:
        return start.strftime("%B %Y")
    if period == Period.QUARTER:
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return str(start.year)
