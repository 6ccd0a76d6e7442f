"""Overdue reconciliations (R-BNK-5): month M's statement is due signed off by the 5th of M+1.
From the 6th, an open account whose latest signed month is before M is overdue, and shows on
its region's dashboard, unit by unit, with the months it is behind."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from propgroup.banking import numbers
from propgroup.banking.models import BankAccount
from propgroup.identity.authz import authorize, visible_units
from propgroup.identity.models import RoleAssignment, User
from propgroup.identity.permissions import roles_granting
from propgroup.identity.principals import Principal
from propgroup.org.models import OrgUnit
from propgroup.reconciliation.models import Reconciliation
from propgroup.reconciliation.periods import month_end, next_month, previous_month

DUE_DAY = 5  # signed off by the 5th of the next month


@dataclass(frozen=True)
class Overdue:
    account: BankAccount
    unit: OrgUnit
    due_month: date  # the latest month that should be signed off by now
    first_missing: date  # the earliest month not signed off
    months_behind: int
    shown_number: str | None


def due_month(today: date) -> date:
    """The latest month whose sign-off is due by ``today``."""
    last_month = previous_month(date(today.year, today.month, 1))
    return last_month if today.day > DUE_DAY else previous_month(last_month)


def _months_between(first: date, last: date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month + 1


def overdue_under(
    session: Session, principal: Principal, unit: OrgUnit, today: date
) -> list[Overdue]:
    """Open accounts at ``unit`` or below (those the principal may read) behind on sign-off."""
    authorize(session, principal, "banking:read", unit)
    due = due_month(today)
    latest = (
        select(func.max(Reconciliation.month))
        .where(Reconciliation.account_id == BankAccount.id, Reconciliation.status == "signed")
        .scalar_subquery()
    )
    rows = session.execute(
        select(BankAccount, OrgUnit, latest.label("latest"))
        .join(OrgUnit, OrgUnit.id == BankAccount.unit_id)
        .where(
            OrgUnit.path.startswith(unit.path, autoescape=True),
            visible_units(session, principal, "banking:read"),
            BankAccount.status == "open",
            (BankAccount.opened_on.is_(None)) | (BankAccount.opened_on <= month_end(due)),
            (latest.is_(None)) | (latest < due),
        )
        .order_by(OrgUnit.path, BankAccount.id)
    ).all()
    found = []
    for account, account_unit, last_signed in rows:
        opened = account.opened_on or due
        first = next_month(last_signed) if last_signed else date(opened.year, opened.month, 1)
        found.append(
            Overdue(
                account,
                account_unit,
                due,
                first,
                _months_between(first, due),
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
