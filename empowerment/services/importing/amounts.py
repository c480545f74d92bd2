"""Imported amounts in each row's own currency (issue 15).

A transaction's amount is in its customer's location's currency, a gesture's cost in its giver's
(the budget it came from); with no location, the installation's (EMPOWERMENT_CURRENCY), exactly as
`queries.frames.currency` reads them back. The file is checked at `values.SCALE` decimals first;
here each amount becomes minor units of its row's currency (JPY "1250" -> 1250 yen, EUR "12,50"
-> 1250 cents) and an amount finer than that currency allows ("12.5" yen) is a problem naming its
line and column, so the file is refused whole (or the row set aside with "import the valid rows").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from empowerment import settings
from empowerment.models import Customer, Employee, Location, Team
from empowerment.models import table as table_of
from empowerment.money import MAX_AMOUNT_CENTS, format_money, minor_digits, too_many_decimals
from empowerment.services.importing.job import Job
from empowerment.services.importing.lookup import fetch_all, fetch_by_codes
from empowerment.services.importing.references import customer_keys
from empowerment.services.importing.values import SCALE, scaled_name


def _locations(job: Job) -> pd.DataFrame:
    return fetch_all(job.session, table_of(Location), ["id", "name", "currency"])


def _one_currency(locations: pd.DataFrame) -> bool:
    """Whether every amount is in the installation's currency (no location keeps another)."""
    return bool((locations["currency"].astype(str) == settings.currency()).all())


def customer_currencies(job: Job, codes: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the currency of the customer's location and that location's name (None: no
    location, the installation's currency). Customers not yet known have no location."""
    locations = _locations(job)
    if _one_currency(locations):
        return _installation(len(codes))
    keys = customer_keys(codes)
    found = fetch_by_codes(job.session, table_of(Customer), keys, ["location_id"], ignore_case=True)
    location_of = dict(zip(found["code"], found["location_id"], strict=True))
    return _by_location(keys.map(location_of), locations)


def employee_currencies(job: Job, codes: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the currency of the employee's team's location, and its name."""
    locations = _locations(job)
    if _one_currency(locations):
        return _installation(len(codes))
    found = fetch_by_codes(job.session, table_of(Employee), codes, ["team_id"])
    teams = fetch_all(job.session, table_of(Team), ["id", "location_id"])
    team_location = dict(zip(teams["id"], teams["location_id"], strict=True))
    location_of = {code: team_location.get(team) for code, team in zip(found["code"], found["team_id"], strict=True)}
    return _by_location(codes.map(location_of), locations)


def _installation(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full(n, settings.currency(), dtype=object), np.full(n, None, dtype=object)


def _by_location(location_ids: pd.Series, locations: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    ids = pd.to_numeric(location_ids, errors="coerce")
    currency = dict(zip(pd.to_numeric(locations["id"]), locations["currency"], strict=True))
    name = dict(zip(pd.to_numeric(locations["id"]), locations["name"], strict=True))
    currencies = ids.map(currency).fillna(settings.currency()).to_numpy(dtype=object)
    names = ids.map(name).astype(object).where(ids.map(name).notna(), None).to_numpy(dtype=object)
    return currencies, names


def in_minor_units(job: Job, column: str, currencies: np.ndarray, places: np.ndarray) -> None:
    """`job.frame[column]` in minor units of each row's currency; rows finer than their currency's
    minor unit, or above the largest amount in it, are problems of `column`."""
    frame = job.frame
    scaled = frame[scaled_name(column)]
    filled = scaled.notna().to_numpy(dtype=bool)
    values = scaled.fillna(0).to_numpy(dtype=np.int64)
    digit_of = {code: minor_digits(code) for code in pd.unique(currencies)}
    if len(digit_of) <= 1:  # one currency (the usual file): one factor
        digits: np.ndarray | int = next(iter(digit_of.values()), 2)
    else:
        digits = pd.Series(currencies, dtype=object).map(digit_of).to_numpy(dtype=np.int64)
    factor = 10 ** (SCALE - np.asarray(digits, dtype=np.int64))
    finer = filled & (values % factor != 0)
    minor = values // factor
    too_big = filled & ~finer & (np.abs(minor) > MAX_AMOUNT_CENTS)
    written: np.ndarray | None = None  # the cells as written: made only for a problem (5M strings: 0.9 s)
    for mask, reason in ((finer, _finer), (too_big, _too_big)):
        rows = np.flatnonzero(mask)
        if not len(rows):
            continue
        if written is None:
            written = job.raw[column].to_numpy(dtype=object)
        keys = list(zip(written[rows], currencies[rows], places[rows], strict=True))
        words = {key: reason(*key) for key in set(keys)}
        reasons = np.empty(len(frame), dtype=object)
        reasons[rows] = [words[key] for key in keys]
        job.problems.add_mask(frame, mask, column, written, reasons)
    good = filled & ~finer & ~too_big
    frame[column] = pd.Series(np.where(good, minor, 0), index=frame.index, dtype="Int64").where(good, pd.NA)


def _where(currency: str, place: str | None) -> str:
    if place is None:
        return f"amounts without a location are in the installation's currency, {currency}"
    return f"this row's amount is in {currency}, the currency of {place}"


def _finer(text: str, currency: str, place: str | None) -> str:
    return f"{too_many_decimals(str(text).strip(), currency).rstrip('.')} ({_where(currency, place)})"


def _too_big(text: str, currency: str, place: str | None) -> str:
    return (f"'{str(text).strip()}' is too large; the most this app accepts is "
            f"{format_money(MAX_AMOUNT_CENTS, currency)} ({_where(currency, place)})")
