"""Getting the two sides in: bank statements (the file kept in the document store, its lines
imported) and the bank journal (银行存款日记账: imported from the accounting system's export, or
entered one entry at a time). Finance of the account's unit does it (banking:write); a file is
imported once per account; nothing dated in a reconciled month is added.

A file whose lines were imported already (the same day, amount, reference and balance, as a
re-saved or overlapping export brings them) is refused whole, naming the first such line,
rather than imported in part: the statement file is kept as the record of what the bank sent,
and its lines must be that file. Journal lines that are cheques the cash desk booked already
(same reference and amount, source ``cheque``) are left out and counted, not booked twice.
Imports of one account run one at a time (an advisory lock), so two requests with the same
file get one import and one refusal."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from propgroup.approvals.service import today
from propgroup.audit.service import record
from propgroup.banking.models import BankAccount, BookEntry
from propgroup.banking.service import read_account
from propgroup.errors import Conflict, InvalidInput, NotFound
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
from propgroup.reconciliation.models import (
    BankMatch,
    BankStatement,
    JournalImport,
    ReconcilingItem,
    StatementLine,
)
from propgroup.reconciliation.periods import check_not_fixed
from propgroup.storage import service as storage
from propgroup.storage.blobstore import BlobStore
from propgroup.tenancy.slugs import tenant_slug

STATEMENT_ENTITY = "bank_statement"  # documents holding statement files


def user_id(principal: Principal) -> int | None:
    return principal.id if principal.kind == "user" else None


def writable_account(
    session: Session, principal: Principal, account_id: int, *, closed_too: bool = False
) -> BankAccount:
    """The account, if the principal keeps its books (banking:write) and it is open (or, with
    ``closed_too``, closed: its last statements still come in, up to the closure)."""
    account = read_account(session, principal, account_id, "banking:write")
    if account.status != "open" and not (closed_too and account.status == "closed"):
        raise Conflict(
            f"bank account {account.id} is {account.status}, not open", code="account_not_open"
        )
    return account


def _one_import_at_a_time(session: Session, account_id: int) -> None:
    key = f"bank-import:{tenant_slug(session)}:{account_id}"
    session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))


def _refuse_twice(session: Session, model: type, account_id: int, sha256: str) -> None:
    _one_import_at_a_time(session, account_id)
    earlier = session.scalar(
        select(model).where(model.account_id == account_id, model.sha256 == sha256)
    )
    if earlier is not None:
        raise Conflict(
            f"this file was imported already ({earlier.filename}, {earlier.imported_at:%Y-%m-%d})",
            code="file_imported",
            errors={"sha256": [sha256]},
        )


def _running_order(lines: Sequence[Line]) -> list[Line]:
    """The lines with a balance in time order: the file's, or reversed when it lists the newest
    first (or, all on one day, when only that order adds up); each balance must be the one
    before plus the line's amount, or the file is refused naming the line that breaks."""
    stated = [line for line in lines if line.balance is not None]
    if len(stated) > 1 and stated[0].day > stated[-1].day:
        orders = [stated[::-1]]
    elif len(stated) > 1 and stated[0].day == stated[-1].day:
        orders = [stated, stated[::-1]]
    else:
        orders = [stated]
    breaks = [_chain_break(order) for order in orders]
    for order, broken in zip(orders, breaks, strict=True):
        if broken is None:
            return order
    broken = breaks[0]
    raise InvalidInput(
        f"line {broken.line_no}: the balance {broken.balance} is not the balance before it"
        f" plus {broken.amount}",
        code="bad_balance",
        errors={"lines": [f"line {broken.line_no}"]},
    )


def _chain_break(ordered: Sequence[Line]) -> Line | None:
    for before, line in pairwise(ordered):
        if before.balance + line.amount != line.balance:
            return line
    return None


def _closing(lines: Sequence[Line], entered: Decimal | None) -> Decimal | None:
    """The bank's balance after the file's last transaction in time order: its balance column,
    or as entered; the two must agree when both are there."""
    ordered = _running_order(lines)
    from_file = ordered[-1].balance if ordered else None
    if entered is not None and from_file is not None and entered != from_file:
        raise InvalidInput(
            f"the closing balance {entered} differs from the file's last balance {from_file}",
            code="bad_closing_balance",
            errors={"closing_balance": [str(from_file)]},
        )
    return from_file if from_file is not None else entered


def _key(reference: str | None) -> str | None:
    """A reference as matching compares it: no case, no spaces."""
    return re.sub(r"\s", "", reference).upper() or None if reference else None


def _refuse_overlap(session: Session, account_id: int, lines: Sequence[Line]) -> None:
    """Refuse a statement with a line already imported (day, amount, reference, balance)."""
    first, last = min(line.day for line in lines), max(line.day for line in lines)
    existing = set(
        session.execute(
            select(
                StatementLine.value_date,
                StatementLine.amount,
                StatementLine.reference,
                StatementLine.balance,
            ).where(
                StatementLine.account_id == account_id,
                StatementLine.value_date.between(first, last),
            )
        )
    )
    for line in lines:
        if (line.day, line.amount, line.reference, line.balance) in existing:
            raise Conflict(
                f"line {line.line_no} ({line.day}, {line.amount}) was imported already with"
                " another statement: export the days not imported yet",
                code="lines_imported",
                errors={"lines": [f"line {line.line_no}"]},
            )


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
    """Store the statement file and import its lines, or refuse it whole. A closed account
    takes statements of its days up to the closure."""
    account = writable_account(session, principal, account_id, closed_too=True)
    name = storage.clean_filename(filename)
    sha256 = hashlib.sha256(content).hexdigest()
    _refuse_twice(session, BankStatement, account.id, sha256)
    lines = read_lines(content, mapping, STATEMENT, today(session))
    if account.closed_on is not None and max(line.day for line in lines) > account.closed_on:
        raise InvalidInput(
            f"the account was closed on {account.closed_on}: no lines after it",
            code="after_closure",
            errors={"lines": [str(max(line.day for line in lines))]},
        )
    check_not_fixed(session, account.id, (line.day for line in lines))
    _refuse_overlap(session, account.id, lines)
    statement = BankStatement(
        account_id=account.id,
        filename=name,
        sha256=sha256,
        first_day=min(line.day for line in lines),
        last_day=max(line.day for line in lines),
        line_count=len(lines),
        closing_balance=_closing(lines, closing_balance),
        newest_first=lines[0].day > lines[-1].day,
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
    read = read_lines(content, mapping, JOURNAL, today(session))
    check_not_fixed(session, account.id, (line.day for line in read))
    lines = _not_cheques(session, account.id, read)
    imported = JournalImport(
        account_id=account.id,
        filename=name,
        sha256=sha256,
        line_count=len(lines),
        skipped_count=len(read) - len(lines),
        imported_by=user_id(principal),
    )
    session.add(imported)
    if lines:
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
        after={
            "account": account.id,
            "filename": name,
            "sha256": sha256,
            "lines": len(lines),
            "skipped_cheques": imported.skipped_count,
        },
    )
    return imported


def _not_cheques(session: Session, account_id: int, lines: list[Line]) -> list[Line]:
    """The lines that are not cheques booked already from the cash desk (same reference and
    amount): the journal export lists them too, and they must not count twice."""
    cheques = {
        (_key(reference), amount)
        for reference, amount in session.execute(
            select(BookEntry.reference, BookEntry.amount).where(
                BookEntry.account_id == account_id,
                BookEntry.source == "cheque",
                BookEntry.reference.is_not(None),
            )
        )
    }
    return [line for line in lines if (_key(line.reference), line.amount) not in cheques]


def delete_statement(
    session: Session, principal: Principal, account_id: int, statement_id: int
) -> None:
    """Take back a statement imported by mistake: none of its lines matched, none dated in a
    reconciled month. Its lines go; the stored file stays with the documents; audited."""
    account = writable_account(session, principal, account_id, closed_too=True)
    _one_import_at_a_time(session, account.id)
    statement = session.get(BankStatement, statement_id)
    if statement is None or statement.account_id != account.id:
        raise NotFound(f"no statement {statement_id} of account {account.id}", code="not_found")
    check_not_fixed(session, account.id, [statement.first_day])
    lines = select(StatementLine.id).where(StatementLine.statement_id == statement.id)
    matched = session.scalar(select(func.count()).where(BankMatch.statement_line_id.in_(lines)))
    if matched:
        raise Conflict(
            f"{matched} lines of the statement are matched: unmatch them first",
            code="statement_matched",
        )
    # Items of open drafts derived from its lines go with them; the drafts recompute.
    session.execute(
        delete(ReconcilingItem).where(
            ReconcilingItem.statement_line_id.in_(lines), ReconcilingItem.reason.is_(None)
        )
    )
    session.execute(delete(StatementLine).where(StatementLine.statement_id == statement.id))
    before = {
        "account": account.id,
        "filename": statement.filename,
        "sha256": statement.sha256,
        "lines": statement.line_count,
        "days": [str(statement.first_day), str(statement.last_day)],
    }
    session.delete(statement)
    session.flush()
    record(
        session,
        principal,
        "reconciliation.statement_deleted",
        "bank_statement",
        statement_id,
        before=before,
    )


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
