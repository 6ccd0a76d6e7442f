"""Months of reconciliation: a month is named by its first day; once a month's reconciliation is
submitted its figures are fixed, so nothing dated in it or before may be added or re-matched.

Every writer of journal entries or statement lines holds the account FOR SHARE while it checks
and writes (``check_not_fixed``); submitting, sending back and signing off hold it FOR UPDATE,
so a month cannot be fixed between a writer's check and its commit."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from propgroup.banking.models import BankAccount, BookEntry
from propgroup.errors import Conflict, InvalidInput
from propgroup.reconciliation.models import Reconciliation

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
FIXED_STATUSES = ("submitted", "signed")


def parse_month(value: object) -> date:
    """``2025-01`` → 2025-01-01; InvalidInput for anything else."""
    found = _MONTH.match(value.strip()) if isinstance(value, str) else None
    if found is None or not 1 <= int(found[2]) <= 12 or int(found[1]) < 2000:
        raise InvalidInput(
            "a month is written YYYY-MM", code="bad_month", errors={"month": ["YYYY-MM"]}
        )
    return date(int(found[1]), int(found[2]), 1)


def month_end(month: date) -> date:
    return next_month(month) - timedelta(days=1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def previous_month(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def label(month: date) -> str:
    return f"{month:%Y-%m}"


def fixed_through(session: Session, account_id: int) -> date | None:
    """The last day of the latest month whose reconciliation is submitted or signed."""
    latest = session.scalar(
        select(func.max(Reconciliation.month)).where(
            Reconciliation.account_id == account_id,
            Reconciliation.status.in_(FIXED_STATUSES),
        )
    )
    return None if latest is None else month_end(latest)


def month_of(day: date) -> date:
    return date(day.year, day.month, 1)


def first_month(session: Session, account: BankAccount) -> date | None:
    """The account's first month to reconcile: the month its opening entry (期初余额, a balance
    carried over from before the system) leads into, else the month it was opened."""
    opening = session.scalar(
        select(func.min(BookEntry.entry_date)).where(
            BookEntry.account_id == account.id, BookEntry.source == "opening"
        )
    )
    return starting_month(opening, account.opened_on)


def starting_month(opening_entry_on: date | None, opened_on: date | None) -> date | None:
    if opening_entry_on is not None:  # the balance as at that day: the next day's month
        return month_of(opening_entry_on + timedelta(days=1))
    return None if opened_on is None else month_of(opened_on)


def check_not_fixed(session: Session, account_id: int, days: Iterable[date]) -> None:
    """Refuse rows dated in a month whose reconciliation is submitted or signed off. Takes the
    account FOR SHARE first, held to the commit: a submit waits for the writer, and the writer
    sees any submit before it. Refused rather than moved into the first open month: the
    journal and the statement keep the dates things happened, and a signed statement's items
    stay as signed; the accountant sends the month back or books an adjustment dated now."""
    session.get(BankAccount, account_id, with_for_update={"read": True})
    through = fixed_through(session, account_id)
    early = min(days, default=None)
    if through is not None and early is not None and early <= through:
        raise Conflict(
            f"{early} falls in a reconciled month: the account is reconciled through {through};"
            " send that month back to correct it, or date the entry after it",
            code="month_reconciled",
            errors={"date": [str(early)]},
        )
