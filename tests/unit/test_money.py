from __future__ import annotations

import pytest

from empowerment.errors import InvalidAmount
from empowerment.money import format_cents, parse_cents


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
