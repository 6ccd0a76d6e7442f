"""archive search at scale: the title's character pairs (GIN) and a fiscal-year index

Revision ID: t0013
Revises: t0012
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "t0013"
down_revision = "t0012"
branch_labels = None
depends_on = None

# archives.models.title_grams in SQL: each character and each pair, ASCII letters lowered.
_FOLDED = "translate(title, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
GRAMS = (
    f"array(select distinct substr({_FOLDED}, i, n)"
    " from generate_series(1, length(title)) i, (values (1), (2)) g(n)"
    " where i + n - 1 <= length(title))"
)


def upgrade() -> None:
    op.add_column(
        "archive_items",
        sa.Column("title_grams", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
    )
    op.execute(f"update archive_items set title_grams = {GRAMS}")
    op.create_index(
        "ix_archive_items_title_grams", "archive_items", ["title_grams"], postgresql_using="gin"
    )
    op.create_index("ix_archive_items_year", "archive_items", ["fiscal_year"])


def downgrade() -> None:
    op.drop_index("ix_archive_items_year", table_name="archive_items")
    op.drop_index("ix_archive_items_title_grams", table_name="archive_items")
    op.drop_column("archive_items", "title_grams")
