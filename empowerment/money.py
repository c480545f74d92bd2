"""Money at the edges: parse user text to integer minor units, format them for people.

Inside the app money is always an `int` of the currency's minor unit (cents for USD and EUR, the
yen itself for JPY: Babel's ISO 4217 precision, `minor_digits`); floats never carry money. Every
amount has a currency: a location's (`Location.currency`), else the installation's
(EMPOWERMENT_CURRENCY). The `*_cents` names are historical: read "minor units".
"""

from __future__ import annotations

import copy
import re
import unicodedata
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from babel.core import Locale, UnknownLocaleError
from babel.numbers import (
    NumberFormatError,
    format_currency,
    get_currency_name,
    get_currency_precision,
    get_decimal_symbol,
    get_group_symbol,
    list_currencies,
    parse_decimal,
)

from empowerment import settings
from empowerment.errors import InvalidAmount, InvalidInput

# 10 million currency units: far above any sane single gesture or transaction, well inside int64.
MAX_AMOUNT_CENTS = 1_000_000_000
# ASCII digits only; commas only as thousands separators ("1,234.50"), never as a decimal mark.
_AMOUNT_RE = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")
_THOUSANDS_RE = re.compile(r"^[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?$")


def parse_cents(text: str | int | Decimal, *, allow_negative: bool = False, currency: str | None = None) -> int:
    """'12.5' -> 1250 (minor units of `currency`, cents by default; JPY '1250' -> 1250 and '12.5'
    refused). Refuses non-numbers, decimals finer than the currency's, negatives and absurd sizes."""
    digits = 2 if currency is None else minor_digits(currency)
    raw = str(text).strip().replace("$", "").replace("€", "").replace("£", "").replace("¥", "").strip()
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
    cents = _as_minor(value, digits)
    if cents is None:
        raise InvalidAmount(too_many_decimals(text, currency))
    _check_range(text, cents, allow_negative, currency)
    return cents


# --- currencies: ISO 4217 through Babel -------------------------------------------------------------

def known_currency(code: str) -> str:
    """`code` upper-cased if it is an ISO 4217 currency Babel knows; InvalidAmount otherwise."""
    clean = (code or "").strip().upper()
    if clean not in _CURRENCIES:
        raise InvalidAmount(f"'{code}' is not an ISO 4217 currency code; give one such as USD, EUR or JPY.")
    return clean


def is_currency(code: object) -> bool:
    """Whether `code` is an ISO 4217 code Babel knows (upper case: "EUR")."""
    return isinstance(code, str) and code in _CURRENCIES


def minor_digits(currency: str) -> int:
    """Decimals of `currency`'s minor unit: 2 for USD and EUR, 0 for JPY, 3 for BHD."""
    return int(get_currency_precision(known_currency(currency)))


def currency_name(currency: str) -> str:
    """'Japanese Yen', in English (messages are English)."""
    return str(get_currency_name(known_currency(currency), locale="en_US"))


def too_many_decimals(text: object, currency: str | None) -> str:
    """The refusal of an amount finer than its currency's minor unit, in words."""
    if currency is None:
        return f"'{text}' has more than 2 decimals; amounts are in cents at most."
    digits = minor_digits(currency)
    if digits == 0:
        return (f"'{text}' has decimals, but {currency_name(currency)} ({currency.upper()}) amounts are "
                f"whole numbers: enter for example 1250.")
    return (f"'{text}' has more than {digits} decimal{'s' if digits > 1 else ''}; "
            f"{currency.upper()} amounts have at most {digits}.")


def check_minor(amount: int, currency: str | None = None, *, allow_negative: bool = False) -> int:
    """An amount already in minor units, under the same limits as typed text."""
    _check_range(amount, int(amount), allow_negative, currency)
    return int(amount)


# A day without a published rate (a weekend, a holiday) takes the latest of the days before.
RATE_LOOKBACK_DAYS = 4


def format_rate(rate: Decimal) -> str:
    """An exchange rate for people to read: six significant digits, no trailing zeros ("150",
    "1.08696", "0.00625"); an inverted rate has 28."""
    return f"{Decimal(f'{rate:.6g}').normalize():f}"


def convert_minor(amount: int, rate: Decimal, from_currency: str, to_currency: str) -> int:
    """`amount` minor units of `from_currency` in minor units of `to_currency`, one unit of the
    first being worth `rate` of the second: exact decimal arithmetic, rounded to the nearest
    minor unit (half to even)."""
    scale = Decimal(10) ** (minor_digits(to_currency) - minor_digits(from_currency))
    return int((Decimal(amount) * rate * scale).to_integral_value(rounding=ROUND_HALF_EVEN))


def minor_to_decimal(amount: int, currency: str) -> Decimal:
    """Minor units as currency units: (1250, 'USD') -> 12.50, (1250, 'JPY') -> 1250."""
    digits = minor_digits(currency)
    return (Decimal(int(amount)) / (10 ** digits)).quantize(Decimal(1).scaleb(-digits))


_CURRENCIES = frozenset(list_currencies())


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


def known_locale(name: str) -> str:
    """`name` as Babel spells it ("fr-FR" -> "fr_FR"); InvalidInput with examples otherwise."""
    try:
        return str(_locale(name))
    except ValueError as exc:
        raise InvalidInput(f"{exc}.") from None


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


def _as_minor(value: Decimal | None, digits: int = 2) -> int | None:
    """Whole minor units, or None when the value has finer decimals ("1.234" is not an amount of
    cents, "12.5" no amount of yen)."""
    if value is None:
        return None
    scaled = value.scaleb(digits)
    if scaled != scaled.to_integral_value():
        return None
    return int(scaled)


def parse_amount(text: str, locale: str, *, allow_negative: bool = False, currency: str | None = None) -> int:
    """What a person typed, in `locale` (the location's, else the installation's), as minor units
    of `currency` (cents by default): "37.50" (en_US) or "37,50" (de_DE, fr_FR) -> 3750; JPY
    "1250" -> 1250 and "12,5" refused with a sentence. Pure: the caller passes the locale. Raises InvalidAmount with a sentence for
    anything else, and AmbiguousAmount (with the readings) when the text could be read two ways:
    "1.500" and "1,500" are asked about in every locale; "12,50" in en_US is asked ("did you mean
    12.50?") rather than refused or silently converted."""
    here = _locale(locale)
    mark = str(get_decimal_symbol(here))
    digits = 2 if currency is None else minor_digits(currency)
    example = f"25 or 25{mark}50" if digits else "1250"

    def show(amount: int) -> str:
        return format_cents(amount) if currency is None else format_money(amount, currency, locale)

    def _as_cents(value: Decimal | None) -> int | None:
        return _as_minor(value, digits)

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
            _check_range(text, sign * whole, allow_negative, currency)
            raise AmbiguousAmount(f"'{text}': did you mean {show(sign * whole)}?", (sign * whole,))
    else:
        here_value = _as_cents(_read(body, here))
        if here_value is not None:
            readings = (here_value,)
        else:
            other = Locale.parse("de_DE" if mark == "." else "en_US")
            other_value = _as_cents(_read(body, other))
            if other_value is not None:
                choice = sign * other_value
                _check_range(text, choice, allow_negative, currency)
                raise AmbiguousAmount(
                    f"'{text}': here the decimal mark is '{mark}'. Did you mean {show(choice)}?",
                    (choice,))
            if _read(body, here) is not None or _read(body, other) is not None:
                raise InvalidAmount(too_many_decimals(text, currency))
            raise InvalidAmount(f"'{text}' is not an amount. Enter one like {example}.")
    choices = tuple(sign * c for c in readings)
    if not choices:  # "1.500" in yen where "," is the decimal mark: neither reading is whole
        raise InvalidAmount(too_many_decimals(text, currency))
    for cents in choices:
        _check_range(text, cents, allow_negative, currency)
    if len(choices) > 1:
        raise AmbiguousAmount(
            f"'{text}' could mean {show(choices[0])} or {show(choices[1])}: which one?", choices)
    return choices[0]


def _check_range(text: object, cents: int, allow_negative: bool, currency: str | None = None) -> None:
    if cents < 0 and not allow_negative:
        raise InvalidAmount(f"'{text}' is negative; an amount cannot be below zero.")
    if abs(cents) > MAX_AMOUNT_CENTS:
        most = format_cents(MAX_AMOUNT_CENTS) if currency is None else format_money(MAX_AMOUNT_CENTS, currency)
        raise InvalidAmount(f"'{text}' is too large; the most this app accepts is {most}.")


def cents_to_decimal(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


# The one table of currency symbols (a code without one is written before the amount: "SEK 12.00").
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "CAD": "CA$", "AUD": "A$",
                    "CHF": "CHF "}


def currency_symbol(code: str | None = None) -> str:
    """The symbol of `code`, by default the installation's currency (EMPOWERMENT_CURRENCY)."""
    code = (code or settings.currency()).upper()
    return CURRENCY_SYMBOLS.get(code, f"{code} ")


def format_money(amount: int | None, currency: str | None = None, locale: str | None = None, *,
                 whole: bool = False) -> str:
    """Minor units for people, by Babel in `currency` (the installation's by default) and `locale`
    (the installation's EMPOWERMENT_LOCALE by default): 12345 USD -> '$123.45', 1250 JPY -> '¥1,250',
    1250 EUR in fr_FR -> '12,50 €'; None -> '—'. `whole`: a round amount without its zero
    decimals ('$10', '10 €'), for buttons."""
    if amount is None:
        return "—"
    code = known_currency(currency or settings.currency())
    here = _locale(locale or settings.locale())
    value = minor_to_decimal(amount, code)
    if whole and value == value.to_integral_value():
        pattern = copy.copy(here.currency_formats["standard"])
        pattern.frac_prec = (0, 0)
        return str(format_currency(value, code, locale=here, format=pattern, currency_digits=False))
    return str(format_currency(value, code, locale=here))


def format_cents(cents: int | None, currency_symbol: str = "$") -> str:
    """1234567 -> '$12,345.67'; None -> '—'."""
    if cents is None:
        return "—"
    sign = "-" if cents < 0 else ""
    units, rem = divmod(abs(int(cents)), 100)
    return f"{sign}{currency_symbol}{units:,}.{rem:02d}"


# Quick amounts offered at the tablet, in currency units; a currency whose unit is small (the yen)
# offers them in hundreds of its units (¥1,000 rather than ¥10).
QUICK_UNITS = (0, 10, 25, 50, 100, 250)
_QUICK_SCALE = {"JPY": 100, "KRW": 1000, "HUF": 100, "ISK": 100, "CLP": 1000, "IDR": 10_000, "VND": 10_000}


def quick_step(currency: str | None = None) -> int:
    """Minor units of `currency` per quick-amount unit: 100 for USD (10 -> $10.00), 100 for JPY
    (10 -> ¥1,000: the yen's unit is small), 1 for a currency without decimals and a large unit."""
    code = known_currency(currency or settings.currency())
    return _QUICK_SCALE.get(code, 1) * 10 ** minor_digits(code)


def typed_form(amount: int, currency: str | None, locale: str) -> str:
    """Minor units as a person types them in `locale`, unambiguous: 150000 USD -> "1500.00"
    ("1500,00" in fr_FR), 1500 JPY -> "1500"."""
    digits = minor_digits(currency or settings.currency())
    if not digits:
        return str(int(amount))
    sign = "-" if amount < 0 else ""
    units, rem = divmod(abs(int(amount)), 10 ** digits)
    return f"{sign}{units}{decimal_mark(locale)}{rem:0{digits}d}"


def amount_example(currency: str | None, locale: str) -> str:
    """What the tablet's amount box shows as an example: "37.50", "37,50", "3750" (yen)."""
    digits = minor_digits(currency or settings.currency())
    return typed_form(3750 * 10 ** max(digits - 2, 0) if digits else 3750, currency, locale)


# --- what an admin picks from: currencies and locales in words --------------------------------------

def currency_label(code: str) -> str:
    """'Japanese Yen (JPY)': a currency for people, its code after its name."""
    return f"{currency_name(code)} ({code.upper()})"


def currency_choices() -> list[str]:
    """ISO 4217 codes Babel knows, in the order of their English names (a picker's options)."""
    return sorted(_CURRENCIES, key=lambda c: (currency_name(c).casefold(), c))


def locale_label(name: str) -> str:
    """'French (France)': a locale in English words, with how it writes an amount."""
    here = _locale(name)
    words = here.get_display_name("en_US") or name
    return f"{words[:1].upper()}{words[1:]} · {format_decimal_example(here)}"


def format_decimal_example(here: Locale) -> str:
    mark, group = str(get_decimal_symbol(here)), str(get_group_symbol(here))
    return f"1{group}234{mark}50"


def locale_choices() -> list[str]:
    """Locales with a country (fr_FR, de_CH, ja_JP), as Babel spells them, in the order of their
    English names: how a location's people type and read amounts."""
    from babel.localedata import locale_identifiers

    names = [n for n in locale_identifiers() if re.fullmatch(r"[a-z]{2,3}_[A-Z]{2}", n)]
    return sorted(names, key=lambda n: (_locale(n).get_display_name("en_US") or n).casefold())
