"""Dormant accounts (R-BNK-4, §10.1.4.4: 长期不使用 … 或专门为某一单项业务开设的帐户，该业务已完结
的，应及时办理银行账户撤销手续): an open account without a bank journal entry for the tenant's
number of months, or opened for a single purpose now finished, is flagged and a closing request
is proposed to finance, once per dormant spell."""

from __future__ import annotations

from calendar import monthrange
from datetime import date

from sqlalchemy import Date, cast, func, or_, select
from sqlalchemy.orm import Session

from propgroup.approvals import service as approvals
from propgroup.audit.service import record
from propgroup.banking.lifecycle import system_draft
from propgroup.banking.models import BankAccount, BankAccountRequest, BookEntry
from propgroup.identity.authz import authorize
from propgroup.identity.principals import SYSTEM, Principal
from propgroup.org import service as org
from propgroup.tenancy.models import TenantSettings
from propgroup.tenancy.settings import dormancy_months


def months_before(day: date, months: int) -> date:
    """The same day ``months`` earlier (the month's last day when it has fewer days)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def _dormant(cutoff: date, today: date):
    """Dormant: no journal entry since the cutoff, counting from the latest of the last entry,
    the opening and the day the account came into the system (an account carried over by
    register_existing is not dormant on its first night), or its single purpose finished."""
    last_entry = (
        select(func.max(BookEntry.entry_date))
        .where(BookEntry.account_id == BankAccount.id)
        .scalar_subquery()
    )
    last_used = func.greatest(last_entry, BankAccount.opened_on, cast(BankAccount.created_at, Date))
    return or_(
        last_used <= cutoff,
        BankAccount.single_purpose & (BankAccount.purpose_finished_on <= today),
    )


def _used_again(session: Session, account: BankAccount) -> None:
    """The flag cleared, audited, and the closing proposed for that spell withdrawn if finance
    has not taken it up (still a draft)."""
    before, account.dormant_since = account.dormant_since, None
    stale = session.scalars(
        select(BankAccountRequest).where(
            BankAccountRequest.account_id == account.id,
            BankAccountRequest.origin == "dormancy",
            BankAccountRequest.status == "draft",
        )
    ).all()
    for request in stale:
        request.status, request.decided_at = "withdrawn", approvals.now()
        record(session, SYSTEM, "banking.request_withdrawn", "bank_account_request", request.id)
    record(
        session,
        SYSTEM,
        "banking.dormancy_cleared",
        "bank_account",
        account.id,
        before={"dormant_since": before},
        after={"withdrawn": [request.id for request in stale]},
    )


def flag_dormant(session: Session, today: date) -> list[BankAccountRequest]:
    """Flag newly dormant accounts and propose their closing; an account used again is no
    longer dormant. An account flagged has had its closing proposed: one with another request
    under way is proposed on a later night. Returns the closing requests proposed."""
    months = dormancy_months(session)
    accounts = session.execute(
        select(BankAccount, _dormant(months_before(today, months), today))
        .where(BankAccount.status == "open")
        .with_for_update(of=BankAccount)
    ).all()
    proposed = []
    for account, is_dormant in accounts:
        if not is_dormant:
            if account.dormant_since is not None:
                _used_again(session, account)  # a later spell is proposed afresh
            continue
        if account.dormant_since is not None:
            continue
        finished = account.single_purpose and account.purpose_finished_on
        reason = (
            f"专项业务已于 {account.purpose_finished_on} 完结 (R-BNK-4)"
            if finished and account.purpose_finished_on <= today
            else f"{months} 个月无收支, 长期不使用 (R-BNK-4)"
        )
        request = system_draft(
            session,
            account,
            "close",
            {"reason": reason, "dormant_since": today.isoformat()},
            origin="dormancy",
        )
        if request is not None:
            account.dormant_since = today
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
