"""Getting the two sides in: bank statements (the file kept in the document store, its lines
imported) and the bank journal (银行存款日记账: imported from the accounting system's export, or
entered one entry at a time). Finance of the account's unit does it (banking:write); a file is
imported once per account; nothing dated in a reconciled month is added."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from propgroup.approvals.service import today
from propgroup.audit.service import record
from propgroup.banking.models import BankAccount, BookEntry
from propgroup.banking.service import read_account
from propgroup.errors import Conflict, InvalidInput
from propgroup.identity.principals import Principal
from propgroup.money import to_money
from propgroup.reconciliation.csvfile import (
    JOURNAL,
    MAX_BYTES,
    STATEMENT,
    TEXT_FIELDS,
    Line,
    Mapping,
    read_lines,
)
from propgroup.reconciliation.models import BankStatement, JournalImport, StatementLine
from propgroup.reconciliation.periods import check_not_fixed
from propgroup.storage import service as storage
from propgroup.storage.blobstore import BlobStore
from propgroup.tenancy.slugs import tenant_slug

STATEMENT_ENTITY = "bank_statement"  # documents holding statement files


def user_id(principal: Principal) -> int | None:
    return principal.id if principal.kind == "user" else None


def writable_account(session: Session, principal: Principal, account_id: int) -> BankAccount:
    """The account, if the principal keeps its books (banking:write) and it is open."""
    account = read_account(session, principal, account_id, "banking:write")
    if account.status != "open":
        raise Conflict(
            f"bank account {account.id} is {account.status}, not open", code="account_not_open"
        )
    return account


def _refuse_twice(session: Session, model: type, account_id: int, sha256: str) -> None:
    earlier = session.scalar(
        select(model).where(model.account_id == account_id, model.sha256 == sha256)
    )
    if earlier is not None:
        raise Conflict(
            f"this file was imported already ({earlier.filename}, {earlier.imported_at:%Y-%m-%d})",
            code="file_imported",
            errors={"sha256": [sha256]},
        )


def _closing(lines: Sequence[Line], entered: Decimal | None) -> Decimal | None:
    """The bank's balance after the file's last line: its balance column, or as entered; the
    two must agree when both are there."""
    stated = [line for line in lines if line.balance is not None]
    from_file = max(stated, key=lambda line: (line.day, line.line_no)).balance if stated else None
    if entered is not None and from_file is not None and entered != from_file:
        raise InvalidInput(
            f"the closing balance {entered} differs from the file's last balance {from_file}",
            code="bad_closing_balance",
            errors={"closing_balance": [str(from_file)]},
        )
    return from_file if from_file is not None else entered


def import_statement(
    session: Session,
    store: BlobStore,
    principal: Principal,
    account_id: int,
    *,
    content: bytes,
    filename: str,
    mapping: Mapping,
    closing_balance: Decimal | None = None,
) -> BankStatement:
    """Store the statement file and import its lines, or refuse it whole."""
    account = writable_account(session, principal, account_id)
    name = storage.clean_filename(filename)
    sha256 = hashlib.sha256(content).hexdigest()
    _refuse_twice(session, BankStatement, account.id, sha256)
    lines = read_lines(content, mapping, STATEMENT, today(session))
    check_not_fixed(session, account.id, (line.day for line in lines))
    statement = BankStatement(
        account_id=account.id,
        filename=name,
        sha256=sha256,
        first_day=min(line.day for line in lines),
        last_day=max(line.day for line in lines),
        line_count=len(lines),
        closing_balance=_closing(lines, closing_balance),
        imported_by=user_id(principal),
    )
    session.add(statement)
    session.flush()
    statement.document_id = storage.store_document(
        session,
        store,
        tenant_slug=tenant_slug(session),
        stream=io.BytesIO(content),
        filename=name,
        entity_type=STATEMENT_ENTITY,
        entity_id=statement.id,
        unit_id=account.unit_id,
        uploaded_by=user_id(principal),
        max_bytes=MAX_BYTES,
    ).id
    session.execute(
        insert(StatementLine),
        [
            {
                "statement_id": statement.id,
                "account_id": account.id,
                "line_no": line.line_no,
                "value_date": line.day,
                "amount": line.amount,
                "reference": line.reference,
                "counterparty": line.counterparty,
                "description": line.description,
                "balance": line.balance,
            }
            for line in lines
        ],
    )
    session.flush()
    record(
        session,
        principal,
        "reconciliation.statement_imported",
        "bank_statement",
        statement.id,
        after={
            "account": account.id,
            "filename": name,
            "sha256": sha256,
            "lines": len(lines),
            "days": [str(statement.first_day), str(statement.last_day)],
            "closing_balance": statement.closing_balance,
        },
    )
    return statement


def _entry_row(account_id: int, principal: Principal, source: str, **fields: Any) -> dict:
    return {"account_id": account_id, "source": source, "created_by": user_id(principal), **fields}


def import_journal(
    session: Session,
    principal: Principal,
    account_id: int,
    *,
    content: bytes,
    filename: str,
    mapping: Mapping,
) -> JournalImport:
    """Journal lines exported from the accounting system, as book entries of the account."""
    account = writable_account(session, principal, account_id)
    name = storage.clean_filename(filename)
    sha256 = hashlib.sha256(content).hexdigest()
    _refuse_twice(session, JournalImport, account.id, sha256)
    lines = read_lines(content, mapping, JOURNAL, today(session))
    check_not_fixed(session, account.id, (line.day for line in lines))
    imported = JournalImport(
        account_id=account.id,
        filename=name,
        sha256=sha256,
        line_count=len(lines),
        imported_by=user_id(principal),
    )
    session.add(imported)
    session.execute(
        insert(BookEntry),
        [
            _entry_row(
                account.id,
                principal,
                "import",
                entry_date=line.day,
                amount=line.amount,
                reference=line.reference,
                counterparty=line.counterparty,
                description=line.description,
            )
            for line in lines
        ],
    )
    session.flush()
    record(
        session,
        principal,
        "reconciliation.journal_imported",
        "bank_journal_import",
        imported.id,
        after={"account": account.id, "filename": name, "sha256": sha256, "lines": len(lines)},
    )
    return imported


class EntrySpecSchema(Schema):
    entry_date = fields.Date(required=True)
    amount = fields.Raw(required=True)
    reference = fields.String(load_default=None, validate=validate.Length(max=100))
    counterparty = fields.String(load_default=None, validate=validate.Length(max=200))
    description = fields.String(load_default=None, validate=validate.Length(max=500))
    # The balance carried over from before the system (期初余额): one, before every other entry.
    opening = fields.Boolean(load_default=False)


def _checked_entry(spec: dict[str, Any], latest: date) -> dict[str, Any]:
    try:
        checked = EntrySpecSchema().load(spec)
    except ValidationError as error:
        raise InvalidInput(
            "the journal entry was refused", code="bad_entry", errors=error.messages
        ) from error
    checked["amount"] = to_money(checked["amount"], "amount", signed=True, allow_zero=True)
    if checked["amount"] == 0:
        raise InvalidInput(
            "a journal entry moves money: + in, - out",
            code="bad_entry",
            errors={"amount": ["zero"]},
        )
    if checked["entry_date"] > latest:
        raise InvalidInput(
            "a journal entry is not dated after today",
            code="bad_entry",
            errors={"entry_date": ["after today"]},
        )
    for field in TEXT_FIELDS:
        checked[field] = (checked[field] or "").strip() or None
    return checked


def _first_entry(session: Session, account_id: int, day: date) -> None:
    """An opening entry comes first: none yet, and no entry dated on or before it."""
    earlier = session.scalar(
        select(BookEntry.id)
        .where(
            BookEntry.account_id == account_id,
            (BookEntry.source == "opening") | (BookEntry.entry_date <= day),
        )
        .limit(1)
    )
    if earlier is not None:
        raise Conflict(
            "the opening balance is the journal's first entry, and there is one only",
            code="opening_not_first",
        )


def record_entry(
    session: Session, principal: Principal, account_id: int, spec: dict[str, Any]
) -> BookEntry:
    """One entry of the bank journal (in positive, out negative), entered by hand; or, with
    ``opening``, the balance carried over from before the system."""
    account = writable_account(session, principal, account_id)
    checked = _checked_entry(spec, today(session))
    check_not_fixed(session, account.id, [checked["entry_date"]])
    opening = checked.pop("opening")
    if opening:
        _first_entry(session, account.id, checked["entry_date"])
    source = "opening" if opening else "manual"
    entry = BookEntry(**_entry_row(account.id, principal, source, **checked))
    session.add(entry)
    session.flush()
    record(
        session,
        principal,
        "reconciliation.entry_recorded",
        "bank_book_entry",
        entry.id,
        after={"account": account.id, **checked},
    )
    return entry
