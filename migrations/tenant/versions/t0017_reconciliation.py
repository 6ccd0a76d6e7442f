"""reconciliation: bank statements and their lines, journal imports, statement-to-journal
matches, the monthly bank balance reconciliation statement with its items, matching settings

Revision ID: t0017
Revises: t0016
"""

import sqlalchemy as sa
from alembic import op

# Copied, not imported: a migration stays as it was released whatever the models become.
SECOND_PERSON = (
    "signed_by is null or (signed_by <> prepared_by and signed_by is distinct from submitted_by)"
)
MATCHED_ROWS_STAY = """
create or replace function bank_matched_rows_stay() returns trigger language plpgsql as $$
begin
    if exists (select 1 from bank_matches where (tg_table_name = 'bank_statement_lines'
            and statement_line_id = old.id) or (tg_table_name = 'bank_book_entries'
            and book_entry_id = old.id)) then
        raise exception 'a matched row is not deleted: unmatch it first'
            using errcode = 'foreign_key_violation', detail = tg_table_name || ' ' || old.id;
    end if;
    return old;
end $$;
create trigger {table}_matched_stay before delete on {table}
    for each row execute function bank_matched_rows_stay();
"""

revision = "t0017"
down_revision = "t0016"
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False)


def _fk(table: str, column: str, target: str, **kw) -> sa.ForeignKeyConstraint:
    name = target.split(".")[0]
    return sa.ForeignKeyConstraint(
        [column], [target], name=op.f(f"fk_{table}_{column}_{name}"), **kw
    )


def _when(column: str) -> sa.Column:
    return sa.Column(
        column, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "reconciliation_settings",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("match_window_days", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_reconciliation_settings_one_row")),
        sa.CheckConstraint(
            "match_window_days between 0 and 31",
            name=op.f("ck_reconciliation_settings_match_window_days"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_settings")),
    )
    op.create_table(
        "bank_statements",
        _id(),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("document_id", sa.BigInteger(), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("closing_balance", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("newest_first", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("archive_item_id", sa.BigInteger(), nullable=True),
        sa.Column("imported_by", sa.BigInteger(), nullable=True),
        _when("imported_at"),
        _fk("bank_statements", "account_id", "bank_accounts.id"),
        _fk("bank_statements", "document_id", "documents.id"),
        _fk("bank_statements", "archive_item_id", "archive_items.id"),
        _fk("bank_statements", "imported_by", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_statements")),
        sa.UniqueConstraint(
            "account_id", "sha256", name=op.f("uq_bank_statements_account_id_sha256")
        ),
    )
    op.create_index(op.f("ix_bank_statements_account_id"), "bank_statements", ["account_id"])
    op.create_table(
        "bank_statement_lines",
        _id(),
        sa.Column("statement_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("counterparty", sa.String(length=200), nullable=True),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("balance", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_bank_statement_lines_amount")),
        _fk("bank_statement_lines", "statement_id", "bank_statements.id", ondelete="RESTRICT"),
        _fk("bank_statement_lines", "account_id", "bank_accounts.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_statement_lines")),
    )
    op.create_index(
        "ix_bank_statement_lines_account_date",
        "bank_statement_lines",
        ["account_id", "value_date"],
    )
    op.create_index(
        op.f("ix_bank_statement_lines_statement_id"), "bank_statement_lines", ["statement_id"]
    )
    op.create_table(
        "bank_journal_imports",
        _id(),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("skipped_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("imported_by", sa.BigInteger(), nullable=True),
        _when("imported_at"),
        _fk("bank_journal_imports", "account_id", "bank_accounts.id"),
        _fk("bank_journal_imports", "imported_by", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_journal_imports")),
        sa.UniqueConstraint(
            "account_id", "sha256", name=op.f("uq_bank_journal_imports_account_id_sha256")
        ),
    )
    op.create_table(
        "bank_matches",
        _id(),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("statement_line_id", sa.BigInteger(), nullable=False),
        sa.Column("book_entry_id", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("matched_by", sa.BigInteger(), nullable=True),
        _when("matched_at"),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.CheckConstraint(
            "method in ('reference', 'date', 'manual')", name=op.f("ck_bank_matches_method")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_matches")),
        sa.UniqueConstraint("statement_line_id", name=op.f("uq_bank_matches_statement_line_id")),
        sa.UniqueConstraint("book_entry_id", name=op.f("uq_bank_matches_book_entry_id")),
    )
    op.create_table(
        "bank_reconciliations",
        _id(),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("book_balance", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("bank_balance", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("bank_balance_entered", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("adjusted_book", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("adjusted_bank", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("prepared_by", sa.BigInteger(), nullable=False),
        _when("prepared_at"),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_by", sa.BigInteger(), nullable=True),
        sa.Column("signed_by", sa.BigInteger(), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("archive_item_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "status in ('draft', 'submitted', 'signed')",
            name=op.f("ck_bank_reconciliations_status"),
        ),
        sa.CheckConstraint(
            "extract(day from month) = 1", name=op.f("ck_bank_reconciliations_month")
        ),
        sa.CheckConstraint(
            SECOND_PERSON,
            name=op.f("ck_bank_reconciliations_second_person"),
        ),
        _fk("bank_reconciliations", "account_id", "bank_accounts.id"),
        _fk("bank_reconciliations", "prepared_by", "users.id"),
        _fk("bank_reconciliations", "submitted_by", "users.id"),
        _fk("bank_reconciliations", "signed_by", "users.id"),
        _fk("bank_reconciliations", "archive_item_id", "archive_items.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_reconciliations")),
        sa.UniqueConstraint(
            "account_id", "month", name=op.f("uq_bank_reconciliations_account_id_month")
        ),
    )
    op.create_table(
        "bank_reconciling_items",
        _id(),
        sa.Column("reconciliation_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("on_day", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("book_entry_id", sa.BigInteger(), nullable=True),
        sa.Column("statement_line_id", sa.BigInteger(), nullable=True),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "kind in ('deposit_in_transit', 'outstanding_payment', 'bank_credit', "
            "'bank_charge', 'manual_book', 'manual_bank')",
            name=op.f("ck_bank_reconciling_items_kind"),
        ),
        sa.CheckConstraint(
            "(kind like 'manual_%') = (reason is not null)",
            name=op.f("ck_bank_reconciling_items_manual_items_have_a_reason"),
        ),
        _fk(
            "bank_reconciling_items",
            "reconciliation_id",
            "bank_reconciliations.id",
            ondelete="CASCADE",
        ),
        _fk("bank_reconciling_items", "book_entry_id", "bank_book_entries.id"),
        _fk("bank_reconciling_items", "statement_line_id", "bank_statement_lines.id"),
        _fk("bank_reconciling_items", "created_by", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_reconciling_items")),
    )
    op.create_index(
        op.f("ix_bank_reconciling_items_reconciliation_id"),
        "bank_reconciling_items",
        ["reconciliation_id"],
    )
    for table in ("bank_statement_lines", "bank_book_entries"):
        op.execute(MATCHED_ROWS_STAY.format(table=table))


def downgrade() -> None:
    op.execute("drop trigger bank_book_entries_matched_stay on bank_book_entries")
    op.drop_table("bank_reconciling_items")
    op.drop_table("bank_reconciliations")
    op.drop_table("bank_matches")
    op.drop_table("bank_journal_imports")
    op.drop_table("bank_statement_lines")
    op.drop_table("bank_statements")
    op.drop_table("reconciliation_settings")
    op.execute("drop function bank_matched_rows_stay()")
