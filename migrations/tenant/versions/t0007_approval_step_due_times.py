"""approval step due times (SLA per step; overdue lists and reminders)

Revision ID: t0007
Revises: t0006
"""

import sqlalchemy as sa
from alembic import op

revision = "t0007"
down_revision = "t0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("approval_steps", sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f("ix_approval_steps_due_at"), "approval_steps", ["due_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_approval_steps_due_at"), table_name="approval_steps")
    op.drop_column("approval_steps", "due_at")
