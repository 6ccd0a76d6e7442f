"""Fiscal years and months as people type them (the fiscal year is the calendar year)."""

from __future__ import annotations

import re

from propgroup.errors import InvalidInput

FISCAL_YEARS = (2000, 2200)
MONTHS = range(1, 13)
DIGITS = re.compile(r"[0-9]{1,4}")  # a year or month typed in; str.isdigit() also takes "²"


def check_year(fiscal_year: int) -> None:
    if not FISCAL_YEARS[0] <= fiscal_year <= FISCAL_YEARS[1]:
        raise InvalidInput(f"fiscal year {fiscal_year} is out of range", code="bad_year")


def check_month(month: int) -> None:
    if month not in MONTHS:
        raise InvalidInput("a month is 1 to 12", code="bad_month")
