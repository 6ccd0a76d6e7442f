"""The ``cny`` filter: CNY with thousands separators, from Decimal, never from float."""

from __future__ import annotations

from decimal import Decimal

import pytest

from propgroup.portal.formatting import cny


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (Decimal("1234567.89"), "¥1,234,567.89"),
        (Decimal("0"), "¥0.00"),
        (Decimal("5000"), "¥5,000.00"),
        (Decimal("999.995"), "¥1,000.00"),  # half up, as on a voucher
        (Decimal("0.005"), "¥0.01"),
        (Decimal("-1234.5"), "-¥1,234.50"),
        (Decimal("12345678901234.56"), "¥12,345,678,901,234.56"),  # NUMERIC(18,2) at its widest
        (200000, "¥200,000.00"),
        (None, "—"),
    ],
)
def test_cny_formats_amounts_with_thousands_separators(amount, shown):
    assert cny(amount) == shown


@pytest.mark.parametrize("amount", [0.1 + 0.2, 1234.5, True, "12.00"])
def test_cny_refuses_floats_and_anything_not_a_number(amount):
    with pytest.raises(TypeError):
        cny(amount)


def test_cny_refuses_nan_and_infinity():
    for amount in (Decimal("NaN"), Decimal("Infinity")):
        with pytest.raises(ValueError):
            cny(amount)


def test_cny_is_a_template_filter(app):
    with app.test_request_context("/"):
        rendered = app.jinja_env.from_string("{{ amount|cny }}").render(amount=Decimal("1234.5"))
    assert rendered == "¥1,234.50"
