"""The budget check approvals call at save and submit (R-APR-7: control cost at the source).

The budgets capability answers it (``propgroup.budgets.checker``); it is found by name when
first asked, because budgets is built on approvals and approvals never imports it.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Protocol

from sqlalchemy.orm import Session

from propgroup.approvals.subjects import by_name
from propgroup.org.models import OrgUnit

CHECKER = "propgroup.budgets.checker:PlannedBudgets"


class BudgetChecker(Protocol):
    def remaining(
        self,
        session: Session,
        unit: OrgUnit,
        budget_line: str,
        *,
        hold: bool = False,
        settling: int | None = None,
    ) -> Decimal | None:
        """What is left on the line for this unit now; None when the line does not exist.
        ``hold``: lock the line until the transaction ends (submission takes from it).
        ``settling``: the advance the request being checked reports; the request's own amount
        takes the place of what that advance holds."""


@cache
def budget_checker() -> BudgetChecker:
    return by_name(CHECKER)()
