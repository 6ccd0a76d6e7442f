"""bank accounts: accounts with encrypted numbers, reserved seals and their keepers,
signatories, and the bank journal that gives each account its book balance

Revision ID: t0015
Revises: t0014
"""

import sqlalchemy as sa
from alembic import op

revision = "t0015"
down_revision = "t0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bank_accounts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("bank", sa.String(length=100), nullable=False),
        sa.Column("bank_branch", sa.String(length=200), nullable=False),
        sa.Column("account_name", sa.String(length=200), nullable=False),
        sa.Column("account_type", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), server_default="CNY", nullable=False),
        sa.Column("purpose", sa.String(length=500), nullable=False),
        sa.Column("single_purpose", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("purpose_finished_on", sa.Date(), nullable=True),
        sa.Column("number_cipher", sa.LargeBinary(), nullable=True),
        sa.Column("number_digest", sa.LargeBinary(), nullable=True),
        sa.Column("number_last4", sa.String(length=4), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("dormant_since", sa.Date(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "account_type in ('basic', 'general', 'special', 'temporary')",
            name=op.f("ck_bank_accounts_account_type"),
        ),
        sa.CheckConstraint(
            "status in ('pending', 'open', 'closed')", name=op.f("ck_bank_accounts_status")
        ),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_bank_accounts_currency")),
        sa.CheckConstraint(
            "status = 'pending' or number_cipher is not null",
            name=op.f("ck_bank_accounts_number_known"),
        ),
        sa.CheckConstraint(
            "(status = 'closed') = (closed_on is not null)", name=op.f("ck_bank_accounts_closed_on")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_units.id"], name=op.f("fk_bank_accounts_unit_id_org_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_accounts")),
        sa.UniqueConstraint(
            "bank", "number_digest", name=op.f("uq_bank_accounts_bank_number_digest")
        ),
    )
    op.create_index(op.f("ix_bank_accounts_unit_id"), "bank_accounts", ["unit_id"])
    op.create_index(
        "uq_bank_accounts_one_basic",
        "bank_accounts",
        ["unit_id"],
        unique=True,
        postgresql_where=sa.text("account_type = 'basic' and status <> 'closed'"),
    )
    op.create_table(
        "bank_account_seals",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("keeper_id", sa.BigInteger(), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.CheckConstraint(
            "kind in ('finance_seal', 'head_name_seal', 'finance_head_name_seal')",
            name=op.f("ck_bank_account_seals_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["bank_accounts.id"],
            name=op.f("fk_bank_account_seals_account_id_bank_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["keeper_id"], ["users.id"], name=op.f("fk_bank_account_seals_keeper_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_account_seals")),
        sa.UniqueConstraint(
            "account_id", "kind", name=op.f("uq_bank_account_seals_account_id_kind")
        ),
        sa.UniqueConstraint(
            "account_id", "keeper_id", name=op.f("uq_bank_account_seals_account_id_keeper_id")
        ),
    )
    op.create_index(op.f("ix_bank_account_seals_keeper_id"), "bank_account_seals", ["keeper_id"])
    op.create_table(
        "bank_account_signatories",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["bank_accounts.id"],
            name=op.f("fk_bank_account_signatories_account_id_bank_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_bank_account_signatories_user_id_users")
        ),
        sa.PrimaryKeyConstraint("account_id", "user_id", name=op.f("pk_bank_account_signatories")),
    )
    op.create_index(
        op.f("ix_bank_account_signatories_user_id"), "bank_account_signatories", ["user_id"]
    )
    op.create_table(
        "bank_book_entries",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("entry_date", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("counterparty", sa.String(length=200), nullable=True),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_bank_book_entries_amount")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["bank_accounts.id"],
            name=op.f("fk_bank_book_entries_account_id_bank_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_bank_book_entries_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_book_entries")),
    )
    op.create_index(
        "ix_bank_book_entries_account_date", "bank_book_entries", ["account_id", "entry_date"]
    )


def downgrade() -> None:
    op.drop_table("bank_book_entries")
    op.drop_table("bank_account_signatories")
    op.drop_table("bank_account_seals")
    op.drop_table("bank_accounts")
