"""medium-term plans: a plan's horizon (annual or medium_term) and the years of its lines

Revision ID: t0011
Revises: t0010
"""

import sqlalchemy as sa
from alembic import op

revision = "t0011"
down_revision = "t0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A constant default: PostgreSQL adds the column without rewriting the table, and every
    # existing plan is an annual one.
    op.add_column(
        "budget_plans",
        sa.Column(
            "horizon", sa.String(length=16), server_default=sa.text("'annual'"), nullable=False
        ),
    )
    op.create_check_constraint(
        op.f("ck_budget_plans_horizon"), "budget_plans", "horizon in ('annual', 'medium_term')"
    )
    op.create_unique_constraint(
        op.f("uq_budget_plans_unit_id_fiscal_year_plan_kind_horizon"),
        "budget_plans",
        ["unit_id", "fiscal_year", "plan_kind", "horizon"],
    )
    op.drop_constraint(
        op.f("uq_budget_plans_unit_id_fiscal_year_plan_kind"), "budget_plans", type_="unique"
    )
    op.create_table(
        "budget_plan_year_amounts",
        sa.Column("line_id", sa.BigInteger(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.CheckConstraint(
            "year between 2000 and 2200", name=op.f("ck_budget_plan_year_amounts_year")
        ),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["budget_plan_lines.id"],
            name=op.f("fk_budget_plan_year_amounts_line_id_budget_plan_lines"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("line_id", "year", name=op.f("pk_budget_plan_year_amounts")),
    )


def downgrade() -> None:
    # Before t0011 a plan is annual: medium-term plans (their versions, lines and years, by
    # cascade) cannot be kept.
    op.execute("delete from budget_plans where horizon = 'medium_term'")
    op.drop_table("budget_plan_year_amounts")
    op.create_unique_constraint(
        op.f("uq_budget_plans_unit_id_fiscal_year_plan_kind"),
        "budget_plans",
        ["unit_id", "fiscal_year", "plan_kind"],
    )
    op.drop_constraint(
        op.f("uq_budget_plans_unit_id_fiscal_year_plan_kind_horizon"),
        "budget_plans",
        type_="unique",
    )
    op.drop_constraint(op.f("ck_budget_plans_horizon"), "budget_plans", type_="check")
    op.drop_column("budget_plans", "horizon")
