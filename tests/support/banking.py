"""Bank accounts in the demo group for tests: who keeps the seals at SH-XTD, an open account
registered as existing before the system, and a request carried through its chain."""

from __future__ import annotations

from sqlalchemy.orm import Session

from propgroup.approvals import service as approvals
from propgroup.banking import lifecycle, registration
from propgroup.banking.models import BankAccount, BankAccountRequest
from propgroup.org import service as org
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
