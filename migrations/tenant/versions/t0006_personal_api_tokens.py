"""personal api tokens: api_clients.user_id (a token acting as that person)

Revision ID: t0006
Revises: t0005
"""

import sqlalchemy as sa
from alembic import op

revision = "t0006"
down_revision = "t0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_clients", sa.Column("user_id", sa.BigInteger(), nullable=True))
    op.create_index(op.f("ix_api_clients_user_id"), "api_clients", ["user_id"], unique=False)
    op.create_foreign_key(
        op.f("fk_api_clients_user_id_users"), "api_clients", "users", ["user_id"], ["id"]
    )


def downgrade() -> None:
    op.drop_constraint(op.f("fk_api_clients_user_id_users"), "api_clients", type_="foreignkey")
    op.drop_index(op.f("ix_api_clients_user_id"), table_name="api_clients")
    op.drop_column("api_clients", "user_id")
