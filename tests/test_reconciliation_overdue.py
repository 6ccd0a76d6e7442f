"""Overdue reconciliations (R-BNK-5): month M's statement not signed off after the 5th of M+1
is overdue, listed on the region's dashboard unit by unit, and mailed to the finance managers by
the daily job."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from propgroup.approvals.service import today
from propgroup.errors import Forbidden
from propgroup.org import service as org
from propgroup.reconciliation import jobs
from propgroup.reconciliation.models import Reconciliation
from propgroup.reconciliation.overdue import due_month, overdue_under
from propgroup.reconciliation.periods import previous_month
from propgroup.tenancy import service as tenancy
from tests.support.banking import open_account
from tests.support.groups import person, provision_demo


@pytest.mark.parametrize(
    ("day", "due"),
    [
        (date(2025, 3, 5), date(2025, 1, 1)),  # February's is due by today, not overdue yet
        (date(2025, 3, 6), date(2025, 2, 1)),
        (date(2025, 1, 6), date(2024, 12, 1)),
        (date(2025, 1, 1), date(2024, 11, 1)),
    ],
)
def test_r_bnk_5_due_month_after_the_fifth(day, due):
    assert due_month(day) == due


@pytest.fixture(scope="module")
def group(control):
    tenant = provision_demo(control, "rec_late", "逾期调节")
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


def _signed(db, account, month: date) -> None:
    db.add(
        Reconciliation(
            account_id=account.id,
            month=month,
            status="signed",
            book_balance=Decimal(0),
            bank_balance=Decimal(0),
            adjusted_book=Decimal(0),
            adjusted_bank=Decimal(0),
            prepared_by=person(db, "li.kuaiji").id,
            signed_by=person(db, "sun.diqucaiwu").id,
        )
    )
    db.flush()


@pytest.fixture
def accounts(db):
    """Up to date at SH-XTD; three months behind at SH-LJZ; behind in the south too."""
    due = due_month(today(db))
    up_to_date = open_account(db, org.get_unit_by_code(db, "SH-XTD"), opened_on=due)
    _signed(db, up_to_date, due)
    four_back = previous_month(previous_month(previous_month(due)))
    behind = open_account(
        db, org.get_unit_by_code(db, "SH-LJZ"), bank="招商银行", opened_on=four_back
    )
    _signed(db, behind, four_back)
    south = open_account(db, org.get_unit_by_code(db, "SZ-NS"))
    return up_to_date, behind, south, due


def test_r_bnk_5_regional_dashboard_lists_overdue_accounts(db, accounts):
    up_to_date, behind, south, due = accounts
    east = org.get_unit_by_code(db, "EAST")
    rows = overdue_under(db, person(db, "sun.diqucaiwu"), east, today(db))
    assert [(row.account.id, row.unit.code) for row in rows] == [(behind.id, "SH-LJZ")]
    assert rows[0].months_behind == 3 and rows[0].due_month == due
    assert rows[0].shown_number.startswith("****")
    everywhere = overdue_under(db, person(db, "wu.caiwuzongjian"), org.get_root(db), today(db))
    assert {row.account.id for row in everywhere} >= {behind.id, south.id}
    assert up_to_date.id not in {row.account.id for row in everywhere}


def test_r_bnk_5_dashboard_of_another_region_refused(db, accounts):
    with pytest.raises(Forbidden):
        overdue_under(db, person(db, "zhao.chuna"), org.get_unit_by_code(db, "SOUTH"), today(db))


def test_r_bnk_5_daily_job_mails_the_finance_managers(db, accounts, monkeypatch):
    sent = []
    monkeypatch.setattr(jobs, "send_mail", lambda to, subject, body: sent.append((to, body)))
    assert jobs.note_overdue(db) == len(sent) >= 2
    east = next(text for to, text in sent if to.startswith("sun.diqucaiwu@"))
    assert "SH-LJZ" in east and "SZ-NS" not in east and "SH-XTD" not in east
    director = next(text for to, text in sent if to.startswith("wu.caiwuzongjian@"))
    assert "SH-LJZ" in director and "SZ-NS" in director
