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
    op.add_column(
        "approval_request_lines",
        sa.Column("revision", sa.Integer(), server_default="1", nullable=False),
    )
    # Until now a resubmission raised the request's revision and kept the one set of lines: that
    # set is the current revision's.
    op.execute(
        "update approval_request_lines l set revision = r.revision "
        "from approval_requests r where r.id = l.request_id"
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
        op.f("ck_approval_requests_business_kind"),
        "approval_requests",
        "business_kind in ('local', 'travel')",
    )
    op.create_foreign_key(
        op.f("fk_approval_requests_settles_request_id_approval_requests"),
        "approval_requests",
        "approval_requests",
        ["settles_request_id"],
        ["id"],
    )
    op.create_index(
        op.f("ix_approval_requests_settles_request_id"), "approval_requests", ["settles_request_id"]
    )


def downgrade() -> None:
    # The old schema has one set of lines per request: keep the current revision's.
    op.execute(
        "delete from approval_request_lines l using approval_requests r "
        "where r.id = l.request_id and l.revision <> r.revision"
    )
    op.drop_index(op.f("ix_approval_requests_settles_request_id"), table_name="approval_requests")
    op.drop_constraint(
        op.f("fk_approval_requests_settles_request_id_approval_requests"),
        "approval_requests",
        type_="foreignkey",
    )
    op.drop_constraint(
        op.f("ck_approval_requests_business_kind"), "approval_requests", type_="check"
    )
    op.drop_column("approval_requests", "reported_late")
    op.drop_column("approval_requests", "settles_request_id")
    op.drop_column("approval_requests", "business_ended_on")
    op.drop_column("approval_requests", "business_kind")
    op.drop_column("approval_request_lines", "revision")
