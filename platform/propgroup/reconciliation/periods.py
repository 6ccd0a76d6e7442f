"""Months of reconciliation: a month is named by its first day; once a month's reconciliation is
submitted its figures are fixed, so nothing dated in it or before may be added or re-matched."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

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


def check_not_fixed(session: Session, account_id: int, days: Iterable[date]) -> None:
    """Refuse lines dated in a month whose reconciliation is submitted or signed off."""
    through = fixed_through(session, account_id)
    early = min(days, default=None)
    if through is not None and early is not None and early <= through:
        raise Conflict(
            f"{early} falls in a reconciled month: the account is reconciled through {through}",
            code="month_reconciled",
            errors={"date": [str(early)]},
        )
