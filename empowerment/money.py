"""Money at the edges: parse user text to integer cents, format cents for people.

Inside the app money is always an `int` of cents; floats never carry money.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from empowerment import settings
from empowerment.errors import InvalidAmount

# 10 million currency units: far above any sane single gesture or transaction, well inside int64.
MAX_AMOUNT_CENTS = 1_000_000_000
# ASCII digits only; commas only as thousands separators ("1,234.50"), never as a decimal mark.
_AMOUNT_RE = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")
_THOUSANDS_RE = re.compile(r"^[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?$")


def parse_cents(text: str | int | Decimal, *, allow_negative: bool = False) -> int:
    """'12.5' -> 1250. Refuses non-numbers, more than 2 decimals, negatives and absurd sizes."""
    raw = str(text).strip().replace("$", "").replace("€", "").replace("£", "").strip()
    if not raw:
        raise InvalidAmount("Enter an amount, for example 25 or 25.50.")
    if "," in raw:
        if not _THOUSANDS_RE.match(raw):
            # "12,50" must never become 1,250.00.
            raise InvalidAmount(f"'{text}': use a dot for decimals, for example 12.50.")
        raw = raw.replace(",", "")
    if not _AMOUNT_RE.match(raw):
        raise InvalidAmount(f"'{text}' is not a number. Enter an amount like 25 or 25.50.")
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:  # pragma: no cover - regex already filters
        raise InvalidAmount(f"'{text}' is not a number.") from exc
    if value != value.quantize(Decimal("0.01")):
        raise InvalidAmount(f"'{text}' has more than 2 decimals; amounts are in cents at most.")
    cents = int(value * 100)
    if cents < 0 and not allow_negative:
        raise InvalidAmount(f"'{text}' is negative; an amount cannot be below zero.")
    if abs(cents) > MAX_AMOUNT_CENTS:
        raise InvalidAmount(
            f"'{text}' is too large; the most this app accepts is {format_cents(MAX_AMOUNT_CENTS)}."
        )
    return cents


def cents_to_decimal(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


# The one table of currency symbols (a code without one is written before the amount: "SEK 12.00").
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "CAD": "CA$", "AUD": "A$",
                    "CHF": "CHF "}


def currency_symbol(code: str | None = None) -> str:
    """The symbol of `code`, by default the installation's currency (EMPOWERMENT_CURRENCY)."""
    code = (code or settings.currency()).upper()
    return CURRENCY_SYMBOLS.get(code, f"{code} ")


def format_money(cents: int | None, currency: str | None = None) -> str:
    """Cents for people, in a currency (the installation's by default): 12345 -> '$123.45'."""
    return format_cents(cents, currency_symbol(currency))


def format_cents(cents: int | None, currency_symbol: str = "$") -> str:
    """1234567 -> '$12,345.67'; None -> '—'."""
    if cents is None:
        return "—"
    sign = "-" if cents < 0 else ""
    units, rem = divmod(abs(int(cents)), 100)
    return f"{sign}{currency_symbol}{units:,}.{rem:02d}"
