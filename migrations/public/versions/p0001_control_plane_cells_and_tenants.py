"""control plane: cells and tenants

Revision ID: p0001
Revises: (none)
"""

import sqlalchemy as sa
from alembic import op

revision = "p0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cells",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("database_url", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_cells")),
        schema="public",
    )
    op.create_table(
        "tenants",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("schema_name", sa.String(length=63), nullable=False),
        sa.Column("cell_name", sa.String(length=40), nullable=False),
        sa.Column("template", sa.String(length=100), nullable=False),
        sa.Column("schema_revision", sa.String(length=64), nullable=True),
        sa.Column("last_migration_error", sa.Text(), nullable=True),
        sa.Column("migrated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("status in ('active', 'suspended')", name=op.f("ck_tenants_status")),
        sa.ForeignKeyConstraint(
            ["cell_name"], ["public.cells.name"], name=op.f("fk_tenants_cell_name_cells")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        sa.UniqueConstraint("schema_name", name=op.f("uq_tenants_schema_name")),
        sa.UniqueConstraint("slug", name=op.f("uq_tenants_slug")),
        schema="public",
    )
    op.create_index(
        op.f("ix_tenants_schema_revision"),
        "tenants",
        ["schema_revision"],
        unique=False,
        schema="public",
    )
    # The control plane's own database is the first cell (database_url NULL means "this one").
    op.execute("insert into public.cells (name, database_url) values ('default', null)")


def downgrade() -> None:
    op.drop_index(op.f("ix_tenants_schema_revision"), table_name="tenants", schema="public")
    op.drop_table("tenants", schema="public")
    op.drop_table("cells", schema="public")
