"""The pickers pages share: a period (all time, a quarter, a month, a year or dates) and a date range.

    kind = pickers.period_kind(("All time", "Quarter", "Year", "Dates"), "All time", key="po")
    period_col, place_col = st.columns(pickers.period_widths(kind, others=1))
    picked = pickers.period_choice(period_col, kind, first, last, key="po")
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from empowerment import clock
from empowerment.periods import default_period, parse_period, period_choices

ALL_TIME, DATES = "All time", "Dates"


@dataclass(frozen=True)
class PickedPeriod:
    period: str | None  # "2026-Q3", "2026-07", "2026"; None for all time or dates
    date_from: date | None
    date_to: date | None  # inclusive
    label: str  # for sentences: "in 2026-Q3", "over all time", "from 01 Jan 2026 to 31 Mar 2026"


def period_kind(kinds: tuple[str, ...], default: str, key: str) -> str:
    """The kind of period, on its own row (beside other inputs its first option was cut off at
    820 px)."""
    return st.segmented_control("Period", kinds, default=default, key=f"{key}_kind") or default


def period_widths(kind: str, others: int) -> list[float]:
    """Column widths for the period and `others` inputs beside it: a date range needs about twice
    a select's width (it was cut off at 820 px)."""
    return [2.0, *[1.0] * others] if kind == DATES else [1.0] * (others + 1)


def period_choice(container: DeltaGenerator, kind: str, first: date, last: date, key: str,
                  today: date | None = None, current_first: bool = False) -> PickedPeriod:
    """The period itself, in `container`: dates, or one of the named periods that touch
    [first, last] (the newest finished one first; with `current_first` the one containing
    today, for pages about now), or all time (then the span is shown). Named periods read as
    words ("July 2026"), never as their codes."""
    today = today or clock.business_today()
    if kind == DATES:
        date_from, date_to = date_range(container, first, last, key=f"{key}_dates")
        return PickedPeriod(None, date_from, date_to, f"from {date_from:%d %b %Y} to {date_to:%d %b %Y}")
    if kind == ALL_TIME:
        container.markdown(f"**Incidents**  \n{first:%d %b %Y} – {last:%d %b %Y}")
        return PickedPeriod(None, None, None, "over all time")
    choices = period_choices(first, last, kind)
    current = [c for c in choices if parse_period(c).start <= today < parse_period(c).end]
    default = current[0] if current_first and current else default_period(choices, today)
    name = container.selectbox(kind, choices, index=choices.index(default) if default else 0,
                               key=f"{key}_{kind.lower()}", format_func=_period_words)
    window = parse_period(name)
    return PickedPeriod(name, window.start, window.last_day, f"in {window.label}")


def _period_words(name: str) -> str:
    return parse_period(name).label


def date_range(container: DeltaGenerator, first: date, last: date, key: str) -> tuple[date, date]:
    """A "From – to" picker in `container` (a column); while only the first day is picked, that
    day alone, with a hint to pick the last one."""
    picked = container.date_input("From – to", value=(first, last), key=key, format="YYYY-MM-DD")
    if isinstance(picked, tuple) and len(picked) == 2:
        return picked[0], picked[1]
    container.caption("Pick the last day too.")
    day = picked[0] if isinstance(picked, tuple) and picked else first
    return day, day


