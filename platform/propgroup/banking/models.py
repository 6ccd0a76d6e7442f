"""Bank accounts (银行账户) with their reserved seals and signatories, and the bank journal
(银行存款日记账) that gives each account its book balance.

An account's status changes only when a lifecycle request is approved (R-BNK-1): ``pending``
once its opening is approved and the bank has yet to give the number, ``open`` once the number
is registered, ``closed`` once its closing is approved.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from propgroup.approvals import models as _approvals_models  # noqa: F401 -- FK targets
from propgroup.db import MONEY, TenantBase

# 基本存款账户 / 一般存款账户 / 专用存款账户 / 临时存款账户 (人民币银行结算账户管理办法).
ACCOUNT_TYPES = {"basic": "基本户", "general": "一般户", "special": "专用户", "temporary": "临时户"}
ACCOUNT_STATUSES = ("pending", "open", "closed")
# R-BNK-2: 财务专用章 + 单位负责人名章 + 财务负责人名章, three keepers.
SEAL_KINDS = {
    "finance_seal": "财务专用章",
    "head_name_seal": "单位负责人名章",
    "finance_head_name_seal": "财务负责人名章",
}
# R-BNK-1: 开设 / 变更 / 注销 银行账户申请表; who raised it: finance, the dormancy job (R-BNK-4)
# or a keeper's departure (R-BNK-3).
REQUEST_KINDS = {"open": "开户", "change": "变更", "close": "销户"}
REQUEST_ORIGINS = ("finance", "dormancy", "keeper_departure")
REQUEST_STATUSES = ("draft", "submitted", "approved", "returned", "withdrawn")
LIVE_REQUEST_STATUSES = ("draft", "submitted", "returned")


def _one_of(column: str, values: object) -> str:
    return f"{column} in ({', '.join(repr(value) for value in values)})"


class BankAccount(TenantBase):
    """An account a unit holds at a bank. The number is stored only encrypted (numbers.py), with
    an HMAC digest to refuse a duplicate at one bank and its last four digits for the mask."""

    __tablename__ = "bank_accounts"
    __table_args__ = (
        CheckConstraint(_one_of("account_type", ACCOUNT_TYPES), name="account_type"),
        CheckConstraint(_one_of("status", ACCOUNT_STATUSES), name="status"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency"),
        CheckConstraint("status = 'pending' or number_cipher is not null", name="number_known"),
        CheckConstraint("(status = 'closed') = (closed_on is not null)", name="closed_on"),
        UniqueConstraint("bank", "number_digest"),
        # 一个单位只能开立一个基本存款账户.
        Index(
            "uq_bank_accounts_one_basic",
            "unit_id",
            unique=True,
            postgresql_where=text("account_type = 'basic' and status <> 'closed'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    bank: Mapped[str] = mapped_column(String(100))
    bank_branch: Mapped[str] = mapped_column(String(200))
    account_name: Mapped[str] = mapped_column(String(200))  # 户名
    account_type: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3), default="CNY", server_default="CNY")
    purpose: Mapped[str] = mapped_column(String(500))
    # R-BNK-4: an account opened for one purpose is closed once that purpose is finished.
    single_purpose: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    purpose_finished_on: Mapped[date | None] = mapped_column(Date)
    number_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    number_digest: Mapped[bytes | None] = mapped_column(LargeBinary)
    number_last4: Mapped[str | None] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    opened_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    dormant_since: Mapped[date | None] = mapped_column(Date)  # flagged by the dormancy job
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AccountSeal(TenantBase):
    """One of an account's three reserved seals (预留印鉴) and who keeps it. The database holds
    R-BNK-2 too: one keeper per seal kind, and no keeper of two seals of one account."""

    __tablename__ = "bank_account_seals"
    __table_args__ = (
        UniqueConstraint("account_id", "kind"),
        UniqueConstraint("account_id", "keeper_id"),
        CheckConstraint(_one_of("kind", SEAL_KINDS), name="kind"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    keeper_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    since: Mapped[date] = mapped_column(Date)


class AccountSignatory(TenantBase):
    """A person the bank accepts instructions from on this account (授权经办人)."""

    __tablename__ = "bank_account_signatories"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("bank_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    since: Mapped[date] = mapped_column(Date)


class BookEntry(TenantBase):
    """A line of the bank journal (银行存款日记账): money in is positive, money out negative.
    The book balance on a day is the sum of the entries up to it; an account carried over from
    before the system starts with one ``opening`` entry."""

    __tablename__ = "bank_book_entries"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount"),
        Index("ix_bank_book_entries_account_date", "account_id", "entry_date"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"))
    entry_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    reference: Mapped[str | None] = mapped_column(String(100))  # voucher or cheque number
    counterparty: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(32))  # opening, import, cheque, manual …
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class BankAccountRequest(TenantBase):
    """开设/变更/注销银行账户申请表 (R-BNK-1): the bank form's content as checked JSON, approved
    through the approvals engine as a ``bank_account`` subject request. At most one request of an
    account is alive (draft, submitted or returned) at a time."""

    __tablename__ = "bank_account_requests"
    __table_args__ = (
        CheckConstraint(_one_of("kind", REQUEST_KINDS), name="kind"),
        CheckConstraint(_one_of("origin", REQUEST_ORIGINS), name="origin"),
        CheckConstraint(_one_of("status", REQUEST_STATUSES), name="status"),
        CheckConstraint("kind = 'open' or account_id is not null", name="names_account"),
        Index(
            "uq_bank_account_requests_one_live",
            "account_id",
            unique=True,
            postgresql_where=text("status in ('draft', 'submitted', 'returned')"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    # An opening request names its account once approved (the pending account it created).
    account_id: Mapped[int | None] = mapped_column(ForeignKey("bank_accounts.id"), index=True)
    form: Mapped[dict[str, Any]] = mapped_column(JSONB)
    origin: Mapped[str] = mapped_column(String(16), default="finance")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    approval_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("approval_requests.id"), unique=True
    )
    # R-BNK-3: the seal keeper or signatory who left, whose seals and signature it replaces.
    departed_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the system
    # Everyone who raised, revised or submitted it: none of them decides it (R-APR-3).
    authors: Mapped[list[int]] = mapped_column(JSONB, default=list, server_default="[]")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AccountDeparture(TenantBase):
    """A departure due on an account (R-BNK-3): someone who kept one of its seals or signed for
    it has left. It stays outstanding, whatever happens to the draft raised for it, until an
    approved change (or the closing) no longer has them keep or sign anything; only then is it
    resolved. Keeps what the handover must cover (the seals) from the moment they leave."""

    __tablename__ = "bank_account_departures"
    __table_args__ = (
        Index(
            "uq_bank_account_departures_outstanding",
            "account_id",
            "user_id",
            unique=True,
            postgresql_where=text("resolved_at is null"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    seals: Mapped[list[str]] = mapped_column(JSONB)  # seal kinds to hand over
    signatory: Mapped[bool] = mapped_column(Boolean)
    left_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The approved change or closing after which they keep and sign nothing of the account.
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("bank_account_requests.id"))
