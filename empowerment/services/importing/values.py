"""Vectorised readers of amounts and times: a column of strings in, typed values out."""

from __future__ import annotations

import numpy as np
import pandas as pd
from dateutil import tz as dateutil_tz

from empowerment.errors import InvalidAmount
from empowerment.money import MAX_AMOUNT_CENTS, parse_cents
from empowerment.services.importing import problems

_TZ_SUFFIX = r"[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|z|[+-]\d{2}(?::?\d{2})?)$"
_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"  # ASCII digits only
_THOUSANDS = r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?"

_LOCAL_ZONE = dateutil_tz.tzlocal()


def parse_money(
    value: pd.Series, filled: np.ndarray, *, signed: bool
) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Vectorised `parse_cents`: -> (cents as Int64, bad mask, reasons aligned to rows)."""
    cleaned = value.str.replace(r"[$€£]", "", regex=True).str.strip()
    has_comma = cleaned.str.contains(",", regex=False).to_numpy(dtype=bool)
    comma_ok = cleaned.str.fullmatch(_THOUSANDS).to_numpy(dtype=bool)
    plain = cleaned.str.replace(",", "", regex=False)
    numeric = plain.str.fullmatch(_NUMBER).to_numpy(dtype=bool) & filled
    dot = plain.str.find(".").to_numpy(dtype=np.int64)
    trimmed = plain.str.rstrip("0").str.len().to_numpy(dtype=np.int64)
    decimals = np.where(dot >= 0, trimmed - dot - 1, 0)
    number = pd.to_numeric(plain.where(numeric, None), errors="coerce").to_numpy(
        dtype="float64", na_value=np.nan
    )
    numeric &= ~np.isnan(number)  # belt and braces: anything pandas cannot read is refused
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = np.round(number * 100)
        too_big = np.abs(scaled) > MAX_AMOUNT_CENTS
    negative = scaled < 0
    bad = filled & (
        ~numeric
        | (has_comma & ~comma_ok)
        | (decimals > 2)
        | too_big
        | (negative if not signed else False)
    )
    good = filled & ~bad
    cents = pd.Series(np.where(good, scaled, np.nan)).astype("Int64")
    reasons = np.empty(len(value), dtype=object)
    if bad.any():
        bad_values = value.to_numpy(dtype=object)[bad]
        messages = _money_messages(pd.unique(bad_values)[: problems.MAX_PROBLEMS], signed)
        reasons[bad] = [messages.get(t, "is not a valid amount") for t in bad_values]
    return cents, bad, reasons


def _money_messages(texts: np.ndarray, signed: bool) -> dict[str, str]:
    """Distinct refused amounts -> the reason, in `parse_cents`'s words where it has them."""
    messages: dict[str, str] = {}
    for text in texts:
        try:
            parse_cents(text, allow_negative=signed)
        except InvalidAmount as exc:
            messages[text] = str(exc)
        else:  # parse_cents reads "12,50" as 1250.00 (and accepts non-ASCII digits)
            messages[text] = (
                f"'{text}' has a comma that is not a thousands separator; write amounts with "
                "a dot for decimals, like 12.50"
                if "," in text
                else f"'{text}' is not a number written with the digits 0-9; write amounts "
                "like 25 or 25.50"
            )
    return messages


def _to_local_naive(aware: pd.Series) -> pd.Series:
    return aware.dt.tz_convert(_LOCAL_ZONE).dt.tz_localize(None)


def parse_times(value: pd.Series) -> tuple[pd.Series, int]:
    """ISO 8601 strings -> naive datetime64[us] (NaT if invalid), count converted from offsets."""
    try:
        parsed = pd.to_datetime(value, errors="coerce", format="ISO8601")
        converted = 0
        if getattr(parsed.dt, "tz", None) is not None:
            converted = int(parsed.notna().sum())
            parsed = _to_local_naive(parsed)
    except (ValueError, TypeError):  # offsets that differ, or offsets mixed with local times
        has_zone = value.str.contains(_TZ_SUFFIX, regex=True, na=False)
        local = pd.to_datetime(value.where(~has_zone, None), errors="coerce", format="ISO8601")
        aware = pd.to_datetime(
            value.where(has_zone, None), errors="coerce", format="ISO8601", utc=True
        )
        aware = _to_local_naive(aware)
        converted = int((has_zone & aware.notna()).sum())
        parsed = as_us(local).where(~has_zone, as_us(aware))
    return as_us(parsed), converted


def as_us(times: pd.Series) -> pd.Series:
    """Any datetimes -> datetime64[us] (sub-microsecond digits truncated)."""
    times = pd.to_datetime(times)
    if times.dt.unit == "ns":
        times = times.dt.floor("us")
    return times.astype("datetime64[us]")
