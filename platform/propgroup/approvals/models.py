"""Approval policy versions, requests with their lines and steps, delegations, payments."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

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
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from propgroup.db import MONEY, TenantBase

REQUEST_STATUSES = ("draft", "in_approval", "approved", "rejected", "withdrawn", "paid")
BUSINESS_KINDS = ("local", "travel")  # 市内办事 / 外埠办事 (R-CASH-3)


class PolicyVersion(TenantBase):
    """One version of the approval matrix; a request keeps the version it was submitted under."""

    __tablename__ = "approval_policies"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSONB)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ApprovalRequest(TenantBase):
    """报销单 / 借款单 / 付款申请: what is asked, by whom, for which unit, and where it stands."""

    __tablename__ = "approval_requests"
    __table_args__ = (
        CheckConstraint("total_amount > 0", name="total_positive"),
        CheckConstraint("business_kind in ('local', 'travel')", name="business_kind"),
        Index("ix_approval_requests_unit_status", "unit_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    request_type: Mapped[str] = mapped_column(String(40))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    payee: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    total_amount: Mapped[Decimal] = mapped_column(MONEY)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    revision: Mapped[int] = mapped_column(Integer, default=1)
    current_step: Mapped[int | None] = mapped_column(Integer)
    policy_version_id: Mapped[int | None] = mapped_column(ForeignKey("approval_policies.id"))
    budget_overrun: Mapped[bool] = mapped_column(default=False)
    # R-CASH-3: when the business the money is for ends (事毕), and where it happens; an advance
    # is reported by an expense claim that settles it, 3 or 5 days later at the latest.
    business_kind: Mapped[str | None] = mapped_column(String(16))
    business_ended_on: Mapped[date | None] = mapped_column(Date)
    settles_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("approval_requests.id"), index=True
    )
    reported_late: Mapped[bool] = mapped_column(default=False, server_default="false")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RequestLine(TenantBase):
    """One line of a revision of a request; earlier revisions' lines stay as they were sent."""

    __tablename__ = "approval_request_lines"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("approval_requests.id", ondelete="CASCADE"), index=True
    )
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    category: Mapped[str] = mapped_column(String(60))
    budget_line: Mapped[str | None] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(String(500))
    amount: Mapped[Decimal] = mapped_column(MONEY)


class RequestStep(TenantBase):
    """One signature on the form: which role at which unit, and what was decided (R-APR-4)."""

    __tablename__ = "approval_steps"
    __table_args__ = (UniqueConstraint("request_id", "revision", "seq"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("approval_requests.id", ondelete="CASCADE"), index=True
    )
    revision: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(40))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    # The policy step the unit was resolved from (relative to the request's unit), so a step not
    # yet decided follows that unit when it moves; NULL (some steps from before t0009) stays put.
    level: Mapped[str | None] = mapped_column(String(16))
    department: Mapped[str | None] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(String(40))  # e.g. "budget_overrun" (R-APR-7)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # Set when the step becomes current; reminders go out once it has passed.
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acting_for: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str | None] = mapped_column(Text)


class Delegation(TenantBase):
    """R-APR-5: while away, ``delegator`` lets ``delegate`` decide in their place."""

    __tablename__ = "approval_delegations"
    __table_args__ = (CheckConstraint("starts_on <= ends_on", name="dates_in_order"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    delegator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    delegate_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    request_types: Mapped[list[str] | None] = mapped_column(ARRAY(String(40)))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Payment(TenantBase):
    """The cashier's payment (出纳付款); one standing payment per request, enforced by the
    database (R-APR-6). A payment undone (its cheque voided) stays, marked reversed, and the
    request may be paid again."""

    __tablename__ = "approval_payments"
    __table_args__ = (
        Index(
            "uq_approval_payments_one_standing",
            "request_id",
            unique=True,
            postgresql_where=text("reversed_at is null"),
        ),
        CheckConstraint(
            "(reversed_at is null) = (reversed_by is null)", name="reversed_by_someone"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("approval_requests.id"), index=True)
    method: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str | None] = mapped_column(String(60))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    paid_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    paid_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    reversed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reversed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reversal_reason: Mapped[str | None] = mapped_column(String(500))
