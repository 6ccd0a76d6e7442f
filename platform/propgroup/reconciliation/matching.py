"""Matching statement lines to journal entries (勾对): a pair has the same amount and dates at
most the window apart; one to one, and the same answer whatever order the rows come in.

Within one amount, rows carrying the same reference pair first; then the rest pair by date,
earliest line with earliest entry it can take (a two-pointer merge over both sides in date
order). With windows all of one width that merge makes the most pairs there are, and it is
O(n log n): property fees of equal amounts on the same days do not turn it quadratic. A line and
an entry that both carry a reference, and different ones, are not the same payment: never paired.

The rows are read as plain tuples (amount in cents, day as a number); the pairs go back in one
INSERT … unnest. A pair of rows dated in reconciled months (open items carried forward) is
cleared in the first open month: the match's ``effective_on``, which the statements read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from operator import attrgetter
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


_BY_DATE = attrgetter("day", "id")


def _merge(lines: list[Row], entries: list[Row], window: int, method: str) -> list[Pair]:
    """Earliest with earliest: both sides in date order, a row skipped once no later row of
    the other side can reach it. Windows of one width make this the most pairs possible."""
    pairs, i, j = [], 0, 0
    while i < len(lines) and j < len(entries):
        line, entry = lines[i], entries[j]
        if line.day + window < entry.day:
            i += 1  # every entry from here on is too late for this line
        elif entry.day + window < line.day:
            j += 1
        else:
            pairs.append(Pair(line.id, entry.id, method))
            i, j = i + 1, j + 1
    return pairs


def _left(rows: list[Row], taken: set[int]) -> list[Row]:
    return [row for row in rows if row.id not in taken]


def _pair_amount(lines: list[Row], entries: list[Row], window: int) -> list[Pair]:
    """The pairs of one amount; both lists in date order."""
    by_reference: dict[str, list[Row]] = defaultdict(list)
    for entry in entries:
        if entry.reference is not None:
            by_reference[entry.reference].append(entry)
    referenced: dict[str, list[Row]] = defaultdict(list)
    for line in lines:
        if line.reference in by_reference:
            referenced[line.reference].append(line)
    pairs = []
    for reference in sorted(referenced):
        pairs += _merge(referenced[reference], by_reference[reference], window, "reference")
    lines = _left(lines, {p.line_id for p in pairs})
    entries = _left(entries, {p.entry_id for p in pairs})
    # By date, never across two different references: lines with one take entries without;
    # then lines without take whatever is left.
    with_reference = [line for line in lines if line.reference is not None]
    unreferenced = [entry for entry in entries if entry.reference is None]
    first = _merge(with_reference, unreferenced, window, "date")
    left = _left(entries, {p.entry_id for p in first})
    plain = [line for line in lines if line.reference is None]
    return pairs + first + _merge(plain, left, window, "date")


def pair(lines: Iterable[Row], entries: Iterable[Row], window: int) -> list[Pair]:
    """The matches between unmatched lines and entries, sorted by line id."""
    sides: tuple[dict[int, list[Row]], dict[int, list[Row]]] = (defaultdict(list), {})
    for line in lines:
        sides[0][line.cents].append(line)
    for entry in entries:
        if entry.cents in sides[0]:
            sides[1].setdefault(entry.cents, []).append(entry)
    pairs: list[Pair] = []
    for cents, booked in sides[1].items():
        booked.sort(key=_BY_DATE)
        pairs += _pair_amount(sorted(sides[0][cents], key=_BY_DATE), booked, window)
    pairs.sort()
    return pairs


def _rows(
    session: Session, model, day_column, account_id: int, matched_column, *where
) -> list[Row]:
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
        .where(model.account_id == account_id, BankMatch.id.is_(None), *where)
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


def first_open_day(session: Session, account_id: int) -> date | None:
    """The day after the reconciled months, or None when none is reconciled."""
    through = fixed_through(session, account_id)
    return None if through is None else through + timedelta(days=1)


def auto_match(
    session: Session, principal: Principal, account_id: int, window: int | None = None
) -> dict[str, int]:
    """Match what can be matched of the account's unmatched lines and entries. The opening
    entry (期初余额) is a balance carried over, not a payment the bank shows: never matched."""
    days = window_days(session, window)
    account = _locked_account(session, principal, account_id)
    lines = _rows(
        session, StatementLine, StatementLine.value_date, account.id, BankMatch.statement_line_id
    )
    entries = _rows(
        session,
        BookEntry,
        BookEntry.entry_date,
        account.id,
        BankMatch.book_entry_id,
        BookEntry.source != "opening",
    )
    pairs = pair(lines, entries, days)
    if pairs:
        _insert(session, account.id, pairs, user_id(principal), first_open_day(session, account.id))
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


def _insert(
    session: Session, account_id: int, pairs: list[Pair], by: int | None, open_from: date | None
) -> None:
    """One INSERT of every pair, each checked to join a line and an entry of the account; it
    takes effect on the later of its two dates, and not before the first open day."""
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
            func.greatest(StatementLine.value_date, BookEntry.entry_date, literal(open_from, Date)),
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
            [
                "account_id",
                "statement_line_id",
                "book_entry_id",
                "method",
                "matched_by",
                "effective_on",
            ],
            checked,
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


def match(
    session: Session, principal: Principal, account_id: int, line_id: int, entry_id: int
) -> BankMatch:
    """Match a line and an entry by hand: same account, same amount, both unmatched. Rows
    left open in a reconciled month match too, clearing in the first open month."""
    account = _locked_account(session, principal, account_id)
    line = _own(session, StatementLine, line_id, account.id, "statement_line")
    entry = _own(session, BookEntry, entry_id, account.id, "book_entry")
    if entry.source == "opening":
        raise InvalidInput(
            "the opening balance carries the account over; no bank line is it",
            code="opening_entry",
            errors={"book_entry_id": [str(entry.id)]},
        )
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
    open_from = first_open_day(session, account.id)
    found = BankMatch(
        account_id=account.id,
        statement_line_id=line.id,
        book_entry_id=entry.id,
        method="manual",
        matched_by=user_id(principal),
        effective_on=max(day for day in (line.value_date, entry.entry_date, open_from) if day),
    )
    session.add(found)
    session.flush()
    record(
        session,
        principal,
        "reconciliation.matched",
        "bank_match",
        found.id,
        after={
            "account": account.id,
            "line": line.id,
            "entry": entry.id,
            "amount": line.amount,
            "effective_on": found.effective_on,
        },
    )
    return found


def unmatch(session: Session, principal: Principal, account_id: int, match_id: int) -> None:
    """Undo a match (automatic or manual) while the month it clears in is not reconciled."""
    account = _locked_account(session, principal, account_id)
    found = _own(session, BankMatch, match_id, account.id, "match")
    open_from = first_open_day(session, account.id)
    if open_from is not None and found.effective_on < open_from:
        raise Conflict(
            f"the match clears on {found.effective_on}, in a reconciled month",
            code="month_reconciled",
        )
    before = {
        "line": found.statement_line_id,
        "entry": found.book_entry_id,
        "method": found.method,
        "effective_on": found.effective_on,
    }
    session.delete(found)
    session.flush()
    record(session, principal, "reconciliation.unmatched", "bank_match", match_id, before=before)
