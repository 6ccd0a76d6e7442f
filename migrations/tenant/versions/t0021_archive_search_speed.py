"""archive search at scale: each unit's and each year's items newest first, so a search within
one unit or one year reads that index backwards instead of walking every id

Revision ID: t0021
Revises: t0020
"""

from alembic import op

revision = "t0021"
down_revision = "t0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_archive_items_unit_newest", "archive_items", ["unit_id", "id"])
    op.create_index("ix_archive_items_year_newest", "archive_items", ["fiscal_year", "id"])
    # (fiscal_year, id) serves whatever (fiscal_year) did.
    op.drop_index("ix_archive_items_year", table_name="archive_items")


def downgrade() -> None:
    op.create_index("ix_archive_items_year", "archive_items", ["fiscal_year"])
    op.drop_index("ix_archive_items_year_newest", table_name="archive_items")
    op.drop_index("ix_archive_items_unit_newest", table_name="archive_items")
