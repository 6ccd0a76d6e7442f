"""ledger actuals as the book of record: the unit-months an import covers, reversal of imports
(who, when, why; a reversed file may come in again) and of recorded income (a counter-entry)

Revision ID: t0014
Revises: t0013
"""

import sqlalchemy as sa
from alembic import op

revision = "t0014"
down_revision = "t0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("budget_actual_imports", sa.Column("reversed_by", sa.BigInteger()))
    op.add_column("budget_actual_imports", sa.Column("reversed_at", sa.DateTime(timezone=True)))
    op.add_column("budget_actual_imports", sa.Column("reversal_reason", sa.String(length=500)))
    op.create_foreign_key(
        op.f("fk_budget_actual_imports_reversed_by_users"),
        "budget_actual_imports",
        "users",
        ["reversed_by"],
        ["id"],
    )
    op.create_index(
        "uq_budget_actual_imports_live_sha256",
        "budget_actual_imports",
        ["sha256"],
        unique=True,
        postgresql_where=sa.text("reversed_at is null"),
    )
    op.drop_constraint(
        op.f("uq_budget_actual_imports_sha256"), "budget_actual_imports", type_="unique"
    )
    op.add_column("budget_actuals", sa.Column("reverses_id", sa.BigInteger()))
    op.create_foreign_key(
        op.f("fk_budget_actuals_reverses_id_budget_actuals"),
        "budget_actuals",
        "budget_actuals",
        ["reverses_id"],
        ["id"],
    )
    op.create_unique_constraint(
        op.f("uq_budget_actuals_reverses_id"), "budget_actuals", ["reverses_id"]
    )
    op.create_index(
        "ix_budget_actuals_income",
        "budget_actuals",
        ["fiscal_year", "unit_id", "month"],
        postgresql_where=sa.text("source = 'income'"),
    )
    op.create_table(
        "budget_ledger_months",
        sa.Column("import_id", sa.BigInteger(), nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("month", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint("month between 1 and 12", name=op.f("ck_budget_ledger_months_month")),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["budget_actual_imports.id"],
            name=op.f("fk_budget_ledger_months_import_id_budget_actual_imports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_units.id"], name=op.f("fk_budget_ledger_months_unit_id_org_units")
        ),
        sa.PrimaryKeyConstraint(
            "import_id", "unit_id", "fiscal_year", "month", name=op.f("pk_budget_ledger_months")
        ),
    )
    op.create_index(
        "ix_budget_ledger_months_unit_month",
        "budget_ledger_months",
        ["unit_id", "fiscal_year", "month"],
    )
    # Imports made before this revision cover the unit-months of their rows, as new ones do.
    op.execute(
        "insert into budget_ledger_months (import_id, unit_id, fiscal_year, month)"
        " select distinct import_id, unit_id, fiscal_year, month from budget_actuals"
        " where source = 'ledger' and import_id is not null"
    )


def downgrade() -> None:
    # Before t0014 an import is never reversed: a reversed one goes (its rows did already), so
    # that one sha256 per file holds again; the audit trail keeps who reversed it and why.
    reversed_imports = "select id from budget_actual_imports where reversed_at is not null"
    op.execute(f"delete from budget_actuals where import_id in ({reversed_imports})")
    op.execute(f"delete from budget_actual_imports where id in ({reversed_imports})")
    op.drop_table("budget_ledger_months")
    op.drop_index("ix_budget_actuals_income", table_name="budget_actuals")
    op.drop_constraint(op.f("uq_budget_actuals_reverses_id"), "budget_actuals", type_="unique")
    op.drop_constraint(
        op.f("fk_budget_actuals_reverses_id_budget_actuals"), "budget_actuals", type_="foreignkey"
    )
    op.drop_column("budget_actuals", "reverses_id")
    op.create_unique_constraint(
        op.f("uq_budget_actual_imports_sha256"), "budget_actual_imports", ["sha256"]
    )
    op.drop_index("uq_budget_actual_imports_live_sha256", table_name="budget_actual_imports")
    op.drop_constraint(
        op.f("fk_budget_actual_imports_reversed_by_users"),
        "budget_actual_imports",
        type_="foreignkey",
    )
    op.drop_column("budget_actual_imports", "reversal_reason")
    op.drop_column("budget_actual_imports", "reversed_at")
    op.drop_column("budget_actual_imports", "reversed_by")
