"""Bank accounts for tests of what builds on them (reconciliation, cash, reports), created
directly as an opened account: the lifecycle requests that open accounts are tested apart."""

from __future__ import annotations

import itertools
from datetime import date

from sqlalchemy.orm import Session

from propgroup.banking import numbers
from propgroup.banking.models import BankAccount
from propgroup.org.models import OrgUnit

_numbers = itertools.count(6222020200001234)


def open_account(
    session: Session,
    unit: OrgUnit,
    *,
    bank: str = "中国工商银行",
    account_type: str = "general",
    opened_on: date = date(2020, 1, 1),
    number: str | None = None,
    **fields: object,
) -> BankAccount:
    """An open account of ``unit`` with an encrypted number (flushed, not committed)."""
    number = number or str(next(_numbers))
    account = BankAccount(
        unit_id=unit.id,
        bank=bank,
        bank_branch=fields.pop("bank_branch", "上海分行"),
        account_name=fields.pop("account_name", unit.name),
        account_type=account_type,
        purpose=fields.pop("purpose", "日常结算"),
        number_cipher=numbers.encrypt(number),
        number_digest=numbers.digest(number),
        number_last4=number[-4:],
        status="open",
        opened_on=opened_on,
        **fields,
    )
    session.add(account)
    session.flush()
    return account
