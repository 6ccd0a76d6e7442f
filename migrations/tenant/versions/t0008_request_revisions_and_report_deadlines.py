"""request lines per revision; R-CASH-3 business dates, settled advances, late reports

Revision ID: t0008
Revises: t0007
"""

import sqlalchemy as sa
from alembic import op

revision = "t0008"
down_revision = "t0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing lines belong to the first revision; later revisions wrote none of their own yet.
    op.add_column(
        "approval_request_lines",
        sa.Column("revision", sa.Integer(), server_default="1", nullable=False),
    )
    op.add_column("approval_requests", sa.Column("business_kind", sa.String(16), nullable=True))
    op.add_column("approval_requests", sa.Column("business_ended_on", sa.Date(), nullable=True))
    op.add_column(
        "approval_requests", sa.Column("settles_request_id", sa.BigInteger(), nullable=True)
    )
    op.add_column(
        "approval_requests",
        sa.Column("reported_late", sa.Boolean(), server_default="false", nullable=False),
    )
    op.create_check_constraint(
        "ck_approval_requests_business_kind",
        "approval_requests",
        "business_kind in ('local', 'travel')",
    )
    op.create_foreign_key(
        "fk_approval_requests_settles_request_id_approval_requests",
        "approval_requests",
        "approval_requests",
        ["settles_request_id"],
        ["id"],
    )
    op.create_index(
        "ix_approval_requests_settles_request_id", "approval_requests", ["settles_request_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_approval_requests_settles_request_id", table_name="approval_requests")
    op.drop_constraint(
        "fk_approval_requests_settles_request_id_approval_requests",
        "approval_requests",
        type_="foreignkey",
    )
    op.drop_constraint("ck_approval_requests_business_kind", "approval_requests", type_="check")
    op.drop_column("approval_requests", "reported_late")
    op.drop_column("approval_requests", "settles_request_id")
    op.drop_column("approval_requests", "business_ended_on")
    op.drop_column("approval_requests", "business_kind")
    op.drop_column("approval_request_lines", "revision")
