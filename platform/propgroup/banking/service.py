"""Reading bank accounts: who sees which account, its number in the clear or masked, and its
book balance. The lifecycle (requests), reconciliation, cheques and cash build on these."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from propgroup.banking import numbers
from propgroup.banking.models import BankAccount, BookEntry
from propgroup.db import get_by_id
from propgroup.errors import NotFound
from propgroup.identity.authz import authorize, can, visible_units
from propgroup.identity.principals import Principal
from propgroup.org.models import OrgUnit


def account_not_found(account_id: int) -> NotFound:
    return NotFound(f"bank account {account_id} not found", code="account_not_found")


def read_account(
    session: Session, principal: Principal, account_id: int, action: str = "banking:read"
) -> BankAccount:
    """The account, if ``principal`` may ``action`` at its unit; another unit's account is
    refused as not found, so ids do not tell what exists elsewhere."""
    account = get_by_id(session, BankAccount, account_id)
    if account is None:
        raise account_not_found(account_id)
    unit = session.get(OrgUnit, account.unit_id)
    if not can(session, principal, "banking:read", unit):
        raise account_not_found(account_id)
    authorize(session, principal, action, unit)
    return account


def may_read(session: Session, principal: Principal, account: BankAccount) -> bool:
    return can(session, principal, "banking:read", session.get(OrgUnit, account.unit_id))


def visible_accounts(session: Session, principal: Principal) -> Select[tuple[BankAccount]]:
    return (
        select(BankAccount)
        .join(OrgUnit, OrgUnit.id == BankAccount.unit_id)
        .where(visible_units(session, principal, "banking:read"))
        .order_by(OrgUnit.path, BankAccount.id)
    )


def shown_number(session: Session, principal: Principal, account: BankAccount) -> str | None:
    """The number in the clear for the unit's finance roles, masked for everyone else."""
    if account.number_cipher is None:
        return None
    unit = session.get(OrgUnit, account.unit_id)
    if can(session, principal, "banking:numbers", unit):
        return numbers.decrypt(session, account.number_cipher)
    return numbers.masked(account.number_last4)


def journal_balance(
    session: Session,
    amount: ColumnElement[Decimal],
    day: ColumnElement[date],
    owner: ColumnElement[bool],
    as_of: date | None = None,
) -> Decimal:
    """A journal's balance (the sum of its signed amounts) at the end of ``as_of``, every entry
    when None: the bank journal of an account, the cash book of a unit."""
    total = select(func.coalesce(func.sum(amount), 0)).where(owner)
    if as_of is not None:
        total = total.where(day <= as_of)
    return Decimal(session.scalar(total))


def book_balance(session: Session, account_id: int, as_of: date | None = None) -> Decimal:
    """The bank journal's balance at the end of ``as_of`` (every entry when None)."""
    return journal_balance(
        session, BookEntry.amount, BookEntry.entry_date, BookEntry.account_id == account_id, as_of
    )


def last_entry_on(session: Session, account_id: int) -> date | None:
    """The day of the account's latest journal entry: what dormancy (R-BNK-4) counts from."""
    return session.scalar(
        select(func.max(BookEntry.entry_date)).where(BookEntry.account_id == account_id)
    )
