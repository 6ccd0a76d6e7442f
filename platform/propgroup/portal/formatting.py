"""Money on pages: CNY with thousands separators, from Decimal (or int), never from float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def cny(amount: Decimal | int | None) -> str:
    """``Decimal("1234567.891")`` → ``¥1,234,567.89``; negatives as ``-¥12.00``; None as ``—``.

    A float is refused: it has already lost cents (0.1 + 0.2), so it must not reach a page.
    """
    if amount is None:
        return "—"
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise TypeError(f"cny() takes a Decimal or int, not {type(amount).__name__}")
    value = Decimal(amount)
    if not value.is_finite():
        raise ValueError(f"cny() cannot format {value}")
    value = value.quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    return f"{sign}¥{abs(value):,.2f}"
