"""Cash-desk set-ups: an open bank account made directly with the models (its lifecycle is built
elsewhere), an approved request to write cheques against, and a cash box holding some cash."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from propgroup.approvals import service as approvals
from propgroup.approvals.models import ApprovalRequest
from propgroup.banking.models import BankAccount
from propgroup.cashdesk import cash
from propgroup.org import service as org
from tests.support import banking
from tests.support.groups import person, raise_request

CASHIER = "zhao.chuna"  # cashier at SH-XTD (demo group)
ACCOUNTANT, BRANCH_HEAD = "li.kuaiji", "wang.xiangmu"
MANAGER = "sun.diqucaiwu"  # regional finance at EAST: the finance manager who signs off
HOLDER = "qian.staff"  # department head at SH-XTD: takes cheques, raises requests


def open_account(session, unit_code: str = "SH-XTD", account_type: str = "general") -> BankAccount:
    return banking.open_account(
        session, unit_code, account_type=account_type, opened_on=approvals.today(session)
    )


def approved_request(
    session, amount: str = "3000.00", requester: str = HOLDER, **content: object
) -> ApprovalRequest:
    """A branch request under 5,000 CNY approved by the accountant and the branch head."""
    request = raise_request(session, requester, "SH-XTD", amount=amount, **content)
    approvals.submit(session, person(session, requester), request.id)
    for step, who in enumerate((ACCOUNTANT, BRANCH_HEAD), start=1):
        approvals.decide(session, person(session, who), request.id, step=step, approve=True)
    assert request.status == "approved"
    return request


def cash_in_box(session, amount: str, unit_code: str = "SH-XTD") -> None:
    unit = org.get_unit_by_code(session, unit_code)
    cash.add_entry(
        session,
        person(session, CASHIER),
        unit,
        amount=Decimal(amount),
        description="提现备用",
        reference=None,
        source="manual",
    )


def stand_on(monkeypatch, day: date) -> None:
    """The group's clock at noon of ``day`` (Asia/Shanghai, the demo template's zone)."""
    moment = datetime.combine(day, time(12), ZoneInfo("Asia/Shanghai"))
    monkeypatch.setattr(approvals, "now", lambda: moment)


def month_end(day: date) -> date:
    """The last day of ``day``'s month: the day a month-end count is dated (R-CASH-2)."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def approved_advance(session, amount: str, requester: str = HOLDER) -> ApprovalRequest:
    """An approved advance request (借款单) for petty cash, its business ending today."""
    return approved_request(
        session,
        amount,
        requester,
        request_type="advance",
        business_kind="local",
        business_ended_on=approvals.today(session),
    )
