"""Where actual figures come from (R-BUD-5): paid requests, recorded income, ledger imports.

Paid requests are read where approvals keep them, never copied, so plan-vs-actual cannot drift
from what the cashier paid. A request's line counts against the budget line it names, in the
unit and local month it was paid.

The ledger is the book of record: once an import (not reversed) holds a unit's books for a
month, that unit-month's actuals are its ledger rows only, and the paid requests and recorded
income of it no longer count (the ledger has them already). Before that, they stand in.

An advance (借款) is money lent ahead of the spending, in the books a receivable until an
expense claim reports it: paid and unreported it *holds* its budget line like a request on its
way (``committed``), and is never an actual; the claim that reports it is the spend.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from propgroup.approvals.deadlines import claims_naming
from propgroup.approvals.models import ApprovalRequest, Payment, RequestLine
from propgroup.audit.service import record
from propgroup.budgets.categories import leaf_by_code
from propgroup.budgets.models import ActualEntry, ActualImport, BudgetCategory, LedgerMonth
from propgroup.budgets.periods import check_month, check_year
from propgroup.db import get_by_id
from propgroup.errors import Conflict, InvalidInput, NotFound
from propgroup.identity.authz import authorize
from propgroup.identity.principals import Principal
from propgroup.money import to_money
from propgroup.org import service as org
from propgroup.tenancy.models import TenantSettings

# Requests holding budget they have not spent yet: approved or on their way (R-APR-7).
COMMITTED_STATUSES = ("in_approval", "approved")
ADVANCE = "advance"  # 借款单
BOOKS_ACTUALS = "budgets:actuals"  # who imports, records and reverses actuals


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


def _in_ledger(
    unit_id: ColumnElement[int], year: int, month: ColumnElement[int]
) -> ColumnElement[bool]:
    """SQL: an import that stands holds the unit's books for that month."""
    return (
        select(LedgerMonth.unit_id)
        .join(ActualImport, ActualImport.id == LedgerMonth.import_id)
        .where(
            ActualImport.reversed_at.is_(None),
            LedgerMonth.unit_id == unit_id,
            LedgerMonth.fiscal_year == year,
            LedgerMonth.month == month,
        )
        .exists()
    )


def paid(year: int, months: tuple[int, int] = (1, 12)) -> Select:
    """(unit_id, category_id, amount) of requests paid in ``year``, in those months, but
    advances and what the ledger has booked."""
    paid_on = _local(Payment.paid_at)
    month = func.extract("month", paid_on)
    lines = (
        _current_lines()
        .add_columns(month.label("month"))
        .join(Payment, Payment.request_id == ApprovalRequest.id)
        .where(
            Payment.reversed_at.is_(None),  # a payment undone (cheque voided) was never spent
            ApprovalRequest.request_type != ADVANCE,
            func.extract("year", paid_on) == year,
            month.between(*months),
        )
        .subquery()
    )
    return select(lines.c.unit_id, lines.c.category_id, lines.c.amount).where(
        ~_in_ledger(lines.c.unit_id, year, lines.c.month)
    )


def _entries(source: str, year: int, months: tuple[int, int]) -> Select:
    return select(ActualEntry.unit_id, ActualEntry.category_id, ActualEntry.amount).where(
        ActualEntry.source == source,
        ActualEntry.fiscal_year == year,
        ActualEntry.month.between(*months),
    )


def ledger_rows(year: int, months: tuple[int, int] = (1, 12)) -> Select:
    """(unit_id, category_id, amount) of the ledger rows of those months (a reversed import's
    rows are gone)."""
    return _entries("ledger", year, months)


def income(year: int, months: tuple[int, int] = (1, 12)) -> Select:
    """(unit_id, category_id, amount) of income recorded for those months, reversals included
    (they cancel it), but what the ledger has booked."""
    return _entries("income", year, months).where(
        ~_in_ledger(ActualEntry.unit_id, year, ActualEntry.month)
    )


def sources(year: int, months: tuple[int, int] = (1, 12)) -> tuple[Select, ...]:
    """Every source of actuals, each read apart (the ledger's rows by an index of their own)."""
    return paid(year, months), ledger_rows(year, months), income(year, months)


def actual_rows(year: int) -> Select:
    """Every actual figure of a year, whatever its source, as one row set."""
    return select(union_all(*sources(year)).subquery())


def committed(year: int, unit_id: int, category_id: int, *, settling: int | None = None) -> Select:
    """What requests of the unit hold on a line and have not spent yet: those on their way or
    approved, and paid advances no claim reports; those sent in ``year``, and those from before
    it (a hold does not lapse at New Year). ``settling``: the advance a claim being checked
    reports, whose hold gives way to the claim's."""
    unreported_advance = and_(
        ApprovalRequest.request_type == ADVANCE,
        ApprovalRequest.status == "paid",
        ~claims_naming(ApprovalRequest.id, reporting=True).exists(),
    )
    lines = _current_lines().where(
        or_(ApprovalRequest.status.in_(COMMITTED_STATUSES), unreported_advance),
        ApprovalRequest.unit_id == unit_id,
        BudgetCategory.id == category_id,
        func.extract("year", _local(ApprovalRequest.submitted_at)) <= year,
    )
    if settling is not None:
        lines = lines.where(ApprovalRequest.id != settling)
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
    authorize(session, principal, BOOKS_ACTUALS, unit)
    line = leaf_by_code(session, category)
    if line.side != "income":
        raise InvalidInput(f"{category} is not an income category", code="not_income")
    check_year(fiscal_year)
    check_month(month)
    place = {"unit_id": unit.id, "category_id": line.id, "fiscal_year": fiscal_year, "month": month}
    entry = _income_entry(session, principal, place, to_money(amount, "amount"), note)
    record(
        session,
        principal,
        "budgets.income_recorded",
        "budget_actual",
        entry.id,
        after={"unit": unit.code, "category": category, "period": f"{fiscal_year}-{month:02}"},
    )
    return entry


def reverse_income(
    session: Session, principal: Principal, entry_id: int, *, reason: str
) -> ActualEntry:
    """Cancel recorded income by a counter-entry of the opposite amount (红字冲销) in the same
    unit, line and month, saying who and why; an entry is reversed once."""
    entry = get_by_id(session, ActualEntry, entry_id, lock=True)
    if entry is None or entry.source != "income":
        raise NotFound(f"no recorded income {entry_id}", code="not_found")
    authorize(session, principal, BOOKS_ACTUALS, org.get_unit(session, entry.unit_id))
    why = reversal_reason(reason)
    if entry.reverses_id is not None:
        raise Conflict(f"entry {entry_id} is itself a reversal", code="is_reversal")
    done = session.scalar(select(ActualEntry.id).where(ActualEntry.reverses_id == entry.id))
    if done is not None:
        raise Conflict(
            f"income entry {entry_id} was reversed already (entry {done})",
            code="already_reversed",
            errors={"reversal_id": done},
        )
    place = {
        name: getattr(entry, name) for name in ("unit_id", "category_id", "fiscal_year", "month")
    }
    counter = _income_entry(session, principal, place, -entry.amount, why, reverses=entry.id)
    record(
        session,
        principal,
        "budgets.income_reversed",
        "budget_actual",
        entry.id,
        before={"amount": entry.amount},
        after={"reversal": counter.id, "reason": why},
    )
    return counter


def _income_entry(
    session: Session,
    principal: Principal,
    place: dict[str, int],
    amount: Decimal,
    note: str | None,
    *,
    reverses: int | None = None,
) -> ActualEntry:
    """An income row at ``place`` (unit, category, year and month ids), written now."""
    entry = ActualEntry(
        **place,
        amount=amount,
        source="income",
        note=note,
        reverses_id=reverses,
        recorded_by=principal.id,
    )
    session.add(entry)
    session.flush()
    return entry


def reversal_reason(reason: str) -> str:
    """Why a reversal is made: required, the audit trail names it."""
    why = reason.strip()
    if not why:
        raise InvalidInput(
            "say why the actuals are reversed",
            code="reason_required",
            errors={"reason": "required"},
        )
    return why
