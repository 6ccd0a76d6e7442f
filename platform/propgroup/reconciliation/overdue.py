"""Overdue reconciliations (R-BNK-5): month M's statement is due signed off by the 5th of M+1.
From the 6th, an account with a month up to M not signed off (counted from its first month; a
closed account up to its closure) is overdue, and shows on its region's dashboard, unit by unit,
with the earliest month missing and how many months it is behind."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from propgroup.banking import numbers
from propgroup.banking.models import BankAccount, BookEntry
from propgroup.identity.authz import authorize, visible_units
from propgroup.identity.models import RoleAssignment, User
from propgroup.identity.permissions import roles_granting
from propgroup.identity.principals import Principal
from propgroup.org.models import OrgUnit
from propgroup.reconciliation.models import Reconciliation
from propgroup.reconciliation.periods import (
    month_end,
    month_of,
    next_month,
    previous_month,
    starting_month,
)

DUE_DAY = 5  # signed off by the 5th of the next month


@dataclass(frozen=True)
class Overdue:
    account: BankAccount
    unit: OrgUnit
    due_month: date  # the latest month that should be signed off by now (closure's, if closed)
    first_missing: date  # the earliest month not signed off
    months_behind: int
    shown_number: str | None


def due_month(today: date) -> date:
    """The latest month whose sign-off is due by ``today``."""
    last_month = previous_month(date(today.year, today.month, 1))
    return last_month if today.day > DUE_DAY else previous_month(last_month)


def _months_between(first: date, last: date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month + 1


def _first_unsigned(first: date | None, signed: set[date], due: date) -> date | None:
    """The earliest month from ``first`` to ``due`` not signed off, or None."""
    month = first or (next_month(max(signed)) if signed else due)
    while month <= due:
        if month not in signed:
            return month
        month = next_month(month)
    return None


def overdue_under(
    session: Session, principal: Principal, unit: OrgUnit, today: date
) -> list[Overdue]:
    """Accounts at ``unit`` or below (those the principal may read) behind on sign-off: open
    ones, and closed ones for their months up to the closure."""
    authorize(session, principal, "banking:read", unit)
    due = due_month(today)
    rows = session.execute(
        select(BankAccount, OrgUnit)
        .join(OrgUnit, OrgUnit.id == BankAccount.unit_id)
        .where(
            OrgUnit.path.startswith(unit.path, autoescape=True),
            visible_units(session, principal, "banking:read"),
            (BankAccount.status == "open")
            | ((BankAccount.status == "closed") & BankAccount.closed_on.is_not(None)),
            (BankAccount.opened_on.is_(None)) | (BankAccount.opened_on <= month_end(due)),
        )
        .order_by(OrgUnit.path, BankAccount.id)
    ).all()
    ids = [account.id for account, _unit in rows]
    signed: dict[int, set[date]] = defaultdict(set)
    for account_id, month in session.execute(
        select(Reconciliation.account_id, Reconciliation.month).where(
            Reconciliation.account_id.in_(ids), Reconciliation.status == "signed"
        )
    ):
        signed[account_id].add(month)
    openings = dict(
        session.execute(
            select(BookEntry.account_id, func.min(BookEntry.entry_date))
            .where(BookEntry.account_id.in_(ids), BookEntry.source == "opening")
            .group_by(BookEntry.account_id)
        ).all()
    )
    found = []
    for account, account_unit in rows:
        last = due if account.closed_on is None else min(due, month_of(account.closed_on))
        first = starting_month(openings.get(account.id), account.opened_on)
        missing = _first_unsigned(first, signed[account.id], last)
        if missing is None:
            continue
        found.append(
            Overdue(
                account,
                account_unit,
                last,
                missing,
                _months_between(missing, last)
                - sum(1 for month in signed[account.id] if missing < month <= last),
                numbers.masked(account.number_last4),
            )
        )
    return found


def people_who_may(session: Session, action: str, unit: OrgUnit) -> list[User]:
    """Active users holding a role that grants ``action`` at ``unit`` or above."""
    return list(
        session.scalars(
            select(User)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .join(OrgUnit, OrgUnit.id == RoleAssignment.unit_id)
            .where(
                RoleAssignment.role.in_(roles_granting(action)),
                literal(unit.path).startswith(OrgUnit.path),  # held at the unit or above
                User.active,
            )
            .distinct()
            .order_by(User.id)
        )
    )
