"""Exact amounts: micro-units, parsing what clients and operators write, formatting."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vidugate.domain.money import (
    MAX_UNITS,
    MICROS_PER_UNIT,
    format_amount,
    from_micros,
    parse_amount,
    to_micros,
)
from vidugate.errors import InvalidRequestError


@pytest.mark.parametrize(
    ("amount", "micros"),
    [
        ("1.5", 1_500_000),
        ("1.500000", 1_500_000),
        ("0.000001", 1),
        ("-2.25", -2_250_000),
        ("0", 0),
        ("-0", 0),
        ("1E+3", 1_000_000_000),
        ("1.0000000", 1_000_000),  # trailing zeros are no places
        ("0E-999999", 0),
        ("12345678901234567890123456789012.5", 12345678901234567890123456789012_500_000),
    ],
)
def test_to_micros_is_exact(amount: str, micros: int) -> None:
    assert to_micros(Decimal(amount)) == micros


@pytest.mark.parametrize(
    ("amount", "why"),
    [
        ("0.0000001", "more than 6 decimal places"),
        ("1.2345678", "more than 6 decimal places"),
        ("NaN", "not a finite amount"),
        ("Infinity", "not a finite amount"),
        ("-Infinity", "not a finite amount"),
    ],
)
def test_to_micros_refuses_what_has_no_micro_count(amount: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        to_micros(Decimal(amount))


@pytest.mark.parametrize(
    ("micros", "shown"),
    [
        (1_500_000, "1.5"),
        (2_000_000, "2"),
        (1, "0.000001"),
        (-10, "-0.00001"),
        (0, "0"),
        (10**18, "1000000000000"),
    ],
)
def test_from_micros_is_plain(micros: int, shown: str) -> None:
    assert str(from_micros(micros)) == shown


@given(st.integers(min_value=-(10**24), max_value=10**24))
def test_micros_round_trip(micros: int) -> None:
    amount = from_micros(micros)
    assert to_micros(amount) == micros
    assert "E" not in str(amount)
    assert amount * MICROS_PER_UNIT == micros


@given(st.integers(min_value=-MAX_UNITS * MICROS_PER_UNIT, max_value=MAX_UNITS * MICROS_PER_UNIT))
def test_parse_amount_takes_every_amount_it_shows(micros: int) -> None:
    amount = from_micros(micros)
    assert parse_amount(str(amount), param="x", allow_negative=True) == amount


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("0.05", "0.05"),
        ("12", "12"),
        (12, "12"),
        (Decimal("0.050"), "0.05"),
        (".5", "0.5"),
        ("+3.", "3"),
        ("-0", "0"),
        # Exponent forms are taken, as strings and as Decimals alike.
        ("1e3", "1000"),
        (Decimal("1E+3"), "1000"),
        ("2.5E-2", "0.025"),
        ("1000000000000", "1000000000000"),
    ],
)
def test_parse_amount_takes_exact_forms(value: object, shown: str) -> None:
    # The canonical form: no exponent, no trailing zeros.
    assert str(parse_amount(value, param="price")) == shown


def test_parse_amount_takes_negatives_only_when_allowed() -> None:
    assert parse_amount("-1", param="add", allow_negative=True) == Decimal(-1)
    with pytest.raises(InvalidRequestError, match="not negative") as refused:
        parse_amount("-1", param="add")
    assert refused.value.param == "add"


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (0.05, "write it as a string"),
        (True, "got True"),
        (None, "got None"),
        ([1], "got a list"),
        ("NaN", "got 'NaN'"),
        ("Infinity", "got 'Infinity'"),
        (Decimal("NaN"), "got NaN"),
        (Decimal("-Infinity"), "got -Infinity"),
        ("0.0000001", "7 decimal places"),
        (Decimal("1.2345678"), "7 decimal places"),
        ("1e-7", "7 decimal places"),
        ("1000000000000.000001", "out of range"),
        ("-1e13", "out of range"),
        ("1e999999999", "out of range"),
        ("1_000", "got '1_000'"),
        (" 1", "got ' 1'"),
        ("0x10", "got '0x10'"),
        ("", "got ''"),
        ("1" * 100, "..."),
    ],
)
def test_parse_amount_refuses_inexact_and_absurd(value: object, says: str) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        parse_amount(value, param="models.viduq1.base", allow_negative=True)
    assert refused.value.param == "models.viduq1.base"
    assert refused.value.message.startswith("models.viduq1.base must be an exact decimal amount")
    assert "at most 6 decimal places" in refused.value.message
    assert says in refused.value.message


@pytest.mark.parametrize(
    ("amount", "places", "shown"),
    [
        ("0.4", 4, "0.4000"),
        ("2", 0, "2"),
        ("1E+3", 2, "1000.00"),
        ("0.00005", 4, "0.0001"),  # half-up, not half-even
        ("0.00015", 4, "0.0002"),
        ("0.000049", 4, "0.0000"),
        ("-0.00005", 4, "-0.0001"),  # half away from zero
        ("-0.00004", 4, "0.0000"),  # never "-0.0000"
        ("1000000000000.123456", 6, "1000000000000.123456"),
    ],
)
def test_format_amount_is_fixed_point(amount: str, places: int, shown: str) -> None:
    assert format_amount(Decimal(amount), places) == shown


def test_format_amount_refuses_places_it_cannot_keep() -> None:
    with pytest.raises(ValueError, match="places"):
        format_amount(Decimal(1), 7)
    with pytest.raises(ValueError, match="finite"):
        format_amount(Decimal("NaN"), 2)
