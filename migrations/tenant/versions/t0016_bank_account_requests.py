"""bank account requests: open / change / close forms approved through the approvals engine
(R-BNK-1), and the tenant's dormancy setting (R-BNK-4)

Revision ID: t0016
Revises: t0015
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "t0016"
down_revision = "t0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "tenant_settings",
        sa.Column("dormancy_months", sa.SmallInteger(), server_default="12", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_tenant_settings_dormancy_months"),
        "tenant_settings",
        "dormancy_months between 1 and 120",
    )
    op.create_table(
        "bank_account_requests",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=True),
        sa.Column("form", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("approval_request_id", sa.BigInteger(), nullable=True),
        sa.Column("departed_user_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column(
            "authors",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("submitted_by", sa.BigInteger(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind in ('open', 'change', 'close')", name=op.f("ck_bank_account_requests_kind")
        ),
        sa.CheckConstraint(
            "origin in ('finance', 'dormancy', 'keeper_departure')",
            name=op.f("ck_bank_account_requests_origin"),
        ),
        sa.CheckConstraint(
            "status in ('draft', 'submitted', 'approved', 'returned', 'withdrawn')",
            name=op.f("ck_bank_account_requests_status"),
        ),
        sa.CheckConstraint(
            "kind = 'open' or account_id is not null",
            name=op.f("ck_bank_account_requests_names_account"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_units.id"], name=op.f("fk_bank_account_requests_unit_id_org_units")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["bank_accounts.id"],
            name=op.f("fk_bank_account_requests_account_id_bank_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["approval_request_id"],
            ["approval_requests.id"],
            name=op.f("fk_bank_account_requests_approval_request_id_approval_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["departed_user_id"],
            ["users.id"],
            name=op.f("fk_bank_account_requests_departed_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_bank_account_requests_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by"],
            ["users.id"],
            name=op.f("fk_bank_account_requests_submitted_by_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_account_requests")),
        sa.UniqueConstraint(
            "approval_request_id", name=op.f("uq_bank_account_requests_approval_request_id")
        ),
    )
    op.create_index(op.f("ix_bank_account_requests_unit_id"), "bank_account_requests", ["unit_id"])
    op.create_index(
        op.f("ix_bank_account_requests_account_id"), "bank_account_requests", ["account_id"]
    )
    op.create_index(
        "uq_bank_account_requests_one_live",
        "bank_account_requests",
        ["account_id"],
        unique=True,
        postgresql_where=sa.text("status in ('draft', 'submitted', 'returned')"),
    )
    op.create_table(
        "bank_account_departures",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("seals", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("signatory", sa.Boolean(), nullable=False),
        sa.Column(
            "left_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["bank_accounts.id"],
            name=op.f("fk_bank_account_departures_account_id_bank_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_bank_account_departures_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"],
            ["bank_account_requests.id"],
            name=op.f("fk_bank_account_departures_resolved_by_bank_account_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_account_departures")),
    )
    op.create_index(
        op.f("ix_bank_account_departures_account_id"), "bank_account_departures", ["account_id"]
    )
    op.create_index(
        "uq_bank_account_departures_outstanding",
        "bank_account_departures",
        ["account_id", "user_id"],
        unique=True,
        postgresql_where=sa.text("resolved_at is null"),
    )


def downgrade() -> None:
    op.drop_table("bank_account_departures")
    op.drop_table("bank_account_requests")
    op.drop_constraint(op.f("ck_tenant_settings_dormancy_months"), "tenant_settings", type_="check")
    op.drop_column("tenant_settings", "dormancy_months")
