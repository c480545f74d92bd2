"""Money at the edges: parse user text to integer cents, format cents for people.

Inside the app money is always an `int` of cents; floats never carry money.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from babel.core import Locale, UnknownLocaleError
from babel.numbers import NumberFormatError, get_decimal_symbol, get_group_symbol, parse_decimal

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


# --- typed at the tablet, in the installation's locale ----------------------------------------------

class AmbiguousAmount(InvalidAmount):
    """Text that could mean more than one amount ("1.500": one and a half, or fifteen hundred?), or
    that only reads as an amount in the other decimal convention ("12,50" where the mark is a
    dot). The person is asked which one they meant: `choices` in cents, never guessed."""

    def __init__(self, message: str, choices: tuple[int, ...]) -> None:
        super().__init__(message)
        self.choices = choices


# After NFKC (full-width digits from a CJK keyboard become ASCII): digits, the two marks, spaces and
# apostrophes (group marks of fr and de-CH), an optional leading sign. Nothing else reaches Babel,
# which would otherwise take "1e5", "NaN" or Arabic-Indic digits through Decimal().
_TYPED_RE = re.compile(r"^[+-]?[0-9][0-9.,'\u2019 ]*$|^[+-]?[.,][0-9]+$")
# One mark followed by exactly three digits, nothing else: a decimal or a thousands separator?
_EITHER_RE = re.compile(r"^[0-9]{1,3}[.,][0-9]{3}$")
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " "})


def decimal_mark(locale: str) -> str:
    """The decimal mark people type in `locale` ("." in en_US, "," in de_DE)."""
    return str(get_decimal_symbol(_locale(locale)))


def _locale(name: str) -> Locale:
    try:
        return Locale.parse(name.replace("-", "_"))
    except (ValueError, UnknownLocaleError) as exc:
        raise ValueError(f"'{name}' is not a locale Babel knows (try en_US, de_DE, fr_FR)") from exc


def _read(text: str, locale: Locale) -> Decimal | None:
    """`text` as a number in `locale` (Babel, strict grouping), or None."""
    group = get_group_symbol(locale)
    candidate = text
    if group in ("\u202f", "\u00a0", " "):
        candidate = text.replace(" ", group)  # typed spaces stand for the narrow no-break space
    elif group in ("\u2019", "'"):
        candidate = text.replace("'", group).replace("\u2019", group)
    try:
        value = parse_decimal(candidate, locale=locale, strict=True)
    except (NumberFormatError, InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def _as_cents(value: Decimal | None) -> int | None:
    """Whole cents, or None when the value has finer decimals ("1.234" is not an amount of cents)."""
    if value is None or value != value.quantize(Decimal("0.01")):
        return None
    return int(value * 100)


def parse_amount(text: str, locale: str, *, allow_negative: bool = False) -> int:
    """What a person typed, in the installation's `locale`, as cents: "37.50" (en_US) or "37,50"
    (de_DE) -> 3750. Pure: the caller passes the locale. Raises InvalidAmount with a sentence for
    anything else, and AmbiguousAmount (with the readings) when the text could be read two ways:
    "1.500" and "1,500" are asked about in every locale; "12,50" in en_US is asked ("did you mean
    12.50?") rather than refused or silently converted."""
    here = _locale(locale)
    mark = str(get_decimal_symbol(here))
    example = f"25 or 25{mark}50"
    raw = unicodedata.normalize("NFKC", str(text)).translate(_SPACES).strip()
    for symbol in sorted({*CURRENCY_SYMBOLS.values(), "$", "€", "£", "¥"}, key=len, reverse=True):
        raw = raw.replace(symbol.strip(), "")
    raw = " ".join(raw.split())
    if not raw:
        raise InvalidAmount(f"Enter an amount, for example {example}.")
    if not _TYPED_RE.match(raw):
        raise InvalidAmount(f"'{text}' is not an amount. Enter digits, for example {example}.")
    sign = -1 if raw.startswith("-") else 1
    body = raw.lstrip("+-")
    if _EITHER_RE.match(body):
        whole = _as_cents(Decimal(body.replace(".", "").replace(",", "")))
        decimal = _as_cents(Decimal(body.replace(",", ".")))
        readings = tuple(dict.fromkeys(c for c in (decimal, whole) if c is not None))
        if decimal is None and body[-4] == mark and whole is not None:
            # "1.234" where "." is the decimal mark: not an amount of cents, and reading it as
            # 1,234 would be a guess.
            _check_range(text, sign * whole, allow_negative)
            raise AmbiguousAmount(f"'{text}': did you mean {format_cents(sign * whole)}?", (sign * whole,))
    else:
        here_value = _as_cents(_read(body, here))
        if here_value is not None:
            readings = (here_value,)
        else:
            other = Locale.parse("de_DE" if mark == "." else "en_US")
            other_value = _as_cents(_read(body, other))
            if other_value is not None:
                choice = sign * other_value
                _check_range(text, choice, allow_negative)
                raise AmbiguousAmount(
                    f"'{text}': here the decimal mark is '{mark}'. Did you mean {format_cents(choice)}?",
                    (choice,))
            if _read(body, here) is not None or _read(body, other) is not None:
                raise InvalidAmount(f"'{text}' has more than 2 decimals; amounts are in cents at most.")
            raise InvalidAmount(f"'{text}' is not an amount. Enter one like {example}.")
    choices = tuple(sign * c for c in readings)
    for cents in choices:
        _check_range(text, cents, allow_negative)
    if len(choices) > 1:
        raise AmbiguousAmount(
            f"'{text}' could mean {format_cents(choices[0])} or {format_cents(choices[1])}: which one?", choices)
    return choices[0]


def _check_range(text: object, cents: int, allow_negative: bool) -> None:
    if cents < 0 and not allow_negative:
        raise InvalidAmount(f"'{text}' is negative; an amount cannot be below zero.")
    if abs(cents) > MAX_AMOUNT_CENTS:
        raise InvalidAmount(
            f"'{text}' is too large; the most this app accepts is {format_cents(MAX_AMOUNT_CENTS)}.")


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
