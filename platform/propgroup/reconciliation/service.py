"""The monthly bank balance reconciliation statement (银行存款余额调节表, R-BNK-5).

For an account and a month, as at the month's last day:

    book balance (日记账余额)                 bank statement balance (对账单余额)
  + bank credits not yet booked (银行已收企业未收)  + deposits in transit (企业已收银行未收)
  - bank charges not yet booked (银行已付企业未付)  - outstanding payments (企业已付银行未付)
  = adjusted book balance              ==  adjusted bank balance

A journal entry dated in or before the month without a statement line matched to it by the
month's end is in transit (bank side); a statement line so unmatched is not yet booked (book
side). Because items keep their sign (+ in, − out), each item is simply added to the side it
adjusts. Hand-entered items carry their reason. The two adjusted balances must agree to the cent
before the statement is submitted; the finance manager, another person, signs it off
(banking:signoff), and the signed statement and the month's bank statements are filed as
archives. Months are reconciled in order, each once, from the account's first month: prepared,
submitted and signed off each only after the month before is signed.

Who prepares: the seed (§6.5.1.2, 出纳每月末与会计核对…编制《银行存款余额调节表》) has the cashier
draw up the statement with the accountant. Here finance prepares it (banking:write) and the
cashier does not: the cashier keeps the cash and cheques, and R-ORG-3 keeps whoever handles the
money away from the books that check it; the cashier lacks banking:write for that reason.

Segregation (R-BNK-5): the preparer on record stays whoever drew the statement up; the submitter
is recorded apart; the signer is none of preparer, submitter, or author of a hand-entered item.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, case, delete, exists, func, insert, select
from sqlalchemy.orm import Session

from propgroup.approvals.service import now, today
from propgroup.audit.service import record
from propgroup.banking.models import BankAccount, BookEntry
from propgroup.banking.service import book_balance, read_account
from propgroup.db import get_by_id
from propgroup.errors import Conflict, Forbidden, InvalidInput, NotFound
from propgroup.identity.authz import authorize
from propgroup.identity.models import User
from propgroup.identity.principals import Principal
from propgroup.money import to_money
from propgroup.org import service as org
from propgroup.reconciliation import filing
from propgroup.reconciliation.models import (
    BankMatch,
    BankStatement,
    Reconciliation,
    ReconcilingItem,
    StatementLine,
)
from propgroup.reconciliation.periods import (
    FIXED_STATUSES,
    first_month,
    label,
    month_end,
    next_month,
    parse_month,
    previous_month,
)
from propgroup.storage.blobstore import BlobStore

BOOK_SIDE = ("bank_credit", "bank_charge", "manual_book")  # items adjusting the book balance
BANK_SIDE = ("deposit_in_transit", "outstanding_payment", "manual_bank")
MANUAL_KINDS = {"book": "manual_book", "bank": "manual_bank"}


@dataclass(frozen=True)
class Figures:
    book_balance: Decimal
    bank_balance: Decimal | None
    adjusted_book: Decimal
    adjusted_bank: Decimal | None

    @property
    def difference(self) -> Decimal | None:
        return None if self.adjusted_bank is None else self.adjusted_book - self.adjusted_bank


def figures_of(rec: Reconciliation) -> Figures:
    return Figures(rec.book_balance, rec.bank_balance, rec.adjusted_book, rec.adjusted_bank)


# --- the bank side's balance --------------------------------------------------------------


def stated_balance(session: Session, account_id: int, day: date) -> Decimal | None:
    """The bank's balance at the end of ``day``: the latest balance a statement states (a
    line's balance column, or a statement's closing balance) plus any lines after it."""
    in_time = case(
        (BankStatement.newest_first, -StatementLine.line_no), else_=StatementLine.line_no
    )
    line = session.execute(
        select(StatementLine.value_date, StatementLine.balance)
        .join(BankStatement, BankStatement.id == StatementLine.statement_id)
        .where(
            StatementLine.account_id == account_id,
            StatementLine.balance.is_not(None),
            StatementLine.value_date <= day,
        )
        .order_by(
            StatementLine.value_date.desc(), StatementLine.statement_id.desc(), in_time.desc()
        )
        .limit(1)
    ).first()
    closing = session.execute(
        select(BankStatement.last_day, BankStatement.closing_balance)
        .where(
            BankStatement.account_id == account_id,
            BankStatement.closing_balance.is_not(None),
            BankStatement.last_day <= day,
        )
        .order_by(BankStatement.last_day.desc(), BankStatement.id.desc())
        .limit(1)
    ).first()
    # On the same day the statement's closing balance (after its last transaction) wins.
    known = max((found for found in (closing, line) if found), default=None, key=lambda f: f[0])
    if known is None:
        return None
    later = session.scalar(
        select(func.coalesce(func.sum(StatementLine.amount), 0)).where(
            StatementLine.account_id == account_id,
            StatementLine.value_date > known[0],
            StatementLine.value_date <= day,
        )
    )
    return known[1] + Decimal(later)


# --- reconciling items --------------------------------------------------------------------


def _open_entries(account_id: int, end: date) -> Select:
    """Journal entries up to ``end`` not cleared by ``end`` (a match effective by then).
    The opening entry carries a balance over from before the system, not a transaction."""
    cleared = exists(
        select(BankMatch.id).where(
            BankMatch.book_entry_id == BookEntry.id, BankMatch.effective_on <= end
        )
    )
    return select(BookEntry).where(
        BookEntry.account_id == account_id,
        BookEntry.entry_date <= end,
        BookEntry.source != "opening",
        ~cleared,
    )


def _open_lines(account_id: int, end: date) -> Select:
    booked = exists(
        select(BankMatch.id).where(
            BankMatch.statement_line_id == StatementLine.id, BankMatch.effective_on <= end
        )
    )
    return select(StatementLine).where(
        StatementLine.account_id == account_id, StatementLine.value_date <= end, ~booked
    )


def _derived_items(session: Session, rec: Reconciliation) -> list[dict[str, Any]]:
    end = month_end(rec.month)
    items = [
        {
            "kind": "deposit_in_transit" if entry.amount > 0 else "outstanding_payment",
            "on_day": entry.entry_date,
            "amount": entry.amount,
            "book_entry_id": entry.id,
            "reference": entry.reference,
            "description": entry.description or entry.counterparty,
        }
        for entry in session.scalars(_open_entries(rec.account_id, end))
    ]
    items += [
        {
            "kind": "bank_credit" if line.amount > 0 else "bank_charge",
            "on_day": line.value_date,
            "amount": line.amount,
            "statement_line_id": line.id,
            "reference": line.reference,
            "description": line.description or line.counterparty,
        }
        for line in session.scalars(_open_lines(rec.account_id, end))
    ]
    return [{"reconciliation_id": rec.id, **item} for item in items]


OLD_ITEM_DAYS = 60  # an item open longer than this is chased (flagged on the statement)


def old_items(rec: Reconciliation, items: list[ReconcilingItem]) -> set[int]:
    """The items open more than OLD_ITEM_DAYS at the month's end."""
    end = month_end(rec.month)
    return {item.id for item in items if (end - item.on_day).days > OLD_ITEM_DAYS}


def items_of(session: Session, rec: Reconciliation) -> list[ReconcilingItem]:
    return list(
        session.scalars(
            select(ReconcilingItem)
            .where(ReconcilingItem.reconciliation_id == rec.id)
            .order_by(ReconcilingItem.kind, ReconcilingItem.on_day, ReconcilingItem.id)
        )
    )


def people_of(session: Session, rec: Reconciliation) -> dict[int, User]:
    """The preparer and the signer, by id, for the form's signature lines."""
    wanted = [user_id for user_id in (rec.prepared_by, rec.submitted_by, rec.signed_by) if user_id]
    return {user.id: user for user in session.scalars(select(User).where(User.id.in_(wanted)))}


def _side_total(session: Session, rec: Reconciliation, kinds: tuple[str, ...]) -> Decimal:
    return Decimal(
        session.scalar(
            select(func.coalesce(func.sum(ReconcilingItem.amount), 0)).where(
                ReconcilingItem.reconciliation_id == rec.id, ReconcilingItem.kind.in_(kinds)
            )
        )
    )


def _recompute(session: Session, rec: Reconciliation) -> None:
    """Items and balances again from the journal, the statements and the matches."""
    end = month_end(rec.month)
    session.execute(
        delete(ReconcilingItem).where(
            ReconcilingItem.reconciliation_id == rec.id,
            ReconcilingItem.kind.not_in(tuple(MANUAL_KINDS.values())),
        )
    )
    derived = _derived_items(session, rec)
    if derived:
        session.execute(insert(ReconcilingItem), derived)
    rec.book_balance = book_balance(session, rec.account_id, end)
    if not rec.bank_balance_entered:
        rec.bank_balance = stated_balance(session, rec.account_id, end)
    rec.adjusted_book = rec.book_balance + _side_total(session, rec, BOOK_SIDE)
    rec.adjusted_bank = (
        None
        if rec.bank_balance is None
        else rec.bank_balance + _side_total(session, rec, BANK_SIDE)
    )
    session.flush()


# --- reading ------------------------------------------------------------------------------


def read_reconciliation(
    session: Session, principal: Principal, rec_id: int, action: str = "banking:read"
) -> tuple[Reconciliation, BankAccount]:
    rec = get_by_id(session, Reconciliation, rec_id)
    if rec is None:
        raise NotFound(f"reconciliation {rec_id} not found", code="reconciliation_not_found")
    try:
        account = read_account(session, principal, rec.account_id, action)
    except NotFound as error:  # another unit's: as if it did not exist
        raise NotFound(
            f"reconciliation {rec_id} not found", code="reconciliation_not_found"
        ) from error
    return rec, account


def reconciliations_of(session: Session, account_id: int) -> list[Reconciliation]:
    return list(
        session.scalars(
            select(Reconciliation)
            .where(Reconciliation.account_id == account_id)
            .order_by(Reconciliation.month.desc())
        )
    )


def _draft(rec: Reconciliation) -> None:
    if rec.status != "draft":
        raise Conflict(
            f"the reconciliation of {label(rec.month)} is {rec.status}: its figures are fixed",
            code="not_draft",
        )


def _entered_balance(raw: object) -> Decimal | None:
    if raw is None or raw == "":
        return None
    return to_money(raw, "bank_balance", signed=True, allow_zero=True)


# --- preparing ----------------------------------------------------------------------------


def _check_month(session: Session, account: BankAccount, month: date) -> None:
    """A month that has ended, the account's (opened, not closed before it), not reconciled
    yet, and the next in order: the account's first month, or the one after the latest."""
    if month_end(month) >= today(session):
        raise InvalidInput(
            f"{label(month)} has not ended yet", code="month_not_ended", errors={"month": ["open"]}
        )
    if account.opened_on is not None and month_end(month) < account.opened_on:
        raise InvalidInput(
            f"the account was opened on {account.opened_on}, after {label(month)}",
            code="before_opening",
            errors={"month": [label(month)]},
        )
    if account.closed_on is not None and month > account.closed_on:
        raise InvalidInput(
            f"the account was closed on {account.closed_on}, before {label(month)}",
            code="after_closure",
            errors={"month": [label(month)]},
        )
    existing = session.scalar(
        select(Reconciliation).where(
            Reconciliation.account_id == account.id, Reconciliation.month == month
        )
    )
    if existing is not None:
        raise Conflict(
            f"{label(month)} is reconciled already (reconciliation {existing.id}, "
            f"{existing.status})",
            code="reconciled_already",
            errors={"month": [label(month)]},
        )
    latest = session.scalar(
        select(func.max(Reconciliation.month)).where(Reconciliation.account_id == account.id)
    )
    expected = next_month(latest) if latest is not None else first_month(session, account)
    if expected is not None and month != expected:
        raise Conflict(
            f"months are reconciled in order: {label(expected)} comes next, not {label(month)}",
            code="out_of_order",
            errors={"month": [label(expected)]},
        )


def _previous_signed(session: Session, rec: Reconciliation, account: BankAccount) -> None:
    """The month before is signed off, unless this is the account's first month."""
    before = previous_month(rec.month)
    signed = session.scalar(
        select(Reconciliation.status).where(
            Reconciliation.account_id == rec.account_id, Reconciliation.month == before
        )
    )
    first = first_month(session, account)
    if signed != "signed" and (first is None or rec.month > first):
        raise Conflict(
            f"{label(before)} is not signed off yet: months are signed off in order",
            code="out_of_order",
            errors={"month": [label(before)]},
        )


def _nothing_fixed_after(session: Session, rec: Reconciliation) -> None:
    later = session.scalar(
        select(func.min(Reconciliation.month)).where(
            Reconciliation.account_id == rec.account_id,
            Reconciliation.month > rec.month,
            Reconciliation.status.in_(FIXED_STATUSES),
        )
    )
    if later is not None:
        raise Conflict(
            f"{label(later)} is fixed after {label(rec.month)}: send that month back first",
            code="later_month_fixed",
            errors={"month": [label(later)]},
        )


def _locked(
    session: Session, principal: Principal, rec_id: int, action: str = "banking:read"
) -> tuple[Reconciliation, BankAccount]:
    """The reconciliation with its account FOR UPDATE: writers of the two sides (FOR SHARE,
    periods.check_not_fixed) are waited for and then see the month fixed."""
    rec, account = read_reconciliation(session, principal, rec_id, action)
    session.refresh(account, with_for_update=True)
    session.refresh(rec, with_for_update=True)
    return rec, account


def prepare(
    session: Session,
    principal: Principal,
    account_id: int,
    month: object,
    bank_balance: object = None,
) -> Reconciliation:
    """Draw up the month's statement (a draft) from the journal, statements and matches; the
    bank balance comes from the statements unless entered."""
    _people_only(principal)
    account = read_account(session, principal, account_id, "banking:write")
    session.refresh(account, with_for_update=True)  # one preparation of a month at a time
    first = parse_month(month)
    if account.status == "pending":
        raise Conflict(f"bank account {account.id} is not open yet", code="account_not_open")
    _check_month(session, account, first)
    entered = _entered_balance(bank_balance)
    rec = Reconciliation(
        account_id=account.id,
        month=first,
        status="draft",
        book_balance=Decimal(0),
        adjusted_book=Decimal(0),
        bank_balance=entered,
        bank_balance_entered=entered is not None,
        prepared_by=principal.id,
    )
    session.add(rec)
    session.flush()
    _recompute(session, rec)
    record(
        session,
        principal,
        "reconciliation.prepared",
        "bank_reconciliation",
        rec.id,
        after={"account": account.id, "month": label(first), **_summary(rec)},
    )
    return rec


def _summary(rec: Reconciliation) -> dict[str, Any]:
    figures = figures_of(rec)
    return {
        "book_balance": figures.book_balance,
        "bank_balance": figures.bank_balance,
        "adjusted_book": figures.adjusted_book,
        "adjusted_bank": figures.adjusted_bank,
        "difference": figures.difference,
    }


def _people_only(principal: Principal) -> None:
    """A reconciliation is prepared and signed by people, whose names it carries."""
    if principal.kind != "user":
        raise Forbidden("reconciliations are prepared and signed by people", code="people_only")


def refresh(
    session: Session, principal: Principal, rec_id: int, bank_balance: object = None
) -> Reconciliation:
    """Recompute a draft after new matches or entries; ``bank_balance`` entered, or None to
    take it from the statements again."""
    _people_only(principal)
    rec, _account = read_reconciliation(session, principal, rec_id, "banking:write")
    session.refresh(rec, with_for_update=True)
    _draft(rec)
    entered = _entered_balance(bank_balance)
    rec.bank_balance, rec.bank_balance_entered = entered, entered is not None
    _recompute(session, rec)
    record(
        session,
        principal,
        "reconciliation.refreshed",
        "bank_reconciliation",
        rec.id,
        after=_summary(rec),
    )
    return rec


def add_item(
    session: Session,
    principal: Principal,
    rec_id: int,
    *,
    side: object,
    amount: object,
    reason: object,
    on_day: date | None = None,
) -> ReconcilingItem:
    """A reconciling item entered by hand on the book or bank side, with its reason."""
    _people_only(principal)
    rec, _account = read_reconciliation(session, principal, rec_id, "banking:write")
    session.refresh(rec, with_for_update=True)
    _draft(rec)
    if not isinstance(side, str) or side not in MANUAL_KINDS:  # JSON may send a list
        raise InvalidInput("side is book or bank", code="bad_item", errors={"side": ["book|bank"]})
    value = to_money(amount, "amount", signed=True)
    text = reason.strip() if isinstance(reason, str) else ""
    if not 1 <= len(text) <= 500:
        raise InvalidInput(
            "a hand-entered item says why (1-500 characters)",
            code="reason_required",
            errors={"reason": ["required"]},
        )
    item = ReconcilingItem(
        reconciliation_id=rec.id,
        kind=MANUAL_KINDS[side],
        on_day=on_day or month_end(rec.month),
        amount=value,
        reason=text,
        created_by=principal.id,
    )
    session.add(item)
    session.flush()
    _recompute(session, rec)
    record(
        session,
        principal,
        "reconciliation.item_added",
        "bank_reconciliation",
        rec.id,
        after={"item": item.id, "side": side, "amount": value, "reason": text},
    )
    return item


def remove_item(session: Session, principal: Principal, rec_id: int, item_id: int) -> None:
    _people_only(principal)
    rec, _account = read_reconciliation(session, principal, rec_id, "banking:write")
    session.refresh(rec, with_for_update=True)
    _draft(rec)
    item = get_by_id(session, ReconcilingItem, item_id)
    if item is None or item.reconciliation_id != rec.id or item.reason is None:
        raise NotFound(
            f"no hand-entered item {item_id} on this reconciliation", code="item_not_found"
        )
    before = {"item": item.id, "kind": item.kind, "amount": item.amount, "reason": item.reason}
    session.delete(item)
    session.flush()
    _recompute(session, rec)
    record(
        session,
        principal,
        "reconciliation.item_removed",
        "bank_reconciliation",
        rec.id,
        before=before,
    )


def submit(session: Session, principal: Principal, rec_id: int) -> Reconciliation:
    """Fix the figures for sign-off: only when the adjusted balances agree to the cent and the
    month before is signed. The preparer on record stays; the submitter is recorded beside."""
    _people_only(principal)
    rec, account = _locked(session, principal, rec_id, "banking:write")
    _draft(rec)
    _previous_signed(session, rec, account)
    _recompute(session, rec)
    difference = figures_of(rec).difference
    if difference is None:
        raise Conflict(
            "no bank statement balance for the month's end: import the statement or enter it",
            code="no_bank_balance",
            errors={"bank_balance": ["unknown"]},
        )
    if difference != 0:
        raise Conflict(
            f"the adjusted balances differ by {difference} "
            f"(book {rec.adjusted_book}, bank {rec.adjusted_bank})",
            code="not_balanced",
            errors={"difference": [str(difference)]},
        )
    rec.status, rec.submitted_at, rec.submitted_by = "submitted", now(), principal.id
    session.flush()
    record(
        session,
        principal,
        "reconciliation.submitted",
        "bank_reconciliation",
        rec.id,
        after=_summary(rec),
    )
    return rec


def send_back(
    session: Session, principal: Principal, rec_id: int, reason: object
) -> Reconciliation:
    """A submitted statement back to draft (the reviewer found a mistake), with the reason: the
    reviewer's act (banking:signoff), and not while a later month is fixed on top of it."""
    _people_only(principal)
    rec, account = _locked(session, principal, rec_id)
    authorize(session, principal, "banking:signoff", org.get_unit(session, account.unit_id))
    if rec.status != "submitted":
        raise Conflict(
            f"only a submitted reconciliation goes back (this is {rec.status})",
            code="not_submitted",
        )
    _nothing_fixed_after(session, rec)
    text = reason.strip() if isinstance(reason, str) else ""
    if not 1 <= len(text) <= 2000:
        raise InvalidInput(
            "say why it goes back", code="reason_required", errors={"reason": ["required"]}
        )
    rec.status, rec.submitted_at, rec.submitted_by = "draft", None, None
    session.flush()
    record(
        session,
        principal,
        "reconciliation.sent_back",
        "bank_reconciliation",
        rec.id,
        after={"reason": text},
    )
    return rec


def _second_person(session: Session, rec: Reconciliation, principal: Principal) -> None:
    """R-BNK-5: the signer checks others' work, so took no part in it."""
    authors = session.scalars(
        select(ReconcilingItem.created_by).where(
            ReconcilingItem.reconciliation_id == rec.id, ReconcilingItem.created_by.is_not(None)
        )
    )
    if principal.id in {rec.prepared_by, rec.submitted_by, *authors}:
        raise Forbidden(
            "whoever prepared, submitted or entered an item of a reconciliation does not sign "
            "it off (R-BNK-5)",
            code="second_person",
        )


def sign_off(
    session: Session, store: BlobStore, principal: Principal, rec_id: int
) -> Reconciliation:
    """The finance manager's sign-off (R-BNK-5): banking:signoff at the account's unit, never
    one who prepared, submitted or entered an item of it, and the month before signed. The
    signed statement and the month's bank statements are filed as archives."""
    _people_only(principal)
    rec, account = _locked(session, principal, rec_id)
    unit = org.get_unit(session, account.unit_id)
    authorize(session, principal, "banking:signoff", unit)
    if rec.status != "submitted":
        raise Conflict(
            f"only a submitted reconciliation is signed off (this is {rec.status})",
            code="not_submitted",
        )
    _second_person(session, rec, principal)
    _previous_signed(session, rec, account)
    rec.status, rec.signed_by, rec.signed_at = "signed", principal.id, now()
    session.flush()
    rec.archive_item_id = filing.file_signed(
        session,
        store,
        principal,
        rec,
        account,
        unit,
        items_of(session, rec),
        people_of(session, rec),
    )
    session.flush()
    record(
        session,
        principal,
        "reconciliation.signed_off",
        "bank_reconciliation",
        rec.id,
        after={**_summary(rec), "archive_item": rec.archive_item_id},
    )
    return rec
