"""A closed account's file (银行账户资料, R-BNK-6, §10.1.4.6): the request forms from opening to
closing, its number, seals and signatories, and every document attached to the account or its
requests uploaded at the account's unit, filed as one archive item of the account's unit."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from propgroup.archives import pdf
from propgroup.archives.models import ArchiveItem
from propgroup.archives.service import file_generated, link_documents
from propgroup.banking import numbers
from propgroup.banking.models import (
    ACCOUNT_TYPES,
    REQUEST_KINDS,
    SEAL_KINDS,
    AccountSeal,
    AccountSignatory,
    BankAccount,
    BankAccountRequest,
)
from propgroup.identity.models import User
from propgroup.identity.principals import SYSTEM
from propgroup.org import service as org
from propgroup.storage.models import Document
from propgroup.storage.settings import configured_store

FILE_CLASS = "bank_account_file"
# Documents uploaded for an account (opening papers, the bank's seal card) or for one of its
# requests (a signed form, closing papers) carry these entity types.
ACCOUNT_ENTITY, REQUEST_ENTITY = "bank_account", "bank_account_request"


def _requests(session: Session, account: BankAccount) -> list[BankAccountRequest]:
    return list(
        session.scalars(
            select(BankAccountRequest)
            .where(BankAccountRequest.account_id == account.id)
            .order_by(BankAccountRequest.id)
        )
    )


def _people_lines(session: Session, account: BankAccount) -> list[str]:
    lines = []
    for seal, user in session.execute(
        select(AccountSeal, User)
        .join(User, User.id == AccountSeal.keeper_id)
        .where(AccountSeal.account_id == account.id)
        .order_by(AccountSeal.kind)
    ):
        lines.append(f"  {SEAL_KINDS[seal.kind]}: {user.display_name} ({user.login}) {seal.since}")
    for signer, user in session.execute(
        select(AccountSignatory, User)
        .join(User, User.id == AccountSignatory.user_id)
        .where(AccountSignatory.account_id == account.id)
    ):
        lines.append(f"  授权签字人 / Signatory: {user.display_name} ({user.login}) {signer.since}")
    return lines


def account_file_pdf(
    session: Session, account: BankAccount, requests: list[BankAccountRequest]
) -> bytes:
    # Masked: the file is read with documents:read / archives:read, not banking:numbers; the
    # clear number stays in the account's encrypted row.
    number = numbers.masked(account.number_last4) or "-"
    unit = org.get_unit(session, account.unit_id)
    text = [
        "银行账户资料 / Bank account file",
        "",
        f"单位 / Unit: {unit.name} ({unit.code})",
        f"开户行 / Bank: {account.bank} {account.bank_branch}"[:90],
        f"户名 / Account name: {account.account_name}"[:90],
        f"账号 / Number: {number}    类型 / Type: {ACCOUNT_TYPES[account.account_type]}",
        f"币种 / Currency: {account.currency}    用途 / Purpose: {account.purpose}"[:90],
        f"开户 / Opened: {account.opened_on or '-'}    销户 / Closed: {account.closed_on or '-'}",
        "预留印鉴及签字人 / Reserved seals and signatories:",
        *_people_lines(session, account),
        "",
        "申请表 / Request forms:",
    ]
    for request in requests:
        text.append(
            f"#{request.id} {REQUEST_KINDS[request.kind]} {request.status} "
            f"{request.submitted_at:%Y-%m-%d} {request.form.get('reason', '')}"[:90]
            if request.submitted_at
            else f"#{request.id} {REQUEST_KINDS[request.kind]} {request.status}"
        )
    return pdf.render(text, title=f"银行账户资料 #{account.id}")


def file_account(session: Session, account: BankAccount) -> ArchiveItem:
    """Filed once the closing is approved, in the same transaction."""
    requests = _requests(session, account)
    unit = org.get_unit(session, account.unit_id)
    number = f"****{account.number_last4 or ''}"
    item = file_generated(
        session,
        configured_store(),
        SYSTEM,
        class_code=FILE_CLASS,
        unit=unit,
        title=f"银行账户资料 · {account.bank} {account.bank_branch} {number} · {unit.name}",
        source=(ACCOUNT_ENTITY, account.id),
        files=[(f"bank-account-{account.id}.pdf", account_file_pdf(session, account, requests))],
    )
    attached = list(
        session.scalars(
            select(Document)
            .where(
                Document.unit_id == account.unit_id,  # never another unit's upload
                or_(
                    (Document.entity_type == ACCOUNT_ENTITY) & (Document.entity_id == account.id),
                    (Document.entity_type == REQUEST_ENTITY)
                    & Document.entity_id.in_([r.id for r in requests]),
                ),
            )
            .order_by(Document.id)
        )
    )
    if attached:
        link_documents(session, SYSTEM, item, attached)
    return item
