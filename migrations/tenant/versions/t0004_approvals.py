"""approvals: policy versions, requests, lines, steps, delegations, payments

Revision ID: t0004
Revises: t0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "t0004"
down_revision = "t0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "approval_delegations",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("delegator_id", sa.BigInteger(), nullable=False),
        sa.Column("delegate_id", sa.BigInteger(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("request_types", postgresql.ARRAY(sa.String(length=40)), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "starts_on <= ends_on", name=op.f("ck_approval_delegations_dates_in_order")
        ),
        sa.ForeignKeyConstraint(
            ["delegate_id"], ["users.id"], name=op.f("fk_approval_delegations_delegate_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["delegator_id"], ["users.id"], name=op.f("fk_approval_delegations_delegator_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_delegations")),
    )
    op.create_index(
        op.f("ix_approval_delegations_delegate_id"),
        "approval_delegations",
        ["delegate_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_approval_delegations_delegator_id"),
        "approval_delegations",
        ["delegator_id"],
        unique=False,
    )
    op.create_table(
        "approval_policies",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_approval_policies_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_policies")),
        sa.UniqueConstraint("version", name=op.f("uq_approval_policies_version")),
    )
    op.create_table(
        "approval_requests",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("request_type", sa.String(length=40), nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("requester_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("payee", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("current_step", sa.Integer(), nullable=True),
        sa.Column("policy_version_id", sa.BigInteger(), nullable=True),
        sa.Column("budget_overrun", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("total_amount > 0", name=op.f("ck_approval_requests_total_positive")),
        sa.ForeignKeyConstraint(
            ["policy_version_id"],
            ["approval_policies.id"],
            name=op.f("fk_approval_requests_policy_version_id_approval_policies"),
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["users.id"], name=op.f("fk_approval_requests_requester_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_units.id"], name=op.f("fk_approval_requests_unit_id_org_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_requests")),
    )
    op.create_index(
        op.f("ix_approval_requests_requester_id"),
        "approval_requests",
        ["requester_id"],
        unique=False,
    )
    op.create_index(
        "ix_approval_requests_unit_status", "approval_requests", ["unit_id", "status"], unique=False
    )
    op.create_table(
        "approval_payments",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("request_id", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=60), nullable=True),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("paid_by", sa.BigInteger(), nullable=False),
        sa.Column(
            "paid_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["paid_by"], ["users.id"], name=op.f("fk_approval_payments_paid_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["approval_requests.id"],
            name=op.f("fk_approval_payments_request_id_approval_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_payments")),
        sa.UniqueConstraint("request_id", name=op.f("uq_approval_payments_request_id")),
    )
    op.create_table(
        "approval_request_lines",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("request_id", sa.BigInteger(), nullable=False),
        sa.Column("category", sa.String(length=60), nullable=False),
        sa.Column("budget_line", sa.String(length=60), nullable=True),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_approval_request_lines_amount_positive")),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["approval_requests.id"],
            name=op.f("fk_approval_request_lines_request_id_approval_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_request_lines")),
    )
    op.create_index(
        op.f("ix_approval_request_lines_request_id"),
        "approval_request_lines",
        ["request_id"],
        unique=False,
    )
    op.create_table(
        "approval_steps",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("request_id", sa.BigInteger(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("acting_for", sa.BigInteger(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["acting_for"], ["users.id"], name=op.f("fk_approval_steps_acting_for_users")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_approval_steps_decided_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["approval_requests.id"],
            name=op.f("fk_approval_steps_request_id_approval_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_units.id"], name=op.f("fk_approval_steps_unit_id_org_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_steps")),
        sa.UniqueConstraint(
            "request_id", "revision", "seq", name=op.f("uq_approval_steps_request_id_revision_seq")
        ),
    )
    op.create_index(
        op.f("ix_approval_steps_request_id"), "approval_steps", ["request_id"], unique=False
    )
    op.create_index(op.f("ix_approval_steps_unit_id"), "approval_steps", ["unit_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_approval_steps_unit_id"), table_name="approval_steps")
    op.drop_index(op.f("ix_approval_steps_request_id"), table_name="approval_steps")
    op.drop_table("approval_steps")
    op.drop_index(op.f("ix_approval_request_lines_request_id"), table_name="approval_request_lines")
    op.drop_table("approval_request_lines")
    op.drop_table("approval_payments")
    op.drop_index("ix_approval_requests_unit_status", table_name="approval_requests")
    op.drop_index(op.f("ix_approval_requests_requester_id"), table_name="approval_requests")
    op.drop_table("approval_requests")
    op.drop_table("approval_policies")
    op.drop_index(op.f("ix_approval_delegations_delegator_id"), table_name="approval_delegations")
    op.drop_index(op.f("ix_approval_delegations_delegate_id"), table_name="approval_delegations")
    op.drop_table("approval_delegations")
