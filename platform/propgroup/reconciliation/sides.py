"""The two sides as listed for matching: statement lines and journal entries of an account,
each with the match (and its counterpart) it is in, filtered to matched or unmatched."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from propgroup.banking.models import BookEntry
from propgroup.banking.service import read_account
from propgroup.identity.principals import Principal
from propgroup.reconciliation.models import BankMatch, BankStatement, StatementLine


def _filtered(query: Select, model, day, matched: bool | None, since, until) -> Select:
    if matched is not None:
        query = query.where(BankMatch.id.is_not(None) if matched else BankMatch.id.is_(None))
    if since is not None:
        query = query.where(day >= since)
    if until is not None:
        query = query.where(day <= until)
    return query.order_by(day, model.id)


def statement_lines(
    session: Session,
    principal: Principal,
    account_id: int,
    *,
    matched: bool | None = None,
    since: date | None = None,
    until: date | None = None,
) -> Select:
    account = read_account(session, principal, account_id)
    query = (
        select(
            StatementLine.id,
            StatementLine.statement_id,
            StatementLine.line_no,
            StatementLine.value_date,
            StatementLine.amount,
            StatementLine.reference,
            StatementLine.counterparty,
            StatementLine.description,
            StatementLine.balance,
            BankMatch.id.label("match_id"),
            BankMatch.book_entry_id,
            BankMatch.method,
        )
        .outerjoin(BankMatch, BankMatch.statement_line_id == StatementLine.id)
        .where(StatementLine.account_id == account.id)
    )
    return _filtered(query, StatementLine, StatementLine.value_date, matched, since, until)


def book_entries(
    session: Session,
    principal: Principal,
    account_id: int,
    *,
    matched: bool | None = None,
    since: date | None = None,
    until: date | None = None,
) -> Select:
    account = read_account(session, principal, account_id)
    query = (
        select(
            BookEntry.id,
            BookEntry.entry_date,
            BookEntry.amount,
            BookEntry.reference,
            BookEntry.counterparty,
            BookEntry.description,
            BookEntry.source,
            BankMatch.id.label("match_id"),
            BankMatch.statement_line_id,
            BankMatch.method,
        )
        .outerjoin(BankMatch, BankMatch.book_entry_id == BookEntry.id)
        .where(BookEntry.account_id == account.id)
    )
    return _filtered(query, BookEntry, BookEntry.entry_date, matched, since, until)


def statements(session: Session, principal: Principal, account_id: int) -> list[BankStatement]:
    account = read_account(session, principal, account_id)
    return list(
        session.scalars(
            select(BankStatement)
            .where(BankStatement.account_id == account.id)
            .order_by(BankStatement.first_day.desc(), BankStatement.id.desc())
        )
    )
