"""The lending register (借阅登记, R-ARC-3): originals are never lent out; a copy is issued
against an entry signed by the keeper who issues it and the borrower who takes it, due back by a
date and signed in again on return."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from propgroup.approvals.service import today
from propgroup.archives.models import ArchiveItem, Loan
from propgroup.archives.service import item_for, signed_by_person
from propgroup.audit.service import record
from propgroup.db import BIGINT_MAX
from propgroup.errors import Conflict, InvalidInput, NotFound
from propgroup.identity.authz import visible_units
from propgroup.identity.principals import Principal
from propgroup.org import service as org
from propgroup.org.models import OrgUnit


def issue_copy(
    session: Session,
    principal: Principal,
    item_id: int,
    *,
    form: str,
    borrower: str,
    purpose: str,
    due_on: date,
) -> Loan:
    """Register a copy of the item given to ``borrower`` until ``due_on``."""
    signed_by_person(principal)
    if form != "copy":
        raise InvalidInput(
            "originals are not lent out; a copy is given with a register entry (R-ARC-3)",
            code="original_not_lent",
            errors={"form": ["only copy"]},
        )
    problems = {}
    if not borrower.strip():
        problems["borrower"] = ["who takes the copy signs for it"]
    if not purpose.strip():
        problems["purpose"] = ["required"]
    if due_on < today(session):
        problems["due_on"] = ["today or later"]
    if problems:
        raise InvalidInput("the loan was refused", code="bad_loan", errors=problems)
    item = item_for(session, principal, item_id, "archives:write")
    if item.status == "destroyed":
        raise Conflict(f"archive item {item.id} was destroyed", code="item_destroyed")
    loan = Loan(
        item_id=item.id,
        borrower=borrower.strip(),
        purpose=purpose.strip(),
        issued_by=principal.id,
        issued_on=today(session),
        due_on=due_on,
    )
    session.add(loan)
    session.flush()
    record(
        session,
        principal,
        "archives.copy_issued",
        "archive_item",
        item.id,
        after={"loan": loan.id, "borrower": loan.borrower, "due_on": due_on},
    )
    return loan


def return_copy(session: Session, principal: Principal, loan_id: int) -> Loan:
    """The copy comes back; the keeper who receives it signs."""
    signed_by_person(principal)
    loan = session.get(Loan, loan_id, with_for_update=True) if 0 < loan_id <= BIGINT_MAX else None
    if loan is None:
        raise NotFound(f"loan {loan_id} does not exist", code="loan_not_found")
    item_for(session, principal, loan.item_id, "archives:write")
    if loan.returned_on is not None:
        raise Conflict(f"loan {loan_id} was returned on {loan.returned_on}", code="returned")
    loan.returned_on, loan.received_by = today(session), principal.id
    session.flush()
    record(
        session,
        principal,
        "archives.copy_returned",
        "archive_item",
        loan.item_id,
        after={"loan": loan.id, "late": loan.returned_on > loan.due_on},
    )
    return loan


def visible_loans(
    session: Session,
    principal: Principal,
    *,
    item_id: int | None = None,
    unit_id: int | None = None,
    overdue: bool = False,
) -> Select:
    """The register of the units the principal may read; ``overdue``: out past their day."""
    query = (
        select(Loan)
        .join(ArchiveItem, ArchiveItem.id == Loan.item_id)
        .join(OrgUnit, OrgUnit.id == ArchiveItem.unit_id)
        .where(visible_units(session, principal, "archives:read"))
    )
    if item_id is not None:
        query = query.where(Loan.item_id == item_id)
    if unit_id is not None:
        query = query.where(
            OrgUnit.path.startswith(org.get_unit(session, unit_id).path, autoescape=True)
        )
    if overdue:
        query = query.where(Loan.returned_on.is_(None), Loan.due_on < today(session))
    return query.order_by(Loan.id.desc())
