from __future__ import annotations

import pytest

from empowerment.errors import InvalidAmount
from empowerment.money import cents_to_decimal, format_cents, parse_cents


@pytest.mark.parametrize(
    ("text", "cents"),
    [("25", 2500), ("25.5", 2550), ("25.50", 2550), ("0", 0), (".5", 50), ("$1,234.56", 123456),
     (" 7 ", 700), ("10000000", 1_000_000_000), ("1,234", 123400),
     ("€ 12.5", 1250)],
)
def test_amounts_parse_to_exact_cents(text: str, cents: int) -> None:
    assert parse_cents(text) == cents


@pytest.mark.parametrize(
    ("text", "reason"),
    [("-5", "negative"), ("abc", "not a number"), ("12.345", "more than 2 decimals"),
     ("1e9", "not a number"), ("", "Enter an amount"), ("10000000.01", "too large"),
     ("99999999999999999999", "too large"), ("NaN", "not a number"), ("1.2.3", "not a number"),
     ("12,50", "use a dot for decimals"), ("1,23,456", "use a dot for decimals"),
     ("١٢", "not a number")],
)
def test_bad_amounts_are_refused_with_a_specific_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidAmount, match=reason):
        parse_cents(text)


def test_negative_amounts_allowed_only_where_asked() -> None:
    assert parse_cents("-12.30", allow_negative=True) == -1230


@pytest.mark.parametrize(("cents", "text"), [(0, "$0.00"), (5, "$0.05"), (123456, "$1,234.56"),
                                             (-250, "-$2.50"), (None, "—")])
def test_cents_format_for_people(cents: int | None, text: str) -> None:
    assert format_cents(cents) == text


# --- amounts typed at the tablet, in the installation's locale -------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from empowerment.money import AmbiguousAmount, decimal_mark, parse_amount  # noqa: E402


@pytest.mark.parametrize(("text", "locale", "cents"), [
    ("37.50", "en_US", 3750), ("37,50", "de_DE", 3750), ("1,234.50", "en_US", 123450),
    ("1.234,50", "de_DE", 123450), ("1 234,50", "fr_FR", 123450), ("1,234", "en_US", 123400),
    ("1.234", "de_DE", 123400), ("１５００", "ja_JP", 150000), ("$ 25", "en_US", 2500), (".5", "en_US", 50),
])
def test_typed_amounts_follow_the_locale(text: str, locale: str, cents: int) -> None:
    assert parse_amount(text, locale) == cents


@pytest.mark.parametrize("locale", ["en_US", "de_DE", "fr_FR"])
@pytest.mark.parametrize("text", ["1.500", "1,500", "12.500", "99,000"])
def test_an_amount_that_reads_two_ways_is_asked_about(text: str, locale: str) -> None:
    with pytest.raises(AmbiguousAmount) as caught:
        parse_amount(text, locale)
    whole = int(text.replace(".", "").replace(",", "")) * 100
    assert set(caught.value.choices) == {whole, whole // 1000}


@pytest.mark.parametrize(("text", "locale", "meant"), [
    ("12,50", "en_US", 1250), ("12.50", "de_DE", 1250), ("1.234", "en_US", 123400), ("1,234", "de_DE", 123400),
])
def test_the_other_convention_is_asked_never_converted_silently(text: str, locale: str, meant: int) -> None:
    with pytest.raises(AmbiguousAmount, match="Did you mean|did you mean") as caught:
        parse_amount(text, locale)
    assert caught.value.choices == (meant,)


@pytest.mark.parametrize(("text", "reason"), [
    ("", "Enter an amount"), ("abc", "not an amount"), ("1e5", "not an amount"), ("NaN", "not an amount"),
    ("-5", "negative"), ("12.3456", "more than 2 decimals"), ("١٢", "not an amount"),
    ("99999999999", "too large"), ("1.2.3", "not an amount"),
])
def test_bad_typed_amounts_say_why(text: str, reason: str) -> None:
    with pytest.raises(InvalidAmount, match=reason):
        parse_amount(text, "en_US")


def test_the_decimal_mark_comes_from_the_locale() -> None:
    assert (decimal_mark("en_US"), decimal_mark("de_DE"), decimal_mark("fr-FR")) == (".", ",", ",")


LOCALES = st.sampled_from(["en_US", "en_GB", "de_DE", "fr_FR", "de_CH", "ja_JP", "en_IN"])


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=24), LOCALES)
def test_any_text_is_an_amount_or_a_sentence_never_a_crash(text: str, locale: str) -> None:
    try:
        cents = parse_amount(text, locale)
    except AmbiguousAmount as asked:
        assert asked.choices and all(0 <= c <= 1_000_000_000 for c in asked.choices)
        assert str(asked)
    except InvalidAmount as refused:
        assert str(refused)
    else:
        assert isinstance(cents, int) and 0 <= cents <= 1_000_000_000


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=1_000_000_000), LOCALES, st.booleans())
def test_an_amount_written_in_the_locale_reads_back_or_is_asked(cents: int, locale: str, grouped: bool) -> None:
    from babel.core import Locale
    from babel.numbers import format_decimal

    # the locale's own grouping (en_IN groups lakhs: 1,00,000.00), always with two decimals
    own = Locale.parse(locale).decimal_formats[None].pattern
    pattern = own.split(".")[0] + ".00" if grouped else "0.00"
    written = format_decimal(cents_to_decimal(cents), format=pattern, locale=locale)
    try:
        assert parse_amount(written, locale) == cents
    except AmbiguousAmount as asked:  # "1.500" style texts only: never the formatted form with decimals
        raise AssertionError(f"{written!r} in {locale} was asked about: {asked}") from None


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=1, max_value=999), st.integers(min_value=0, max_value=999), LOCALES,
       st.sampled_from([".", ","]))
def test_one_mark_then_three_digits_is_never_guessed(head: int, tail: int, locale: str, mark: str) -> None:
    text = f"{head}{mark}{tail:03d}"
    try:
        parse_amount(text, locale)
    except AmbiguousAmount:
        return
    # accepted without asking only as thousands, and only where that mark groups digits
    assert mark != decimal_mark(locale)
