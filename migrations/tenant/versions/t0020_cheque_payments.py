"""cheque payments: a cheque against a request is that request's payment (approvals.pay), undone
when the cheque is voided (payments keep their reversal); petty cash lent against an approved
advance; the fund-report revision a unit confirmed and whether the region confirmed for it

Revision ID: t0020
Revises: t0019
"""

import sqlalchemy as sa
from alembic import op

revision = "t0020"
down_revision = "t0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("approval_payments", sa.Column("reversed_at", sa.DateTime(timezone=True)))
    op.add_column("approval_payments", sa.Column("reversed_by", sa.BigInteger()))
    op.add_column("approval_payments", sa.Column("reversal_reason", sa.String(length=500)))
    op.create_foreign_key(
        op.f("fk_approval_payments_reversed_by_users"),
        "approval_payments",
        "users",
        ["reversed_by"],
        ["id"],
    )
    op.create_check_constraint(
        op.f("ck_approval_payments_reversed_by_someone"),
        "approval_payments",
        "(reversed_at is null) = (reversed_by is null)",
    )
    op.drop_constraint(op.f("uq_approval_payments_request_id"), "approval_payments", type_="unique")
    op.create_index(op.f("ix_approval_payments_request_id"), "approval_payments", ["request_id"])
    op.create_index(
        "uq_approval_payments_one_standing",
        "approval_payments",
        ["request_id"],
        unique=True,
        postgresql_where=sa.text("reversed_at is null"),
    )
    op.add_column("cheques", sa.Column("payment_id", sa.BigInteger()))
    op.create_foreign_key(
        op.f("fk_cheques_payment_id_approval_payments"),
        "cheques",
        "approval_payments",
        ["payment_id"],
        ["id"],
    )
    op.create_unique_constraint(op.f("uq_cheques_payment_id"), "cheques", ["payment_id"])
    op.create_check_constraint(
        op.f("ck_cheques_request_paid"), "cheques", "(request_id is null) = (payment_id is null)"
    )
    op.add_column("petty_cash_advances", sa.Column("request_id", sa.BigInteger()))
    op.create_foreign_key(
        op.f("fk_petty_cash_advances_request_id_approval_requests"),
        "petty_cash_advances",
        "approval_requests",
        ["request_id"],
        ["id"],
    )
    op.create_unique_constraint(
        op.f("uq_petty_cash_advances_request_id"), "petty_cash_advances", ["request_id"]
    )
    op.add_column("fund_report_confirmations", sa.Column("revision", sa.Integer()))
    op.add_column(
        "fund_report_confirmations",
        sa.Column("on_behalf", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("fund_report_confirmations", "on_behalf")
    op.drop_column("fund_report_confirmations", "revision")
    op.drop_constraint(
        op.f("uq_petty_cash_advances_request_id"), "petty_cash_advances", type_="unique"
    )
    op.drop_constraint(
        op.f("fk_petty_cash_advances_request_id_approval_requests"),
        "petty_cash_advances",
        type_="foreignkey",
    )
    op.drop_column("petty_cash_advances", "request_id")
    op.drop_constraint(op.f("ck_cheques_request_paid"), "cheques", type_="check")
    op.drop_constraint(op.f("uq_cheques_payment_id"), "cheques", type_="unique")
    op.drop_constraint(
        op.f("fk_cheques_payment_id_approval_payments"), "cheques", type_="foreignkey"
    )
    op.drop_column("cheques", "payment_id")
    # One payment a request again: reversed payments (history) cannot stay beside it.
    op.execute("delete from approval_payments where reversed_at is not null")
    op.drop_index("uq_approval_payments_one_standing", table_name="approval_payments")
    op.drop_index(op.f("ix_approval_payments_request_id"), table_name="approval_payments")
    op.create_unique_constraint(
        op.f("uq_approval_payments_request_id"), "approval_payments", ["request_id"]
    )
    op.drop_constraint(
        op.f("ck_approval_payments_reversed_by_someone"), "approval_payments", type_="check"
    )
    op.drop_constraint(
        op.f("fk_approval_payments_reversed_by_users"), "approval_payments", type_="foreignkey"
    )
    op.drop_column("approval_payments", "reversal_reason")
    op.drop_column("approval_payments", "reversed_by")
    op.drop_column("approval_payments", "reversed_at")
