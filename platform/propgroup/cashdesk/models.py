"""The cash desk (出纳): the cheque-book register and its cheques, blank-cheque approvals, the
cash book (现金日记账) of each unit's cash box, cash count sheets (库存现金盘点表), cash-limit
alerts and petty-cash advances (备用金)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from propgroup.db import MONEY, TenantBase

CHEQUE_TYPES = {"cash": "现金支票", "transfer": "转账支票"}
COUNT_KINDS = {"week_end": "周末盘点", "month_end": "月末盘点"}
# 人民币 notes and coins in circulation; a count line is one of these or it is refused.
DENOMINATIONS = tuple(Decimal(value) for value in ("100", "50", "20", "10", "5", "1", "0.5", "0.1"))


class CashdeskSettings(TenantBase):
    """The group's cash-desk policy values (one row; defaults when absent)."""

    __tablename__ = "cashdesk_settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="one_row"),
        CheckConstraint("cash_limit > 0", name="cash_limit"),
        CheckConstraint("reminder_days between 0 and 60", name="reminder_days"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False, default=1)
    cash_limit: Mapped[Decimal] = mapped_column(MONEY)  # R-CASH-1, 10,000 CNY by default
    reminder_days: Mapped[int] = mapped_column(Integer)  # petty cash: days before the 25th


class ChequeBook(TenantBase):
    """A cheque book bought from the bank (支票登记簿, R-CHQ-1): its numbers first–last, all of
    one length; the database refuses two books of an account with the same first number, the
    service any overlap."""

    __tablename__ = "cheque_books"
    __table_args__ = (
        CheckConstraint("cheque_type in ('cash', 'transfer')", name="cheque_type"),
        CheckConstraint(
            "first_number ~ '^[0-9]+$' and last_number ~ '^[0-9]+$' "
            "and length(first_number) = length(last_number) "
            "and first_number <= last_number",
            name="number_range",
        ),
        UniqueConstraint("account_id", "first_number"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"), index=True)
    received_on: Mapped[date] = mapped_column(Date)  # 购入日期
    bank: Mapped[str] = mapped_column(String(100))  # 行名
    cheque_type: Mapped[str] = mapped_column(String(16))  # 支票类别
    first_number: Mapped[str] = mapped_column(String(20))
    last_number: Mapped[str] = mapped_column(String(20))
    registered_by: Mapped[int] = mapped_column(ForeignKey("users.id"))  # 经办人
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class BlankChequeApproval(TenantBase):
    """A blank cheque (空白支票) asked for with a limit and approved by the finance manager
    before it is written (R-CHQ-3, §10.1.4.3.3 须经财务主管领导批准, 只可领用限额空白支票)."""

    __tablename__ = "blank_cheque_approvals"
    __table_args__ = (
        CheckConstraint("limit_amount > 0", name="limit_positive"),
        CheckConstraint("status in ('pending', 'approved', 'refused')", name="status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"), index=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    limit_amount: Mapped[Decimal] = mapped_column(MONEY)
    purpose: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Cheque(TenantBase):
    """A cheque written from a registered book, once per number, never deleted: issued to a
    holder (领用人) against an approved request or a blank-cheque approval, then accounted for
    (报账, a bank-journal payment) or voided (作废, kept with its reason)."""

    __tablename__ = "cheques"
    __table_args__ = (
        UniqueConstraint("account_id", "number"),
        CheckConstraint("state in ('issued', 'accounted', 'voided')", name="state"),
        CheckConstraint(
            "(request_id is null) <> (blank_approval_id is null)", name="request_or_blank"
        ),
        CheckConstraint("(request_id is null) = (payment_id is null)", name="request_paid"),
        CheckConstraint("amount is null or amount > 0", name="amount_positive"),
        CheckConstraint("limit_amount is null or limit_amount > 0", name="limit_positive"),
        CheckConstraint("(state = 'accounted') = (accounted_on is not null)", name="accounted"),
        CheckConstraint("(state = 'voided') = (void_reason is not null)", name="voided"),
        Index(
            "uq_cheques_one_per_blank_approval",
            "blank_approval_id",
            unique=True,
            postgresql_where=text("blank_approval_id is not null"),
        ),
        Index("ix_cheques_holder_state", "holder_id", "state"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("cheque_books.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"))
    number: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(16), default="issued")
    holder_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("approval_requests.id"), index=True)
    # The request's payment this cheque is (approvals.pay, method cheque); reversed if voided.
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("approval_payments.id"), unique=True)
    blank_approval_id: Mapped[int | None] = mapped_column(ForeignKey("blank_cheque_approvals.id"))
    limit_amount: Mapped[Decimal | None] = mapped_column(MONEY)  # blank cheques: 限额
    amount: Mapped[Decimal | None] = mapped_column(MONEY)  # known at issue or when accounted
    payee: Mapped[str | None] = mapped_column(String(200))  # 收款单位
    purpose: Mapped[str] = mapped_column(String(500))  # 用途
    issued_on: Mapped[date] = mapped_column(Date)
    issued_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    accounted_on: Mapped[date | None] = mapped_column(Date)
    accounted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    book_entry_id: Mapped[int | None] = mapped_column(ForeignKey("bank_book_entries.id"))
    void_reason: Mapped[str | None] = mapped_column(String(500))
    voided_on: Mapped[date | None] = mapped_column(Date)
    voided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CashEntry(TenantBase):
    """A line of a unit's cash book (现金日记账): receipts positive, payments negative."""

    __tablename__ = "cash_entries"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount"),
        Index("ix_cash_entries_unit_date", "unit_id", "entry_date"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    entry_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    reference: Mapped[str | None] = mapped_column(String(100))  # voucher number
    description: Mapped[str] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(32))  # manual, petty_cash …
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CashCount(TenantBase):
    """A cash count sheet (库存现金盘点表, R-CASH-2): notes and coins counted against the cash
    book; a difference carries its explanation; the month-end sheet is reviewed by the finance
    manager, someone other than who counted."""

    __tablename__ = "cash_counts"
    __table_args__ = (
        CheckConstraint("kind in ('week_end', 'month_end')", name="kind"),
        CheckConstraint(
            "counted_total = book_balance or explanation is not null", name="difference_explained"
        ),
        CheckConstraint("reviewed_by is null or reviewed_by <> counted_by", name="other_reviewer"),
        UniqueConstraint("unit_id", "counted_on", "kind"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    counted_on: Mapped[date] = mapped_column(Date)
    counted_total: Mapped[Decimal] = mapped_column(MONEY)
    book_balance: Mapped[Decimal] = mapped_column(MONEY)
    explanation: Mapped[str | None] = mapped_column(String(1000))
    counted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CashCountLine(TenantBase):
    """One denomination of a count sheet: how many notes or coins of it."""

    __tablename__ = "cash_count_lines"
    __table_args__ = (CheckConstraint("quantity >= 0", name="quantity"),)

    count_id: Mapped[int] = mapped_column(
        ForeignKey("cash_counts.id", ondelete="CASCADE"), primary_key=True
    )
    denomination: Mapped[Decimal] = mapped_column(MONEY, primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)


class CashAlert(TenantBase):
    """Cash on hand over the limit (R-CASH-1): raised the day it happens, open until the cash
    book is back under the limit (the excess banked)."""

    __tablename__ = "cash_alerts"
    __table_args__ = (
        Index(
            "uq_cash_alerts_one_open",
            "unit_id",
            unique=True,
            postgresql_where=text("cleared_on is null"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    raised_on: Mapped[date] = mapped_column(Date)
    balance: Mapped[Decimal] = mapped_column(MONEY)
    cash_limit: Mapped[Decimal] = mapped_column(MONEY)
    cleared_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PettyCashAdvance(TenantBase):
    """Petty cash lent to a person (备用金, R-CASH-4), due back by the 25th of the quarter's last
    month; whoever needs it on borrows it again in the next quarter. One open advance a person."""

    __tablename__ = "petty_cash_advances"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index(
            "uq_petty_cash_one_open",
            "holder_id",
            unique=True,
            postgresql_where=text("returned_on is null"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The approved advance request (借款单) it pays: GM then finance manager approved it.
    request_id: Mapped[int | None] = mapped_column(ForeignKey("approval_requests.id"), unique=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    purpose: Mapped[str] = mapped_column(String(500))
    advanced_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    advanced_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    returned_on: Mapped[date | None] = mapped_column(Date)
    received_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reminded_on: Mapped[date | None] = mapped_column(Date)  # the last reminder, one a day
