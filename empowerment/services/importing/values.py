"""Vectorised readers of amounts and times: a column of strings in, typed values out."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from empowerment.errors import InvalidAmount
from empowerment.money import MAX_AMOUNT_CENTS, parse_cents
from empowerment.services.importing import problems

# Decimals an imported amount is first read with: the most any ISO 4217 currency has (Babel: CLF
# and UYW 4, BHD and KWD 3). Each row is then taken to its own currency's minor units.
SCALE = 4


def scaled_name(column: str) -> str:
    """The checked frame's column holding `column`'s amounts read at SCALE decimals."""
    return f"{column}__scaled"

_TZ_SUFFIX = r"[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|z|[+-]\d{2}(?::?\d{2})?)$"
_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"  # ASCII digits only
_THOUSANDS = r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?"


_SWAP_MARKS = str.maketrans(".,", ",.")
_DECIMAL_COMMA = r"[+-]?[$€£]?\s*(?:[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+)?,[0-9]{1,2}\s*[$€£]?"
_DECIMAL_DOT = r"[+-]?[$€£]?\s*(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)?\.[0-9]{1,2}\s*[$€£]?"


def _to_float(text: pd.Series) -> np.ndarray:
    """Strings already checked to be plain decimal numbers (or missing) -> float64, NaN where
    missing: Arrow's cast (several times faster than pandas.to_numeric), pandas as the fallback."""
    try:
        return np.asarray(pc.cast(pa.array(text, type=pa.string(), from_pandas=True), pa.float64())
                          .to_numpy(zero_copy_only=False), dtype="float64")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def detect_decimal_mark(columns: list[pd.Series]) -> str:
    """"," when some amounts are written with a decimal comma ("12,50", "1.234,5") and none with a
    decimal dot ("12.50", "1,234.5"); else ".". "1,500" alone proves nothing: it is read as 1500
    by the dot rule, and the choice on the Data page or `--decimal-mark` settles such files."""
    # Only cells holding a comma can be evidence of a decimal comma: most files have none, and a
    # substring test is far cheaper than a regular expression on millions of cells.
    with_comma = [c[c.str.contains(",", regex=False).fillna(False).to_numpy(dtype=bool)] for c in columns]
    comma = any(bool(c.str.fullmatch(_DECIMAL_COMMA).any()) for c in with_comma if len(c))
    if not comma:
        return "."
    with_dot = [c[c.str.contains(".", regex=False).fillna(False).to_numpy(dtype=bool)] for c in columns]
    dot = any(bool(c.str.fullmatch(_DECIMAL_DOT).any()) for c in with_dot if len(c))
    return "," if comma and not dot else "."


def parse_money(
    value: pd.Series, filled: np.ndarray, *, signed: bool, decimal_mark: str = ".", digits: int = 2,
    limit: int = MAX_AMOUNT_CENTS,
) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Vectorised `parse_cents`: -> (amounts x 10^`digits` as Int64, bad mask, reasons aligned to
    rows); amounts finer than `digits` decimals or above `limit` (in those units) are refused.
    The import reads at `SCALE` digits first (the row's currency is known only once its customer
    or employee is looked up) and `amounts.in_minor_units` then takes each row to its currency.
    With a decimal comma the marks are swapped first ("1.234,50" -> "1,234.50"), so one set of
    rules reads both; messages quote the amounts as written."""
    fast = _plain_money(value, filled, signed=signed, digits=digits, limit=limit) if decimal_mark == "." else None
    if fast is not None:
        return fast
    written = value
    if decimal_mark == ",":
        value = value.str.translate(_SWAP_MARKS)
    cleaned = value.str.replace(r"[$€£]", "", regex=True).str.strip()
    has_comma = cleaned.str.contains(",", regex=False).to_numpy(dtype=bool)
    comma_ok = cleaned.str.fullmatch(_THOUSANDS).to_numpy(dtype=bool)
    plain = cleaned.str.replace(",", "", regex=False)
    numeric = plain.str.fullmatch(_NUMBER).to_numpy(dtype=bool) & filled
    dot = plain.str.find(".").to_numpy(dtype=np.int64)
    trimmed = plain.str.rstrip("0").str.len().to_numpy(dtype=np.int64)
    decimals = np.where(dot >= 0, trimmed - dot - 1, 0)
    number = _to_float(plain.where(numeric, None))
    numeric &= ~np.isnan(number)  # belt and braces: anything pandas cannot read is refused
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = np.round(number * 10**digits)
        too_big = np.abs(scaled) > limit
    negative = scaled < 0
    bad = filled & (
        ~numeric
        | (has_comma & ~comma_ok)
        | (decimals > digits)
        | too_big
        | (negative if not signed else False)
    )
    good = filled & ~bad
    cents = pd.Series(np.where(good, scaled, np.nan)).astype("Int64")
    reasons = np.empty(len(value), dtype=object)
    if bad.any():
        bad_values = written.to_numpy(dtype=object)[bad]
        messages = _money_messages(pd.unique(bad_values)[: problems.MAX_PROBLEMS], signed, decimal_mark)
        reasons[bad] = [messages.get(t, "is not a valid amount") for t in bad_values]
        if digits != 2:  # parse_cents's words are about cents; past SCALE no currency has the decimals
            finer = (decimals > digits)[bad] & numeric[bad]
            reasons[np.flatnonzero(bad)[finer]] = [
                f"'{t}' has more than {digits} decimals; no currency's amounts have that many"
                for t in bad_values[finer]]
    return cents, bad, reasons


def _plain_money(value: pd.Series, filled: np.ndarray, *, signed: bool, digits: int,
                 limit: int) -> tuple[pd.Series, np.ndarray, np.ndarray] | None:
    """The common file, at C speed: every filled amount written plainly ("12.50", "-3"), none too
    big, none negative unless `signed` -> what the general rules give (the same float reading and
    rounding), or None when any cell needs them (and their messages)."""
    cells = pa.array(value.where(filled, None), type=pa.string(), from_pandas=True)
    # "12", "12.5", "-0.25" (at most `digits` decimals): read exactly as the general rules read them
    plain = pc.match_substring_regex(cells, rf"^-?[0-9]{{1,12}}(\.[0-9]{{1,{digits}}})?$")
    if pc.sum(pc.cast(plain, pa.int64())).as_py() != int(filled.sum()):
        return None
    number = np.asarray(pc.cast(cells, pa.float64()).to_numpy(zero_copy_only=False), dtype="float64")
    with np.errstate(invalid="ignore"):
        scaled = np.round(number * 10**digits)
    kept = scaled[filled]
    if (np.abs(kept) > limit).any() or (not signed and (kept < 0).any()):
        return None
    cents = pd.Series(np.where(filled, scaled, np.nan)).astype("Int64")
    return cents, np.zeros(len(value), dtype=bool), np.empty(len(value), dtype=object)


def _money_messages(texts: np.ndarray, signed: bool, decimal_mark: str = ".") -> dict[str, str]:
    """Distinct refused amounts -> the reason, in `parse_cents`'s words where it has them."""
    messages: dict[str, str] = {}
    for text in texts:
        read = text.translate(_SWAP_MARKS) if decimal_mark == "," else text
        if decimal_mark == "," and "." in text and not _comma_ok_after_swap(read):
            messages[text] = (
                f"'{text}' has a dot that is not a thousands separator; this file's amounts use a "
                "decimal comma, like 12,50 or 1.234,50"
            )
            continue
        try:
            parse_cents(read, allow_negative=signed)
        except InvalidAmount as exc:
            messages[text] = str(exc).replace(f"'{read}'", f"'{text}'")
        else:  # parse_cents reads "12,50" as 1250.00 (and accepts non-ASCII digits)
            if decimal_mark == ",":
                messages[text] = (
                    f"'{text}' is not an amount written with a decimal comma and the digits 0-9; "
                    "write amounts like 12,50 or 1.234,50"
                )
                continue
            messages[text] = (
                f"'{text}' has a comma that is not a thousands separator; write amounts with "
                "a dot for decimals, like 12.50, or choose the decimal comma for this file"
                if "," in text
                else f"'{text}' is not a number written with the digits 0-9; write amounts "
                "like 25 or 25.50"
            )
    return messages


def _comma_ok_after_swap(read: str) -> bool:
    return re.fullmatch(_THOUSANDS, read.strip().lstrip("$€£").rstrip("$€£").strip()) is not None


def _to_stored(aware: pd.Series) -> pd.Series:
    """Aware times -> as stored: naive UTC."""
    return aware.dt.tz_convert("UTC").dt.tz_localize(None)


def _business_to_stored(local: pd.Series, zone_name: str) -> pd.Series:
    """Wall-clock times of the business (no offset written) -> naive UTC. In the hour a clock goes
    back the time is read as the second (standard-time) one; in the hour it skips, as the hour
    after: a till's clock shows such times, so they are not refused."""
    if zone_name == "UTC":
        return local
    at = local.dt.tz_localize(zone_name, ambiguous=np.zeros(len(local), dtype=bool),
                              nonexistent="shift_forward")
    return _to_stored(at)


_DAY_FIRST = r"^\s*(\d{1,2})[./-](\d{1,2})[./-](\d{4})((?:[ T]+\d.*)?)$"
_STARTS_LIKE_A_DATE = r"[ \t]*[0-9]"  # [0-9], not \\d: pandas runs this one in Arrow (10x faster)


def reorder_dates(value: pd.Series, date_format: str) -> pd.Series:
    """Day-first ("dmy") or month-first ("mdy") dates -> ISO text ("31/03/2024 14:05" ->
    "2024-03-31 14:05"); other cells (ISO dates among them) are left for the ISO reader."""
    if date_format == "iso":
        return value
    parts = value.str.extract(_DAY_FIRST)
    matched = parts[0].notna()
    if not matched.any():
        return value
    day, month = (parts[0], parts[1]) if date_format == "dmy" else (parts[1], parts[0])
    iso = parts[2] + "-" + month.str.zfill(2) + "-" + day.str.zfill(2) + parts[3].str.replace(
        r"^[ T]+", " ", regex=True
    )
    return value.where(~matched, iso)


def parse_times(value: pd.Series, date_format: str = "iso", zone_name: str = "UTC") -> tuple[pd.Series, int]:
    """ISO 8601 strings (and, with `date_format` "dmy"/"mdy", day- or month-first dates) ->
    naive UTC datetime64[us] as stored (NaT if invalid), and the count written with an offset.
    A time without an offset is the business's wall clock in `zone_name`; one with an offset
    is read with it. Words pandas would read ("now", "today") are not times: a cell must start
    with a digit."""
    value = reorder_dates(value, date_format)
    fast = _plain_times(value, zone_name)
    if fast is not None:
        return fast, 0
    value = value.where(value.str.match(_STARTS_LIKE_A_DATE, na=False), None)
    try:
        parsed = pd.to_datetime(value, errors="coerce", format="ISO8601")
        if getattr(parsed.dt, "tz", None) is not None:
            return as_us(_to_stored(parsed)), int(parsed.notna().sum())
        return as_us(_business_to_stored(as_us(parsed), zone_name)), 0
    except (ValueError, TypeError):  # offsets that differ, or offsets mixed with local times
        has_zone = value.str.contains(_TZ_SUFFIX, regex=True, na=False)
        local = pd.to_datetime(value.where(~has_zone, None), errors="coerce", format="ISO8601")
        aware = pd.to_datetime(
            value.where(has_zone, None), errors="coerce", format="ISO8601", utc=True
        )
        converted = int((has_zone & aware.notna()).sum())
        stored = as_us(_business_to_stored(as_us(local), zone_name)).where(~has_zone, as_us(_to_stored(aware)))
        return as_us(stored), converted


_PLAIN_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?)?$"


def _plain_times(value: pd.Series, zone_name: str) -> pd.Series | None:
    """The common file, at C speed: every time written "2024-03-31", "2024-03-31T14:05[:00[.ffffff]]"
    (or with a space), no offset, and a real date -> the same as the general reading below, or
    None when any cell needs that (other forms, invalid dates, offsets)."""
    cells = pa.array(value, type=pa.string(), from_pandas=True)
    filled = pc.is_valid(cells)
    plain = pc.match_substring_regex(cells, _PLAIN_TIME)
    if not pc.all(pc.or_kleene(plain, pc.invert(filled))).as_py():
        return None
    try:
        stamps = pc.cast(cells, pa.timestamp("us"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # 2024-02-30 and the like: the general reading says what is wrong
    local = pd.Series(stamps.to_numpy(zero_copy_only=False), index=value.index).astype("datetime64[us]")
    return as_us(_business_to_stored(local, zone_name))


def as_us(times: pd.Series) -> pd.Series:
    """Any datetimes -> datetime64[us] (sub-microsecond digits truncated)."""
    times = pd.to_datetime(times)
    if times.dt.unit == "ns":
        times = times.dt.floor("us")
    return times.astype("datetime64[us]")
