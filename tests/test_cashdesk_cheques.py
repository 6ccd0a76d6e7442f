"""Cheques (R-CHQ-1…3): the register of cheque books, cheques written in number order to a holder
against an approved request or an approved blank-cheque limit, accounted for into the bank
journal, overdue after 5 days, voided and kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from propgroup.approvals import service as approvals
from propgroup.approvals.models import Payment
from propgroup.audit.models import AuditEvent
from propgroup.audit.service import write_pending
from propgroup.banking.checks import closing_problems
from propgroup.banking.models import BookEntry
from propgroup.banking.service import book_balance
from propgroup.cashdesk import cash, cheques
from propgroup.cashdesk.models import CashEntry, Cheque
from propgroup.errors import Conflict, Forbidden, InvalidInput
from propgroup.org import service as org
from propgroup.reconciliation.models import Reconciliation
from propgroup.tenancy import service as tenancy
from tests.support.cashdesk import (
    ACCOUNTANT,
    CASHIER,
    HOLDER,
    MANAGER,
    approved_request,
    open_account,
)
from tests.support.groups import REQUESTER, demo_today, person, provision_demo


@pytest.fixture(scope="module")
def group(control):
    tenant = provision_demo(control, "cash_chq", "支票", people=REQUESTER)
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


@pytest.fixture
def account(db):
    return open_account(db)


def _book(db, account, first="10230001", last="10230025", cheque_type="transfer"):
    return cheques.register_book(
        db,
        person(db, CASHIER),
        account_id=account.id,
        received_on=demo_today(),
        bank="中国工商银行",
        cheque_type=cheque_type,
        first_number=first,
        last_number=last,
    )


def _issue(db, account, request=None, **extra):
    request = request or approved_request(db)
    return cheques.issue_cheque(
        db,
        person(db, CASHIER),
        account_id=account.id,
        cheque_type="transfer",
        purpose="维修材料",
        request_id=request.id,
        **extra,
    )


def _days_later(monkeypatch, days):
    moment = datetime.now(UTC) + timedelta(days=days)
    monkeypatch.setattr(approvals, "now", lambda: moment)


def test_r_chq_1_a_book_is_registered_with_date_bank_type_range_and_who(db, account):
    book = _book(db, account)
    assert (book.bank, book.cheque_type, book.first_number, book.last_number) == (
        "中国工商银行",
        "transfer",
        "10230001",
        "10230025",
    )
    assert book.registered_by == person(db, CASHIER).id and book.received_on == demo_today()


@pytest.mark.parametrize(
    ("first", "last"),
    [("10230020", "10230040"), ("10229990", "10230001"), ("10230010", "10230012")],
)
def test_r_chq_1_an_overlapping_range_is_refused(db, account, first, last):
    _book(db, account)
    with pytest.raises(Conflict) as refused:
        _book(db, account, first, last)
    assert refused.value.code == "overlapping_range"


@pytest.mark.parametrize(
    ("first", "last", "field"),
    [
        ("1023001", "10230025", "last_number"),
        ("10230025", "10230001", "last_number"),
        ("1023A001", "10230025", "first_number"),
    ],
)
def test_r_chq_1_a_range_is_same_length_digits_in_order(db, account, first, last, field):
    with pytest.raises(InvalidInput) as refused:
        _book(db, account, first, last)
    assert field in refused.value.errors


def test_r_chq_1_the_same_range_at_another_account_is_fine(db, account):
    _book(db, account)
    assert _book(db, open_account(db)).id


def test_r_chq_2_cheques_are_written_in_number_order_never_twice(db, account):
    _book(db, account, "00000098", "00000099")
    _book(db, account, "00000100", "00000100")
    written = [_issue(db, account).number for _ in range(3)]
    assert written == ["00000098", "00000099", "00000100"]
    with pytest.raises(Conflict) as refused:
        _issue(db, account)
    assert refused.value.code == "no_cheques_left"


def test_r_apr_6_a_cheque_is_the_request_s_one_payment(db, account):
    _book(db, account)
    request = approved_request(db, "3000.00")
    with pytest.raises(InvalidInput) as refused:
        _issue(db, account, request, amount="2000.00")
    assert refused.value.code == "amount_is_the_request"
    first = _issue(db, account, request)
    assert first.holder_id == person(db, HOLDER).id  # the requester takes it
    payment = db.get(Payment, first.payment_id)
    assert (payment.method, payment.reference, payment.amount) == (
        "cheque",
        first.number,
        Decimal("3000.00"),
    )
    assert request.status == "paid" and cheques.remaining_of(db, request) == 0
    with pytest.raises(Conflict) as refused:
        _issue(db, account, request)  # amount omitted, nothing left: 409, not a 500
    assert refused.value.code == "request_fully_paid"
    with pytest.raises(Conflict) as refused:
        approvals.pay(db, person(db, CASHIER), request.id, method="cash", reference=None)
    assert refused.value.code == "already_paid"


def test_r_apr_6_a_request_paid_in_cash_gets_no_cheque(db, account):
    _book(db, account)
    request = approved_request(db)
    approvals.pay(db, person(db, CASHIER), request.id, method="cash", reference=None)
    with pytest.raises(Conflict) as refused:
        _issue(db, account, request)
    assert refused.value.code == "request_fully_paid"


def test_r_chq_3_voiding_a_request_cheque_reverses_its_payment(db, account):
    _book(db, account)
    request = approved_request(db, "3000.00")
    first = _issue(db, account, request)
    cheques.void_cheque(db, person(db, CASHIER), first.id, reason="写错金额")
    payment = db.get(Payment, first.payment_id)
    assert payment.reversed_at is not None and payment.reversal_reason == "写错金额"
    assert request.status == "approved" and cheques.remaining_of(db, request) == 3000
    write_pending(db)  # the queued audit rows, inserted in this (rolled back) transaction
    assert db.scalar(
        select(AuditEvent.id).where(
            AuditEvent.action == "approvals.payment_reversed",
            AuditEvent.entity_id == str(request.id),
        )
    )
    again = _issue(db, account, request)  # paid again, by the next cheque
    assert again.number == "10230002" and request.status == "paid"


def test_r_org_3_the_cashier_does_not_write_a_cheque_for_their_own_request(db, account):
    _book(db, account)
    own = approved_request(db, requester=CASHIER)
    with pytest.raises(Forbidden):
        _issue(db, account, own)
    assert own.status == "approved"


def test_seed_10_1_3_8_the_payee_and_holder_are_the_request_s(db, account):
    _book(db, account)
    request = approved_request(db)
    with pytest.raises(InvalidInput) as refused:
        _issue(db, account, request, payee="anyone")
    assert refused.value.code == "payee_mismatch"
    with pytest.raises(InvalidInput) as refused:
        _issue(db, account, request, holder=MANAGER)
    assert refused.value.code == "holder_not_requester"
    cheque = _issue(db, account, request, payee=request.payee, holder=HOLDER)
    with pytest.raises(InvalidInput) as refused:
        cheques.account_for(
            db, person(db, CASHIER), cheque.id, payee="someone else", paid_on=demo_today()
        )
    assert refused.value.code == "payee_mismatch"


def test_r_chq_2_a_request_in_another_currency_is_not_paid_from_the_account(db, account):
    _book(db, account)
    request = approved_request(db)
    request.currency = "USD"
    with pytest.raises(Conflict) as refused:
        _issue(db, account, request)
    assert refused.value.code == "currency_mismatch" and request.status == "approved"


def test_seed_10_1_3_9_a_cash_cheque_goes_to_finance_staff_and_into_the_cash_box(db, account):
    _book(db, account, cheque_type="cash")
    with pytest.raises(Conflict) as refused:
        cheques.issue_cheque(
            db,
            person(db, CASHIER),
            account_id=account.id,
            cheque_type="cash",
            purpose="提现",
            request_id=approved_request(db).id,  # its requester is a department head
        )
    assert refused.value.code == "holder_not_finance"
    asked = cheques.ask_blank_cheque(
        db,
        person(db, CASHIER),
        account_id=account.id,
        holder=ACCOUNTANT,
        limit_amount="5000.00",
        purpose="提现备用",
    )
    cheques.decide_blank_cheque(db, person(db, MANAGER), asked.id, approve=True, comment=None)
    cheque = cheques.issue_cheque(
        db,
        person(db, CASHIER),
        account_id=account.id,
        cheque_type="cash",
        purpose="提现备用",
        blank_approval_id=asked.id,
    )
    unit = org.get_unit(db, account.unit_id)
    before = cash.cash_balance(db, unit.id)
    cheques.account_for(
        db, person(db, CASHIER), cheque.id, amount="3000.00", payee="本单位", paid_on=demo_today()
    )
    receipt = db.scalar(select(CashEntry).where(CashEntry.reference == cheque.number))
    assert (receipt.amount, receipt.source) == (Decimal("3000.00"), "cheque")
    assert cash.cash_balance(db, unit.id) == before + Decimal("3000.00")


def test_r_chq_2_only_an_approved_request_of_the_unit_is_paid_by_cheque(db, account):
    _book(db, account)
    from tests.support.groups import raise_request

    draft = raise_request(db, HOLDER, "SH-XTD")
    with pytest.raises(Conflict) as refused:
        _issue(db, account, draft)
    assert refused.value.code == "request_not_approved"


def test_r_chq_2_accounting_for_pays_out_of_the_bank_journal(db, account):
    _book(db, account)
    cheque = _issue(db, account, approved_request(db, "1200.00"))
    with pytest.raises(InvalidInput) as refused:
        cheques.account_for(
            db, person(db, CASHIER), cheque.id, amount="1180.50", paid_on=demo_today()
        )
    assert refused.value.code == "amount_is_the_cheque"
    cheques.account_for(db, person(db, CASHIER), cheque.id, paid_on=demo_today())
    entry = db.get(BookEntry, cheque.book_entry_id)
    assert (entry.amount, entry.reference, entry.source, entry.counterparty) == (
        Decimal("-1200.00"),
        cheque.number,
        "cheque",
        "p",
    )
    assert book_balance(db, account.id) == Decimal("-1200.00")
    assert cheque.state == "accounted" and cheques.outstanding_cheques(db, account.id) == []


def test_r_chq_2_a_holder_with_a_cheque_overdue_gets_no_new_cheque(db, account, monkeypatch):
    _book(db, account)
    late = _issue(db, account)
    _days_later(monkeypatch, 5)
    assert not cheques.is_overdue(db, late)
    _issue(db, account)  # 5 days: not yet overdue
    _days_later(monkeypatch, 6)
    assert cheques.is_overdue(db, late)
    with pytest.raises(Conflict) as refused:
        _issue(db, account)
    assert refused.value.code == "holder_has_overdue_cheque"
    assert late.number in refused.value.message
    cheques.account_for(db, person(db, CASHIER), late.id, paid_on=late.issued_on)
    assert _issue(db, account).state == "issued"


def test_r_chq_3_a_blank_cheque_needs_the_finance_manager_s_approval(db, account):
    _book(db, account)
    asked = cheques.ask_blank_cheque(
        db,
        person(db, CASHIER),
        account_id=account.id,
        holder=HOLDER,
        limit_amount="2000.00",
        purpose="招待费",
    )
    blank = {
        "account_id": account.id,
        "cheque_type": "transfer",
        "purpose": "招待费",
        "blank_approval_id": asked.id,
    }
    with pytest.raises(Conflict) as refused:
        cheques.issue_cheque(db, person(db, CASHIER), **blank)
    assert refused.value.code == "blank_not_approved"
    cheques.decide_blank_cheque(db, person(db, MANAGER), asked.id, approve=True, comment="同意")
    cheque = cheques.issue_cheque(db, person(db, CASHIER), **blank)
    assert (cheque.limit_amount, cheque.amount, cheque.payee) == (Decimal("2000.00"), None, None)
    with pytest.raises(Conflict):
        cheques.issue_cheque(db, person(db, CASHIER), **blank)  # one cheque per approval


def test_r_chq_3_a_blank_cheque_is_accounted_for_within_its_limit(db, account):
    _book(db, account)
    asked = cheques.ask_blank_cheque(
        db,
        person(db, CASHIER),
        account_id=account.id,
        holder=HOLDER,
        limit_amount="2000.00",
        purpose="材料采购",
    )
    cheques.decide_blank_cheque(db, person(db, MANAGER), asked.id, approve=True, comment=None)
    cheque = cheques.issue_cheque(
        db,
        person(db, CASHIER),
        account_id=account.id,
        cheque_type="transfer",
        purpose="材料采购",
        blank_approval_id=asked.id,
    )
    with pytest.raises(InvalidInput) as refused:
        cheques.account_for(
            db,
            person(db, CASHIER),
            cheque.id,
            amount="2000.01",
            payee="建材市场",
            paid_on=demo_today(),
        )
    assert refused.value.code == "over_limit"
    assert cheque.state == "issued"
    cheques.account_for(
        db, person(db, CASHIER), cheque.id, amount="1999.99", payee="建材市场", paid_on=demo_today()
    )
    assert cheque.amount == Decimal("1999.99")


def test_r_chq_3_who_holds_a_blank_cheque_does_not_approve_it(db, account):
    asked = cheques.ask_blank_cheque(
        db,
        person(db, CASHIER),
        account_id=account.id,
        holder=MANAGER,  # the finance manager would take it: someone else approves
        limit_amount="500.00",
        purpose="招待费",
    )
    with pytest.raises(Forbidden) as refused:
        cheques.decide_blank_cheque(db, person(db, MANAGER), asked.id, approve=True, comment=None)
    assert refused.value.code == "segregation_of_duties"
    with pytest.raises(Forbidden) as refused:
        cheques.ask_blank_cheque(
            db,
            person(db, CASHIER),
            account_id=account.id,
            holder=CASHIER,
            limit_amount="500.00",
            purpose="招待费",
        )
    assert refused.value.code == "holder_is_issuer"


def test_r_chq_3_a_voided_cheque_is_kept_with_its_reason(db, account):
    _book(db, account)
    cheque = _issue(db, account)
    cheques.void_cheque(db, person(db, CASHIER), cheque.id, reason="填写错误")
    db.expire_all()
    kept = db.get(Cheque, cheque.id)
    assert (kept.state, kept.void_reason, kept.voided_on) == ("voided", "填写错误", demo_today())
    assert _issue(db, account).number == "10230002"  # its number is not reused
    with pytest.raises(Conflict):
        cheques.void_cheque(db, person(db, CASHIER), cheque.id, reason="again")


def test_outstanding_cheques_are_issued_and_neither_accounted_for_nor_voided(db, account):
    _book(db, account)
    kept, voided, accounted = (_issue(db, account) for _ in range(3))
    cheques.void_cheque(db, person(db, CASHIER), voided.id, reason="作废")
    cheques.account_for(db, person(db, CASHIER), accounted.id, paid_on=demo_today())
    assert [c.id for c in cheques.outstanding_cheques(db, account.id)] == [kept.id]


def test_r_bnk_1_an_account_with_an_outstanding_cheque_cannot_close(db, account):
    _book(db, account)
    cheque = _issue(db, account)
    assert any("10230001" in problem for problem in closing_problems(db, account))
    cheques.void_cheque(db, person(db, CASHIER), cheque.id, reason="销户前作废")
    # What is left: the book's 24 unused blanks, to return to the bank before closing.
    assert [problem for problem in closing_problems(db, account) if "outstanding" in problem] == []
    assert any("24 blank cheque(s)" in problem for problem in closing_problems(db, account))


def test_cheques_are_written_by_the_unit_s_cashier_only(db, account):
    _book(db, account)
    with pytest.raises(Forbidden):
        cheques.issue_cheque(
            db,
            person(db, MANAGER),
            account_id=account.id,
            cheque_type="transfer",
            purpose="x",
            request_id=approved_request(db).id,
        )


def test_r_bnk_5_a_cheque_is_not_accounted_for_into_a_reconciled_month(db, account):
    _book(db, account)
    cheque = _issue(db, account, approved_request(db, "300.00"))
    paid_on = demo_today()
    db.add(  # the month of the payment fixed for sign-off meanwhile
        Reconciliation(
            account_id=account.id,
            month=paid_on.replace(day=1),
            status="submitted",
            book_balance=Decimal(0),
            adjusted_book=Decimal(0),
            prepared_by=person(db, ACCOUNTANT).id,
        )
    )
    db.flush()
    with pytest.raises(Conflict) as refused:
        cheques.account_for(db, person(db, CASHIER), cheque.id, paid_on=paid_on)
    assert refused.value.code == "month_reconciled"
    assert cheque.book_entry_id is None and cheque.state == "issued"
