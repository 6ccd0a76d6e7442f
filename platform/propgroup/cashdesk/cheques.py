"""Cheques (支票管理, R-CHQ-1…3): the register of cheque books, cheques written in number order
to a holder against an approved request or an approved blank-cheque limit, accounted for into the
bank journal within 5 days, or voided and kept."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from propgroup.approvals import service as approvals
from propgroup.approvals.models import ApprovalRequest, Payment
from propgroup.approvals.policy import SUBJECT_TYPES
from propgroup.approvals.service import now, today
from propgroup.audit.service import record
from propgroup.banking.models import BankAccount, BookEntry
from propgroup.banking.service import read_account
from propgroup.cashdesk import cash
from propgroup.cashdesk.common import optional_text, person_named, signed_by_person, text_of
from propgroup.cashdesk.models import CHEQUE_TYPES, BlankChequeApproval, Cheque, ChequeBook
from propgroup.db import get_by_id
from propgroup.errors import Conflict, Forbidden, InvalidInput, NotFound
from propgroup.identity.authz import can, visible_units
from propgroup.identity.models import User
from propgroup.identity.principals import Principal
from propgroup.identity.service import user_principal
from propgroup.money import to_money
from propgroup.org.models import OrgUnit
from propgroup.reconciliation.periods import check_not_fixed

DAYS_TO_ACCOUNT = 5  # R-CHQ-2: 逾期(超过五天)未报的支票 … 有权停发支票
MAX_NUMBER_DIGITS = 20
FINANCE_ACTIONS = ("banking:cash", "banking:write")  # who may draw cash with a cash cheque


def _open_account(session: Session, principal: Principal, account_id: int) -> BankAccount:
    account = read_account(session, principal, account_id, "banking:cash")
    # FOR SHARE: a closing (FOR UPDATE, then closing_problems) waits for this cheque, or it waits.
    session.refresh(account, with_for_update={"read": True})
    if account.status != "open":
        raise Conflict(
            f"bank account {account.id} is {account.status}: cheques need an open account",
            code="account_not_open",
        )
    return account


# --- the register (R-CHQ-1) ---------------------------------------------------------------


def _number_range(first: object, last: object) -> tuple[str, str]:
    problems: dict[str, list[str]] = {}
    for field, value in (("first_number", first), ("last_number", last)):
        if not (isinstance(value, str) and value.isascii() and value.isdigit()):
            problems[field] = ["digits only"]
        elif len(value) > MAX_NUMBER_DIGITS:
            problems[field] = [f"at most {MAX_NUMBER_DIGITS} digits"]
    if not problems and len(first) != len(last):
        problems["last_number"] = ["as many digits as the first number"]
    elif not problems and first > last:
        problems["last_number"] = ["not before the first number"]
    if problems:
        raise InvalidInput("the cheque numbers are not a range", code="bad_range", errors=problems)
    return first, last


def register_book(
    session: Session,
    principal: Principal,
    *,
    account_id: int,
    received_on: date,
    bank: object,
    cheque_type: object,
    first_number: object,
    last_number: object,
) -> ChequeBook:
    """Enter a cheque book in the register (支票登记簿): the caller is who registered it."""
    signed_by_person(principal)
    _check_type(cheque_type)
    first, last = _number_range(first_number, last_number)
    bank_name = text_of(bank, "bank", max_length=100)
    if received_on > today(session):
        raise InvalidInput(
            "a book is registered once received",
            code="bad_date",
            errors={"received_on": ["future"]},
        )
    account = _open_account(session, principal, account_id)
    session.scalar(select(BankAccount.id).where(BankAccount.id == account.id).with_for_update())
    # Same-length numbers compare as strings the way they compare as numbers.
    clash = session.scalar(
        select(ChequeBook).where(
            ChequeBook.account_id == account.id,
            func.length(ChequeBook.first_number) == len(first),
            ChequeBook.first_number <= last,
            ChequeBook.last_number >= first,
        )
    )
    if clash is not None:
        raise Conflict(
            f"numbers {first}–{last} overlap book {clash.id} ({clash.first_number}–"
            f"{clash.last_number}) of this account",
            code="overlapping_range",
            errors={"first_number": [f"overlaps book {clash.id}"]},
        )
    book = ChequeBook(
        account_id=account.id,
        received_on=received_on,
        bank=bank_name,
        cheque_type=cheque_type,
        first_number=first,
        last_number=last,
        registered_by=principal.id,
    )
    session.add(book)
    session.flush()
    record(
        session, principal, "cashdesk.book_registered", "cheque_book", book.id, after=_book(book)
    )
    return book


def _check_type(cheque_type: object) -> None:
    if not isinstance(cheque_type, str) or cheque_type not in CHEQUE_TYPES:
        raise InvalidInput(
            "a cheque is a cash cheque (cash) or a transfer cheque (transfer)",
            code="bad_cheque_type",
            errors={"cheque_type": list(CHEQUE_TYPES)},
        )


def _book(book: ChequeBook) -> dict[str, Any]:
    return {
        "account_id": book.account_id,
        "cheque_type": book.cheque_type,
        "first_number": book.first_number,
        "last_number": book.last_number,
    }


def books_of(session: Session, principal: Principal, account_id: int) -> list[ChequeBook]:
    read_account(session, principal, account_id)
    return list(
        session.scalars(
            select(ChequeBook)
            .where(ChequeBook.account_id == account_id)
            .order_by(ChequeBook.cheque_type, ChequeBook.first_number)
        )
    )


def used_numbers(session: Session, book: ChequeBook) -> dict[str, Cheque]:
    """The book's numbers written so far; every other number of the range is still blank."""
    return {c.number: c for c in session.scalars(select(Cheque).where(Cheque.book_id == book.id))}


def _next_number(
    session: Session, account: BankAccount, cheque_type: str
) -> tuple[ChequeBook, str]:
    """The lowest unwritten number of the account's books of this type, in book order."""
    books = session.scalars(
        select(ChequeBook)
        .where(ChequeBook.account_id == account.id, ChequeBook.cheque_type == cheque_type)
        .order_by(ChequeBook.received_on, ChequeBook.first_number)
        .with_for_update()
    ).all()
    for book in books:
        last_used = session.scalar(select(func.max(Cheque.number)).where(Cheque.book_id == book.id))
        if last_used is None:
            return book, book.first_number
        if last_used < book.last_number:
            return book, str(int(last_used) + 1).zfill(len(book.first_number))
    raise Conflict(
        f"no unused {CHEQUE_TYPES[cheque_type]} is left in the registered books of this account",
        code="no_cheques_left",
    )


# --- issuing (R-CHQ-2, R-CHQ-3) ------------------------------------------------------------


def _overdue(session: Session):
    """SQL: issued more than 5 days ago and still neither accounted for nor voided (R-CHQ-2)."""
    return and_(
        Cheque.state == "issued",
        Cheque.issued_on < today(session) - timedelta(days=DAYS_TO_ACCOUNT),
    )


def _refuse_overdue_holder(session: Session, holder_id: int, login: str) -> None:
    overdue = session.scalar(
        select(Cheque)
        .where(Cheque.holder_id == holder_id, _overdue(session))
        .order_by(Cheque.issued_on)
        .limit(1)
    )
    if overdue is not None:
        raise Conflict(
            f"{login} has not accounted for cheque {overdue.number} issued on "
            f"{overdue.issued_on} (more than {DAYS_TO_ACCOUNT} days): no new cheque until "
            "it is (R-CHQ-2)",
            code="holder_has_overdue_cheque",
            errors={"cheque_id": overdue.id, "number": overdue.number},
        )


def _payable_request(session: Session, account: BankAccount, request_id: object) -> ApprovalRequest:
    request = (
        get_by_id(session, ApprovalRequest, request_id, lock=True)
        if isinstance(request_id, int)
        else None
    )
    if request is None or request.unit_id != account.unit_id:
        raise InvalidInput(
            f"no request {request_id} of this account's unit",
            code="unknown_request",
            errors={"request_id": ["a request of the account's unit"]},
        )
    if remaining_of(session, request) <= 0:
        raise Conflict(
            f"request {request.id} is paid already (by cheque or otherwise): nothing is left "
            "to write a cheque for",
            code="request_fully_paid",
        )
    if request.request_type in SUBJECT_TYPES or request.status != "approved":
        raise Conflict(
            f"request {request.id} is {request.status}: a cheque pays an approved request",
            code="request_not_approved",
        )
    if request.currency != account.currency:
        raise Conflict(
            f"request {request.id} is in {request.currency}, the account in {account.currency}",
            code="currency_mismatch",
            errors={"request_id": [f"a request in {account.currency}"]},
        )
    return request


def remaining_of(session: Session, request: ApprovalRequest) -> Decimal:
    """What is left to pay of the request: its total less its standing payment (by cash, by
    transfer or by a cheque not voided; one per request, R-APR-6)."""
    paid = session.scalar(
        select(func.coalesce(func.sum(Payment.amount), 0)).where(
            Payment.request_id == request.id, Payment.reversed_at.is_(None)
        )
    )
    return request.total_amount - Decimal(paid)


def issue_cheque(
    session: Session,
    principal: Principal,
    *,
    account_id: int,
    cheque_type: object,
    purpose: object,
    request_id: object = None,
    blank_approval_id: object = None,
    holder: object = None,
    amount: object = None,
    payee: object = None,
) -> Cheque:
    """Write the next cheque of the account's books of this type, to a holder: against an
    approved request, as its payment (approvals.pay: its payer, never its requester or a
    reviewer), or under an approved blank-cheque limit."""
    signed_by_person(principal)
    _check_type(cheque_type)
    if (request_id is None) == (blank_approval_id is None):
        raise InvalidInput(
            "a cheque pays an approved request (request_id) or is a blank cheque with an "
            "approved limit (blank_approval_id)",
            code="request_or_blank",
            errors={"request_id": ["one of request_id, blank_approval_id"]},
        )
    use = text_of(purpose, "purpose")
    account = _open_account(session, principal, account_id)
    if request_id is not None:
        fields = _request_fields(session, account, request_id, holder, amount, payee)
    else:
        fields = _blank_fields(session, account, blank_approval_id)
    holder_user = fields.pop("holder")
    _check_holder(session, principal, account, cheque_type, holder_user)
    _refuse_overdue_holder(session, holder_user.id, holder_user.login)
    book, number = _next_number(session, account, cheque_type)
    if request_id is not None:
        payment = approvals.pay(
            session, principal, fields["request_id"], method="cheque", reference=number
        )
        fields["payment_id"] = payment.id
    cheque = Cheque(
        book_id=book.id,
        account_id=account.id,
        number=number,
        state="issued",
        holder_id=holder_user.id,
        purpose=use,
        issued_on=today(session),
        issued_by=principal.id,
        **fields,
    )
    session.add(cheque)
    session.flush()
    record(session, principal, "cashdesk.cheque_issued", "cheque", cheque.id, after=_state(cheque))
    return cheque


def _request_fields(
    session: Session,
    account: BankAccount,
    request_id: object,
    holder: object,
    amount: object,
    payee: object,
) -> dict[str, Any]:
    """A request cheque is the request's one payment: its whole amount, to its payee (the
    one on the invoice, §10.1.3.8), taken by whoever asked for the money."""
    request = _payable_request(session, account, request_id)
    if amount is not None and to_money(amount, "amount") != request.total_amount:
        raise InvalidInput(
            f"a cheque pays request {request.id} whole: {request.total_amount}",
            code="amount_is_the_request",
            errors={"amount": [str(request.total_amount)]},
        )
    if payee is not None and optional_text(payee, "payee", max_length=200) != request.payee:
        raise InvalidInput(
            f"the payee is the request's: {request.payee}",
            code="payee_mismatch",
            errors={"payee": [request.payee]},
        )
    requester = session.get(User, request.requester_id)
    if holder is not None and person_named(session, holder, "holder").id != requester.id:
        raise InvalidInput(
            f"the cheque of request {request.id} is taken by its requester {requester.login}",
            code="holder_not_requester",
            errors={"holder": [requester.login]},
        )
    return {
        "request_id": request.id,
        "amount": request.total_amount,
        "payee": request.payee,
        "holder": requester,
    }


def _check_holder(
    session: Session, principal: Principal, account: BankAccount, cheque_type: str, holder: User
) -> None:
    """The cashier does not hand a cheque to themselves; a cash cheque goes to finance staff
    only (§10.1.3.9: 现金支票不得交给非财务人员提取现金)."""
    if holder.id == principal.id:
        raise Forbidden(
            "who writes a cheque does not take it (segregation of duties)", code="holder_is_issuer"
        )
    if cheque_type == "cash":
        unit = session.get(OrgUnit, account.unit_id)
        taker = user_principal(holder)
        if not any(can(session, taker, action, unit) for action in FINANCE_ACTIONS):
            raise Conflict(
                f"a cash cheque is drawn by finance staff of {unit.code} only; {holder.login} "
                "is not",
                code="holder_not_finance",
                errors={"holder": ["banking:cash or banking:write at the unit"]},
            )


def _approval(session: Session, approval_id: object, *, lock: bool = False) -> BlankChequeApproval:
    approval = (
        get_by_id(session, BlankChequeApproval, approval_id, lock=lock)
        if isinstance(approval_id, int)
        else None
    )
    if approval is None:
        raise NotFound(f"blank-cheque approval {approval_id} not found", code="approval_not_found")
    return approval


def _blank_fields(session: Session, account: BankAccount, approval_id: object) -> dict[str, Any]:
    approval = _approval(session, approval_id, lock=True)
    if approval.account_id != account.id:
        raise InvalidInput(
            f"blank-cheque approval {approval.id} is for another account",
            code="approval_other_account",
            errors={"blank_approval_id": ["of this account"]},
        )
    if approval.status != "approved":
        raise Conflict(
            f"blank-cheque approval {approval.id} is {approval.status}: a blank cheque is "
            "written only once the finance manager has approved its limit (R-CHQ-3)",
            code="blank_not_approved",
        )
    used = session.scalar(select(Cheque.number).where(Cheque.blank_approval_id == approval.id))
    if used is not None:
        raise Conflict(
            f"blank-cheque approval {approval.id} was used for cheque {used}", code="approval_used"
        )
    return {
        "blank_approval_id": approval.id,
        "limit_amount": approval.limit_amount,
        "holder": session.get(User, approval.holder_id),
    }


def ask_blank_cheque(
    session: Session,
    principal: Principal,
    *,
    account_id: int,
    holder: object,
    limit_amount: object,
    purpose: object,
) -> BlankChequeApproval:
    """The cashier asks the finance manager to approve a blank cheque with a limit for a
    holder (e.g. entertainment or material purchases whose payee and amount are not known)."""
    signed_by_person(principal)
    limit = to_money(limit_amount, "limit_amount")
    use = text_of(purpose, "purpose")
    holder_user = person_named(session, holder, "holder")
    account = _open_account(session, principal, account_id)
    if holder_user.id == principal.id:
        raise Forbidden(
            "who asks for a blank cheque does not take it (segregation of duties)",
            code="holder_is_issuer",
        )
    approval = BlankChequeApproval(
        account_id=account.id,
        holder_id=holder_user.id,
        limit_amount=limit,
        purpose=use,
        status="pending",
        requested_by=principal.id,
    )
    session.add(approval)
    session.flush()
    record(
        session,
        principal,
        "cashdesk.blank_cheque_asked",
        "blank_cheque_approval",
        approval.id,
        after={"holder": holder_user.login, "limit_amount": limit, "purpose": use},
    )
    return approval


def decide_blank_cheque(
    session: Session, principal: Principal, approval_id: int, *, approve: bool, comment: object
) -> BlankChequeApproval:
    """The finance manager (banking:signoff) approves or refuses; never who asked for it."""
    signed_by_person(principal)
    note = optional_text(comment, "comment")
    approval = _approval(session, approval_id, lock=True)
    read_account(session, principal, approval.account_id, "banking:signoff")
    if principal.id in (approval.requested_by, approval.holder_id):
        raise Forbidden(
            "who asked for a blank cheque, or holds it, does not approve it",
            code="segregation_of_duties",
        )
    if approval.status != "pending":
        raise Conflict(f"blank-cheque approval {approval.id} is {approval.status}", code="decided")
    approval.status = "approved" if approve else "refused"
    approval.decided_by, approval.decided_at = principal.id, now()
    approval.comment = note
    session.flush()
    record(
        session,
        principal,
        f"cashdesk.blank_cheque_{approval.status}",
        "blank_cheque_approval",
        approval.id,
        after={"comment": approval.comment},
    )
    return approval


# --- accounting for and voiding --------------------------------------------------------------


def _issued_cheque(session: Session, principal: Principal, cheque_id: int) -> Cheque:
    cheque = get_by_id(session, Cheque, cheque_id, lock=True)
    if cheque is None:
        raise NotFound(f"cheque {cheque_id} not found", code="cheque_not_found")
    read_account(session, principal, cheque.account_id, "banking:cash")
    if cheque.state != "issued":
        raise Conflict(f"cheque {cheque.number} is {cheque.state}", code=f"cheque_{cheque.state}")
    return cheque


def account_for(
    session: Session,
    principal: Principal,
    cheque_id: int,
    *,
    paid_on: date,
    amount: object = None,
    payee: object = None,
) -> Cheque:
    """The holder brings back the stub and receipt (报账): the amount paid goes out of the
    account's bank journal; a cash cheque's cash goes into the unit's cash book. A request
    cheque was written for its amount and payee, which stay; a blank cheque takes both here,
    the amount within its limit."""
    signed_by_person(principal)
    cheque = _issued_cheque(session, principal, cheque_id)
    session.get(BankAccount, cheque.account_id, with_for_update={"read": True})  # see _open_account
    if cheque.blank_approval_id is not None:
        value, payee_name = _blank_payment(cheque, amount, payee)
    else:
        value, payee_name = _written_payment(cheque, amount, payee)
    if not cheque.issued_on <= paid_on <= today(session):
        raise InvalidInput(
            "the payment date is between the issue date and today",
            code="bad_date",
            errors={"paid_on": [f"{cheque.issued_on} to {today(session)}"]},
        )
    check_not_fixed(session, cheque.account_id, [paid_on])  # R-BNK-5: a reconciled month
    entry = BookEntry(
        account_id=cheque.account_id,
        entry_date=paid_on,
        amount=-value,
        reference=cheque.number,
        counterparty=payee_name,
        description=cheque.purpose,
        source="cheque",
        created_by=principal.id,
    )
    session.add(entry)
    session.flush()
    before = _state(cheque)
    cheque.state, cheque.amount, cheque.payee = "accounted", value, payee_name
    cheque.accounted_on, cheque.accounted_by, cheque.book_entry_id = paid_on, principal.id, entry.id
    session.flush()
    if session.get(ChequeBook, cheque.book_id).cheque_type == "cash":
        _into_cash_box(session, principal, cheque, paid_on)
    record(
        session,
        principal,
        "cashdesk.cheque_accounted",
        "cheque",
        cheque.id,
        before=before,
        after=_state(cheque),
    )
    return cheque


def _blank_payment(cheque: Cheque, amount: object, payee: object) -> tuple[Decimal, str]:
    value = to_money(amount, "amount")
    if value > cheque.limit_amount:
        raise InvalidInput(
            f"{value} is over the cheque's limit of {cheque.limit_amount}",
            code="over_limit",
            errors={"amount": [f"at most {cheque.limit_amount}"]},
        )
    return value, text_of(payee, "payee", max_length=200)


def _written_payment(cheque: Cheque, amount: object, payee: object) -> tuple[Decimal, str]:
    if amount is not None and to_money(amount, "amount") != cheque.amount:
        raise InvalidInput(
            f"cheque {cheque.number} was written for {cheque.amount}: only a blank cheque "
            "takes its amount when accounted for",
            code="amount_is_the_cheque",
            errors={"amount": [str(cheque.amount)]},
        )
    if payee is not None and optional_text(payee, "payee", max_length=200) != cheque.payee:
        raise InvalidInput(
            f"cheque {cheque.number} was written to {cheque.payee}",
            code="payee_mismatch",
            errors={"payee": [cheque.payee]},
        )
    return cheque.amount, cheque.payee


def _into_cash_box(session: Session, principal: Principal, cheque: Cheque, day: date) -> None:
    """A cash cheque draws cash from the bank into the unit's cash box (提现)."""
    unit = session.get(OrgUnit, session.get(BankAccount, cheque.account_id).unit_id)
    cash.lock_box(session, unit)
    cash.add_entry(
        session,
        principal,
        unit,
        amount=cheque.amount,
        description=f"现金支票提现 {cheque.purpose}"[:500],
        reference=cheque.number,
        source="cheque",
        entry_date=day,
    )


def void_cheque(
    session: Session, principal: Principal, cheque_id: int, *, reason: object
) -> Cheque:
    """Stamp the cheque 作废 (R-CHQ-3): it stays in the register with its reason."""
    signed_by_person(principal)
    why = text_of(reason, "reason")
    cheque = _issued_cheque(session, principal, cheque_id)
    if cheque.payment_id is not None:  # the request was never paid: it waits for payment again
        approvals.reverse_payment(session, principal, cheque.request_id, reason=why)
    cheque.state, cheque.void_reason = "voided", why
    cheque.voided_on, cheque.voided_by = today(session), principal.id
    session.flush()
    record(session, principal, "cashdesk.cheque_voided", "cheque", cheque.id, after=_state(cheque))
    return cheque


def _state(cheque: Cheque) -> dict[str, Any]:
    return {
        "number": cheque.number,
        "state": cheque.state,
        "holder_id": cheque.holder_id,
        "amount": cheque.amount,
        "limit_amount": cheque.limit_amount,
        "payee": cheque.payee,
        "void_reason": cheque.void_reason,
    }


# --- reading ------------------------------------------------------------------------------------


def outstanding_cheques(session: Session, account_id: int) -> list[Cheque]:
    """Cheques of the account issued and neither accounted for nor voided: an account with
    any cannot be closed (R-BNK-1), and they are the reconciliation's outstanding cheques."""
    return list(
        session.scalars(
            select(Cheque)
            .where(Cheque.account_id == account_id, Cheque.state == "issued")
            .order_by(Cheque.number)
        )
    )


def is_overdue(session: Session, cheque: Cheque) -> bool:
    return cheque.state == "issued" and (today(session) - cheque.issued_on).days > DAYS_TO_ACCOUNT


def visible_cheques(
    session: Session,
    principal: Principal,
    *,
    account_id: int | None = None,
    state: str | None = None,
    overdue: bool = False,
) -> Select[tuple[Cheque]]:
    query = (
        select(Cheque)
        .join(BankAccount, BankAccount.id == Cheque.account_id)
        .join(OrgUnit, OrgUnit.id == BankAccount.unit_id)
        .where(visible_units(session, principal, "banking:read"))
    )
    if account_id is not None:
        query = query.where(Cheque.account_id == account_id)
    if state is not None:
        query = query.where(Cheque.state == state)
    if overdue:
        query = query.where(_overdue(session))
    return query.order_by(Cheque.account_id, Cheque.number.desc())


def visible_blank_approvals(
    session: Session, principal: Principal, *, account_id: int | None = None
) -> Select[tuple[BlankChequeApproval]]:
    query = (
        select(BlankChequeApproval)
        .join(BankAccount, BankAccount.id == BlankChequeApproval.account_id)
        .join(OrgUnit, OrgUnit.id == BankAccount.unit_id)
        .where(visible_units(session, principal, "banking:read"))
    )
    if account_id is not None:
        query = query.where(BlankChequeApproval.account_id == account_id)
    return query.order_by(BlankChequeApproval.id.desc())
