"""The monthly bank balance reconciliation statement (R-BNK-5): the four reconciling items come
from what is unmatched at the month's end, the adjusted balances agree whenever the data does,
a statement that does not agree is not submitted, each month is reconciled once and in order,
and the finance manager signs off someone else's statement, which is then filed (R-BNK-6)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from propgroup.archives.models import ArchiveFile, ArchiveItem
from propgroup.banking.models import BookEntry
from propgroup.errors import Conflict, Forbidden, InvalidInput
from propgroup.org import service as org
from propgroup.reconciliation import imports, matching, service
from propgroup.reconciliation.csvfile import checked_mapping
from propgroup.reconciliation.models import BankStatement, Reconciliation, StatementLine
from propgroup.storage.models import Document
from propgroup.storage.settings import configured_store
from propgroup.tenancy import service as tenancy
from tests.support.banking import open_account
from tests.support.groups import person, provision_demo

ACCOUNTANT, MANAGER = "li.kuaiji", "sun.diqucaiwu"  # branch accountant; regional finance
JAN = date(2025, 1, 1)


@pytest.fixture(scope="module")
def group(control):
    tenant = provision_demo(control, "rec_stmt", "余额调节")
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


@pytest.fixture
def account(db):
    # Opened as January 2025 begins: January is its first month to reconcile.
    return open_account(db, org.get_unit_by_code(db, "SH-XTD"), opened_on=JAN)


def _statement(db, account, lines, *, running_from: Decimal | None = None) -> None:
    """Statement lines (day, amount, reference), with a running balance column when given."""
    statement = BankStatement(
        account_id=account.id,
        filename="s.csv",
        sha256=f"{len(lines):064d}",
        first_day=min((day for day, _, _ in lines), default=JAN),
        last_day=max((day for day, _, _ in lines), default=JAN),
        line_count=len(lines),
    )
    db.add(statement)
    db.flush()
    balance = running_from
    rows = []
    for n, (day, amount, reference) in enumerate(sorted(lines, key=lambda line: line[0])):
        balance = None if balance is None else balance + amount
        rows.append(
            {
                "statement_id": statement.id,
                "account_id": account.id,
                "line_no": n + 2,
                "value_date": day,
                "amount": amount,
                "reference": reference,
                "balance": balance,
            }
        )
    if rows:
        db.execute(insert(StatementLine), rows)


def _journal(db, account, entries, source="import") -> None:
    if entries:
        db.execute(
            insert(BookEntry),
            [
                {
                    "account_id": account.id,
                    "entry_date": day,
                    "amount": amount,
                    "reference": reference,
                    "source": source,
                }
                for day, amount, reference in entries
            ],
        )


def _simple_month(db, account) -> None:
    """Opening 10,000; rent in both; a cheque not yet presented; a deposit on the 31st the
    bank credits on 2 Feb; a bank fee and interest not yet booked."""
    _journal(db, account, [(date(2024, 12, 31), Decimal("10000.00"), None)], source="opening")
    _journal(
        db,
        account,
        [
            (date(2025, 1, 5), Decimal("3000.00"), "R1"),
            (date(2025, 1, 20), Decimal("-1200.00"), "CHQ1001"),
            (date(2025, 1, 31), Decimal("800.00"), None),
        ],
    )
    imports.import_statement(  # as the bank exports it: debit out, credit in, balance
        db,
        configured_store(),
        person(db, ACCOUNTANT),
        account.id,
        content=(
            "日期,摘要,借方,贷方,余额,凭证\n"
            "2025-01-06,租金,,3000.00,13000.00,r1\n"
            "2025-01-25,手续费,15.00,,12985.00,\n"
            "2025-01-31,利息,,4.20,12989.20,\n"
            "2025-02-02,存款,,800.00,13789.20,\n"
        ).encode(),
        filename="icbc-2025-01.csv",
        mapping=checked_mapping(
            {
                "date_column": "日期",
                "description_column": "摘要",
                "debit_column": "借方",
                "credit_column": "贷方",
                "balance_column": "余额",
                "reference_column": "凭证",
            }
        ),
    )
    matching.auto_match(db, person(db, ACCOUNTANT), account.id)


def test_r_bnk_5_four_reconciling_items_and_balances(db, account):
    _simple_month(db, account)
    rec = service.prepare(db, person(db, ACCOUNTANT), account.id, "2025-01")
    kinds = {(item.kind, item.amount) for item in service.items_of(db, rec)}
    assert kinds == {
        ("deposit_in_transit", Decimal("800.00")),
        ("outstanding_payment", Decimal("-1200.00")),
        ("bank_charge", Decimal("-15.00")),
        ("bank_credit", Decimal("4.20")),
    }
    assert rec.book_balance == Decimal("12600.00")
    assert rec.bank_balance == Decimal("12989.20")  # the balance column on 31 January
    assert rec.adjusted_book == rec.adjusted_bank == Decimal("12589.20")
    service.submit(db, person(db, ACCOUNTANT), rec.id)
    assert rec.status == "submitted"


money = st.integers(-500_000, 500_000).filter(bool).map(lambda cents: Decimal(cents) / 100)
day = st.integers(0, 58).map(lambda n: JAN + timedelta(days=n))  # January and February
transaction = st.tuples(money, st.one_of(st.none(), day), st.one_of(st.none(), st.integers(-4, 4)))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    opening=st.integers(0, 10_000_000).map(lambda cents: Decimal(cents) / 100),
    # Amounts of their own: which line is which entry's is then the model's, not a guess.
    transactions=st.lists(transaction, max_size=25, unique_by=lambda t: t[0]),
    balance_column=st.booleans(),
)
def test_r_bnk_5_adjusted_balances_agree_whenever_the_data_does(
    db, account, opening, transactions, balance_column
):
    """Each transaction is booked (on its day, or not at all) and reaches the bank (some days
    later or earlier, or not at all); both sides start from the same opening balance."""
    savepoint = db.begin_nested()
    try:
        _journal(
            db,
            account,
            [(JAN - timedelta(days=1), opening, None)] if opening else [],
            source="opening",
        )
        booked = [(on, amount, None) for amount, on, _ in transactions if on is not None]
        banked = [
            ((on or JAN + timedelta(days=10)) + timedelta(days=shift), amount, None)
            for amount, on, shift in transactions
            if shift is not None
        ]
        banked = [(max(d, JAN), a, r) for d, a, r in banked]
        _journal(db, account, booked)
        _statement(db, account, banked, running_from=opening if balance_column else None)
        matching.auto_match(db, person(db, ACCOUNTANT), account.id)
        end = date(2025, 1, 31)
        entered = (
            None
            if balance_column
            else opening + sum((a for d, a, _ in banked if d <= end), Decimal(0))
        )
        if balance_column and not any(d <= end for d, _, _ in banked):
            entered = opening  # no line of January states a balance: it is entered
        rec = service.prepare(db, person(db, ACCOUNTANT), account.id, "2025-01", entered)
        assert rec.adjusted_book == rec.adjusted_bank
        items = service.items_of(db, rec)
        assert rec.adjusted_book == rec.book_balance + sum(
            (i.amount for i in items if i.kind in service.BOOK_SIDE), Decimal(0)
        )
        assert all(i.on_day <= end for i in items)
        assert all(
            (i.amount > 0) == (i.kind in ("deposit_in_transit", "bank_credit")) for i in items
        )
        expected = _expected_items(transactions, end)
        assert sorted((i.kind, i.amount, i.on_day) for i in items) == expected
    finally:
        savepoint.rollback()


def _expected_items(transactions, end: date) -> list[tuple[str, Decimal, date]]:
    """The model's items: booked by ``end`` and not cleared by it → in transit; banked by
    ``end`` and not booked by it → not yet booked. A pair clears on its later day."""
    items = []
    for amount, on, shift in transactions:
        banked = (
            None
            if shift is None
            else max((on or JAN + timedelta(days=10)) + timedelta(days=shift), JAN)
        )
        paired = on is not None and banked is not None and abs((banked - on).days) <= 3
        cleared = paired and max(on, banked) <= end
        if on is not None and on <= end and not cleared:
            items.append(
                ("deposit_in_transit" if amount > 0 else "outstanding_payment", amount, on)
            )
        if banked is not None and banked <= end and not cleared:
            items.append(("bank_credit" if amount > 0 else "bank_charge", amount, banked))
    return sorted(items)


def test_r_bnk_5_not_submitted_unless_balances_agree(db, account):
    _simple_month(db, account)
    accountant = person(db, ACCOUNTANT)
    rec = service.prepare(db, accountant, account.id, "2025-01", bank_balance="12990.00")
    assert rec.adjusted_bank - rec.adjusted_book == Decimal("0.80")
    with pytest.raises(Conflict) as refused:
        service.submit(db, accountant, rec.id)
    assert refused.value.code == "not_balanced"
    assert refused.value.errors == {"difference": ["-0.80"]}
    # A hand-entered item needs its reason; with it the statement agrees.
    with pytest.raises(InvalidInput):
        service.add_item(db, accountant, rec.id, side="book", amount="0.80", reason=" ")
    service.add_item(db, accountant, rec.id, side="book", amount="0.80", reason="利息入账差")
    assert rec.adjusted_book == rec.adjusted_bank
    service.submit(db, accountant, rec.id)


def test_r_bnk_5_reconciling_a_month_twice_refused(db, account):
    _simple_month(db, account)
    service.prepare(db, person(db, ACCOUNTANT), account.id, "2025-01")
    with pytest.raises(Conflict) as refused:
        service.prepare(db, person(db, MANAGER), account.id, "2025-01")
    assert refused.value.code == "reconciled_already"


def test_r_bnk_5_months_reconciled_in_order_once_ended(db, account):
    accountant = person(db, ACCOUNTANT)
    service.prepare(db, accountant, account.id, "2025-01", bank_balance="0")
    with pytest.raises(Conflict) as refused:
        service.prepare(db, accountant, account.id, "2025-03", bank_balance="0")
    assert refused.value.errors == {"month": ["2025-02"]}
    with pytest.raises(InvalidInput):
        service.prepare(db, accountant, account.id, "2099-01")
    with pytest.raises(InvalidInput):
        service.prepare(db, accountant, account.id, "2025-1")


def test_r_bnk_5_preparer_does_not_sign_own(db, account):
    _simple_month(db, account)
    manager = person(db, MANAGER)  # regional finance may prepare too, then not sign
    rec = service.prepare(db, manager, account.id, "2025-01")
    service.submit(db, manager, rec.id)
    with pytest.raises(Forbidden) as refused:
        service.sign_off(db, configured_store(), manager, rec.id)
    assert refused.value.code == "second_person"
    with pytest.raises(Forbidden):  # the branch accountant holds no banking:signoff
        service.sign_off(db, configured_store(), person(db, ACCOUNTANT), rec.id)


def test_r_bnk_5_signed_off_and_filed(db, account):
    _simple_month(db, account)
    accountant = person(db, ACCOUNTANT)
    rec = service.prepare(db, accountant, account.id, "2025-01")
    with pytest.raises(Conflict):  # a draft is not signed off
        service.sign_off(db, configured_store(), person(db, MANAGER), rec.id)
    service.submit(db, accountant, rec.id)
    service.sign_off(db, configured_store(), person(db, MANAGER), rec.id)
    assert rec.status == "signed" and rec.signed_by == person(db, MANAGER).id
    item = db.get(ArchiveItem, rec.archive_item_id)
    assert (item.class_code, item.fiscal_year, item.period) == ("bank_reconciliation", 2025, "01")
    files = db.scalars(select(ArchiveFile).where(ArchiveFile.item_id == item.id)).all()
    document = db.get(Document, files[0].document_id)
    assert document.filename.endswith(".pdf")
    with configured_store().open(document.blob_key) as stream:
        assert stream.read(5) == b"%PDF-"
    statement = db.scalar(select(BankStatement).where(BankStatement.account_id == account.id))
    filed = db.get(ArchiveItem, statement.archive_item_id)
    assert (filed.class_code, filed.period) == ("bank_statement", "01")
    linked = db.scalar(select(ArchiveFile.document_id).where(ArchiveFile.item_id == filed.id))
    assert linked == statement.document_id
    with pytest.raises(Conflict):
        service.sign_off(db, configured_store(), person(db, "wu.caiwuzongjian"), rec.id)


def test_r_bnk_5_reconciled_month_takes_no_new_lines(db, account):
    _simple_month(db, account)
    accountant = person(db, ACCOUNTANT)
    rec = service.prepare(db, accountant, account.id, "2025-01")
    service.submit(db, accountant, rec.id)
    with pytest.raises(Conflict) as refused:
        imports.record_entry(
            db, accountant, account.id, {"entry_date": "2025-01-15", "amount": "5.00"}
        )
    assert refused.value.code == "month_reconciled"
    imports.record_entry(db, accountant, account.id, {"entry_date": "2025-02-15", "amount": "5"})
    with pytest.raises(Conflict):
        service.add_item(db, accountant, rec.id, side="bank", amount="1", reason="x")
    service.send_back(db, person(db, MANAGER), rec.id, "票据号有误")
    assert rec.status == "draft"
    imports.record_entry(db, accountant, account.id, {"entry_date": "2025-01-15", "amount": "5"})


def test_r_bnk_5_cashier_does_not_prepare(db, account):
    with pytest.raises(Forbidden):
        service.prepare(db, person(db, "zhao.chuna"), account.id, "2025-01", bank_balance="0")


DIRECTOR = "wu.caiwuzongjian"


def test_r_bnk_5_signer_took_no_part_in_the_statement(db, account):
    """Prepared by X, submitted by Y: X does not sign; nor does whoever entered an item."""
    _simple_month(db, account)
    manager, accountant = person(db, MANAGER), person(db, ACCOUNTANT)
    rec = service.prepare(db, manager, account.id, "2025-01")
    service.submit(db, accountant, rec.id)
    assert (rec.prepared_by, rec.submitted_by) == (manager.id, accountant.id)
    with pytest.raises(Forbidden) as refused:
        service.sign_off(db, configured_store(), manager, rec.id)
    assert refused.value.code == "second_person"
    with pytest.raises(Forbidden):  # sending back is the reviewer's: banking:signoff
        service.send_back(db, accountant, rec.id, "wrong")
    service.send_back(db, person(db, DIRECTOR), rec.id, "再核")
    service.add_item(db, manager, rec.id, side="bank", amount="1.00", reason="差异")
    service.add_item(db, accountant, rec.id, side="bank", amount="-1.00", reason="冲回")
    service.submit(db, accountant, rec.id)
    with pytest.raises(Forbidden):
        service.sign_off(db, configured_store(), manager, rec.id)  # prepared, and an item
    service.sign_off(db, configured_store(), person(db, DIRECTOR), rec.id)


def test_r_bnk_5_months_submitted_and_signed_in_order(db, account):
    _simple_month(db, account)
    accountant = person(db, ACCOUNTANT)
    with pytest.raises(Conflict) as refused:  # the account's first month is January
        service.prepare(db, accountant, account.id, "2025-02")
    assert refused.value.errors == {"month": ["2025-01"]}
    january = service.prepare(db, accountant, account.id, "2025-01")
    service.submit(db, accountant, january.id)
    february = service.prepare(db, accountant, account.id, "2025-02")
    with pytest.raises(Conflict) as refused:
        service.submit(db, accountant, february.id)
    assert refused.value.code == "out_of_order"
    service.sign_off(db, configured_store(), person(db, MANAGER), january.id)
    service.submit(db, accountant, february.id)
    assert february.status == "submitted"


def test_r_bnk_5_send_back_refused_under_a_later_fixed_month(db, account):
    _simple_month(db, account)
    accountant = person(db, ACCOUNTANT)
    january = service.prepare(db, accountant, account.id, "2025-01")
    service.submit(db, accountant, january.id)
    # A later month fixed on top (as data from before the order was enforced could be).
    db.add(
        Reconciliation(
            account_id=account.id,
            month=date(2025, 2, 1),
            status="submitted",
            book_balance=Decimal(0),
            adjusted_book=Decimal(0),
            prepared_by=accountant.id,
        )
    )
    db.flush()
    with pytest.raises(Conflict) as refused:
        service.send_back(db, person(db, MANAGER), january.id, "再核")
    assert refused.value.code == "later_month_fixed"


def test_r_bnk_5_items_left_in_a_signed_month_clear_in_the_next(db, account):
    """A fee booked on the 5th and banked on the 25th: too far apart to pair, so both stay
    open in January's signed statement; matched by hand in February, they clear in February
    and January's statement keeps them as signed."""
    _simple_month(db, account)
    _journal(db, account, [(date(2025, 1, 5), Decimal("-15.00"), None)])
    accountant = person(db, ACCOUNTANT)
    january = service.prepare(db, accountant, account.id, "2025-01")
    service.submit(db, accountant, january.id)
    service.sign_off(db, configured_store(), person(db, MANAGER), january.id)
    signed_items = sorted((i.kind, i.amount) for i in service.items_of(db, january))
    assert ("bank_charge", Decimal("-15.00")) in signed_items
    line = db.scalar(select(StatementLine.id).where(StatementLine.amount == Decimal("-15.00")))
    entry = db.scalar(select(BookEntry.id).where(BookEntry.amount == Decimal("-15.00")))
    found = matching.match(db, accountant, account.id, line, entry)
    assert found.effective_on == date(2025, 2, 1)
    february = service.prepare(db, accountant, account.id, "2025-02")
    assert Decimal("-15.00") not in {i.amount for i in service.items_of(db, february)}
    assert sorted((i.kind, i.amount) for i in service.items_of(db, january)) == signed_items
    service.submit(db, accountant, february.id)
    with pytest.raises(Conflict):  # February fixed: the match stays
        matching.unmatch(db, accountant, account.id, found.id)


def test_r_bnk_5_opening_entry_never_matched(db, account):
    _journal(db, account, [(date(2024, 12, 31), Decimal("100.00"), None)], source="opening")
    _statement(db, account, [(JAN, Decimal("100.00"), None)])
    accountant = person(db, ACCOUNTANT)
    assert matching.auto_match(db, accountant, account.id)["matched"] == 0
    line = db.scalar(select(StatementLine.id).where(StatementLine.account_id == account.id))
    opening = db.scalar(select(BookEntry.id).where(BookEntry.account_id == account.id))
    with pytest.raises(InvalidInput) as refused:
        matching.match(db, accountant, account.id, line, opening)
    assert refused.value.code == "opening_entry"


def test_r_bnk_5_no_month_after_the_closure(db):
    closed = open_account(db, "SH-XTD", opened_on=JAN, closed_on=date(2025, 1, 20))
    with pytest.raises(InvalidInput) as refused:
        service.prepare(db, person(db, ACCOUNTANT), closed.id, "2025-02", bank_balance="0")
    assert refused.value.code == "after_closure"
    service.prepare(db, person(db, ACCOUNTANT), closed.id, "2025-01", bank_balance="0")
