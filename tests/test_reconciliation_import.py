"""Getting the two sides of R-BNK-5 in: bank statement files (kept in the document store, lines
imported through a column mapping) and the bank journal (imported or entered). A file with
wrong columns or bad cells is refused naming the line and the column, with nothing written."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import DBAPIError

from propgroup.banking.models import BookEntry
from propgroup.errors import Conflict, Forbidden, InvalidInput, NotFound, TooLarge
from propgroup.org import service as org
from propgroup.reconciliation import csvfile, imports, matching, service
from propgroup.reconciliation.csvfile import checked_mapping
from propgroup.reconciliation.models import StatementLine
from propgroup.storage.models import Document
from propgroup.storage.settings import configured_store
from propgroup.tenancy import service as tenancy
from tests.support.banking import open_account
from tests.support.groups import person, provision_demo

ACCOUNTANT = "li.kuaiji"  # branch_accountant at SH-XTD: banking:write
MAPPING = {"date_column": "date", "amount_column": "amount", "reference_column": "ref"}
GOOD = "date,amount,ref,memo\n2025-01-03,1000.00,R1,rent\n2025-01-05,-25.50,R2,fee\n"


@pytest.fixture(scope="module")
def group(control):
    tenant = provision_demo(control, "rec_imp", "对账导入")
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


@pytest.fixture
def account(db):
    return open_account(db, org.get_unit_by_code(db, "SH-XTD"))


def _statement(db, account, content: str | bytes, mapping=None, who=ACCOUNTANT, **kw):
    data = content.encode() if isinstance(content, str) else content
    return imports.import_statement(
        db,
        configured_store(),
        person(db, who),
        account.id,
        content=data,
        filename="statement.csv",
        mapping=checked_mapping(mapping or MAPPING),
        **kw,
    )


def _written(db, account) -> tuple[int, int]:
    lines = db.scalar(select(func.count()).where(StatementLine.account_id == account.id))
    documents = db.scalar(
        select(func.count()).where(Document.entity_type == imports.STATEMENT_ENTITY)
    )
    return lines, documents


def test_r_bnk_5_statement_lines_imported_and_file_kept(db, account):
    statement = _statement(db, account, GOOD)
    lines = db.scalars(
        select(StatementLine).where(StatementLine.statement_id == statement.id)
    ).all()
    assert [(line.line_no, line.value_date, line.amount, line.reference) for line in lines] == [
        (2, date(2025, 1, 3), Decimal("1000.00"), "R1"),
        (3, date(2025, 1, 5), Decimal("-25.50"), "R2"),
    ]
    document = db.get(Document, statement.document_id)
    assert document.sha256 == statement.sha256 and document.unit_id == account.unit_id
    assert (statement.first_day, statement.last_day) == (date(2025, 1, 3), date(2025, 1, 5))


def test_r_bnk_5_gbk_statement_with_preamble_debit_is_money_out(db, account):
    """A Chinese bank export: two preamble lines, GBK, 借方 (bank debit: out) and 贷方 (in)."""
    text = (
        "账号:6222020200001234,,,,\n"
        "期间:2025-01,,,,\n"
        "交易日期,借方发生额,贷方发生额,对方户名,余额\n"
        '2025/01/03,,"1,000.00",上海某某公司,11000.00\n'
        "20250105,25.50,,工商银行,10974.50\n"
    )
    mapping = {
        "date_column": "交易日期",
        "debit_column": "借方发生额",
        "credit_column": "贷方发生额",
        "counterparty_column": "对方户名",
        "balance_column": "余额",
        "encoding": "gbk",
        "header_line": "3",
    }
    statement = _statement(db, account, text.encode("gbk"), mapping)
    amounts = db.scalars(
        select(StatementLine.amount)
        .where(StatementLine.statement_id == statement.id)
        .order_by(StatementLine.line_no)
    ).all()
    assert amounts == [Decimal("1000.00"), Decimal("-25.50")]
    assert statement.closing_balance == Decimal("10974.50")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (GOOD + "2025-01-06,12x,R3,\n", "line 4, column 'amount': not an amount"),
        (GOOD + "2025-13-06,12.00,R3,\n", "line 4, column 'date': not a date"),
        (GOOD + "2025-01-06,0,R3,\n", "line 4, column 'amount': zero"),
        (GOOD + "2025-01-06,1.001,R3,\n", "line 4, column 'amount': more than 2 decimals"),
        (GOOD + "2025-01-06,,R3,\n", "line 4, column 'amount': empty"),
        (GOOD + "2099-01-06,5.00,R3,\n", "line 4, column 'date': 2099-01-06 is after today"),
        (GOOD + "2025-01-06\n", "line 4: 1 cells, the header has 4"),
        ("date,value,ref\n2025-01-03,1.00,R1\n", "line 1: no column 'amount'"),
    ],
)
def test_r_bnk_5_bad_statement_refused_naming_line_and_column(db, account, content, message):
    with pytest.raises(InvalidInput) as refused:
        _statement(db, account, content)
    assert refused.value.message.startswith(message)
    assert _written(db, account) == (0, 0)


def test_r_bnk_5_every_bad_line_listed(db, account):
    content = "date,amount,ref\n" + "".join(f"2025-01-0{i},x,R\n" for i in range(1, 4))
    with pytest.raises(InvalidInput) as refused:
        _statement(db, account, content)
    assert refused.value.message == "line 2, column 'amount': not an amount (and 2 more)"
    assert refused.value.errors["lines"][2] == "line 4, column 'amount': not an amount"


def test_r_bnk_5_debit_and_credit_both_or_neither_refused(db, account):
    mapping = {"date_column": "d", "debit_column": "dr", "credit_column": "cr"}
    with pytest.raises(InvalidInput) as refused:
        _statement(db, account, "d,dr,cr\n2025-01-02,5.00,5.00\n2025-01-03,,\n", mapping)
    assert refused.value.errors["lines"] == [
        "line 2, column 'dr': both debit and credit",
        "line 3, column 'dr': neither debit nor credit",
    ]


def test_r_bnk_5_not_utf8_refused_with_its_line(db, account):
    content = "date,amount,ref\n2025-01-02,1.00,R\n2025-01-03,2.00,上海\n".encode("gbk")
    with pytest.raises(InvalidInput) as refused:
        _statement(db, account, content)
    assert refused.value.message.startswith("line 3: not utf-8 text")


def test_r_bnk_5_same_statement_file_twice_refused(db, account):
    _statement(db, account, GOOD)
    with pytest.raises(Conflict) as refused:
        _statement(db, account, GOOD)
    assert refused.value.code == "file_imported"
    assert _written(db, account) == (2, 1)


def test_r_bnk_5_file_size_and_row_caps(db, account, monkeypatch):
    monkeypatch.setattr(csvfile, "MAX_BYTES", 64)
    with pytest.raises(TooLarge):
        _statement(db, account, GOOD * 2)
    monkeypatch.setattr(csvfile, "MAX_BYTES", 5 * 1024 * 1024)
    monkeypatch.setattr(csvfile, "MAX_ROWS", 1)
    with pytest.raises(InvalidInput) as refused:
        _statement(db, account, GOOD)
    assert refused.value.code == "too_many_lines"
    assert _written(db, account) == (0, 0)


def test_r_bnk_5_closing_balance_entered_must_agree_with_the_file(db, account):
    content = "date,amount,balance\n2025-01-03,10.00,110.00\n"
    mapping = {"date_column": "date", "amount_column": "amount", "balance_column": "balance"}
    with pytest.raises(InvalidInput) as refused:
        _statement(db, account, content, mapping, closing_balance=Decimal("100.00"))
    assert refused.value.code == "bad_closing_balance"
    statement = _statement(db, account, content, mapping, closing_balance=Decimal("110.00"))
    assert statement.closing_balance == Decimal("110.00")


def test_r_bnk_5_mapping_needs_date_and_amounts():
    for raw in (
        {"amount_column": "a"},
        {"date_column": "d"},
        {"date_column": "d", "amount_column": "a", "debit_column": "x", "credit_column": "y"},
        {"date_column": "d", "amount_column": "d"},
        {"date_column": "d", "amount_column": "a", "encoding": "latin-1"},
    ):
        with pytest.raises(InvalidInput):
            checked_mapping(raw)


def test_r_bnk_5_journal_debit_is_money_in(db, account):
    """In the company's journal a debit (借方, 收入) is money in: the opposite of a statement."""
    content = (
        "日期,凭证号,借方,贷方,摘要\n2025-01-03,记-1,1000.00,,收租\n2025-01-04,记-2,,300.00,付款\n"
    )
    mapping = {
        "date_column": "日期",
        "reference_column": "凭证号",
        "debit_column": "借方",
        "credit_column": "贷方",
        "description_column": "摘要",
    }
    imported = imports.import_journal(
        db,
        person(db, ACCOUNTANT),
        account.id,
        content=content.encode(),
        filename="journal.csv",
        mapping=checked_mapping(mapping),
    )
    entries = db.execute(
        select(BookEntry.amount, BookEntry.source, BookEntry.reference)
        .where(BookEntry.account_id == account.id)
        .order_by(BookEntry.entry_date)
    ).all()
    assert entries == [
        (Decimal("1000.00"), "import", "记-1"),
        (Decimal("-300.00"), "import", "记-2"),
    ]
    assert imported.line_count == 2
    with pytest.raises(Conflict):
        imports.import_journal(
            db,
            person(db, ACCOUNTANT),
            account.id,
            content=content.encode(),
            filename="again.csv",
            mapping=checked_mapping(mapping),
        )


def test_r_bnk_5_journal_entry_by_hand(db, account):
    entry = imports.record_entry(
        db,
        person(db, ACCOUNTANT),
        account.id,
        {"entry_date": "2025-01-09", "amount": "-88.00", "reference": " 记-9 "},
    )
    assert (entry.amount, entry.source, entry.reference) == (Decimal("-88.00"), "manual", "记-9")
    for spec in (
        {"entry_date": "2025-01-09", "amount": "0"},
        {"entry_date": "2025-01-09", "amount": "1.234"},
        {"entry_date": "2099-01-09", "amount": "1"},
        {"entry_date": "nope", "amount": "1"},
    ):
        with pytest.raises(InvalidInput):
            imports.record_entry(db, person(db, ACCOUNTANT), account.id, spec)


def test_r_bnk_5_only_the_units_finance_books(db, account):
    spec = {"entry_date": "2025-01-09", "amount": "1.00"}
    with pytest.raises(Forbidden):  # the cashier keeps cash and cheques, not the bank journal
        imports.record_entry(db, person(db, "zhao.chuna"), account.id, spec)
    other = open_account(db, org.get_unit_by_code(db, "SZ-NS"))
    with pytest.raises(NotFound):  # east's accountant does not see a south branch's account
        imports.record_entry(db, person(db, ACCOUNTANT), other.id, spec)


@pytest.mark.parametrize("amount", ["1234,50", "1,2,3", "1.5E+2", "12,34.00", "(-5.00)", "NaN"])
def test_r_bnk_5_amounts_in_one_strict_form(db, account, amount):
    """A decimal comma is not read as 123450, nor an exponent as 150: refused, line named."""
    with pytest.raises(InvalidInput) as refused:
        _statement(db, account, f'date,amount,ref\n2025-01-03,"{amount}",R1\n')
    assert refused.value.message.startswith("line 2, column 'amount': not an amount")


def test_r_bnk_5_full_width_digits_and_dashes_read(db, account):
    mapping = {"date_column": "date", "debit_column": "debit", "credit_column": "credit"}
    _statement(
        db,
        account,
        "date,debit,credit\n2025-01-03,—,１，２３４．５０\n2025-01-04,０.５０,-\n",
        mapping,
    )
    amounts = db.scalars(
        select(StatementLine.amount)
        .where(StatementLine.account_id == account.id)
        .order_by(StatementLine.line_no)
    ).all()
    assert amounts == [Decimal("1234.50"), Decimal("-0.50")]  # the bank's debit: money out


BALANCED = {**MAPPING, "balance_column": "balance"}


def test_r_bnk_5_newest_first_statement_closes_on_its_newest_balance(db, account):
    statement = _statement(
        db,
        account,
        "date,amount,ref,balance\n"
        "2025-01-09,-20.00,,1080.00\n"
        "2025-01-05,100.00,,1100.00\n"
        "2025-01-02,1000.00,,1000.00\n",
        BALANCED,
    )
    assert statement.closing_balance == Decimal("1080.00") and statement.newest_first
    assert service.stated_balance(db, account.id, date(2025, 1, 31)) == Decimal("1080.00")


def test_r_bnk_5_running_balance_checked_line_by_line(db, account):
    with pytest.raises(InvalidInput) as refused:
        _statement(
            db,
            account,
            "date,amount,ref,balance\n2025-01-02,1000.00,,1000.00\n2025-01-05,100.00,,1110.00\n",
            BALANCED,
        )
    assert refused.value.code == "bad_balance"
    assert refused.value.message.startswith("line 3:")


def test_r_bnk_5_lines_imported_already_refused_whatever_the_bytes(db, account):
    _statement(db, account, GOOD)
    with pytest.raises(Conflict) as refused:  # the same export saved again with CRLF
        _statement(db, account, GOOD.replace("\n", "\r\n"))
    assert refused.value.code == "lines_imported"
    assert refused.value.message.startswith("line 2 (2025-01-03, 1000.00)")
    assert _written(db, account) == (2, 1)


def test_r_bnk_5_unmatched_statement_deleted_with_audit(db, account):
    statement = _statement(db, account, GOOD)
    imports.delete_statement(db, person(db, ACCOUNTANT), account.id, statement.id)
    assert _written(db, account)[0] == 0
    _statement(db, account, GOOD.replace("\n", "\r\n"))  # and then imported again


def test_r_bnk_5_matched_lines_cannot_be_deleted(db, account):
    statement = _statement(db, account, GOOD)
    imports.record_entry(
        db,
        person(db, ACCOUNTANT),
        account.id,
        {"entry_date": "2025-01-03", "amount": "1000.00", "reference": "R1"},
    )
    matching.auto_match(db, person(db, ACCOUNTANT), account.id)
    with pytest.raises(Conflict) as refused:
        imports.delete_statement(db, person(db, ACCOUNTANT), account.id, statement.id)
    assert refused.value.code == "statement_matched"
    with pytest.raises(DBAPIError), db.begin_nested():  # nor behind the service's back
        db.execute(delete(StatementLine).where(StatementLine.statement_id == statement.id))


def test_r_bnk_5_journal_lines_of_booked_cheques_skipped(db, account):
    db.add(
        BookEntry(
            account_id=account.id,
            entry_date=date(2025, 1, 4),
            amount=Decimal("-300.00"),
            reference="10203040",
            source="cheque",
        )
    )
    db.flush()
    imported = imports.import_journal(
        db,
        person(db, ACCOUNTANT),
        account.id,
        content=b"date,amount,ref\n2025-01-04,-300.00,1020 3040\n2025-01-06,50.00,X\n",
        filename="journal.csv",
        mapping=checked_mapping(MAPPING),
    )
    assert (imported.line_count, imported.skipped_count) == (1, 1)
