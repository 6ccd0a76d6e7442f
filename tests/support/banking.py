"""Bank accounts in the demo group for tests: who keeps the seals at SH-XTD, an open account
registered as existing before the system, a request carried through its chain, and accounts
made directly as opened for what builds on them (reconciliation, cash desk, fund report)."""

from __future__ import annotations

import itertools
from datetime import date

from sqlalchemy.orm import Session

from propgroup.approvals import service as approvals
from propgroup.banking import lifecycle, numbers, registration
from propgroup.banking.models import BankAccount, BankAccountRequest
from propgroup.org import service as org
from propgroup.org.models import OrgUnit
from tests.support.groups import person

ACCOUNTANT, HEAD, REGIONAL, DIRECTOR = (
    "li.kuaiji",
    "wang.xiangmu",
    "sun.diqucaiwu",
    "wu.caiwuzongjian",
)
CASHIER, ADMIN = "zhao.chuna", "zheng.guanliyuan"
# The template's chain for a branch's bank account request (R-BNK-1).
BRANCH_CHAIN = (HEAD, REGIONAL, DIRECTOR)
SEALS = {"finance_seal": ACCOUNTANT, "head_name_seal": HEAD, "finance_head_name_seal": REGIONAL}
OPEN_FORM = {
    "bank": "中国工商银行",
    "bank_branch": "上海新天地支行",
    "account_name": "上海新天地项目分公司",
    "account_type": "general",
    "purpose": "物业费收缴",
    "seals": SEALS,
    "signatories": [CASHIER],
    "reason": "物业费专户",
}


def existing_account(
    db: Session,
    number: str,
    *,
    unit: str = "SH-XTD",
    balance: str = "0",
    bank: str = "中国工商银行",
    **form: object,
) -> BankAccount:
    """An open account registered by the finance director as existing before the system."""
    spec = {
        **{k: v for k, v in OPEN_FORM.items() if k != "reason"},
        "bank": bank,
        "unit_id": org.get_unit_by_code(db, unit).id,
        "number": number,
        "opened_on": "2020-01-06",
        "opening_balance": balance,
        "balance_on": "2024-12-31",
        "note": "系统上线前开立",
        **form,
    }
    return registration.register_existing(db, person(db, DIRECTOR), spec)


def approve_all(db: Session, request: BankAccountRequest, chain=BRANCH_CHAIN) -> None:
    for step, login in enumerate(chain, start=1):
        approvals.decide(
            db, person(db, login), request.approval_request_id, step=step, approve=True
        )
    db.refresh(request)


def submitted(db: Session, kind: str, form: dict, **target: object) -> BankAccountRequest:
    request = lifecycle.raise_request(db, person(db, ACCOUNTANT), kind=kind, form=form, **target)
    return lifecycle.submit(db, person(db, ACCOUNTANT), request.id)


_numbers = itertools.count(6222020200001234)


def open_account(
    session: Session,
    unit: OrgUnit | str,
    *,
    bank: str = "中国工商银行",
    account_type: str = "general",
    currency: str = "CNY",
    opened_on: date = date(2020, 1, 1),
    closed_on: date | None = None,
    number: str | None = None,
    **fields: object,
) -> BankAccount:
    """An open (closed, with ``closed_on``) account of ``unit`` (or the unit with that code)
    with an encrypted number, made directly (flushed, not committed)."""
    if isinstance(unit, str):
        unit = org.get_unit_by_code(session, unit)
    number = number or str(next(_numbers))
    account = BankAccount(
        unit_id=unit.id,
        bank=bank,
        bank_branch=fields.pop("bank_branch", "上海分行"),
        account_name=fields.pop("account_name", unit.name),
        account_type=account_type,
        currency=currency,
        purpose=fields.pop("purpose", "日常结算"),
        number_cipher=numbers.encrypt(session, number),
        number_digest=numbers.digest(session, number),
        number_last4=number[-4:],
        status="closed" if closed_on else "open",
        opened_on=opened_on,
        closed_on=closed_on,
        **fields,
    )
    session.add(account)
    session.flush()
    return account
