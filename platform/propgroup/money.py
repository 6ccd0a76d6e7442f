"""Amounts of money as people type them: exact decimals to the fen, checked one way everywhere."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from propgroup.errors import InvalidInput

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999999999.99")  # what NUMERIC(18,2) holds
# What can be wrong with an amount (the portal says these in the reader's language).
NOT_A_NUMBER, NOT_POSITIVE, NEGATIVE = "is not a number", "must be more than 0", "must be 0 or more"
TOO_LARGE, TOO_PRECISE = "is too large", "has more than 2 decimals"


def amount_problem(
    value: object, *, allow_zero: bool = False, signed: bool = False
) -> str | Decimal:
    """The amount to the cent, or what is wrong with it; negative only when ``signed``."""
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite():
        return NOT_A_NUMBER
    if (amount < 0 and not signed) or (amount == 0 and not allow_zero):
        return NEGATIVE if allow_zero else NOT_POSITIVE
    if abs(amount) > MAX_AMOUNT:  # before quantize, which fails on huge exponents
        return TOO_LARGE
    if amount != amount.quantize(CENT):
        return TOO_PRECISE
    return amount.quantize(CENT)


def to_money(
    value: object, field: str, *, allow_zero: bool = False, signed: bool = False
) -> Decimal:
    checked = amount_problem(value, allow_zero=allow_zero, signed=signed)
    if isinstance(checked, str):
        raise InvalidInput(f"{field} {checked}", code="bad_amount", errors={field: checked})
    return checked


def cents(value: object) -> Decimal:
    """A sum from the database (NUMERIC, or 0 when nothing was summed) to the cent."""
    return Decimal(str(value)).quantize(CENT)
