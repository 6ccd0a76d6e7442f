"""Bank accounts and journal entries made directly with the models, for the fund report's tests
(the lifecycle requests that open accounts are another engineer's)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from propgroup.banking.models import BankAccount, BookEntry


def book(session: Session, account: BankAccount, day: date, amount: str) -> BookEntry:
    """A journal line: positive money in, negative money out."""
    entry = BookEntry(
        account_id=account.id, entry_date=day, amount=Decimal(amount), source="manual"
    )
    session.add(entry)
    session.flush()
    return entry
