"""Petty cash (备用金, R-CASH-4): lent to a person out of the unit's cash box, due back by the 25th
of the quarter's last month (每季度末25日前交回); who still needs it borrows again next quarter."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from propgroup.approvals import service as approvals
from propgroup.approvals.models import ApprovalRequest
from propgroup.approvals.service import today
from propgroup.audit.service import record
from propgroup.cashdesk import cash
from propgroup.cashdesk.common import policy, signed_by_person, unit_for
from propgroup.cashdesk.models import PettyCashAdvance
from propgroup.db import get_by_id
from propgroup.errors import Conflict, Forbidden, InvalidInput, NotFound
from propgroup.identity.authz import can, visible_units
from propgroup.identity.models import User
from propgroup.identity.principals import Principal
from propgroup.org import service as org
from propgroup.org.models import OrgUnit

RETURN_DAY = 25


def due_date(advanced_on: date) -> date:
    """The 25th of the last month of the quarter the advance is made in; made on or after that
    day, it belongs to the next quarter (a re-borrowing at the turn of the quarter)."""
    last_month = (advanced_on.month - 1) // 3 * 3 + 3
    due = date(advanced_on.year, last_month, RETURN_DAY)
    if advanced_on < due:
        return due
    return (
        date(due.year + 1, 3, RETURN_DAY)
        if last_month == 12
        else date(due.year, last_month + 3, RETURN_DAY)
    )


def _approved_advance(session: Session, unit: OrgUnit, request_id: object) -> ApprovalRequest:
    """The unit's advance request (借款单), approved by its chain (the GM, then the finance
    manager, seed §10.1.2.1) and not paid yet; locked."""
    request = (
        get_by_id(session, ApprovalRequest, request_id, lock=True)
        if isinstance(request_id, int)
        else None
    )
    if request is None or request.unit_id != unit.id or request.request_type != "advance":
        raise InvalidInput(
            f"no advance request {request_id} of {unit.code}",
            code="unknown_request",
            errors={"request_id": ["an approved advance request of the unit"]},
        )
    if request.status != "approved":
        raise Conflict(
            f"advance request {request.id} is {request.status}: petty cash is lent against an "
            "approved advance request, once",
            code="request_not_approved",
        )
    return request


def advance(
    session: Session,
    principal: Principal,
    *,
    unit_id: int,
    request_id: object,
) -> PettyCashAdvance:
    """Lend petty cash out of the unit's cash box against an approved advance request: its
    amount, to its requester, who holds none; paying the request (approvals.pay, so the
    cashier is its payer, never its requester or a reviewer)."""
    signed_by_person(principal)
    unit = unit_for(session, principal, unit_id, "banking:cash")
    request = _approved_advance(session, unit, request_id)
    person = session.get(User, request.requester_id)
    if person.id == principal.id:
        raise Forbidden("the cashier does not lend petty cash to themselves", code="self_advance")
    value = request.total_amount
    cash.lock_box(session, unit)
    held = session.scalar(
        select(PettyCashAdvance).where(
            PettyCashAdvance.holder_id == person.id, PettyCashAdvance.returned_on.is_(None)
        )
    )
    if held is not None:
        raise Conflict(
            f"{person.login} still holds petty cash advance {held.id} ({held.amount}, due "
            f"{held.due_on}): it is returned before another is lent (R-CASH-4)",
            code="advance_open",
            errors={"advance_id": held.id},
        )
    if cash.cash_balance(session, unit.id) < value:
        raise Conflict(
            f"the cash box holds {cash.cash_balance(session, unit.id)}: it cannot lend {value}",
            code="not_enough_cash",
        )
    day = today(session)
    row = PettyCashAdvance(
        unit_id=unit.id,
        holder_id=person.id,
        request_id=request.id,
        amount=value,
        purpose=request.title,
        advanced_on=day,
        due_on=due_date(day),
        advanced_by=principal.id,
    )
    session.add(row)
    session.flush()
    approvals.pay(session, principal, request.id, method="cash", reference=f"PC-{row.id}")
    cash.add_entry(
        session,
        principal,
        unit,
        amount=-value,
        description=f"备用金借出 {person.display_name}",
        reference=f"PC-{row.id}",
        source="petty_cash",
    )
    record(
        session,
        principal,
        "cashdesk.petty_cash_advanced",
        "petty_cash_advance",
        row.id,
        after=_state(row),
    )
    return row


def return_advance(session: Session, principal: Principal, advance_id: int) -> PettyCashAdvance:
    """The holder hands the petty cash back; it goes into the cash box again."""
    signed_by_person(principal)
    row = get_by_id(session, PettyCashAdvance, advance_id, lock=True)
    if row is None or not can(
        session, principal, "banking:read", org.get_unit(session, row.unit_id)
    ):
        # Another unit's advance is not found, as banking answers: no existence oracle.
        raise NotFound(f"petty cash advance {advance_id} not found", code="advance_not_found")
    unit = unit_for(session, principal, row.unit_id, "banking:cash")
    if row.returned_on is not None:
        raise Conflict(f"advance {row.id} was returned on {row.returned_on}", code="returned")
    row.returned_on, row.received_by = today(session), principal.id
    session.flush()
    cash.lock_box(session, unit)
    cash.add_entry(
        session,
        principal,
        unit,
        amount=row.amount,
        description="备用金交回",
        reference=f"PC-{row.id}",
        source="petty_cash",
    )
    record(
        session,
        principal,
        "cashdesk.petty_cash_returned",
        "petty_cash_advance",
        row.id,
        after={**_state(row), "late": row.returned_on > row.due_on},
    )
    return row


def _state(row: PettyCashAdvance) -> dict[str, Any]:
    return {"holder_id": row.holder_id, "amount": row.amount, "due_on": row.due_on}


def visible_advances(
    session: Session, principal: Principal, *, unit_id: int | None = None, open_only: bool = False
) -> Select[tuple[PettyCashAdvance]]:
    query = (
        select(PettyCashAdvance)
        .join(OrgUnit, OrgUnit.id == PettyCashAdvance.unit_id)
        .where(visible_units(session, principal, "banking:read"))
    )
    if unit_id is not None:
        query = query.where(PettyCashAdvance.unit_id == unit_id)
    if open_only:
        query = query.where(PettyCashAdvance.returned_on.is_(None))
    return query.order_by(PettyCashAdvance.returned_on.is_not(None), PettyCashAdvance.due_on)


def due_reminders(session: Session) -> list[tuple[PettyCashAdvance, bool]]:
    """Open advances to remind today, with whether each is overdue: once when the reminder
    window opens (``reminder_days`` before the 25th), then every day once it is overdue."""
    day = today(session)
    lead = timedelta(days=policy(session).reminder_days)
    found = []
    for row in session.scalars(
        select(PettyCashAdvance)
        .where(PettyCashAdvance.returned_on.is_(None), PettyCashAdvance.due_on <= day + lead)
        .with_for_update(skip_locked=True)
    ):
        overdue = day > row.due_on
        window_opened = row.due_on - lead
        if overdue and row.reminded_on != day:
            found.append((row, True))
        elif not overdue and (row.reminded_on is None or row.reminded_on < window_opened):
            found.append((row, False))
    for row, _ in found:
        row.reminded_on = day
    session.flush()
    return found
