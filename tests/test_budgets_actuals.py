"""Actuals counted once (R-BUD-5, R-APR-7): the ledger is the book of record of a unit's month,
paid requests and recorded income stand in before it comes; an advance holds until the claim
that reports it, which is the spend. Ledger files that stand for more than they hold are refused
before they are read. (Who books and reverses actuals over the API: test_budgets_api.py.)
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from propgroup.approvals import service as approvals
from propgroup.budgets import figures, ledger, sheets
from propgroup.budgets.actuals import record_income
from propgroup.budgets.checker import left_on_line
from propgroup.budgets.models import BudgetCategory
from propgroup.budgets.sheets import MAX_COLUMNS, saved
from propgroup.errors import TooLarge
from propgroup.org import service as org
from propgroup.tenancy import service as tenancy
from tests.support.budgets import DIRECTOR, approved_plan, person
from tests.support.groups import demo_today, provision_demo
from tests.support.sheets import crafted, peak_bytes

YEAR = demo_today().year  # the year requests are paid in
FINANCE = "sun.diqucaiwu"  # regional finance of EAST: books its branches' actuals


@pytest.fixture(scope="module")
def group(control):
    tenant = provision_demo(
        control,
        "bud_act",
        "预算实际",
        people={"qian.staff": [("department_head", "SH-XTD")]},
    )
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


def _csv(rows) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([("科目", "单位", "年度", "月份", "金额"), *rows])
    return out.getvalue().encode()


def _line(db, code):
    return db.scalar(select(BudgetCategory.id).where(BudgetCategory.code == code))


def _travel(db, unit="SH-XTD"):
    """(plan, actual) of the unit's travel line this year, and what is left on it."""
    unit_id = org.get_unit_by_code(db, unit).id
    rows = figures.plan_vs_actual(db, person(db, DIRECTOR), unit_id, YEAR, depth=0)["rows"]
    travel = next((r for r in rows if r["category"] == "ADM-TRAVEL"), None)
    figure = (travel["plan"], travel["actual"]) if travel else (Decimal(0), Decimal(0))
    return figure, left_on_line(db, unit_id, _line(db, "ADM-TRAVEL"), YEAR)


def _request(db, amount, request_type="expense_claim", **content):
    request = approvals.create_request(
        db,
        person(db, "qian.staff"),
        request_type=request_type,
        unit_id=org.get_unit_by_code(db, "SH-XTD").id,
        title="trip",
        payee="qian",
        lines=[
            {
                "category": "travel",
                "description": "d",
                "amount": amount,
                "budget_line": "ADM-TRAVEL",
            }
        ],
        business_kind="travel",
        business_ended_on=approvals.today(db),
        **content,
    )
    approvals.submit(db, person(db, "qian.staff"), request.id)
    return request


def _approve_and_pay(db, request):
    for step, login in enumerate(["li.kuaiji", "wang.xiangmu"], start=1):
        approvals.decide(db, person(db, login), request.id, step=step, approve=True)
    approvals.pay(db, person(db, "zhao.chuna"), request.id, method="transfer", reference=None)


# --- the ledger is the book of record ---------------------------------------------------


def test_r_bud_5_the_ledger_replaces_the_paid_requests_of_the_unit_month(db):
    """The reviewer's case: 1000 planned, an 850 claim paid, then the month's ledger with the
    same 850 — 850 spent and 150 left, not 1700 and −700. Reversing the ledger brings the
    claim back; another unit's ledger never displaces it."""
    approved_plan(db, "SH-XTD", YEAR, "expense", {"ADM-TRAVEL": "1000.00"}, by="li.kuaiji")
    claim = _request(db, "850.00")
    _approve_and_pay(db, claim)
    month = approvals.today(db).month
    assert _travel(db) == ((Decimal("1000.00"), Decimal("850.00")), Decimal("150.00"))
    neighbour = _csv([("ADM-TRAVEL", "SH-LJZ", YEAR, month, "10.00")])
    ledger.import_ledger(db, person(db, FINANCE), filename="ljz.csv", data=neighbour)
    assert _travel(db) == ((Decimal("1000.00"), Decimal("850.00")), Decimal("150.00"))
    books = _csv([("ADM-TRAVEL", "SH-XTD", YEAR, month, "850.00")])
    batch = ledger.import_ledger(db, person(db, FINANCE), filename="xtd.csv", data=books)
    assert _travel(db) == ((Decimal("1000.00"), Decimal("850.00")), Decimal("150.00"))
    corrected = _csv([("ADM-TRAVEL", "SH-XTD", YEAR, month, "900.00")])
    ledger.import_ledger(db, person(db, FINANCE), filename="fix.csv", data=corrected)
    assert _travel(db) == ((Decimal("1000.00"), Decimal("1750.00")), Decimal("-750.00"))
    ledger.reverse_import(db, person(db, FINANCE), batch.id, reason="booked twice")
    assert _travel(db) == ((Decimal("1000.00"), Decimal("900.00")), Decimal("100.00"))


def test_r_bud_5_recorded_income_gives_way_to_the_ledger_of_its_month(db):
    """January's ledger replaces January's income, March's zero row books March as nothing;
    February, not in any ledger, keeps its recorded income."""
    year, unit = YEAR + 3, org.get_unit_by_code(db, "SH-XTD")
    for month in (1, 2, 3):
        record_income(
            db,
            person(db, FINANCE),
            unit_id=unit.id,
            category="REV-FEE",
            fiscal_year=year,
            month=month,
            amount="1000.00",
        )
    books = [
        ("REV-FEE", "SH-XTD", year, 1, "900.00"),
        ("ADM-OFFICE", "SH-XTD", year, 1, 5),
        ("ADM-OFFICE", "SH-XTD", year, 3, 0),
    ]
    ledger.import_ledger(db, person(db, FINANCE), filename="q1.csv", data=_csv(books))
    rows = figures.plan_vs_actual(db, person(db, DIRECTOR), unit.id, year, depth=0)["rows"]
    actual = {r["category"]: r["actual"] for r in rows}
    assert (actual["REV-FEE"], actual["ADM-OFFICE"]) == (Decimal("1900.00"), Decimal("5.00"))


# --- an advance is held, its claim is spent ---------------------------------------------


def test_r_apr_7_an_advance_holds_until_a_claim_reports_it_and_only_the_claim_is_spent(db):
    approved_plan(db, "SH-XTD", YEAR, "expense", {"ADM-TRAVEL": "1000.00"}, by="li.kuaiji")
    advance = _request(db, "1000.00", "advance")
    _approve_and_pay(db, advance)
    plan = Decimal("1000.00")
    assert _travel(db) == ((plan, Decimal("0.00")), Decimal("0.00"))  # lent, not spent: held
    claim = _request(db, "850.00", settles_request_id=advance.id)
    assert not claim.budget_overrun  # the claim takes the advance's place, not budget beside it
    assert _travel(db) == ((plan, Decimal("0.00")), Decimal("150.00"))
    approvals.decide(db, person(db, "li.kuaiji"), claim.id, step=1, approve=False, comment="no")
    assert _travel(db) == ((plan, Decimal("0.00")), Decimal("0.00"))  # unreported: held again
    approvals.submit(db, person(db, "qian.staff"), claim.id)
    _approve_and_pay(db, claim)
    assert _travel(db) == ((plan, Decimal("850.00")), Decimal("150.00"))


# --- files that stand for more than they hold -------------------------------------------


def _ledger_xlsx(rows) -> bytes:
    book = Workbook()
    for row in [("category", "unit", "year", "month", "amount"), *rows]:
        book.active.append(row)
    return saved(book)


def _refused(db, data, code):
    def send():
        with pytest.raises(TooLarge) as refused:
            ledger.import_ledger(db, person(db, FINANCE), filename="bomb.xlsx", data=data)
        assert refused.value.code == code
        return refused.value

    return send


def test_a_ledger_declaring_columns_to_xfd_is_refused_before_it_is_read(db):
    """5 KB declaring 16,384 columns over 2,000 rows took 305 MB when every row was padded."""
    row = [("ADM-OFFICE", "SH-XTD", YEAR, 1, 1)]
    bomb = crafted(_ledger_xlsx(row), dimension="A1:XFD2000", far_row=2000)
    assert len(bomb) < 10_000
    assert peak_bytes(_refused(db, bomb, "too_many_columns")) < 20 * 2**20
    refusal = _refused(db, bomb, "too_many_columns")()
    assert "XFD" in refusal.message and refusal.errors == {"limit": MAX_COLUMNS}


def test_a_ledger_declaring_more_rows_than_the_limit_is_refused_before_it_is_read(db):
    bomb = crafted(_ledger_xlsx([("ADM-OFFICE", "SH-XTD", YEAR, 1, 1)]), dimension="A1:E1048576")
    refusal = _refused(db, bomb, "too_many_rows")()
    assert refusal.status == 413 and str(ledger.MAX_ROWS + 1) in refusal.message


def test_a_ledger_row_far_below_the_rest_is_refused_unread(db):
    """Every row number skipped is a row when read: 1,048,576 of them for one cell."""
    row = [("ADM-OFFICE", "SH-XTD", YEAR, 1, 1)]
    bomb = crafted(_ledger_xlsx(row), dimension="", far_row=1_048_576)
    assert peak_bytes(_refused(db, bomb, "too_many_rows")) < 50 * 2**20


def test_blank_ledger_rows_count_towards_the_row_limit(db, monkeypatch):
    monkeypatch.setattr(ledger, "MAX_ROWS", 3)
    blanks = [(None,) * 5] * 3 + [("ADM-OFFICE", "SH-XTD", YEAR, 1, 1)]
    _refused(db, _ledger_xlsx(blanks), "too_many_rows")()
    csv_blanks = _csv([("",) * 5] * 3 + [("ADM-OFFICE", "SH-XTD", YEAR, 1, 1)])
    with pytest.raises(TooLarge):
        ledger.import_ledger(db, person(db, FINANCE), filename="b.csv", data=csv_blanks)


def test_an_xlsx_unpacking_past_the_limit_is_refused(db, monkeypatch):
    monkeypatch.setattr(sheets, "MAX_UNPACKED_BYTES", 1000)
    _refused(db, _ledger_xlsx([("ADM-OFFICE", "SH-XTD", YEAR, 1, 1)]), "too_large")()
