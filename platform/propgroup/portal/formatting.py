"""Money and time on pages: CNY with thousands separators, from Decimal (or int), never from
float; amounts as people type them, with the reason in the reader's language when one is not an
amount; instants on the group's own wall clock."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l

from propgroup import money
from propgroup.tenancy.middleware import tenant_db
from propgroup.tenancy.settings import tenant_zone

CENT = Decimal("0.01")
_SEPARATORS = re.compile(r"[,，\s]")
_AMOUNT_PROBLEMS = {
    money.NOT_A_NUMBER: _l("the amount is not a number"),
    money.NOT_POSITIVE: _l("the amount must be more than 0"),
    money.NEGATIVE: _l("the amount must not be negative"),
    money.TOO_LARGE: _l("the amount is too large"),
    money.TOO_PRECISE: _l("the amount has more than 2 decimals (fen)"),
}


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


def parse_amount(raw: str, *, allow_zero: bool = False) -> Decimal | str:
    """An amount with at most 2 decimals (more than 0 unless ``allow_zero``; thousands
    separators allowed), else the reason in the reader's language."""
    checked = money.amount_problem(_SEPARATORS.sub("", raw), allow_zero=allow_zero)
    return str(_AMOUNT_PROBLEMS[checked]) if isinstance(checked, str) else checked


def local_time(moment: datetime | None, shape: str = "%Y-%m-%d %H:%M") -> str:
    """A stored instant as the group's wall clock shows it (the tenant's own zone)."""
    return moment.astimezone(tenant_zone(tenant_db())).strftime(shape) if moment else ""


def local_date(moment: datetime | None) -> str:
    return local_time(moment, "%Y-%m-%d")
