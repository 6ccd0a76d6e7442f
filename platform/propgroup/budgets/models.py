"""Budget categories, plans with their versions, lines and monthly amounts, actuals, seasons."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from propgroup.budgets.periods import FISCAL_YEARS
from propgroup.db import MONEY, TenantBase

# R-BUD-1: 利润计划 / 资金计划 / 费用开支计划.
PLAN_KINDS = {"profit": "利润计划", "fund": "资金计划", "expense": "费用开支计划"}
SIDES = ("income", "expense")
VERSION_STATUSES = ("draft", "submitted", "approved", "locked", "superseded")
# A version in force: what the approvals engine spends against and "approved" reports read.
IN_FORCE = ("approved", "locked")
OPEN = ("draft", "submitted")  # one at a time per plan: the version being worked on
SENT = ("submitted", "approved", "locked")  # what a unit has put before the level above
# R-BUD-1: a year's plan in months (年度计划), or a 3-year plan in years (中期计划).
HORIZONS = {"annual": "年度计划", "medium_term": "中期计划"}
MEDIUM_TERM_YEARS = 3


class BudgetCategory(TenantBase):
    """A line of the tenant's chart of budget categories (预算科目), a tree per plan kind.

    Amounts are planned on leaves only; a parent's figure is always the sum of its leaves.
    ``side`` says whether the category brings money in or takes it out (收 / 支).
    """

    __tablename__ = "budget_categories"
    __table_args__ = (
        CheckConstraint("plan_kind in ('profit', 'fund', 'expense')", name="plan_kind"),
        CheckConstraint("side in ('income', 'expense')", name="side"),
        Index("ix_budget_categories_path", "path", postgresql_ops={"path": "text_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("budget_categories.id"), index=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    plan_kind: Mapped[str] = mapped_column(String(16))
    side: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(String(1000))
    depth: Mapped[int] = mapped_column(Integer)
    is_leaf: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))


class BudgetPlan(TenantBase):
    """One unit's plan of one kind for one fiscal year; its content lives in versions.

    A medium-term plan (``horizon`` medium_term) covers ``fiscal_year`` and the two years after
    it, one amount per year (budget_plan_year_amounts); an annual plan has months.
    """

    __tablename__ = "budget_plans"
    __table_args__ = (
        UniqueConstraint("unit_id", "fiscal_year", "plan_kind", "horizon"),
        CheckConstraint("plan_kind in ('profit', 'fund', 'expense')", name="plan_kind"),
        CheckConstraint("horizon in ('annual', 'medium_term')", name="horizon"),
        CheckConstraint(
            f"fiscal_year between {FISCAL_YEARS[0]} and {FISCAL_YEARS[1]}", name="fiscal_year"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    plan_kind: Mapped[str] = mapped_column(String(16))
    horizon: Mapped[str] = mapped_column(
        String(16), default="annual", server_default=text("'annual'")
    )
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PlanVersion(TenantBase):
    """draft → submitted → approved → locked; a revision is the next version, the old ones stay.

    At most one version of a plan is open (draft or submitted), and one is in force.
    """

    __tablename__ = "budget_plan_versions"
    __table_args__ = (
        UniqueConstraint("plan_id", "number"),
        CheckConstraint(
            "status in ('draft', 'submitted', 'approved', 'locked', 'superseded')", name="status"
        ),
        Index(
            "uq_budget_plan_versions_one_open",
            "plan_id",
            unique=True,
            postgresql_where=text("status in ('draft', 'submitted')"),
        ),
        Index(
            "uq_budget_plan_versions_one_in_force",
            "plan_id",
            unique=True,
            postgresql_where=text("status in ('approved', 'locked')"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("budget_plans.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("budget_plan_versions.id"))
    approval_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("approval_requests.id"), index=True
    )
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    locked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PlanLine(TenantBase):
    """A category of a version with the department or person answerable for it (R-BUD-3)."""

    __tablename__ = "budget_plan_lines"
    __table_args__ = (
        UniqueConstraint("version_id", "category_id"),
        CheckConstraint("owner_unit_id is null or owner_user_id is null", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("budget_plan_versions.id", ondelete="CASCADE")
    )
    category_id: Mapped[int] = mapped_column(ForeignKey("budget_categories.id"), index=True)
    owner_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(String(500))


class PlanAmount(TenantBase):
    """One month of a line. Quarters and years are sums of these, never stored."""

    __tablename__ = "budget_plan_amounts"
    __table_args__ = (CheckConstraint("month between 1 and 12", name="month"),)

    line_id: Mapped[int] = mapped_column(
        ForeignKey("budget_plan_lines.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)


class PlanYearAmount(TenantBase):
    """One year of a medium-term plan's line. Its total is a sum of these, never stored."""

    __tablename__ = "budget_plan_year_amounts"
    __table_args__ = (
        CheckConstraint(f"year between {FISCAL_YEARS[0]} and {FISCAL_YEARS[1]}", name="year"),
    )

    line_id: Mapped[int] = mapped_column(
        ForeignKey("budget_plan_lines.id", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)


class ActualImport(TenantBase):
    """One accepted ledger file: every row of it went in, or none did. A reversed import keeps
    this record (who reversed it and why) and loses its rows; the same file may then come in
    again."""

    __tablename__ = "budget_actual_imports"
    __table_args__ = (
        Index(
            "uq_budget_actual_imports_live_sha256",
            "sha256",
            unique=True,
            postgresql_where=text("reversed_at is null"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    row_count: Mapped[int] = mapped_column(Integer)
    total: Mapped[Decimal] = mapped_column(MONEY)
    imported_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    imported_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    reversed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reversed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reversal_reason: Mapped[str | None] = mapped_column(String(500))


class LedgerMonth(TenantBase):
    """A unit's month whose books an import brought in (R-BUD-5): while that import stands, the
    ledger is the unit-month's only source of actuals, and paid requests and recorded income of
    it stop counting. The months of a reversed import stay, as the record of what it covered."""

    __tablename__ = "budget_ledger_months"
    __table_args__ = (
        CheckConstraint("month between 1 and 12", name="month"),
        Index("ix_budget_ledger_months_unit_month", "unit_id", "fiscal_year", "month"),
    )

    import_id: Mapped[int] = mapped_column(
        ForeignKey("budget_actual_imports.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[int] = mapped_column(SmallInteger, primary_key=True)


class ActualEntry(TenantBase):
    """An actual figure of a unit, category and month: a ledger row or recorded income. Recorded
    income is reversed by a counter-entry of the opposite amount (红字冲销) naming it."""

    __tablename__ = "budget_actuals"
    __table_args__ = (
        CheckConstraint("month between 1 and 12", name="month"),
        CheckConstraint("source in ('ledger', 'income')", name="source"),
        Index("ix_budget_actuals_year_unit_category", "fiscal_year", "unit_id", "category_id"),
        # Income is read apart from the ledger's millions of rows, by unit and month.
        Index(
            "ix_budget_actuals_income",
            "fiscal_year",
            "unit_id",
            "month",
            postgresql_where=text("source = 'income'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("budget_categories.id"))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(SmallInteger)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    source: Mapped[str] = mapped_column(String(16))
    import_id: Mapped[int | None] = mapped_column(
        ForeignKey("budget_actual_imports.id"), index=True
    )
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("budget_actuals.id"), unique=True)
    note: Mapped[str | None] = mapped_column(String(500))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class BudgetSeason(TenantBase):
    """R-BUD-2: HQ opens next year's budget round with a deadline (每年11-12月编制下年度预算)."""

    __tablename__ = "budget_seasons"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(Integer, unique=True)
    deadline: Mapped[date] = mapped_column(Date)
    # How far a unit's budgeted surplus may differ from the profit it reported to the group.
    tolerance: Mapped[Decimal] = mapped_column(MONEY)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    opened_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ProfitTarget(TenantBase):
    """The profit a unit reported to the group for the season's year (上报集团的利润计划)."""

    __tablename__ = "budget_profit_targets"
    __table_args__ = (UniqueConstraint("season_id", "unit_id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    season_id: Mapped[int] = mapped_column(ForeignKey("budget_seasons.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    profit: Mapped[Decimal] = mapped_column(MONEY)
