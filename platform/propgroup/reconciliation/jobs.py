"""Reconciliation jobs: every morning, the finance managers hear of overdue reconciliations."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy.orm import Session

from propgroup.approvals.service import today
from propgroup.identity.models import User
from propgroup.identity.principals import SYSTEM
from propgroup.jobs.registry import tenant_job
from propgroup.mail import send_mail
from propgroup.org import service as org
from propgroup.reconciliation.overdue import Overdue, overdue_under, people_who_may
from propgroup.reconciliation.periods import label


def _body(user: User, rows: list[Overdue]) -> str:
    lines = [
        f"{user.display_name}：",
        "",
        "以下银行账户的余额调节表未在次月5日前审核（R-BNK-5）：",
        "These accounts' reconciliations were not signed off by the 5th of the next month:",
        "",
    ]
    lines += [
        f"- {row.unit.name} ({row.unit.code}) {row.account.bank} {row.shown_number}: "
        f"{label(row.first_missing)} – {label(row.due_month)} ({row.months_behind})"
        for row in rows
    ]
    return "\n".join(lines) + "\n"


@tenant_job("reconciliation.note_overdue")
def note_overdue(session: Session, **_: Any) -> int:
    """One mail to each finance manager (banking:signoff) over a unit with overdue accounts,
    listing them; the regional dashboard shows the same. Returns how many were mailed."""
    rows = overdue_under(session, SYSTEM, org.get_root(session), today(session))
    people: dict[int, User] = {}
    listed: dict[int, list[Overdue]] = defaultdict(list)
    for row in rows:
        for user in people_who_may(session, "banking:signoff", row.unit):
            people[user.id] = user
            listed[user.id].append(row)
    for user_id, user_rows in listed.items():
        send_mail(
            people[user_id].email,
            f"[PropGroup] 银行余额调节表逾期 {len(user_rows)} 个账户 / overdue reconciliations",
            _body(people[user_id], user_rows),
        )
    return len(listed)
