"""What a plan's lines hold amounts for: the 12 months of an annual plan, or the years of a
medium-term plan (中期计划, annual granularity). Everything that reads or writes a line's
amounts asks ``periods_of`` instead of assuming months."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import InstrumentedAttribute

from propgroup.budgets.models import (
    MEDIUM_TERM_YEARS,
    BudgetPlan,
    PlanAmount,
    PlanYearAmount,
)
from propgroup.budgets.periods import MONTHS


@dataclass(frozen=True)
class Periods:
    keys: tuple[int, ...]  # months 1-12, or the plan's years
    unit: str  # "month" or "year", for messages
    table: type[PlanAmount] | type[PlanYearAmount]
    column: InstrumentedAttribute[int]  # the table's period column

    @property
    def monthly(self) -> bool:
        return self.table is PlanAmount

    def row(self, line_id: int, period: int, amount: Any) -> dict[str, Any]:
        return {"line_id": line_id, self.column.key: period, "amount": amount}


MONTHLY = Periods(tuple(MONTHS), "month", PlanAmount, PlanAmount.month)


def periods_of(plan: BudgetPlan) -> Periods:
    if plan.horizon == "medium_term":
        years = tuple(range(plan.fiscal_year, plan.fiscal_year + MEDIUM_TERM_YEARS))
        return Periods(years, "year", PlanYearAmount, PlanYearAmount.year)
    return MONTHLY


def years_of(plan: BudgetPlan) -> str:
    """The plan's years as finance writes them: 2031, or 2031–2033."""
    last = plan.fiscal_year + (MEDIUM_TERM_YEARS - 1 if plan.horizon == "medium_term" else 0)
    return str(plan.fiscal_year) if last == plan.fiscal_year else f"{plan.fiscal_year}–{last}"
