"""Cash-desk jobs: the mail that tells of cash over the limit (R-CASH-1), and the daily
petty-cash reminders (R-CASH-4)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from propgroup.cashdesk import petty
from propgroup.cashdesk.models import CashAlert
from propgroup.identity.models import RoleAssignment, User
from propgroup.identity.permissions import roles_granting
from propgroup.jobs.registry import tenant_job
from propgroup.mail import send_mail
from propgroup.org.models import OrgUnit


def _people_who_may(session: Session, action: str, unit: OrgUnit) -> list[User]:
    """Active people whose roles grant ``action`` at the unit (held there or above)."""
    return list(
        session.scalars(
            select(User)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .join(OrgUnit, OrgUnit.id == RoleAssignment.unit_id)
            .where(
                User.active,
                RoleAssignment.role.in_(roles_granting(action)),
                literal(unit.path).startswith(OrgUnit.path),
            )
            .distinct()
            .order_by(User.id)
        )
    )


@tenant_job("cashdesk.notify_cash_alert")
def notify_cash_alert(session: Session, *, alert_id: int, **_: Any) -> int:
    """Tell the unit's cashier and finance manager the same day: bank the excess."""
    alert = session.get(CashAlert, alert_id)
    if alert is None or alert.cleared_on is not None:
        return 0
    unit = session.get(OrgUnit, alert.unit_id)
    people = {
        user.id: user
        for action in ("banking:cash", "banking:signoff")
        for user in _people_who_may(session, action, unit)
    }
    for user in people.values():
        send_mail(
            user.email,
            f"[PropGroup] 库存现金超限 {unit.code}: ¥{alert.balance:,}",
            f"{user.display_name}：\n\n{unit.name} 库存现金 ¥{alert.balance:,} 超过限额 "
            f"¥{alert.cash_limit:,}（{alert.raised_on}）。超出部分应当日送存开户银行。\n"
            f"Cash on hand at {unit.code} is over the limit: bank the excess today (R-CASH-1).\n",
        )
    return len(people)


@tenant_job("cashdesk.remind_petty_cash")
def remind_petty_cash(session: Session, **_: Any) -> int:
    """Daily: holders of petty cash due back soon, and of petty cash overdue."""
    sent = 0
    for row, overdue in petty.due_reminders(session):
        holder = session.get(User, row.holder_id)
        state = "已逾期 overdue" if overdue else "即将到期 due soon"
        send_mail(
            holder.email,
            f"[PropGroup] 备用金{state}: ¥{row.amount:,}",
            f"{holder.display_name}：\n\n您借用的备用金 ¥{row.amount:,}（{row.purpose}）应于 "
            f"{row.due_on} 前交回财务部；下季度仍需使用的，季度初重新办理借款手续。\n"
            f"Petty cash of ¥{row.amount:,} is due back by {row.due_on} (R-CASH-4).\n",
        )
        sent += 1
    return sent
