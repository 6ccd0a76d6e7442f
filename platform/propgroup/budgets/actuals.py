"""Where actual figures come from (R-BUD-5): paid requests, recorded income, ledger imports.

Paid requests are read where approvals keep them, never copied, so plan-vs-actual cannot drift
from what the cashier paid. A request's line counts against the budget line it names, in the
unit and local month it was paid.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, and_, func, literal, select, union_all
from sqlalchemy.orm import Session

from propgroup.approvals.models import ApprovalRequest, Payment, RequestLine
from propgroup.audit.service import record
from propgroup.budgets.categories import leaf_by_code
from propgroup.budgets.models import ActualEntry, BudgetCategory
from propgroup.budgets.periods import check_month, check_year
from propgroup.errors import InvalidInput
from propgroup.identity.authz import authorize
from propgroup.identity.principals import Principal
from propgroup.money import to_money
from propgroup.org import service as org
from propgroup.tenancy.models import TenantSettings

# Requests holding budget they have not spent yet: approved or on their way (R-APR-7).
COMMITTED_STATUSES = ("in_approval", "approved")


def _local(moment: ColumnElement[datetime]) -> ColumnElement[datetime]:
    """The group's wall-clock time of an instant, its zone read in the same statement."""
    return func.timezone(select(TenantSettings.timezone).scalar_subquery(), moment)


def _current_lines() -> Select:
    """Lines of each request's current revision that name a budget line of the chart."""
    return (
        select(
            ApprovalRequest.id.label("request_id"),
            ApprovalRequest.unit_id,
            BudgetCategory.id.label("category_id"),
            RequestLine.amount,
        )
        .join(
            RequestLine,
            and_(
                RequestLine.request_id == ApprovalRequest.id,
                RequestLine.revision == ApprovalRequest.revision,
            ),
        )
        .join(BudgetCategory, BudgetCategory.code == RequestLine.budget_line)
    )


def paid(year: int, months: tuple[int, int] = (1, 12)) -> Select:
    """(unit_id, category_id, amount) of requests paid in ``year``, in those months."""
    paid_on = _local(Payment.paid_at)
    lines = _current_lines().join(Payment, Payment.request_id == ApprovalRequest.id)
    sub = lines.where(
        func.extract("year", paid_on) == year, func.extract("month", paid_on).between(*months)
    ).subquery()
    return select(sub.c.unit_id, sub.c.category_id, sub.c.amount)


def recorded(year: int, months: tuple[int, int] = (1, 12)) -> Select:
    """(unit_id, category_id, amount) of ledger rows and recorded income of those months."""
    return select(ActualEntry.unit_id, ActualEntry.category_id, ActualEntry.amount).where(
        ActualEntry.fiscal_year == year, ActualEntry.month.between(*months)
    )


def actual_rows(year: int) -> Select:
    """Every actual figure of a year, whatever its source, as one row set."""
    return select(union_all(paid(year), recorded(year)).subquery())


def committed(year: int, unit_id: int, category_id: int) -> Select:
    """What requests of the unit hold on a line and have not paid yet: those submitted in
    ``year``, and those still unpaid from before it (a hold does not lapse at New Year; the
    payment will fall in this year)."""
    lines = _current_lines().where(
        ApprovalRequest.status.in_(COMMITTED_STATUSES),
        ApprovalRequest.unit_id == unit_id,
        BudgetCategory.id == category_id,
        func.extract("year", _local(ApprovalRequest.submitted_at)) <= year,
    )
    return select(func.coalesce(func.sum(lines.subquery().c.amount), literal(Decimal(0))))


def record_income(
    session: Session,
    principal: Principal,
    *,
    unit_id: int,
    category: str,
    fiscal_year: int,
    month: int,
    amount: object,
    note: str | None = None,
) -> ActualEntry:
    """Income a unit earned in a month (物业费收入 …), against an income category."""
    unit = org.get_unit(session, unit_id)
    authorize(session, principal, "budgets:write", unit)
    line = leaf_by_code(session, category)
    if line.side != "income":
        raise InvalidInput(f"{category} is not an income category", code="not_income")
    check_year(fiscal_year)
    check_month(month)
    entry = ActualEntry(
        unit_id=unit.id,
        category_id=line.id,
        fiscal_year=fiscal_year,
        month=month,
        amount=to_money(amount, "amount"),
        source="income",
        note=note,
        recorded_by=principal.id,
    )
    session.add(entry)
    session.flush()
    record(
        session,
        principal,
        "budgets.income_recorded",
        "budget_actual",
        entry.id,
        after={"unit": unit.code, "category": category, "period": f"{fiscal_year}-{month:02}"},
    )
    return entry
