"""Auto-matching statement lines to journal entries (R-BNK-5): same amount, dates within the
window, reference preferred, then the nearest date; one to one and deterministic. Manual match
and unmatch are audited and refused where they would break those rules or a reconciled month."""

from __future__ import annotations

import random
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from propgroup.audit.models import AuditEvent
from propgroup.audit.service import write_pending
from propgroup.banking.models import BookEntry
from propgroup.errors import Conflict, Forbidden, InvalidInput
from propgroup.org import service as org
from propgroup.reconciliation import matching
from propgroup.reconciliation.matching import Row, pair
from propgroup.reconciliation.models import (
    BankMatch,
    BankStatement,
    ReconciliationSettings,
    StatementLine,
)
from propgroup.tenancy import service as tenancy
from tests.support.banking import open_account
from tests.support.groups import person, provision_demo

ACCOUNTANT = "li.kuaiji"

rows = st.lists(
    st.tuples(
        st.integers(0, 60),  # day
        st.sampled_from([100, 250, 9999, -100, -4200]),  # few amounts: many duplicates
        st.sampled_from([None, "A", "B", "C"]),
    ),
    max_size=25,
)


def _rows(raw, first_id: int) -> list[Row]:
    return [Row(first_id + n, day, cents, ref) for n, (day, cents, ref) in enumerate(raw)]


@settings(max_examples=300, deadline=None)
@given(rows, rows, st.integers(0, 5))
def test_r_bnk_5_matching_pairs_only_equal_amounts_within_the_window(raw_lines, raw_entries, w):
    lines, entries = _rows(raw_lines, 1), _rows(raw_entries, 1000)
    pairs = pair(lines, entries, w)
    by_line = {row.id: row for row in lines}
    by_entry = {row.id: row for row in entries}
    assert len({p.line_id for p in pairs}) == len({p.entry_id for p in pairs}) == len(pairs)
    for found in pairs:
        line, entry = by_line[found.line_id], by_entry[found.entry_id]
        assert line.cents == entry.cents
        assert abs(line.day - entry.day) <= w
        assert (found.method == "reference") == (
            line.reference is not None and line.reference == entry.reference
        )
    # Maximal: no unmatched line has an unmatched entry it could have been paired with (two
    # different references are two different payments: never a pair).
    free_lines = [row for row in lines if row.id not in {p.line_id for p in pairs}]
    free_entries = [row for row in entries if row.id not in {p.entry_id for p in pairs}]
    assert not any(
        line.cents == entry.cents
        and abs(line.day - entry.day) <= w
        and (None in (line.reference, entry.reference) or line.reference == entry.reference)
        for line in free_lines
        for entry in free_entries
    )


@settings(max_examples=200, deadline=None)
@given(rows, rows, st.randoms(use_true_random=False))
def test_r_bnk_5_matching_is_deterministic_whatever_the_order(raw_lines, raw_entries, rnd):
    lines, entries = _rows(raw_lines, 1), _rows(raw_entries, 1000)
    expected = pair(list(lines), list(entries), 3)
    rnd.shuffle(lines)
    rnd.shuffle(entries)
    assert pair(lines, entries, 3) == expected


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 300), st.integers(-3, 3), st.booleans()), max_size=40),
    st.lists(st.integers(0, 300), max_size=20),
    st.lists(st.integers(0, 300), max_size=20),
)
def test_r_bnk_5_every_true_pair_found_when_unambiguous(true_pairs, only_booked, only_banked):
    """Each true transaction has its own amount; noise on either side has amounts of its own
    too, so nothing is ambiguous: exactly the true pairs come back."""
    lines, entries, truth = [], [], set()
    for n, (day, shift, with_ref) in enumerate(true_pairs):
        cents = 10_000 + n
        reference = f"V{n}" if with_ref else None
        lines.append(Row(n + 1, day + shift, cents, reference))
        entries.append(Row(n + 5001, day, cents, reference))
        truth.add((n + 1, n + 5001))
    lines += [Row(3001 + n, day, -1 - n, None) for n, day in enumerate(only_banked)]
    entries += [Row(8001 + n, day, -500 - n, None) for n, day in enumerate(only_booked)]
    assert {(p.line_id, p.entry_id) for p in pair(lines, entries, 3)} == truth


def test_r_bnk_5_reference_wins_over_a_nearer_date():
    line = Row(1, 10, 500, "CHQ1001")
    near, far = Row(11, 10, 500, None), Row(12, 13, 500, "CHQ1001")
    assert pair([line], [near, far], 3) == [matching.Pair(1, 12, "reference")]
    # Without a reference, the nearest date; a tie goes to the lower id.
    assert pair([Row(1, 10, 500, None)], [Row(13, 12, 500, None), Row(12, 8, 500, None)], 3) == [
        matching.Pair(1, 12, "date")
    ]


def test_r_bnk_5_matching_makes_the_most_pairs_a_date_merge_can():
    """Nearest-first would pair the line of day 0 with the entry of day 1 and leave two rows
    open; earliest with earliest pairs both."""
    lines = [Row(1, 0, 500, None), Row(2, 3, 500, None)]
    entries = [Row(11, 1, 500, None), Row(12, -3, 500, None)]
    assert pair(lines, entries, 3) == [
        matching.Pair(1, 12, "date"),
        matching.Pair(2, 11, "date"),
    ]


def test_r_bnk_5_conflicting_references_are_never_a_pair():
    assert pair([Row(1, 5, 100, "CHQ1")], [Row(2, 5, 100, "CHQ2")], 3) == []
    # A line with a reference still takes an entry without one.
    assert pair([Row(1, 5, 100, "CHQ1")], [Row(2, 6, 100, "CHQ2"), Row(3, 7, 100, None)], 3) == [
        matching.Pair(1, 3, "date")
    ]


def test_r_bnk_5_dense_equal_amounts_pair_in_linear_time():
    """20,000 fees of 350.00 a side over three days: every one paired, in well under a second
    (the candidate-per-pair version took minutes)."""
    lines = [Row(n, n % 3, 35_000, None) for n in range(20_000)]
    entries = [Row(100_000 + n, (n + 1) % 3, 35_000, None) for n in range(20_000)]
    started = time.perf_counter()
    pairs = pair(lines, entries, 3)
    assert time.perf_counter() - started < 1.0
    assert len(pairs) == 20_000


# --- against the database -----------------------------------------------------------------


@pytest.fixture(scope="module")
def group(control):
    tenant = provision_demo(control, "rec_match", "对账勾对")
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


@pytest.fixture
def account(db):
    return open_account(db, org.get_unit_by_code(db, "SH-XTD"))


def _load(db, account, lines, entries):
    statement = BankStatement(
        account_id=account.id,
        filename="s.csv",
        sha256=f"{random.random():064}"[:64],
        first_day=date(2025, 1, 1),
        last_day=date(2025, 1, 31),
        line_count=len(lines),
    )
    db.add(statement)
    db.flush()
    db.execute(
        insert(StatementLine),
        [
            {
                "statement_id": statement.id,
                "account_id": account.id,
                "line_no": n + 2,
                "value_date": day,
                "amount": Decimal(amount),
                "reference": ref,
            }
            for n, (day, amount, ref) in enumerate(lines)
        ],
    )
    db.execute(
        insert(BookEntry),
        [
            {
                "account_id": account.id,
                "entry_date": day,
                "amount": Decimal(amount),
                "reference": ref,
                "source": "import",
            }
            for day, amount, ref in entries
        ],
    )
    return [
        db.scalars(select(model.id).where(model.account_id == account.id).order_by(model.id)).all()
        for model in (StatementLine, BookEntry)
    ]


D = date(2025, 1, 10)


def test_r_bnk_5_auto_match_in_the_database(db, account):
    lines, entries = _load(
        db,
        account,
        [(D, "100.00", "v 1"), (D, "-20.00", None), (D, "7.00", None)],
        [(D + timedelta(days=2), "100.00", "V1"), (D - timedelta(days=4), "-20.00", None)],
    )
    summary = matching.auto_match(db, person(db, ACCOUNTANT), account.id)
    assert summary == {
        "window_days": 3,
        "lines": 3,
        "entries": 2,
        "matched": 1,
        "by_reference": 1,
    }
    found = db.scalars(select(BankMatch).where(BankMatch.account_id == account.id)).all()
    assert [(m.statement_line_id, m.book_entry_id, m.method) for m in found] == [
        (lines[0], entries[0], "reference")
    ]
    # A wider window for this run finds the fee booked four days early.
    assert matching.auto_match(db, person(db, ACCOUNTANT), account.id, window=5)["matched"] == 1
    db.add(ReconciliationSettings(match_window_days=0))
    db.flush()
    assert matching.window_days(db) == 0
    with pytest.raises(InvalidInput):
        matching.window_days(db, 40)


def test_r_bnk_5_manual_match_and_unmatch_audited(db, account):
    lines, entries = _load(
        db, account, [(D, "100.00", None), (D, "50.00", None)], [(D, "100.00", None)]
    )
    accountant = person(db, ACCOUNTANT)
    with pytest.raises(InvalidInput) as refused:
        matching.match(db, accountant, account.id, lines[1], entries[0])
    assert refused.value.code == "amounts_differ"
    found = matching.match(db, accountant, account.id, lines[0], entries[0])
    assert found.method == "manual" and found.matched_by == accountant.id
    with pytest.raises(Conflict):
        matching.match(db, accountant, account.id, lines[0], entries[0])
    with pytest.raises(Forbidden):
        matching.unmatch(db, person(db, "zhao.chuna"), account.id, found.id)
    matching.unmatch(db, accountant, account.id, found.id)
    assert db.get(BankMatch, found.id) is None
    write_pending(db)
    actions = [
        event.action
        for event in db.scalars(
            select(AuditEvent).where(AuditEvent.action.like("reconciliation.%matched"))
        )
    ]
    assert actions[-2:] == ["reconciliation.matched", "reconciliation.unmatched"]
