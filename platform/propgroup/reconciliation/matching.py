"""Matching statement lines to journal entries (勾对): a pair has the same amount, dates at most
the window apart, and, when both carry one, preferably the same reference; then the nearest
dates win. One to one, and the same answer whatever order the rows come in.

The rows are read as plain tuples (amount in cents, day as a number) and paired by a sort-merge
per amount, so 100,000 lines a side take seconds; the pairs go back in one INSERT … unnest.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from operator import itemgetter
from typing import NamedTuple

from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    String,
    and_,
    bindparam,
    cast,
    func,
    insert,
    literal,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from propgroup.audit.service import record
from propgroup.banking.models import BankAccount, BookEntry
from propgroup.banking.service import read_account
from propgroup.db import get_by_id
from propgroup.errors import Conflict, InvalidInput, NotFound
from propgroup.identity.authz import authorize
from propgroup.identity.principals import Principal
from propgroup.org import service as org
from propgroup.reconciliation.imports import user_id
from propgroup.reconciliation.models import (
    DEFAULT_MATCH_WINDOW_DAYS,
    MAX_MATCH_WINDOW_DAYS,
    BankMatch,
    ReconciliationSettings,
    StatementLine,
)
from propgroup.reconciliation.periods import fixed_through

EPOCH = date(2000, 1, 1)
METHODS = ("reference", "date")  # by a candidate's rank


class Row(NamedTuple):
    """One side's unmatched row: id, day (days since EPOCH), amount in cents, reference."""

    id: int
    day: int
    cents: int
    reference: str | None


class Pair(NamedTuple):
    line_id: int
    entry_id: int
    method: str  # "reference" or "date"


# Rows sorted by amount, then day, then id: each amount's rows lie together, by date.
_ORDER = itemgetter(2, 1, 0)


def _group_end(rows: list[Row], start: int) -> int:
    """Where the run of rows with the amount of ``rows[start]`` ends."""
    cents, end = rows[start][2], start + 1
    while end < len(rows) and rows[end][2] == cents:
        end += 1
    return end


def _candidate(line: Row, entry: Row, after: int | None) -> tuple | None:
    """(rank, day gap, line day, line id, entry id) of a pair within the window, or None
    when both lie in a reconciled month: that month's figures stay as signed."""
    if after is not None and max(line.day, entry.day) <= after:
        return None
    same = line.reference is not None and line.reference == entry.reference
    return (0 if same else 1, abs(line.day - entry.day), line.day, line.id, entry.id)


def _candidates(lines: list[Row], entries: list[Row], window: int, after: int | None):
    """Every candidate pair of one amount: a sort-merge over both sides, each in date order."""
    if len(lines) == len(entries) == 1:  # most amounts: one line, one entry
        line, entry = lines[0], entries[0]
        found = _candidate(line, entry, after) if abs(line.day - entry.day) <= window else None
        return [found] if found else []
    found, start = [], 0
    for line in lines:
        while start < len(entries) and entries[start].day < line.day - window:
            start += 1
        for index in range(start, len(entries)):
            entry = entries[index]
            if entry.day > line.day + window:
                break
            candidate = _candidate(line, entry, after)
            if candidate:
                found.append(candidate)
    return found


def _chosen(candidates: list[tuple]) -> list[Pair]:
    """Best candidates first (reference, nearest date, earliest, lowest ids), one to one."""
    if len(candidates) == 1:  # most amounts: one line, one entry, nothing to choose
        rank, _gap, _day, line_id, entry_id = candidates[0]
        return [Pair(line_id, entry_id, METHODS[rank])]
    candidates.sort()
    taken_lines: set[int] = set()
    taken_entries: set[int] = set()
    chosen = []
    for rank, _gap, _day, line_id, entry_id in candidates:
        if line_id in taken_lines or entry_id in taken_entries:
            continue
        taken_lines.add(line_id)
        taken_entries.add(entry_id)
        chosen.append(Pair(line_id, entry_id, METHODS[rank]))
    return chosen


def pair(
    lines: Iterable[Row], entries: Iterable[Row], window: int, after: int | None = None
) -> list[Pair]:
    """The matches between unmatched lines and entries; ``after`` is the last day of the
    reconciled months (as a day number): pairs lying wholly up to it are not made."""
    lines, entries = sorted(lines, key=_ORDER), sorted(entries, key=_ORDER)
    pairs: list[Pair] = []
    i = j = 0
    while i < len(lines) and j < len(entries):
        line_cents, entry_cents = lines[i][2], entries[j][2]
        if line_cents != entry_cents:  # an amount one side lacks: skip it
            if line_cents < entry_cents:
                i = _group_end(lines, i)
            else:
                j = _group_end(entries, j)
            continue
        i_end, j_end = _group_end(lines, i), _group_end(entries, j)
        candidates = _candidates(lines[i:i_end], entries[j:j_end], window, after)
        if candidates:
            pairs += _chosen(candidates)
        i, j = i_end, j_end
    pairs.sort()
    return pairs


def _rows(session: Session, model, day_column, account_id: int, matched_column) -> list[Row]:
    """The account's unmatched rows of one side. References compare without case and spaces:
    banks and journals type them differently."""
    days = type_coerce(day_column - literal(EPOCH, Date), Integer)
    reference = func.nullif(func.upper(func.regexp_replace(model.reference, r"\s", "", "g")), "")
    unmatched = (
        select(
            func.array_agg(model.id),
            func.array_agg(days),
            func.array_agg(cast(model.amount * 100, BigInteger)),
            func.array_agg(reference),
        )
        .outerjoin(BankMatch, matched_column == model.id)
        .where(model.account_id == account_id, BankMatch.id.is_(None))
    )
    # Four arrays in one row: 100,000 rows as single values cost twice the time.
    columns = session.execute(unmatched).one()
    return list(map(Row, *(column or [] for column in columns)))


def window_days(session: Session, asked: int | None = None) -> int:
    """The window of a run: as asked, else the group's setting, else ±3 days."""
    if asked is None:
        asked = session.scalar(select(ReconciliationSettings.match_window_days))
    if asked is None:
        return DEFAULT_MATCH_WINDOW_DAYS
    if isinstance(asked, bool) or not isinstance(asked, int):
        asked = -1
    if not 0 <= asked <= MAX_MATCH_WINDOW_DAYS:
        raise InvalidInput(
            f"the date window is 0 to {MAX_MATCH_WINDOW_DAYS} days",
            code="bad_window",
            errors={"window_days": [f"0-{MAX_MATCH_WINDOW_DAYS}"]},
        )
    return asked


def change_window(session: Session, principal: Principal, days: object) -> int:
    """The group's default window (banking:admin at the top of the tree), audited."""
    authorize(session, principal, "banking:admin", org.get_root(session))
    checked = window_days(session, days if days is not None else -1)
    settings = session.get(ReconciliationSettings, 1, with_for_update=True)
    before = settings.match_window_days if settings else DEFAULT_MATCH_WINDOW_DAYS
    if settings is None:
        settings = ReconciliationSettings(id=1, match_window_days=checked)
        session.add(settings)
    settings.match_window_days = checked
    session.flush()
    record(
        session,
        principal,
        "reconciliation.window_changed",
        "reconciliation_settings",
        1,
        before={"match_window_days": before},
        after={"match_window_days": checked},
    )
    return checked


def _locked_account(session: Session, principal: Principal, account_id: int) -> BankAccount:
    """The account, authorised for banking:write and locked: one matching at a time."""
    account = read_account(session, principal, account_id, "banking:write")
    session.refresh(account, with_for_update=True)
    return account


def auto_match(
    session: Session, principal: Principal, account_id: int, window: int | None = None
) -> dict[str, int]:
    """Match what can be matched of the account's unmatched lines and entries."""
    days = window_days(session, window)
    account = _locked_account(session, principal, account_id)
    lines = _rows(
        session, StatementLine, StatementLine.value_date, account.id, BankMatch.statement_line_id
    )
    entries = _rows(session, BookEntry, BookEntry.entry_date, account.id, BankMatch.book_entry_id)
    through = fixed_through(session, account.id)
    pairs = pair(lines, entries, days, None if through is None else (through - EPOCH).days)
    if pairs:
        _insert(session, account.id, pairs, user_id(principal))
    summary = {
        "window_days": days,
        "lines": len(lines),
        "entries": len(entries),
        "matched": len(pairs),
        "by_reference": sum(1 for p in pairs if p.method == "reference"),
    }
    record(
        session, principal, "reconciliation.auto_matched", "bank_account", account.id, after=summary
    )
    return summary


def _insert(session: Session, account_id: int, pairs: list[Pair], by: int | None) -> None:
    """One INSERT of every pair, each checked to join a line and an entry of the account."""
    given = (
        func.unnest(
            bindparam("lines", [p.line_id for p in pairs], type_=ARRAY(BigInteger)),
            bindparam("entries", [p.entry_id for p in pairs], type_=ARRAY(BigInteger)),
            bindparam("methods", [p.method for p in pairs], type_=ARRAY(String)),
        )
        .table_valued("line_id", "entry_id", "method")
        .render_derived()
    )
    checked = (
        select(
            literal(account_id, BigInteger),
            given.c.line_id,
            given.c.entry_id,
            given.c.method,
            literal(by, BigInteger),
        )
        .join(
            StatementLine,
            and_(StatementLine.id == given.c.line_id, StatementLine.account_id == account_id),
        )
        .join(BookEntry, and_(BookEntry.id == given.c.entry_id, BookEntry.account_id == account_id))
    )
    inserted = (
        insert(BankMatch)
        .from_select(
            ["account_id", "statement_line_id", "book_entry_id", "method", "matched_by"], checked
        )
        .returning(BankMatch.id)
        .cte("inserted")
    )
    count = session.scalar(select(func.count()).select_from(inserted))
    if count != len(pairs):  # rows read a moment ago under the account's lock
        raise RuntimeError(f"{len(pairs) - count} pairs name rows of no account")


def _own(session: Session, model, row_id: int, account_id: int, what: str):
    row = get_by_id(session, model, row_id)
    if row is None or row.account_id != account_id:
        raise NotFound(f"{what} {row_id} is not of account {account_id}", code=f"{what}_not_found")
    return row


def _unreconciled(session: Session, account_id: int, *days: date) -> None:
    through = fixed_through(session, account_id)
    if through is not None and max(days) <= through:
        raise Conflict(
            f"both sides lie in a reconciled month (through {through})", code="month_reconciled"
        )


def match(
    session: Session, principal: Principal, account_id: int, line_id: int, entry_id: int
) -> BankMatch:
    """Match a line and an entry by hand: same account, same amount, both unmatched."""
    account = _locked_account(session, principal, account_id)
    line = _own(session, StatementLine, line_id, account.id, "statement_line")
    entry = _own(session, BookEntry, entry_id, account.id, "book_entry")
    if line.amount != entry.amount:
        raise InvalidInput(
            f"the line is {line.amount} and the entry {entry.amount}: only equal amounts match",
            code="amounts_differ",
            errors={"amount": [str(line.amount), str(entry.amount)]},
        )
    taken = session.scalar(
        select(BankMatch).where(
            (BankMatch.statement_line_id == line.id) | (BankMatch.book_entry_id == entry.id)
        )
    )
    if taken is not None:
        raise Conflict(f"already matched (match {taken.id})", code="matched_already")
    _unreconciled(session, account.id, line.value_date, entry.entry_date)
    found = BankMatch(
        account_id=account.id,
        statement_line_id=line.id,
        book_entry_id=entry.id,
        method="manual",
        matched_by=user_id(principal),
    )
    session.add(found)
    session.flush()
    record(
        session,
        principal,
        "reconciliation.matched",
        "bank_match",
        found.id,
        after={"account": account.id, "line": line.id, "entry": entry.id, "amount": line.amount},
    )
    return found


def unmatch(session: Session, principal: Principal, account_id: int, match_id: int) -> None:
    """Undo a match (automatic or manual) while its month is not reconciled."""
    account = _locked_account(session, principal, account_id)
    found = _own(session, BankMatch, match_id, account.id, "match")
    line = session.get(StatementLine, found.statement_line_id)
    entry = session.get(BookEntry, found.book_entry_id)
    _unreconciled(session, account.id, line.value_date, entry.entry_date)
    before = {"line": line.id, "entry": entry.id, "method": found.method, "amount": line.amount}
    session.delete(found)
    session.flush()
    record(session, principal, "reconciliation.unmatched", "bank_match", match_id, before=before)
