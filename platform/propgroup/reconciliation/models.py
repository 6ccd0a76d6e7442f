"""Bank reconciliation (银行对账, R-BNK-5): imported bank statements (银行对账单) and their lines,
matches between statement lines and the bank journal (``banking.models.BookEntry``), and the
monthly bank balance reconciliation statement (银行存款余额调节表) with its reconciling items.

Amounts are signed from the company's side everywhere: money into the account positive, money
out negative, on the statement as in the journal, so a match always pairs equal amounts.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    DDL,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    event,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from propgroup.archives import models as _archives_models  # noqa: F401  (archive_items FK)
from propgroup.banking import models as banking_models
from propgroup.db import MONEY, TenantBase
from propgroup.storage import models as _storage_models  # noqa: F401  (documents FK)

DEFAULT_MATCH_WINDOW_DAYS = 3
MAX_MATCH_WINDOW_DAYS = 31
RECONCILIATION_STATUSES = ("draft", "submitted", "signed")
MATCH_METHODS = ("reference", "date", "manual")
# The four classic reconciling items, and a hand-entered one on either side.
ITEM_KINDS = {
    "deposit_in_transit": "企业已收银行未收",
    "outstanding_payment": "企业已付银行未付",
    "bank_credit": "银行已收企业未收",
    "bank_charge": "银行已付企业未付",
    "manual_book": "账面调整",
    "manual_bank": "对账单调整",
}


# The signer is neither the preparer nor the submitter (R-BNK-5).
SECOND_PERSON = (
    "signed_by is null or (signed_by <> prepared_by and signed_by is distinct from submitted_by)"
)
# Matched statement lines and journal entries are not deleted: bank_matches has no foreign keys
# (see BankMatch), so this trigger function stands in for them on delete.
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


def _one_of(column: str, values: object) -> str:
    return f"{column} in ({', '.join(repr(value) for value in values)})"


class ReconciliationSettings(TenantBase):
    """The group's matching window (one row; absent: ±3 days). A run may name its own."""

    __tablename__ = "reconciliation_settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="one_row"),
        CheckConstraint(
            f"match_window_days between 0 and {MAX_MATCH_WINDOW_DAYS}", name="match_window_days"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False, default=1)
    match_window_days: Mapped[int] = mapped_column(SmallInteger)


class BankStatement(TenantBase):
    """One statement file of an account: stored as a document, its lines imported. The same
    file (sha256) is imported once per account."""

    __tablename__ = "bank_statements"
    __table_args__ = (UniqueConstraint("account_id", "sha256"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"), index=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    line_count: Mapped[int] = mapped_column(Integer)
    # The balance the bank states at ``last_day``: from the file's balance column, or entered.
    closing_balance: Mapped[Decimal | None] = mapped_column(MONEY)
    # Banks export newest first as often as oldest first: the balance after a day is then
    # that of its lowest line number.
    newest_first: Mapped[bool] = mapped_column(default=False, server_default="false")
    archive_item_id: Mapped[int | None] = mapped_column(ForeignKey("archive_items.id"))
    imported_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    imported_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class StatementLine(TenantBase):
    """A line of a bank statement; ``account_id`` is repeated so matching reads one index."""

    __tablename__ = "bank_statement_lines"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount"),
        Index("ix_bank_statement_lines_account_date", "account_id", "value_date"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    # RESTRICT: a statement goes only with its lines deleted first (imports.delete_statement).
    statement_id: Mapped[int] = mapped_column(
        ForeignKey("bank_statements.id", ondelete="RESTRICT"), index=True
    )
    account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"))
    line_no: Mapped[int] = mapped_column(Integer)  # the line of the file
    value_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    reference: Mapped[str | None] = mapped_column(String(100))
    counterparty: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(500))
    balance: Mapped[Decimal | None] = mapped_column(MONEY)


class JournalImport(TenantBase):
    """A journal file imported into the bank journal, so the same file is refused next time."""

    __tablename__ = "bank_journal_imports"
    __table_args__ = (UniqueConstraint("account_id", "sha256"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    line_count: Mapped[int] = mapped_column(Integer)
    # Lines left out as cheques the cash desk booked already (same reference and amount).
    skipped_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    imported_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    imported_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class BankMatch(TenantBase):
    """A statement line and the journal entry it is: one to one, equal amounts, one account.

    No foreign keys here, on purpose: each would fire a trigger per row, and an auto-match
    inserting 100,000 pairs spent 7 of its 9 seconds in four of them. The insert checks every
    pair against both tables set-wise instead (matching._insert), and a trigger on each of the
    two row tables refuses deleting a matched row (``MATCHED_ROWS_STAY``): it fires on deletes
    only, so inserts cost nothing.

    ``effective_on`` is the day the pair clears: the later of its two dates, and for rows left
    open in reconciled months, the first open day (signed months keep their items)."""

    __tablename__ = "bank_matches"
    __table_args__ = (CheckConstraint(_one_of("method", MATCH_METHODS), name="method"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    account_id: Mapped[int] = mapped_column(BigInteger)
    statement_line_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    book_entry_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    method: Mapped[str] = mapped_column(String(16))
    matched_by: Mapped[int | None] = mapped_column(BigInteger)  # a user's id; audited too
    effective_on: Mapped[date] = mapped_column(Date)
    matched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Reconciliation(TenantBase):
    """The bank balance reconciliation statement of one account for one month (``month`` is its
    first day). Prepared and submitted by finance; signed off by the finance manager, another
    person (R-BNK-5); once submitted its figures and items no longer change."""

    __tablename__ = "bank_reconciliations"
    __table_args__ = (
        UniqueConstraint("account_id", "month"),
        CheckConstraint(_one_of("status", RECONCILIATION_STATUSES), name="status"),
        CheckConstraint("extract(day from month) = 1", name="month"),
        CheckConstraint(SECOND_PERSON, name="second_person"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"))
    month: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    book_balance: Mapped[Decimal] = mapped_column(MONEY)
    bank_balance: Mapped[Decimal | None] = mapped_column(MONEY)
    bank_balance_entered: Mapped[bool] = mapped_column(default=False, server_default="false")
    adjusted_book: Mapped[Decimal] = mapped_column(MONEY)
    adjusted_bank: Mapped[Decimal | None] = mapped_column(MONEY)
    prepared_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    prepared_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    archive_item_id: Mapped[int | None] = mapped_column(ForeignKey("archive_items.id"))


class ReconcilingItem(TenantBase):
    """One reconciling item of a reconciliation: derived from an unmatched journal entry or
    statement line (refreshed while the draft is open), or entered by hand with its reason."""

    __tablename__ = "bank_reconciling_items"
    __table_args__ = (
        CheckConstraint(_one_of("kind", ITEM_KINDS), name="kind"),
        CheckConstraint(
            "(kind like 'manual_%') = (reason is not null)", name="manual_items_have_a_reason"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    reconciliation_id: Mapped[int] = mapped_column(
        ForeignKey("bank_reconciliations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(24))
    on_day: Mapped[date] = mapped_column(Date)
    # Signed as it moves the side it adjusts: a bank charge lowers the book side (negative).
    amount: Mapped[Decimal] = mapped_column(MONEY)
    book_entry_id: Mapped[int | None] = mapped_column(ForeignKey("bank_book_entries.id"))
    statement_line_id: Mapped[int | None] = mapped_column(ForeignKey("bank_statement_lines.id"))
    reference: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(500))
    reason: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


for _table in (StatementLine.__table__, banking_models.BookEntry.__table__):
    # Tables made from the models (provisioning) get the trigger the migration gives.
    event.listen(_table, "after_create", DDL(MATCHED_ROWS_STAY.format(table=_table.name)))
