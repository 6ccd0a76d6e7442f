"""Bank accounts and journal entries made directly with the models, for the fund report's tests
(the lifecycle requests that open accounts are another engineer's)."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from propgroup.banking import numbers
from propgroup.banking.models import BankAccount, BookEntry
from propgroup.org import service as org

_numbers = itertools.count(6222_0000_0000_1000)


def open_account(
    session: Session,
    unit: str,
    *,
    account_type: str = "general",
    currency: str = "CNY",
    opened_on: date = date(2020, 1, 1),
    closed_on: date | None = None,
    bank: str = "工商银行",
) -> BankAccount:
    """An open (or closed) account of the unit with code ``unit``, its number encrypted."""
    number = str(next(_numbers))
    account = BankAccount(
        unit_id=org.get_unit_by_code(session, unit).id,
        bank=bank,
        bank_branch="上海分行",
        account_name=f"{unit} {account_type} {currency}",
        account_type=account_type,
        currency=currency,
        purpose="settlement",
        number_cipher=numbers.encrypt(session, number),
        number_digest=numbers.digest(session, number),
        number_last4=number[-4:],
        status="closed" if closed_on else "open",
        opened_on=opened_on,
        closed_on=closed_on,
    )
    session.add(account)
    session.flush()
    return account


def book(session: Session, account: BankAccount, day: date, amount: str) -> BookEntry:
    """A journal line: positive money in, negative money out."""
    entry = BookEntry(
        account_id=account.id, entry_date=day, amount=Decimal(amount), source="manual"
    )
    session.add(entry)
    session.flush()
    return entry
