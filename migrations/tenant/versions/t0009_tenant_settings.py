"""tenant settings (the group's timezone)

Revision ID: t0009
Revises: t0008
"""

import sqlalchemy as sa
from alembic import op

revision = "t0009"
down_revision = "t0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenant_settings",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_tenant_settings_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_settings")),
    )
    # Every group so far was provisioned from a template naming Asia/Shanghai (the old constant).
    op.execute("insert into tenant_settings (id, timezone) values (1, 'Asia/Shanghai')")


def downgrade() -> None:
    op.drop_table("tenant_settings")
