"""Cash-desk set-ups: an open bank account made directly with the models (its lifecycle is built
elsewhere), an approved request to write cheques against, and a cash box holding some cash."""

from __future__ import annotations

import itertools
from decimal import Decimal

from propgroup.approvals import service as approvals
from propgroup.approvals.models import ApprovalRequest
from propgroup.banking import numbers
from propgroup.banking.models import BankAccount
from propgroup.cashdesk import cash
from propgroup.org import service as org
from tests.support.groups import person, raise_request

CASHIER = "zhao.chuna"  # cashier at SH-XTD (demo group)
ACCOUNTANT, BRANCH_HEAD = "li.kuaiji", "wang.xiangmu"
MANAGER = "sun.diqucaiwu"  # regional finance at EAST: the finance manager who signs off
HOLDER = "qian.staff"  # department head at SH-XTD: takes cheques, raises requests
_numbers = itertools.count(62220200001)


def open_account(session, unit_code: str = "SH-XTD", account_type: str = "general") -> BankAccount:
    number = str(next(_numbers)) + "0001"
    account = BankAccount(
        unit_id=org.get_unit_by_code(session, unit_code).id,
        bank="中国工商银行",
        bank_branch="上海新天地支行",
        account_name="上海新天地项目分公司",
        account_type=account_type,
        purpose="日常结算",
        number_cipher=numbers.encrypt(session, number),
        number_digest=numbers.digest(session, number),
        number_last4=number[-4:],
        status="open",
        opened_on=approvals.today(session),
    )
    session.add(account)
    session.flush()
    return account


def approved_request(session, amount: str = "3000.00", requester: str = HOLDER) -> ApprovalRequest:
    """A branch request under 5,000 CNY approved by the accountant and the branch head."""
    request = raise_request(session, requester, "SH-XTD", amount=amount)
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
