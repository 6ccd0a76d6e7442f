"""What is left on a budget line (R-APR-7), for the approvals engine's check at save and submit.

Left = the unit's plan in force for the year − its actuals on the line (``actuals.sources``: the
ledger where it has booked the unit's month, paid requests and income where not) − what requests
on their way and unreported advances hold. At submission the line is locked first (a
transaction-scoped advisory lock per tenant, unit, line and year), so two requests sent at once
cannot both pass on the same last yuan: the second one reads the first one's hold.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from propgroup.approvals import service as approvals
from propgroup.budgets.actuals import actual_rows, committed
from propgroup.budgets.figures import planned
from propgroup.budgets.models import BudgetCategory
from propgroup.errors import NotFound
from propgroup.identity.authz import authorize
from propgroup.identity.principals import Principal
from propgroup.money import cents
from propgroup.org import service as org
from propgroup.org.models import OrgUnit

_LOCK = text(
    "select pg_advisory_xact_lock(hashtextextended("
    "current_schema() || ':budget:' || :unit || ':' || :category || ':' || :year, 0))"
)


class PlannedBudgets:
    """The budgets capability's ``BudgetChecker``."""

    def remaining(
        self,
        session: Session,
        unit: OrgUnit,
        budget_line: str,
        *,
        hold: bool = False,
        settling: int | None = None,
    ) -> Decimal | None:
        category = session.scalar(
            select(BudgetCategory).where(
                BudgetCategory.code == budget_line,
                BudgetCategory.is_leaf,
                BudgetCategory.side == "expense",
            )
        )
        if category is None:
            return None
        year = approvals.today(session).year
        if hold:
            session.execute(_LOCK, {"unit": unit.id, "category": category.id, "year": year})
        return left_on_line(session, unit.id, category.id, year, settling=settling)


def left_on_line(
    session: Session, unit_id: int, category_id: int, year: int, *, settling: int | None = None
) -> Decimal:
    plan = planned(year, "approved").subquery()
    actual = actual_rows(year).subquery()
    zero = Decimal("0.00")
    budget = session.scalar(
        select(func.coalesce(func.sum(plan.c.amount), zero)).where(
            plan.c.unit_id == unit_id, plan.c.category_id == category_id
        )
    )
    spent = session.scalar(
        select(func.coalesce(func.sum(actual.c.amount), zero)).where(
            actual.c.unit_id == unit_id, actual.c.category_id == category_id
        )
    )
    held = session.scalar(committed(year, unit_id, category_id, settling=settling))
    return cents(budget - spent - held)


def read_remaining(
    session: Session, principal: Principal, unit_id: int, budget_line: str
) -> dict[str, object]:
    """What a requester sees beside a line before submitting (R-APR-7)."""
    unit = org.get_unit(session, unit_id)
    authorize(session, principal, "budgets:read", unit)
    left = PlannedBudgets().remaining(session, unit, budget_line)
    if left is None:
        raise NotFound(f"unknown budget line {budget_line!r}", code="unknown_budget_line")
    return {
        "unit_id": unit.id,
        "budget_line": budget_line,
        "fiscal_year": approvals.today(session).year,
        "remaining": left,
    }
