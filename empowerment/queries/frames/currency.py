"""Cross-location money in one currency (issue 15): gestures and transactions are stored in minor
units of their location's currency; the payoff, the joint report and Team across locations
convert them into the reporting currency (EMPOWERMENT_REPORTING_CURRENCY) at the rate of each
amount's date, from the imported `exchange_rates` table.

- A gesture's currency is its giver's location's (the budget it came from); a transaction's, its
  customer's location's; with no location, the installation's (EMPOWERMENT_CURRENCY).
- The rate of the amount's (UTC) date; a day without one (a weekend, a holiday) takes the latest
  published in the `RATE_LOOKBACK_DAYS` before. A rate for the other direction is inverted.
  Anything still missing raises `MissingExchangeRate` naming the currency and the first dates:
  never a silent 1.0.
- When every location keeps the reporting currency nothing is read beyond one small query.
- The arithmetic: minor units x rate x 10^(reporting digits - source digits), rounded to the
  nearest minor unit of the reporting currency (the factor is a float; the result an integer).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import NoReturn

import numpy as np
import pandas as pd
from sqlalchemy import Connection, or_, select

from empowerment import settings
from empowerment.errors import MissingExchangeRate
from empowerment.models import Customer, Employee, ExchangeRate, Location, Team
from empowerment.money import RATE_LOOKBACK_DAYS, minor_digits


@dataclass(frozen=True)
class Conversion:
    """The currency cross-location figures are in, and the currencies converted into it."""

    currency: str
    converted_from: tuple[str, ...] = ()

    @property
    def note(self) -> str:
        """What every screen, command and report says beside converted figures ("" if none)."""
        if not self.converted_from:
            return ""
        return (f"Amounts in {', '.join(self.converted_from)} converted to {self.currency} at daily rates "
                "(the rate of each gesture's and purchase's date).")


def reporting_currency() -> str:
    return settings.reporting_currency()


def foreign_locations(conn: Connection, reporting: str) -> dict[int, str]:
    """Location id -> currency, for the locations whose currency is not `reporting`."""
    rows = conn.execute(select(Location.id, Location.currency).where(Location.currency != reporting))
    return {int(i): str(c) for i, c in rows}


def converts(conn: Connection, reporting: str | None = None) -> bool:
    """Whether any amount may need converting into the reporting currency."""
    reporting = reporting or reporting_currency()
    return settings.currency() != reporting or bool(foreign_locations(conn, reporting))


def to_reporting(conn: Connection, gestures: pd.DataFrame, transactions: pd.DataFrame,
                 reporting: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame, Conversion]:
    """`gestures.cost_cents` and `transactions.amount_cents` in minor units of `reporting`."""
    reporting = reporting or reporting_currency()
    installation = settings.currency()
    if not converts(conn, reporting):
        return gestures, transactions, Conversion(reporting)
    employees = employee_currencies(conn)
    customers = _currency_by(conn, select(Customer.id, Location.currency)
                             .join(Location, Location.id == Customer.location_id)
                             .where(Location.currency != reporting))
    gesture_currency = _lookup(gestures["employee_id"], employees, installation)
    transaction_currency = _lookup(transactions["customer_id"], customers, installation)
    needed = sorted((set(gesture_currency) | set(transaction_currency)) - {reporting})
    if not needed:
        return gestures, transactions, Conversion(reporting)
    rates = _rates(conn, needed, reporting)
    gestures = gestures.assign(cost_cents=_convert(
        gestures["cost_cents"], gesture_currency, gestures["occurred_at"], rates, reporting, "gesture"))
    transactions = transactions.assign(amount_cents=_convert(
        transactions["amount_cents"], transaction_currency, transactions["occurred_at"], rates, reporting,
        "purchase"))
    return gestures, transactions, Conversion(reporting, tuple(needed))


def needs_conversion(conn: Connection, reporting: str | None = None) -> bool:
    """Whether any amount may be in another currency than the reporting one."""
    reporting = reporting or reporting_currency()
    return bool(foreign_locations(conn, reporting)) or settings.currency() != reporting


def employee_currencies(conn: Connection) -> dict[int, str]:
    """Employee id -> the currency of their team's location (people without one: absent)."""
    return _currency_by(conn, select(Employee.id, Location.currency).join(Team, Team.id == Employee.team_id)
                        .join(Location, Location.id == Team.location_id))


def convert_by_employee(conn: Connection, frame: pd.DataFrame, columns: list[str], noun: str,
                        reporting: str | None = None) -> pd.DataFrame:
    """`frame` (employee_id, day, and amount `columns` in each employee's location currency) with
    the amounts in minor units of the reporting currency, at each row's day's rate."""
    reporting = reporting or reporting_currency()
    currencies = _lookup(frame["employee_id"], employee_currencies(conn), settings.currency())
    needed = sorted(set(currencies) - {reporting})
    if frame.empty or not needed:
        return frame
    rates = _rates(conn, needed, reporting)
    days = pd.to_datetime(frame["day"])
    return frame.assign(**{column: _convert(frame[column], currencies, days, rates, reporting, noun)
                           for column in columns})


def _currency_by(conn: Connection, query: object) -> dict[int, str]:
    return {int(i): str(c) for i, c in conn.execute(query)}  # type: ignore[call-overload]


def _lookup(ids: pd.Series, currency_of: dict[int, str], default: str) -> np.ndarray:
    if ids.empty:
        return np.empty(0, dtype=object)
    return ids.map(currency_of).fillna(default).to_numpy(dtype=object)


def _rates(conn: Connection, currencies: list[str], reporting: str) -> dict[str, pd.DataFrame]:
    """Per currency: days (datetime64, sorted) and the rate into `reporting` on each."""
    rows = conn.execute(select(ExchangeRate.day, ExchangeRate.currency, ExchangeRate.quote, ExchangeRate.rate)
                        .where(or_((ExchangeRate.currency.in_(currencies)) & (ExchangeRate.quote == reporting),
                                   (ExchangeRate.currency == reporting) & ExchangeRate.quote.in_(currencies))))
    frame = pd.DataFrame(rows.all(), columns=["day", "currency", "quote", "rate"])
    out: dict[str, pd.DataFrame] = {}
    for code in currencies:
        direct = frame.loc[frame["currency"] == code]
        inverse = frame.loc[frame["quote"] == code]
        both = pd.concat([
            pd.DataFrame({"day": direct["day"], "rate": [float(Decimal(r)) for r in direct["rate"]], "first": 0}),
            pd.DataFrame({"day": inverse["day"], "rate": [float(1 / Decimal(r)) for r in inverse["rate"]],
                          "first": 1}),
        ], ignore_index=True)
        both["day"] = pd.to_datetime(both["day"]).astype("datetime64[ns]")
        # A direct rate wins over the inverted one of the same day.
        out[code] = (both.sort_values(["day", "first"]).drop_duplicates("day").reset_index(drop=True))
    return out


def _convert(amounts: pd.Series, currencies: np.ndarray, times: pd.Series, rates: dict[str, pd.DataFrame],
             reporting: str, noun: str) -> np.ndarray:
    result = amounts.to_numpy(dtype=np.int64).copy()
    days = pd.to_datetime(times).dt.normalize().to_numpy(dtype="datetime64[ns]")
    for code, table in rates.items():
        mask = currencies == code
        if not mask.any():
            continue
        rate_days = table["day"].to_numpy(dtype="datetime64[ns]")
        if not len(rate_days):
            _refuse(code, reporting, days[mask], noun)
        at = np.searchsorted(rate_days, days[mask], side="right") - 1
        found = at >= 0
        age = np.where(found, days[mask] - rate_days[np.maximum(at, 0)], np.timedelta64(0, "ns"))
        found &= age <= np.timedelta64(RATE_LOOKBACK_DAYS, "D")
        if not found.all():
            _refuse(code, reporting, days[mask][~found], noun)
        factor = table["rate"].to_numpy()[at] * 10.0 ** (minor_digits(reporting) - minor_digits(code))
        result[mask] = np.rint(result[mask] * factor).astype(np.int64)
    return result


def _refuse(code: str, reporting: str, missing: np.ndarray, noun: str) -> NoReturn:
    dates = sorted({str(pd.Timestamp(d).date()) for d in missing})
    shown = ", ".join(dates[:3]) + (f" and {len(dates) - 3:,} more days" if len(dates) > 3 else "")
    raise MissingExchangeRate(
        f"No exchange rate from {code} to {reporting} for {shown} (nor in the {RATE_LOOKBACK_DAYS} days before): "
        f"{len(missing):,} {noun}{'s' if len(missing) != 1 else ''} in {code} cannot be converted. Import "
        f"the {code}-{reporting} rates for those dates (Data, Exchange rates) and try again.")
