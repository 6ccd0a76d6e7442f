"""Overdue reconciliations (R-BNK-5): month M's statement not signed off after the 5th of M+1
is overdue, listed on the region's dashboard unit by unit, and mailed to the finance managers by
the daily job."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from propgroup.approvals import service as approvals
from propgroup.approvals.service import today
from propgroup.errors import Forbidden
from propgroup.org import service as org
from propgroup.reconciliation import jobs
from propgroup.reconciliation.models import Reconciliation
from propgroup.reconciliation.overdue import due_month, overdue_under
from propgroup.reconciliation.periods import previous_month
from propgroup.tenancy import service as tenancy
from propgroup.tenancy.settings import tenant_zone
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


def test_r_bnk_5_overdue_counts_from_the_earliest_unsigned_month(db):
    """Later months signed over a gap (out of order) do not hide the gap."""
    due = due_month(today(db))
    gap = previous_month(previous_month(due))
    account = open_account(db, "SH-LJZ", opened_on=previous_month(gap))
    for month in (previous_month(gap), previous_month(due), due):
        _signed(db, account, month)
    rows = overdue_under(
        db, person(db, "sun.diqucaiwu"), org.get_unit_by_code(db, "EAST"), today(db)
    )
    row = next(row for row in rows if row.account.id == account.id)
    assert (row.first_missing, row.months_behind) == (gap, 1)


def test_r_bnk_5_closed_account_overdue_up_to_its_closure(db):
    due = due_month(today(db))
    closed_in = previous_month(due)
    account = open_account(db, "SH-LJZ", opened_on=closed_in, closed_on=closed_in)
    rows = overdue_under(
        db, person(db, "sun.diqucaiwu"), org.get_unit_by_code(db, "EAST"), today(db)
    )
    row = next(row for row in rows if row.account.id == account.id)
    assert (row.first_missing, row.due_month, row.months_behind) == (closed_in, closed_in, 1)
    _signed(db, account, closed_in)
    rows = overdue_under(
        db, person(db, "sun.diqucaiwu"), org.get_unit_by_code(db, "EAST"), today(db)
    )
    assert account.id not in {row.account.id for row in rows}


def test_r_bnk_5_overdue_from_midnight_of_the_sixth_in_the_groups_zone(db, monkeypatch):
    account = open_account(db, "SH-LJZ", opened_on=date(2025, 1, 1))
    _signed(db, account, date(2025, 1, 1))
    midnight = datetime(2025, 3, 6, tzinfo=tenant_zone(db))  # February due by the 5th
    east, manager = org.get_unit_by_code(db, "EAST"), person(db, "sun.diqucaiwu")
    for moment, late in ((midnight - timedelta(minutes=1), False), (midnight, True)):
        monkeypatch.setattr(approvals, "now", lambda moment=moment: moment.astimezone(UTC))
        listed = {row.account.id for row in overdue_under(db, manager, east, today(db))}
        assert (account.id in listed) is late
