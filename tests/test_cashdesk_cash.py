"""Cash (R-CASH-1, R-CASH-2, R-CASH-4): the cash book and its limit alert, count sheets of notes and
coins with IOU lines refused, the month-end review by someone else, petty-cash advances due back
by the 25th of the quarter's last month with reminders."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from propgroup.approvals import service as approvals
from propgroup.cashdesk import cash, jobs, petty
from propgroup.cashdesk.models import CashEntry
from propgroup.errors import Conflict, Forbidden, InvalidInput, NotFound
from propgroup.jobs.models import OutboxMessage
from propgroup.org import service as org
from propgroup.tenancy import service as tenancy
from tests.support.cashdesk import (
    CASHIER,
    HOLDER,
    MANAGER,
    approved_advance,
    approved_request,
    cash_in_box,
    month_end,
    stand_on,
)
from tests.support.groups import REQUESTER, demo_today, person, provision_demo, raise_request

SECOND = "ma.liangzhi"  # a second cashier at SH-XTD (one person never both counts and signs off)


@pytest.fixture(scope="module")
def group(control):
    people = {**REQUESTER, SECOND: [("cashier", "SH-XTD")], "he.chuna": [("cashier", "SZ-NS")]}
    tenant = provision_demo(control, "cash_box", "现金", people=people)
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


@pytest.fixture(autouse=True)
def at_month_end(monkeypatch):
    """Every test stands on the month's last day, the day a month-end sheet is dated."""
    day = month_end(demo_today())
    stand_on(monkeypatch, day)
    return day


@pytest.fixture
def unit(db):
    return org.get_unit_by_code(db, "SH-XTD")


def _count(db, unit, lines, who=CASHIER, kind="month_end", explanation=None):
    return cash.submit_count(
        db,
        person(db, who),
        unit_id=unit.id,
        kind=kind,
        counted_on=approvals.today(db),
        lines=lines,
        explanation=explanation,
    )


NOTES = [
    {"denomination": "100", "quantity": 12},
    {"denomination": "0.5", "quantity": 3},
    {"denomination": "0.1", "quantity": 4},
]  # 1201.90


def test_r_cash_2_counted_notes_and_coins_agree_with_the_book(db, unit):
    cash_in_box(db, "1201.90")
    sheet = _count(db, unit, NOTES)
    assert (sheet.counted_total, sheet.book_balance) == (Decimal("1201.90"), Decimal("1201.90"))
    assert [(line.denomination, line.quantity) for line in cash.lines_of(db, sheet)] == [
        (Decimal("100.00"), 12),
        (Decimal("0.50"), 3),
        (Decimal("0.10"), 4),
    ]


def test_r_cash_2_a_difference_must_be_explained(db, unit):
    cash_in_box(db, "1300.00")
    with pytest.raises(InvalidInput) as refused:
        _count(db, unit, NOTES)
    assert refused.value.code == "difference_unexplained" and "-98.10" in refused.value.message
    sheet = _count(db, unit, NOTES, explanation="差额为未入账的报销单据,已通知会计")
    assert sheet.counted_total - sheet.book_balance == Decimal("-98.10")


@pytest.mark.parametrize("kind", ["iou", "白条", "借据"])
def test_r_cash_2_an_iou_line_is_refused(db, unit, kind):
    cash_in_box(db, "1701.90")
    with pytest.raises(InvalidInput) as refused:
        _count(db, unit, [*NOTES, {"kind": kind, "description": "张三借款", "amount": "500"}])
    assert refused.value.code == "iou_refused" and "白条" in refused.value.message
    assert list(db.scalars(cash.visible_counts(db, person(db, CASHIER), unit_id=unit.id))) == []


@pytest.mark.parametrize(
    "line",
    [
        {"denomination": "200", "quantity": 1},
        {"denomination": "100", "quantity": -1},
        {"denomination": "100", "quantity": 1.5},
        {"kind": "cheque", "denomination": "100"},
    ],
)
def test_r_cash_2_only_whole_counts_of_real_denominations(db, unit, line):
    with pytest.raises(InvalidInput) as refused:
        _count(db, unit, [line])
    assert refused.value.code == "bad_lines" and "lines.1" in refused.value.errors


def test_r_cash_2_the_month_end_sheet_is_reviewed_by_the_finance_manager(db, unit):
    cash_in_box(db, "1201.90")
    sheet = _count(db, unit, NOTES)
    with pytest.raises(Forbidden):
        cash.review_count(db, person(db, CASHIER), sheet.id)  # no sign-off right
    cash.review_count(db, person(db, MANAGER), sheet.id)
    assert sheet.reviewed_by == person(db, MANAGER).id
    with pytest.raises(Conflict):
        cash.review_count(db, person(db, MANAGER), sheet.id)


def test_r_cash_2_no_cashier_reviews_a_sheet(db, unit):
    cash_in_box(db, "1201.90")
    sheet = _count(db, unit, NOTES, who=SECOND)
    for cashier in (SECOND, CASHIER):  # who counted, nor the other cashier
        with pytest.raises(Forbidden):
            cash.review_count(db, person(db, cashier), sheet.id)
    assert sheet.reviewed_by is None


def test_r_cash_1_over_the_limit_alerts_the_same_day_until_banked(db, unit):
    cash_in_box(db, "9000.00")
    assert cash.open_alerts(db, person(db, MANAGER)) == []
    cash.record_entry(
        db,
        person(db, CASHIER),
        unit_id=unit.id,
        entry_date=approvals.today(db),
        amount="1000.01",
        description="收停车费",
    )
    [alert] = cash.open_alerts(db, person(db, MANAGER), unit.id)
    assert (alert.raised_on, alert.balance) == (approvals.today(db), Decimal("10000.01"))
    assert db.scalar(
        select(OutboxMessage).where(OutboxMessage.job == "cashdesk.notify_cash_alert")
    ).payload == {"alert_id": alert.id}
    assert jobs.notify_cash_alert(db, alert_id=alert.id) >= 2  # the cashier and finance above
    cash.record_entry(
        db,
        person(db, CASHIER),
        unit_id=unit.id,
        entry_date=approvals.today(db),
        amount="-0.01",
        description="送存银行",
    )
    assert cash.open_alerts(db, person(db, MANAGER)) == [] and alert.cleared_on == approvals.today(
        db
    )


def test_r_cash_1_a_count_over_the_limit_alerts_too(db, unit):
    cash_in_box(db, "9000.00")
    _count(db, unit, [{"denomination": "100", "quantity": 101}], explanation="多出现金待查")
    assert cash.open_alerts(db, person(db, CASHIER), unit.id)[0].balance == Decimal("10100.00")


def test_r_cash_1_the_limit_is_a_tenant_setting(db, unit):
    # In the test's transaction, rolled back after it: the module's group keeps its limit.
    cash.change_settings(db, person(db, "wu.caiwuzongjian"), cash_limit="5000", reminder_days=3)
    cash_in_box(db, "5000.01")
    assert cash.open_alerts(db, person(db, CASHIER), unit.id)


def test_a_payment_the_box_does_not_hold_is_refused(db, unit):
    cash_in_box(db, "10.00")
    with pytest.raises(Conflict):
        cash.record_entry(
            db,
            person(db, CASHIER),
            unit_id=unit.id,
            entry_date=approvals.today(db),
            amount="-10.01",
            description="x",
        )


@pytest.mark.parametrize(
    ("advanced", "due"),
    [
        (date(2026, 1, 5), date(2026, 3, 25)),
        (date(2026, 3, 24), date(2026, 3, 25)),
        (date(2026, 3, 25), date(2026, 6, 25)),
        (date(2026, 8, 1), date(2026, 9, 25)),
        (date(2026, 12, 28), date(2027, 3, 25)),
    ],
)
def test_r_cash_4_petty_cash_is_due_by_the_25th_of_the_quarter_s_last_month(advanced, due):
    assert petty.due_date(advanced) == due


def _lend(db, unit, amount, requester=HOLDER):
    request = approved_advance(db, amount, requester)
    return petty.advance(db, person(db, CASHIER), unit_id=unit.id, request_id=request.id)


def test_r_cash_4_one_open_advance_a_person_returned_then_borrowed_again(db, unit):
    cash_in_box(db, "3000.00")
    cashier = person(db, CASHIER)
    lent = _lend(db, unit, "1000")
    assert (
        lent.due_on == petty.due_date(approvals.today(db))
        and cash.cash_balance(db, unit.id) == 2000
    )
    with pytest.raises(Conflict) as refused:
        _lend(db, unit, "10")
    assert refused.value.code == "advance_open"
    petty.return_advance(db, cashier, lent.id)
    assert cash.cash_balance(db, unit.id) == 3000
    assert _lend(db, unit, "500")
    sources = db.scalars(select(CashEntry.source).where(CashEntry.unit_id == unit.id)).all()
    assert sources.count("petty_cash") == 3


def test_r_cash_4_petty_cash_is_lent_against_an_approved_advance_once(db, unit):
    cash_in_box(db, "3000.00")
    cashier = person(db, CASHIER)
    draft = raise_request(
        db,
        HOLDER,
        "SH-XTD",
        amount="100.00",
        request_type="advance",
        business_kind="local",
        business_ended_on=approvals.today(db),
    )
    with pytest.raises(Conflict) as refused:
        petty.advance(db, cashier, unit_id=unit.id, request_id=draft.id)
    assert refused.value.code == "request_not_approved"
    claim = approved_request(db, "100.00")  # an expense claim is not an advance
    with pytest.raises(InvalidInput):
        petty.advance(db, cashier, unit_id=unit.id, request_id=claim.id)
    request = approved_advance(db, "800.00")
    lent = petty.advance(db, cashier, unit_id=unit.id, request_id=request.id)
    assert (lent.amount, lent.holder_id, lent.request_id) == (
        Decimal("800.00"),
        person(db, HOLDER).id,
        request.id,
    )
    assert request.status == "paid"  # the advance is paid once, in cash
    petty.return_advance(db, cashier, lent.id)
    with pytest.raises(Conflict) as refused:
        petty.advance(db, cashier, unit_id=unit.id, request_id=request.id)
    assert refused.value.code == "request_not_approved"


def test_r_cash_4_the_cashier_does_not_lend_to_themselves(db, unit):
    cash_in_box(db, "3000.00")
    own = approved_advance(db, "100.00", requester=CASHIER)
    with pytest.raises(Forbidden):
        petty.advance(db, person(db, CASHIER), unit_id=unit.id, request_id=own.id)
    assert own.status == "approved"


def test_another_unit_s_petty_cash_and_counts_are_not_found(db, unit):
    cash_in_box(db, "3000.00")
    lent = _lend(db, unit, "100")
    sheet = _count(db, unit, NOTES, explanation="测试")
    other = person(db, "he.chuna")  # cashier at SZ-NS
    with pytest.raises(NotFound):
        petty.return_advance(db, other, lent.id)
    with pytest.raises(NotFound):
        cash.read_count(db, other, sheet.id)


def test_r_cash_4_reminders_before_the_day_and_daily_when_overdue(db, unit, monkeypatch):
    cash_in_box(db, "3000.00")
    lent = _lend(db, unit, "100")

    def on(day: date) -> list:
        moment = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=4)
        monkeypatch.setattr(approvals, "now", lambda: moment)
        return petty.due_reminders(db)

    assert on(lent.due_on - timedelta(days=6)) == []
    assert on(lent.due_on - timedelta(days=5)) == [(lent, False)]
    assert on(lent.due_on - timedelta(days=4)) == []  # once before the day
    assert on(lent.due_on + timedelta(days=1)) == [(lent, True)]
    assert on(lent.due_on + timedelta(days=1)) == []  # once a day
    assert on(lent.due_on + timedelta(days=2)) == [(lent, True)]
    assert jobs.remind_petty_cash(db) == 0


@pytest.mark.parametrize(
    ("kind", "shift", "ok"),
    [("month_end", 0, True), ("month_end", -1, False), ("week_end", None, True)],
)
def test_r_cash_2_a_count_is_dated_its_month_or_week_end(db, unit, monkeypatch, kind, shift, ok):
    day = approvals.today(db)
    if shift is None:  # the Sunday of the week before the month's end
        day -= timedelta(days=day.isoweekday() % 7 or 7)
    else:
        day += timedelta(days=shift)
    sheet = {"unit_id": unit.id, "kind": kind, "counted_on": day, "lines": [NOTES[0]]}
    explained = {**sheet, "explanation": "测试"}
    if ok:
        assert cash.submit_count(db, person(db, CASHIER), **explained).counted_on == day
    else:
        with pytest.raises(InvalidInput) as refused:
            cash.submit_count(db, person(db, CASHIER), **explained)
        assert refused.value.code == "bad_count_day"


def test_r_cash_2_a_week_end_count_on_a_wednesday_is_refused(db, unit):
    day = approvals.today(db)
    wednesday = day - timedelta(days=(day.isoweekday() - 3) % 7 or 7)
    with pytest.raises(InvalidInput) as refused:
        cash.submit_count(
            db,
            person(db, CASHIER),
            unit_id=unit.id,
            kind="week_end",
            counted_on=wednesday,
            lines=[NOTES[0]],
            explanation="测试",
        )
    assert refused.value.code == "bad_count_day"


def test_r_cash_2_a_signalling_nan_denomination_is_a_wrong_line(db, unit):
    with pytest.raises(InvalidInput) as refused:
        _count(db, unit, [{"denomination": "sNaN", "quantity": 1}])
    assert refused.value.code == "bad_lines"


def test_r_cash_2_no_entry_is_backdated_into_a_reviewed_count(db, unit):
    cash_in_box(db, "1201.90")
    sheet = _count(db, unit, NOTES)
    cash.review_count(db, person(db, MANAGER), sheet.id)
    with pytest.raises(Conflict) as refused:
        cash.record_entry(
            db,
            person(db, CASHIER),
            unit_id=unit.id,
            entry_date=sheet.counted_on,
            amount="5.00",
            description="补记",
        )
    assert refused.value.code == "book_closed"


def test_a_backdated_payment_may_not_overdraw_a_later_day(db, unit, monkeypatch):
    today = approvals.today(db)
    stand_on(monkeypatch, today - timedelta(days=3))
    cash_in_box(db, "100.00")
    stand_on(monkeypatch, today)
    cash.record_entry(
        db,
        person(db, CASHIER),
        unit_id=unit.id,
        entry_date=today - timedelta(days=1),
        amount="-80.00",
        description="付款",
    )
    with pytest.raises(Conflict) as refused:  # 100 on that day, but only 20 the day after
        cash.record_entry(
            db,
            person(db, CASHIER),
            unit_id=unit.id,
            entry_date=today - timedelta(days=2),
            amount="-50.00",
            description="补记付款",
        )
    assert refused.value.code == "not_enough_cash"
