"""A signed reconciliation files itself (R-BNK-6: account files are accounting archives): the
statement as its paper-form PDF (class bank_reconciliation), and the month's bank statement
files not filed yet as one bank_statement item, both in the month's fiscal year and period."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from propgroup.archives.service import file_generated, link_documents, new_item
from propgroup.banking import numbers
from propgroup.banking.models import BankAccount
from propgroup.identity.models import User
from propgroup.identity.principals import SYSTEM, Principal
from propgroup.org.models import OrgUnit
from propgroup.reconciliation.models import BankStatement, Reconciliation, ReconcilingItem
from propgroup.reconciliation.paper import form_pdf
from propgroup.reconciliation.periods import label, month_end
from propgroup.storage.blobstore import BlobStore
from propgroup.storage.models import Document
from propgroup.tenancy.settings import tenant_zone

RECONCILIATION_CLASS = "bank_reconciliation"
STATEMENT_CLASS = "bank_statement"


def _title(what: str, rec: Reconciliation, account: BankAccount) -> str:
    return f"{what} {label(rec.month)} {account.bank} {numbers.masked(account.number_last4)}"


def _file_statements(session: Session, rec: Reconciliation, account: BankAccount) -> None:
    statements = session.scalars(
        select(BankStatement).where(
            BankStatement.account_id == account.id,
            BankStatement.archive_item_id.is_(None),
            BankStatement.document_id.is_not(None),
            BankStatement.first_day <= month_end(rec.month),
        )
    ).all()
    if not statements:
        return
    item = new_item(
        session,
        SYSTEM,
        {
            "class_code": STATEMENT_CLASS,
            "unit_id": account.unit_id,
            "fiscal_year": rec.month.year,
            "period": f"{rec.month.month:02d}",
            "title": _title("银行对账单", rec, account),
        },
        source=("bank_statement", statements[0].id),  # one item per source: the first file's
    )
    documents = session.scalars(
        select(Document).where(Document.id.in_([s.document_id for s in statements]))
    ).all()
    link_documents(session, SYSTEM, item, documents)
    for statement in statements:
        statement.archive_item_id = item.id


def file_signed(
    session: Session,
    store: BlobStore,
    principal: Principal,
    rec: Reconciliation,
    account: BankAccount,
    unit: OrgUnit,
    items: list[ReconcilingItem],
    people: dict[int, User],
) -> int:
    """File the signed statement and the month's statement files; the statement's item id."""
    item = file_generated(
        session,
        store,
        principal,
        class_code=RECONCILIATION_CLASS,
        unit=unit,
        title=_title("银行存款余额调节表", rec, account),
        source=("bank_reconciliation", rec.id),
        files=[
            (
                f"bank-reconciliation-{account.id}-{label(rec.month)}.pdf",
                form_pdf(rec, account, unit, items, people, tenant_zone(session)),
            )
        ],
        fiscal_year=rec.month.year,
        period=f"{rec.month.month:02d}",
    )
    _file_statements(session, rec, account)
    return item.id
