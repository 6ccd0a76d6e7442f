"""fund reports: the weekly fund report's snapshots (one line per account and week) and each
unit's confirmation of its week (R-REP-2)

Revision ID: t0019
Revises: t0018
"""

import sqlalchemy as sa
from alembic import op

revision = "t0019"
down_revision = "t0018"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(precision=18, scale=2)


def upgrade() -> None:
    op.create_table(
        "fund_report_weeks",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("week_ending", sa.Date(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("generated_by", sa.String(length=200), nullable=False),
        sa.CheckConstraint(
            "extract(isodow from week_ending) = 7",
            name=op.f("ck_fund_report_weeks_ends_on_sunday"),
        ),
        sa.CheckConstraint("revision >= 1", name=op.f("ck_fund_report_weeks_revision")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_report_weeks")),
        sa.UniqueConstraint("week_ending", name=op.f("uq_fund_report_weeks_week_ending")),
    )
    op.create_table(
        "fund_report_lines",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("week_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("unit_path", sa.String(length=1000), nullable=False),
        sa.Column("account_type", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("opening", MONEY, nullable=False),
        sa.Column("receipts", MONEY, nullable=False),
        sa.Column("payments", MONEY, nullable=False),
        sa.Column("closing", MONEY, nullable=False),
        sa.CheckConstraint(
            "receipts >= 0 and payments >= 0", name=op.f("ck_fund_report_lines_flows")
        ),
        sa.CheckConstraint(
            "opening + receipts - payments = closing", name=op.f("ck_fund_report_lines_balanced")
        ),
        sa.ForeignKeyConstraint(
            ["week_id"],
            ["fund_report_weeks.id"],
            name=op.f("fk_fund_report_lines_week_id_fund_report_weeks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["bank_accounts.id"],
            name=op.f("fk_fund_report_lines_account_id_bank_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_units.id"], name=op.f("fk_fund_report_lines_unit_id_org_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_report_lines")),
        sa.UniqueConstraint(
            "week_id", "account_id", name=op.f("uq_fund_report_lines_week_id_account_id")
        ),
    )
    op.create_index(op.f("ix_fund_report_lines_week_id"), "fund_report_lines", ["week_id"])
    op.create_index(op.f("ix_fund_report_lines_account_id"), "fund_report_lines", ["account_id"])
    op.create_table(
        "fund_report_confirmations",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("week_id", sa.BigInteger(), nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("confirmed_by", sa.BigInteger(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["week_id"],
            ["fund_report_weeks.id"],
            name=op.f("fk_fund_report_confirmations_week_id_fund_report_weeks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["org_units.id"],
            name=op.f("fk_fund_report_confirmations_unit_id_org_units"),
        ),
        sa.ForeignKeyConstraint(
            ["confirmed_by"],
            ["users.id"],
            name=op.f("fk_fund_report_confirmations_confirmed_by_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_report_confirmations")),
        sa.UniqueConstraint(
            "week_id", "unit_id", name=op.f("uq_fund_report_confirmations_week_id_unit_id")
        ),
    )
    op.create_index(
        op.f("ix_fund_report_confirmations_unit_id"), "fund_report_confirmations", ["unit_id"]
    )


def downgrade() -> None:
    op.drop_table("fund_report_confirmations")
    op.drop_table("fund_report_lines")
    op.drop_table("fund_report_weeks")
