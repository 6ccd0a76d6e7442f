"""The budget check approvals call at save and submit (R-APR-7: control cost at the source).

The budgets capability implements ``BudgetChecker``; until it lands, ``NoBudgets`` is used and
every budget line is unknown, so requests can only be saved without one.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from sqlalchemy.orm import Session

from propgroup.org.models import OrgUnit


class BudgetChecker(Protocol):
    def remaining(self, session: Session, unit: OrgUnit, budget_line: str) -> Decimal | None:
        """What is left on the line for this unit now; None when the line does not exist."""


class NoBudgets:
    def remaining(self, session: Session, unit: OrgUnit, budget_line: str) -> Decimal | None:
        return None


_checker: BudgetChecker = NoBudgets()


def budget_checker() -> BudgetChecker:
    return _checker


def use_budget_checker(checker: BudgetChecker) -> None:
    """Installed once by the budgets capability at start-up."""
    global _checker
    _checker = checker
