"""The weekly fund report (资金周报, R-REP-2) as it was taken: one snapshot per week of every
account's book figures, and each unit's confirmation that its week is complete.

A snapshot keeps what the group was sent: a journal entry corrected afterwards changes the book,
not the report, until someone regenerates the week (explicitly, audited).
"""

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
    Integer,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from propgroup.db import MONEY, TenantBase


class FundWeek(TenantBase):
    """A week's report, Monday to ``week_ending`` (a Sunday, the group's local days)."""

    __tablename__ = "fund_report_weeks"
    __table_args__ = (
        CheckConstraint("extract(isodow from week_ending) = 7", name="ends_on_sunday"),
        CheckConstraint("revision >= 1", name="revision"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    week_ending: Mapped[date] = mapped_column(Date, unique=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)  # 1, then +1 per regeneration
    generated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    generated_by: Mapped[str] = mapped_column(String(200))  # "system" for the week-end job


class FundLine(TenantBase):
    """One account's week: opening + receipts − payments = closing, held by the database too.
    The unit's path is kept as it was, so the roll-up of a sent week does not follow later moves
    of units in the tree."""

    __tablename__ = "fund_report_lines"
    __table_args__ = (
        UniqueConstraint("week_id", "account_id"),
        CheckConstraint("receipts >= 0 and payments >= 0", name="flows"),
        CheckConstraint("opening + receipts - payments = closing", name="balanced"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    week_id: Mapped[int] = mapped_column(
        ForeignKey("fund_report_weeks.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    unit_path: Mapped[str] = mapped_column(String(1000))
    account_type: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    opening: Mapped[Decimal] = mapped_column(MONEY)
    receipts: Mapped[Decimal] = mapped_column(MONEY)
    payments: Mapped[Decimal] = mapped_column(MONEY)
    closing: Mapped[Decimal] = mapped_column(MONEY)


class FundConfirmation(TenantBase):
    """A unit's finance confirms its accounts' week (上报): what "submitted" means for R-REP-2.
    A regeneration that changes the unit's figures withdraws it."""

    __tablename__ = "fund_report_confirmations"
    __table_args__ = (UniqueConstraint("week_id", "unit_id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    week_id: Mapped[int] = mapped_column(ForeignKey("fund_report_weeks.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    confirmed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revision: Mapped[int | None] = mapped_column(Integer)  # the week's revision confirmed
    # Confirmed by finance above the unit (the region standing in for it), not at the unit.
    on_behalf: Mapped[bool] = mapped_column(default=False, server_default=false())
