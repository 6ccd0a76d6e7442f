"""cash and cheques: the cheque-book register, cheques and blank-cheque approvals, the cash book,
cash count sheets, cash-limit alerts, petty-cash advances, cash-desk settings

Revision ID: t0018
Revises: t0017
"""

import sqlalchemy as sa
from alembic import op

revision = "t0018"
down_revision = "t0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cashdesk_settings",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("cash_limit", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("reminder_days", sa.Integer(), nullable=False),
        sa.CheckConstraint("cash_limit > 0", name=op.f("ck_cashdesk_settings_cash_limit")),
        sa.CheckConstraint("id = 1", name=op.f("ck_cashdesk_settings_one_row")),
        sa.CheckConstraint(
            "reminder_days between 0 and 60", name=op.f("ck_cashdesk_settings_reminder_days")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cashdesk_settings")),
    )
    op.create_table(
        "cash_alerts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("raised_on", sa.Date(), nullable=False),
        sa.Column("balance", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("cash_limit", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("cleared_on", sa.Date(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_units.id"], name=op.f("fk_cash_alerts_unit_id_org_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cash_alerts")),
    )
    op.create_index(op.f("ix_cash_alerts_unit_id"), "cash_alerts", ["unit_id"], unique=False)
    op.create_index(
        "uq_cash_alerts_one_open",
        "cash_alerts",
        ["unit_id"],
        unique=True,
        postgresql_where=sa.text("cleared_on is null"),
    )
    op.create_table(
        "cash_counts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("counted_on", sa.Date(), nullable=False),
        sa.Column("counted_total", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("book_balance", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("explanation", sa.String(length=1000), nullable=True),
        sa.Column("counted_by", sa.BigInteger(), nullable=False),
        sa.Column("reviewed_by", sa.BigInteger(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("kind in ('week_end', 'month_end')", name=op.f("ck_cash_counts_kind")),
        sa.CheckConstraint(
            "counted_total = book_balance or explanation is not null",
            name=op.f("ck_cash_counts_difference_explained"),
        ),
        sa.CheckConstraint(
            "reviewed_by is null or reviewed_by <> counted_by",
            name=op.f("ck_cash_counts_other_reviewer"),
        ),
        sa.ForeignKeyConstraint(
            ["counted_by"], ["users.id"], name=op.f("fk_cash_counts_counted_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by"], ["users.id"], name=op.f("fk_cash_counts_reviewed_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_units.id"], name=op.f("fk_cash_counts_unit_id_org_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cash_counts")),
        sa.UniqueConstraint(
            "unit_id", "counted_on", "kind", name=op.f("uq_cash_counts_unit_id_counted_on_kind")
        ),
    )
    op.create_index(op.f("ix_cash_counts_unit_id"), "cash_counts", ["unit_id"], unique=False)
    op.create_table(
        "cash_entries",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("entry_date", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_cash_entries_amount")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_cash_entries_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_units.id"], name=op.f("fk_cash_entries_unit_id_org_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cash_entries")),
    )
    op.create_index(
        "ix_cash_entries_unit_date", "cash_entries", ["unit_id", "entry_date"], unique=False
    )
    op.create_table(
        "petty_cash_advances",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("holder_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("purpose", sa.String(length=500), nullable=False),
        sa.Column("advanced_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("advanced_by", sa.BigInteger(), nullable=False),
        sa.Column("returned_on", sa.Date(), nullable=True),
        sa.Column("received_by", sa.BigInteger(), nullable=True),
        sa.Column("reminded_on", sa.Date(), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_petty_cash_advances_amount_positive")),
        sa.ForeignKeyConstraint(
            ["advanced_by"], ["users.id"], name=op.f("fk_petty_cash_advances_advanced_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["holder_id"], ["users.id"], name=op.f("fk_petty_cash_advances_holder_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["received_by"], ["users.id"], name=op.f("fk_petty_cash_advances_received_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_units.id"], name=op.f("fk_petty_cash_advances_unit_id_org_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_petty_cash_advances")),
    )
    op.create_index(
        op.f("ix_petty_cash_advances_unit_id"), "petty_cash_advances", ["unit_id"], unique=False
    )
    op.create_index(
        "uq_petty_cash_one_open",
        "petty_cash_advances",
        ["holder_id"],
        unique=True,
        postgresql_where=sa.text("returned_on is null"),
    )
    op.create_table(
        "blank_cheque_approvals",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("holder_id", sa.BigInteger(), nullable=False),
        sa.Column("limit_amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("purpose", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.BigInteger(), nullable=False),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.String(length=500), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status in ('pending', 'approved', 'refused')",
            name=op.f("ck_blank_cheque_approvals_status"),
        ),
        sa.CheckConstraint(
            "limit_amount > 0", name=op.f("ck_blank_cheque_approvals_limit_positive")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["bank_accounts.id"],
            name=op.f("fk_blank_cheque_approvals_account_id_bank_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_blank_cheque_approvals_decided_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["holder_id"], ["users.id"], name=op.f("fk_blank_cheque_approvals_holder_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["users.id"],
            name=op.f("fk_blank_cheque_approvals_requested_by_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blank_cheque_approvals")),
    )
    op.create_index(
        op.f("ix_blank_cheque_approvals_account_id"),
        "blank_cheque_approvals",
        ["account_id"],
        unique=False,
    )
    op.create_table(
        "cash_count_lines",
        sa.Column("count_id", sa.BigInteger(), nullable=False),
        sa.Column("denomination", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_cash_count_lines_quantity")),
        sa.ForeignKeyConstraint(
            ["count_id"],
            ["cash_counts.id"],
            name=op.f("fk_cash_count_lines_count_id_cash_counts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("count_id", "denomination", name=op.f("pk_cash_count_lines")),
    )
    op.create_table(
        "cheque_books",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("bank", sa.String(length=100), nullable=False),
        sa.Column("cheque_type", sa.String(length=16), nullable=False),
        sa.Column("first_number", sa.String(length=20), nullable=False),
        sa.Column("last_number", sa.String(length=20), nullable=False),
        sa.Column("registered_by", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "cheque_type in ('cash', 'transfer')", name=op.f("ck_cheque_books_cheque_type")
        ),
        sa.CheckConstraint(
            "first_number ~ '^[0-9]+$' and last_number ~ '^[0-9]+$' "
            "and length(first_number) = length(last_number) and first_number <= last_number",
            name=op.f("ck_cheque_books_number_range"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["bank_accounts.id"],
            name=op.f("fk_cheque_books_account_id_bank_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["registered_by"], ["users.id"], name=op.f("fk_cheque_books_registered_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cheque_books")),
        sa.UniqueConstraint(
            "account_id", "first_number", name=op.f("uq_cheque_books_account_id_first_number")
        ),
    )
    op.create_index(
        op.f("ix_cheque_books_account_id"), "cheque_books", ["account_id"], unique=False
    )
    op.create_table(
        "cheques",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("book_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("holder_id", sa.BigInteger(), nullable=False),
        sa.Column("request_id", sa.BigInteger(), nullable=True),
        sa.Column("blank_approval_id", sa.BigInteger(), nullable=True),
        sa.Column("limit_amount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("payee", sa.String(length=200), nullable=True),
        sa.Column("purpose", sa.String(length=500), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("issued_by", sa.BigInteger(), nullable=False),
        sa.Column("accounted_on", sa.Date(), nullable=True),
        sa.Column("accounted_by", sa.BigInteger(), nullable=True),
        sa.Column("book_entry_id", sa.BigInteger(), nullable=True),
        sa.Column("void_reason", sa.String(length=500), nullable=True),
        sa.Column("voided_on", sa.Date(), nullable=True),
        sa.Column("voided_by", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "(state = 'accounted') = (accounted_on is not null)", name=op.f("ck_cheques_accounted")
        ),
        sa.CheckConstraint(
            "(state = 'voided') = (void_reason is not null)", name=op.f("ck_cheques_voided")
        ),
        sa.CheckConstraint(
            "state in ('issued', 'accounted', 'voided')", name=op.f("ck_cheques_state")
        ),
        sa.CheckConstraint(
            "(request_id is null) <> (blank_approval_id is null)",
            name=op.f("ck_cheques_request_or_blank"),
        ),
        sa.CheckConstraint("amount is null or amount > 0", name=op.f("ck_cheques_amount_positive")),
        sa.CheckConstraint(
            "limit_amount is null or limit_amount > 0", name=op.f("ck_cheques_limit_positive")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["bank_accounts.id"], name=op.f("fk_cheques_account_id_bank_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["accounted_by"], ["users.id"], name=op.f("fk_cheques_accounted_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["blank_approval_id"],
            ["blank_cheque_approvals.id"],
            name=op.f("fk_cheques_blank_approval_id_blank_cheque_approvals"),
        ),
        sa.ForeignKeyConstraint(
            ["book_entry_id"],
            ["bank_book_entries.id"],
            name=op.f("fk_cheques_book_entry_id_bank_book_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["book_id"], ["cheque_books.id"], name=op.f("fk_cheques_book_id_cheque_books")
        ),
        sa.ForeignKeyConstraint(
            ["holder_id"], ["users.id"], name=op.f("fk_cheques_holder_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["issued_by"], ["users.id"], name=op.f("fk_cheques_issued_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["approval_requests.id"],
            name=op.f("fk_cheques_request_id_approval_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["voided_by"], ["users.id"], name=op.f("fk_cheques_voided_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cheques")),
        sa.UniqueConstraint("account_id", "number", name=op.f("uq_cheques_account_id_number")),
    )
    op.create_index(op.f("ix_cheques_book_id"), "cheques", ["book_id"], unique=False)
    op.create_index("ix_cheques_holder_state", "cheques", ["holder_id", "state"], unique=False)
    op.create_index(op.f("ix_cheques_request_id"), "cheques", ["request_id"], unique=False)
    op.create_index(
        "uq_cheques_one_per_blank_approval",
        "cheques",
        ["blank_approval_id"],
        unique=True,
        postgresql_where=sa.text("blank_approval_id is not null"),
    )


def downgrade() -> None:
    for table in (
        "cheques",
        "cheque_books",
        "cash_count_lines",
        "blank_cheque_approvals",
        "petty_cash_advances",
        "cash_entries",
        "cash_counts",
        "cash_alerts",
        "cashdesk_settings",
    ):
        op.drop_table(table)
