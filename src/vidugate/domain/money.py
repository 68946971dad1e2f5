"""Exact money amounts. An amount is a `decimal.Decimal`, never a float, and is stored
elsewhere as an integer number of micro-units (1e-6 of the currency), so no amount has
more than MAX_PLACES decimal places. All conversions here are exact: integer arithmetic on
a Decimal's digits, never the decimal context (whose precision would round)."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, localcontext

from vidugate.errors import InvalidRequestError

MICROS_PER_UNIT = 1_000_000
MAX_PLACES = 6
# No amount a client or an operator writes is anywhere near this many units.
MAX_UNITS = 10**12
# Longest amount text taken: "-1000000000000.000000" is 21 characters.
MAX_AMOUNT_CHARS = 64
# Plain decimals, with an optional exponent ("1e3", "2.5E-2"): Decimal() alone would also
# take "1_000", " 1 ", "NaN" and "Infinity".
_AMOUNT_TEXT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_ALLOWED = (
    'an exact decimal amount written as a string (e.g. "0.05") or an integer, '
    f"with at most {MAX_PLACES} decimal places"
)


def _places(amount: Decimal) -> int:
    """The decimal places `amount` needs (trailing zeros do not count): "1.50" -> 1."""
    _, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -(exponent + trailing)) if any(digits) else 0


def to_micros(amount: Decimal) -> int:
    """The amount in micro-units, exactly. ValueError for NaN, an infinity, or an amount
    with more than 6 decimal places (it has no exact micro-unit count)."""
    if not amount.is_finite():
        raise ValueError(f"{amount} is not a finite amount")
    if _places(amount) > MAX_PLACES:
        raise ValueError(f"{amount} has more than {MAX_PLACES} decimal places")
    sign, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)
    value = int("".join(map(str, digits)) or "0")
    if value == 0:  # 0E+999999999 is still 0, without computing 10**999999999
        return 0
    shift = exponent + MAX_PLACES
    scale: int = 10 ** abs(shift)  # exact: the places were checked above
    micros = value * scale if shift >= 0 else value // scale
    return -micros if sign else micros


def from_micros(micros: int) -> Decimal:
    """The amount `micros` micro-units make, exactly, without trailing zeros or exponent
    notation: 1_500_000 -> Decimal("1.5"), 2_000_000 -> Decimal("2"), 1 -> "0.000001"."""
    digits = str(abs(micros))
    exponent = -MAX_PLACES
    while exponent < 0 and len(digits) > 1 and digits.endswith("0"):
        digits = digits[:-1]
        exponent += 1
    if micros == 0:
        exponent = 0
    return Decimal((1 if micros < 0 else 0, tuple(int(d) for d in digits), exponent))


def canonical(amount: Decimal) -> Decimal:
    """The same amount in its canonical form (as from_micros gives it)."""
    return from_micros(to_micros(amount))


def parse_amount(value: object, *, param: str, allow_negative: bool = False) -> Decimal:
    """An amount as a client or an operator gave it, checked and in canonical form.

    Takes a string ("0.05", "-1", "12", "1e3"), an int (not a bool) or a Decimal; refuses a
    float (a binary float is not exact), NaN and infinities, more than 6 decimal places, a
    negative amount unless allowed, and more than MAX_UNITS units either way."""
    sign_rule = "" if allow_negative else ", not negative"
    allowed = f"{param} must be {_ALLOWED}{sign_rule}"
    if isinstance(value, bool) or value is None:
        raise InvalidRequestError(f"{allowed}; got {value!r}.", param=param)
    if isinstance(value, float):
        raise InvalidRequestError(
            f'{allowed}; got the number {value!r}: write it as a string (e.g. "{value}"), '
            "a binary float is not exact.",
            param=param,
        )
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str):
        text = value if len(value) <= MAX_AMOUNT_CHARS else value[:MAX_AMOUNT_CHARS] + "..."
        if len(value) > MAX_AMOUNT_CHARS or not _AMOUNT_TEXT.fullmatch(value):
            raise InvalidRequestError(f"{allowed}; got {text!r}.", param=param)
        amount = Decimal(value)
    else:
        raise InvalidRequestError(f"{allowed}; got a {type(value).__name__}.", param=param)
    if not amount.is_finite():
        raise InvalidRequestError(f"{allowed}; got {amount}.", param=param)
    if amount.copy_abs() > MAX_UNITS:  # copy_abs: abs() would round, or overflow
        raise InvalidRequestError(
            f"{allowed}; {param} is out of range (at most {MAX_UNITS:,} either way).",
            param=param,
        )
    if _places(amount) > MAX_PLACES:
        raise InvalidRequestError(
            f"{allowed}; got {amount:f}, which has {_places(amount)} decimal places.",
            param=param,
        )
    if amount < 0 and not allow_negative:
        raise InvalidRequestError(f"{allowed}; got {amount:f}.", param=param)
    return canonical(amount)


def format_amount(amount: Decimal, places: int) -> str:
    """A fixed-point string with exactly `places` places ("0.4000"), rounded half-up when
    the amount has more; never "-0.00"."""
    if not 0 <= places <= MAX_PLACES:
        raise ValueError(f"places must be 0..{MAX_PLACES}, not {places}")
    if not amount.is_finite():
        raise ValueError(f"{amount} is not a finite amount")
    with localcontext(prec=max(28, amount.adjusted() + places + 2)):
        rounded = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = rounded.copy_abs()
    return f"{rounded:f}"


def amount_text(value: Decimal) -> str:
    """An amount as every surface shows it: at least two places (0.10, 12.00), more where
    the amount has them (0.1234): the same text whether the amount came from the price
    table or back from the store."""
    places = max(2, -int(value.normalize().as_tuple().exponent))
    return f"{value:.{places}f}"
