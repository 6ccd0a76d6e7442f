"""archive appraisal lists: the yearly sweep lists items past retention instead of rewriting
their catalogue rows; an open line makes a kept item due

Items already marked due become kept items on an open line of one list, dated the last sweep the
audit trail records (or today). Downgrading marks them due again. The sweep's partial index
carries the item ids, so the sweep reads no catalogue row.

Revision ID: t0022
Revises: t0021
"""

import sqlalchemy as sa
from alembic import op

revision = "t0022"
down_revision = "t0021"
branch_labels = None
depends_on = None


def _sweep_index(include: list[str]) -> None:
    op.drop_index("ix_archive_items_due_kept", table_name="archive_items")
    op.create_index(
        "ix_archive_items_due_kept",
        "archive_items",
        ["due_on"],
        postgresql_include=include,
        postgresql_where=sa.text("status = 'kept'"),
    )


def upgrade() -> None:
    op.create_table(
        "archive_appraisal_lists",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("swept_on", sa.Date(), nullable=False),
        sa.Column("found", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_appraisal_lists")),
    )
    op.create_table(
        "archive_appraisal_list_items",
        sa.Column("list_id", sa.BigInteger(), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("appraisal_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["archive_appraisal_lists.id"],
            name=op.f("fk_archive_appraisal_list_items_list_id_archive_appraisal_lists"),
        ),
        sa.ForeignKeyConstraint(
            ["appraisal_id"],
            ["archive_appraisals.id"],
            name=op.f("fk_archive_appraisal_list_items_appraisal_id_archive_appraisals"),
        ),
        sa.PrimaryKeyConstraint("list_id", "item_id", name=op.f("pk_archive_appraisal_list_items")),
    )
    op.create_index(
        "uq_archive_appraisal_list_items_open_item",
        "archive_appraisal_list_items",
        ["item_id"],
        unique=True,
        postgresql_where=sa.text("settled_at is null"),
    )
    op.execute(
        """
        with due as (
            select id, due_on from archive_items where status = 'due' and due_on is not null
        ),
        listing as (
            insert into archive_appraisal_lists (swept_on, found)
            select coalesce(
                       (select max((after ->> 'day')::date) from audit_events
                        where action = 'archives.retention_swept'),
                       current_date),
                   count(*)
            from due having count(*) > 0
            returning id
        )
        insert into archive_appraisal_list_items (list_id, item_id, due_on)
        select listing.id, due.id, due.due_on from listing, due
        """
    )
    op.execute("update archive_items set status = 'kept' where status = 'due'")
    _sweep_index(include=["id"])


def downgrade() -> None:
    _sweep_index(include=[])
    op.execute(
        "update archive_items set status = 'due' where status = 'kept' and id in"
        " (select item_id from archive_appraisal_list_items where settled_at is null)"
    )
    op.drop_index(
        "uq_archive_appraisal_list_items_open_item", table_name="archive_appraisal_list_items"
    )
    op.drop_table("archive_appraisal_list_items")
    op.drop_table("archive_appraisal_lists")
