"""Dormant accounts (R-BNK-4, §10.1.4.4: 长期不使用 … 或专门为某一单项业务开设的帐户，该业务已完结
的，应及时办理银行账户撤销手续): an open account without a bank journal entry for the tenant's
number of months, or opened for a single purpose now finished, is flagged and a closing request
is proposed to finance, once per dormant spell."""

from __future__ import annotations

from calendar import monthrange
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from propgroup.audit.service import record
from propgroup.banking.lifecycle import system_draft
from propgroup.banking.models import BankAccount, BankAccountRequest, BookEntry
from propgroup.identity.authz import authorize
from propgroup.identity.principals import Principal
from propgroup.org import service as org
from propgroup.tenancy.models import TenantSettings
from propgroup.tenancy.settings import dormancy_months


def months_before(day: date, months: int) -> date:
    """The same day ``months`` earlier (the month's last day when it has fewer days)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def flag_dormant(session: Session, today: date) -> list[BankAccountRequest]:
    """Flag newly dormant accounts and propose their closing; an account used again is no
    longer dormant. Returns the closing requests proposed."""
    cutoff = months_before(today, dormancy_months(session))
    last_entry = (
        select(func.max(BookEntry.entry_date))
        .where(BookEntry.account_id == BankAccount.id)
        .scalar_subquery()
    )
    last_used = func.coalesce(last_entry, BankAccount.opened_on)
    dormant = or_(
        last_used <= cutoff,
        BankAccount.single_purpose & (BankAccount.purpose_finished_on <= today),
    )
    accounts = session.execute(
        select(BankAccount, dormant)
        .where(BankAccount.status == "open")
        .with_for_update(of=BankAccount)
    ).all()
    proposed = []
    for account, is_dormant in accounts:
        if not is_dormant:
            account.dormant_since = None  # used again: a later spell is proposed afresh
            continue
        if account.dormant_since is not None:
            continue
        account.dormant_since = today
        finished = account.single_purpose and account.purpose_finished_on
        reason = (
            f"专项业务已于 {account.purpose_finished_on} 完结 (R-BNK-4)"
            if finished and account.purpose_finished_on <= today
            else f"{dormancy_months(session)} 个月无收支, 长期不使用 (R-BNK-4)"
        )
        request = system_draft(
            session,
            account,
            "close",
            {"reason": reason, "dormant_since": today.isoformat()},
            origin="dormancy",
        )
        if request is not None:
            proposed.append(request)
    session.flush()
    return proposed


def change_dormancy_months(session: Session, principal: Principal, months: int) -> int:
    """banking:admin at the group's root sets how long an unused account may stay open."""
    authorize(session, principal, "banking:admin", org.get_root(session))
    settings = session.scalar(select(TenantSettings).with_for_update())
    before, settings.dormancy_months = settings.dormancy_months, months
    session.flush()
    record(
        session,
        principal,
        "banking.dormancy_months_changed",
        "tenant_settings",
        settings.id,
        before={"dormancy_months": before},
        after={"dormancy_months": months},
    )
    return months
