"""Money is a Decimal with two places, never a float."""

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_money(value: Any) -> Decimal:
    """Convert an amount to two-place Decimal; floats are refused because they are inexact."""
    if isinstance(value, float):
        raise TypeError(f"money must not be a float ({value!r}): pass a string or Decimal")
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int | str):
        try:
            amount = Decimal(str(value).strip())
        except ArithmeticError as exc:
            raise ValueError(f"not an amount: {value!r}") from exc
    else:
        raise TypeError(f"not an amount: {value!r}")
    if not amount.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    try:
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)
    except ArithmeticError as exc:  # more digits than the decimal context holds once in cents
        raise ValueError(f"amount {value!r} is too large") from exc


Money = Annotated[
    Decimal,
    BeforeValidator(to_money),
    PlainSerializer(lambda amount: str(amount), return_type=str, when_used="json"),
]
"""A two-place Decimal amount; serialised to JSON as a string so no precision is lost."""


def money_sum(amounts: "Any") -> Decimal:
    """Sum amounts exactly, starting from 0.00."""
    total = ZERO
    for amount in amounts:
        total += amount
    return total


def as_money(amount: Decimal) -> Decimal | None:
    """`to_money` of a Decimal, or None where to_money would refuse it (not finite, or more digits
    than the context holds once in cents). For readers that check values themselves."""
    if not amount.is_finite():
        return None
    try:
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)
    except ArithmeticError:
        return None
