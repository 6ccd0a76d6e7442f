"""accounting archives: retention schedule, catalogue, files, legal holds, appraisals,
destruction lists, lending register, handover lists; the tenant's Object Lock mode

Revision ID: t0012
Revises: t0010
"""

import sqlalchemy as sa
from alembic import op

revision = "t0012"
down_revision = "t0011"
branch_labels = None
depends_on = None

# The national table (accounting-archive rules, 2015) every group so far was provisioned under:
# existing groups get the schedule new ones get from the template.
SCHEDULE = [
    ("original_voucher", "原始凭证", 30, "fiscal_year"),
    ("bookkeeping_voucher", "记账凭证", 30, "fiscal_year"),
    ("general_ledger", "总账", 30, "fiscal_year"),
    ("subsidiary_ledger", "明细账", 30, "fiscal_year"),
    ("journal", "日记账", 30, "fiscal_year"),
    ("auxiliary_book", "其他辅助性账簿", 30, "fiscal_year"),
    ("asset_card", "固定资产卡片", 5, "disposal"),
    ("periodic_report", "月度、季度、半年度财务会计报告", 10, "fiscal_year"),
    ("annual_report", "年度财务会计报告", None, "fiscal_year"),
    ("bank_reconciliation", "银行存款余额调节表", 10, "fiscal_year"),
    ("bank_statement", "银行对账单", 10, "fiscal_year"),
    ("tax_return", "纳税申报表", 10, "fiscal_year"),
    ("transfer_list", "会计档案移交清册", 30, "fiscal_year"),
    ("custody_list", "会计档案保管清册", None, "fiscal_year"),
    ("destruction_list", "会计档案销毁清册", None, "fiscal_year"),
    ("appraisal_opinion", "会计档案鉴定意见书", None, "fiscal_year"),
]


def upgrade() -> None:
    op.create_table(
        "archive_retention",
        sa.Column("class_code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("years", sa.SmallInteger(), nullable=True),
        sa.Column("permanent", sa.Boolean(), nullable=False),
        sa.Column("counted_from", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "counted_from in ('fiscal_year', 'disposal')",
            name=op.f("ck_archive_retention_counted_from"),
        ),
        sa.CheckConstraint(
            "(years is null) = permanent", name=op.f("ck_archive_retention_years_or_permanent")
        ),
        sa.CheckConstraint(
            "years between 1 and 100", name=op.f("ck_archive_retention_years_range")
        ),
        sa.PrimaryKeyConstraint("class_code", name=op.f("pk_archive_retention")),
    )
    op.create_table(
        "archive_destruction_lists",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("approval_request_id", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("archives_supervisor", sa.BigInteger(), nullable=True),
        sa.Column("accounting_supervisor", sa.BigInteger(), nullable=True),
        sa.Column("destroyed_by", sa.BigInteger(), nullable=True),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("record_item_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "status in ('in_approval', 'approved', 'rejected', 'withdrawn', 'destroyed')",
            name=op.f("ck_archive_destruction_lists_status"),
        ),
        sa.CheckConstraint(
            "archives_supervisor <> accounting_supervisor",
            name=op.f("ck_archive_destruction_lists_two_supervisors"),
        ),
        sa.ForeignKeyConstraint(
            ["accounting_supervisor"],
            ["users.id"],
            name=op.f("fk_archive_destruction_lists_accounting_supervisor_users"),
        ),
        sa.ForeignKeyConstraint(
            ["approval_request_id"],
            ["approval_requests.id"],
            name=op.f("fk_archive_destruction_lists_approval_request_id_approval_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["archives_supervisor"],
            ["users.id"],
            name=op.f("fk_archive_destruction_lists_archives_supervisor_users"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_archive_destruction_lists_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["destroyed_by"],
            ["users.id"],
            name=op.f("fk_archive_destruction_lists_destroyed_by_users"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["org_units.id"],
            name=op.f("fk_archive_destruction_lists_unit_id_org_units"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_destruction_lists")),
        sa.UniqueConstraint(
            "approval_request_id", name=op.f("uq_archive_destruction_lists_approval_request_id")
        ),
    )
    op.create_index(
        op.f("ix_archive_destruction_lists_unit_id"),
        "archive_destruction_lists",
        ["unit_id"],
        unique=False,
    )
    op.create_table(
        "archive_items",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("class_code", sa.String(length=40), nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=2), nullable=True),
        sa.Column("volume", sa.String(length=40), nullable=True),
        sa.Column("number_from", sa.Integer(), nullable=True),
        sa.Column("number_to", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("disposed_on", sa.Date(), nullable=True),
        sa.Column("kept_until", sa.Date(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source_type", sa.String(length=40), nullable=True),
        sa.Column("source_id", sa.BigInteger(), nullable=True),
        sa.Column("destruction_list_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "period ~ '^(0[1-9]|1[0-2]|Q[1-4]|H[12])$'", name=op.f("ck_archive_items_period")
        ),
        sa.CheckConstraint(
            "status in ('kept', 'due', 'to_destroy', 'listed', 'destroyed')",
            name=op.f("ck_archive_items_status"),
        ),
        sa.CheckConstraint(
            "(number_from is null) = (number_to is null)", name=op.f("ck_archive_items_number_pair")
        ),
        sa.CheckConstraint(
            "fiscal_year between 2000 and 2200", name=op.f("ck_archive_items_fiscal_year")
        ),
        sa.CheckConstraint("number_from <= number_to", name=op.f("ck_archive_items_number_range")),
        sa.ForeignKeyConstraint(
            ["class_code"],
            ["archive_retention.class_code"],
            name=op.f("fk_archive_items_class_code_archive_retention"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_archive_items_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["destruction_list_id"],
            ["archive_destruction_lists.id"],
            name=op.f("fk_archive_items_destruction_list_id_archive_destruction_lists"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_units.id"], name=op.f("fk_archive_items_unit_id_org_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_items")),
        sa.UniqueConstraint(
            "source_type", "source_id", name=op.f("uq_archive_items_source_type_source_id")
        ),
    )
    op.create_index(
        "ix_archive_items_class_due", "archive_items", ["class_code", "due_on"], unique=False
    )
    op.create_index(
        op.f("ix_archive_items_destruction_list_id"),
        "archive_items",
        ["destruction_list_id"],
        unique=False,
    )
    op.create_index(
        "ix_archive_items_due_kept",
        "archive_items",
        ["due_on"],
        unique=False,
        postgresql_where=sa.text("status = 'kept'"),
    )
    op.create_index(
        "ix_archive_items_unit_class_year",
        "archive_items",
        ["unit_id", "class_code", "fiscal_year"],
        unique=False,
    )
    op.create_table(
        "archive_appraisals",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("keep_until", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("proposed_by", sa.BigInteger(), nullable=False),
        sa.Column(
            "proposed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("confirmed_by", sa.BigInteger(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("agreed", sa.Boolean(), nullable=True),
        sa.CheckConstraint(
            "(decision = 'keep') = (keep_until is not null)",
            name=op.f("ck_archive_appraisals_keep_until"),
        ),
        sa.CheckConstraint(
            "decision in ('keep', 'destroy')", name=op.f("ck_archive_appraisals_decision")
        ),
        sa.CheckConstraint(
            "confirmed_by <> proposed_by", name=op.f("ck_archive_appraisals_second_person")
        ),
        sa.ForeignKeyConstraint(
            ["confirmed_by"], ["users.id"], name=op.f("fk_archive_appraisals_confirmed_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["archive_items.id"],
            name=op.f("fk_archive_appraisals_item_id_archive_items"),
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by"], ["users.id"], name=op.f("fk_archive_appraisals_proposed_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_appraisals")),
    )
    op.create_index(
        op.f("ix_archive_appraisals_item_id"), "archive_appraisals", ["item_id"], unique=False
    )
    op.create_index(
        "uq_archive_appraisals_open_item",
        "archive_appraisals",
        ["item_id"],
        unique=True,
        postgresql_where=sa.text("confirmed_at is null"),
    )
    op.create_table(
        "archive_files",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("document_id", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "filed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_archive_files_document_id_documents")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["archive_items.id"], name=op.f("fk_archive_files_item_id_archive_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_files")),
        sa.UniqueConstraint("document_id", name=op.f("uq_archive_files_document_id")),
    )
    op.create_index(op.f("ix_archive_files_item_id"), "archive_files", ["item_id"], unique=False)
    op.create_table(
        "archive_holds",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=True),
        sa.Column("unit_id", sa.BigInteger(), nullable=True),
        sa.Column("fiscal_year", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("placed_by", sa.BigInteger(), nullable=False),
        sa.Column(
            "placed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("released_by", sa.BigInteger(), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(item_id is not null and unit_id is null and fiscal_year is null) or (item_id is null and unit_id is not null)",
            name=op.f("ck_archive_holds_scope"),
        ),
        sa.CheckConstraint("released_by <> placed_by", name=op.f("ck_archive_holds_second_person")),
        sa.ForeignKeyConstraint(
            ["item_id"], ["archive_items.id"], name=op.f("fk_archive_holds_item_id_archive_items")
        ),
        sa.ForeignKeyConstraint(
            ["placed_by"], ["users.id"], name=op.f("fk_archive_holds_placed_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["released_by"], ["users.id"], name=op.f("fk_archive_holds_released_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_units.id"], name=op.f("fk_archive_holds_unit_id_org_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_holds")),
    )
    op.create_index(op.f("ix_archive_holds_item_id"), "archive_holds", ["item_id"], unique=False)
    op.create_index(op.f("ix_archive_holds_unit_id"), "archive_holds", ["unit_id"], unique=False)
    op.create_table(
        "archive_loans",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("borrower", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("issued_by", sa.BigInteger(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("returned_on", sa.Date(), nullable=True),
        sa.Column("received_by", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("due_on >= issued_on", name=op.f("ck_archive_loans_due_after_issue")),
        sa.ForeignKeyConstraint(
            ["issued_by"], ["users.id"], name=op.f("fk_archive_loans_issued_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["archive_items.id"], name=op.f("fk_archive_loans_item_id_archive_items")
        ),
        sa.ForeignKeyConstraint(
            ["received_by"], ["users.id"], name=op.f("fk_archive_loans_received_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_loans")),
    )
    op.create_index(op.f("ix_archive_loans_item_id"), "archive_loans", ["item_id"], unique=False)
    op.add_column(
        "tenant_settings",
        sa.Column(
            "archive_lock_mode", sa.String(length=16), server_default="governance", nullable=False
        ),
    )
    op.create_table(
        "archive_handovers",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("leaving_id", sa.BigInteger(), nullable=False),
        sa.Column("receiving_id", sa.BigInteger(), nullable=False),
        sa.Column("supervisor_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("leaving_signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("receiving_signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("supervisor_signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("record_item_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "status in ('open', 'signed', 'cancelled')", name=op.f("ck_archive_handovers_status")
        ),
        sa.CheckConstraint(
            "leaving_id <> receiving_id and supervisor_id not in (leaving_id, receiving_id)",
            name=op.f("ck_archive_handovers_three_people"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_archive_handovers_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["leaving_id"], ["users.id"], name=op.f("fk_archive_handovers_leaving_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["receiving_id"], ["users.id"], name=op.f("fk_archive_handovers_receiving_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["supervisor_id"], ["users.id"], name=op.f("fk_archive_handovers_supervisor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_units.id"], name=op.f("fk_archive_handovers_unit_id_org_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_handovers")),
    )
    op.create_index(
        op.f("ix_archive_handovers_unit_id"), "archive_handovers", ["unit_id"], unique=False
    )
    op.create_table(
        "archive_handover_lines",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("handover_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "(kind = 'archive') = (item_id is not null)",
            name=op.f("ck_archive_handover_lines_archive_item"),
        ),
        sa.CheckConstraint(
            "kind in ('archive', 'seal', 'cheque_book', 'open_item', 'other')",
            name=op.f("ck_archive_handover_lines_kind"),
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_archive_handover_lines_quantity")),
        sa.ForeignKeyConstraint(
            ["handover_id"],
            ["archive_handovers.id"],
            name=op.f("fk_archive_handover_lines_handover_id_archive_handovers"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["archive_items.id"],
            name=op.f("fk_archive_handover_lines_item_id_archive_items"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_handover_lines")),
    )
    op.create_index(
        op.f("ix_archive_handover_lines_handover_id"),
        "archive_handover_lines",
        ["handover_id"],
        unique=False,
    )
    retention = sa.table(
        "archive_retention",
        sa.column("class_code", sa.String),
        sa.column("name", sa.String),
        sa.column("years", sa.SmallInteger),
        sa.column("permanent", sa.Boolean),
        sa.column("counted_from", sa.String),
    )
    op.bulk_insert(
        retention,
        [
            {
                "class_code": code,
                "name": name,
                "years": years,
                "permanent": years is None,
                "counted_from": counted_from,
            }
            for code, name, years, counted_from in SCHEDULE
        ],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_archive_handover_lines_handover_id"), table_name="archive_handover_lines"
    )
    op.drop_table("archive_handover_lines")
    op.drop_index(op.f("ix_archive_handovers_unit_id"), table_name="archive_handovers")
    op.drop_table("archive_handovers")
    op.drop_column("tenant_settings", "archive_lock_mode")
    op.drop_index(op.f("ix_archive_loans_item_id"), table_name="archive_loans")
    op.drop_table("archive_loans")
    op.drop_index(op.f("ix_archive_holds_unit_id"), table_name="archive_holds")
    op.drop_index(op.f("ix_archive_holds_item_id"), table_name="archive_holds")
    op.drop_table("archive_holds")
    op.drop_index(op.f("ix_archive_files_item_id"), table_name="archive_files")
    op.drop_table("archive_files")
    op.drop_index(
        "uq_archive_appraisals_open_item",
        table_name="archive_appraisals",
        postgresql_where=sa.text("confirmed_at is null"),
    )
    op.drop_index(op.f("ix_archive_appraisals_item_id"), table_name="archive_appraisals")
    op.drop_table("archive_appraisals")
    op.drop_index("ix_archive_items_unit_class_year", table_name="archive_items")
    op.drop_index(
        "ix_archive_items_due_kept",
        table_name="archive_items",
        postgresql_where=sa.text("status = 'kept'"),
    )
    op.drop_index(op.f("ix_archive_items_destruction_list_id"), table_name="archive_items")
    op.drop_index("ix_archive_items_class_due", table_name="archive_items")
    op.drop_table("archive_items")
    op.drop_index(
        op.f("ix_archive_destruction_lists_unit_id"), table_name="archive_destruction_lists"
    )
    op.drop_table("archive_destruction_lists")
    op.drop_table("archive_retention")
