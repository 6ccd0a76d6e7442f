"""The weekly fund report (R-REP-2): every open account's week from the bank journal, opening +
receipts − payments = closing, consolidated branch → region → HQ per currency and account type;
weeks in the group's own zone; the week-end job takes a week once; a snapshot does not follow
later journal corrections until it is regenerated (audited); units confirm their week and the
group sees who has not; each reader sees only the units they may banking:read."""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import delete, func, select

from propgroup.approvals import service as approvals
from propgroup.banking.models import BankAccount, BookEntry
from propgroup.db import tenant_session
from propgroup.errors import Conflict, Forbidden, InvalidInput, NotFound
from propgroup.fundreport import jobs, report, service, workbook
from propgroup.fundreport.models import FundLine, FundWeek
from propgroup.fundreport.rollup import ALL_TYPES, Flows, rolled_up
from propgroup.jobs.registry import job_named
from propgroup.org import service as org
from propgroup.tenancy import service as tenancy
from tests.support.api import api_caller, personal_tokens
from tests.support.banking import open_account
from tests.support.fundreport import book
from tests.support.groups import person, provision_demo

WEEK = date(2026, 3, 8)  # a Sunday; the week runs from Monday 2 March
MONDAY, NEXT_MONDAY = date(2026, 3, 2), date(2026, 3, 9)
TUESDAY_AFTER = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 Tuesday in Shanghai
DIRECTOR, REGIONAL, ACCOUNTANT = "wu.caiwuzongjian", "sun.diqucaiwu", "li.kuaiji"
CASHIER, AUDITOR, SOUTH_ACCOUNTANT = "zhao.chuna", "feng.shenji", "he.kuaiji"


@pytest.fixture(scope="module")
def group(control):
    tenant = provision_demo(
        control, "fundrep", people={SOUTH_ACCOUNTANT: [("branch_accountant", "SZ-NS")]}
    )
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


@pytest.fixture
def clock(monkeypatch):
    """The engine's clock, standing at TUESDAY_AFTER unless a test moves it."""
    instant = {"now": TUESDAY_AFTER}
    monkeypatch.setattr(approvals, "now", lambda: instant["now"])
    return instant


@pytest.fixture
def books(db, clock):
    """Accounts across the tree with a week of journal: two currencies at SH-XTD, the region's
    own account, a branch of the other region; and accounts the week must leave out."""
    made = {
        "xtd_basic": open_account(db, "SH-XTD", account_type="basic"),
        "xtd_usd": open_account(db, "SH-XTD", currency="USD"),
        "ljz": open_account(db, "SH-LJZ", account_type="basic"),
        "east": open_account(db, "EAST", account_type="special"),
        "szns": open_account(db, "SZ-NS", account_type="basic"),
        "later": open_account(db, "SH-XTD", opened_on=NEXT_MONDAY),
        "gone": open_account(db, "HZ-XH", closed_on=date(2026, 3, 1)),
    }
    entries = (
        ("xtd_basic", date(2026, 2, 20), "10000.00"),
        ("xtd_basic", MONDAY, "2500.50"),
        ("xtd_basic", date(2026, 3, 5), "-1200.25"),
        ("xtd_basic", WEEK, "300.00"),
        ("xtd_basic", NEXT_MONDAY, "999.00"),  # next week's
        ("xtd_usd", date(2026, 1, 5), "800.00"),
        ("xtd_usd", date(2026, 3, 4), "-50.00"),
        ("ljz", date(2026, 3, 3), "4000.00"),
        ("east", date(2026, 2, 1), "70000.00"),
        ("east", date(2026, 3, 6), "-20000.00"),
        ("szns", date(2026, 3, 7), "1234.56"),
        ("gone", date(2026, 2, 1), "5.00"),
    )
    for name, day, amount in entries:
        book(db, made[name], day, amount)
    return made


def line_of(db, week, account) -> FundLine:
    return db.scalar(
        select(FundLine).where(FundLine.week_id == week.id, FundLine.account_id == account.id)
    )


def unit_row(result, code):
    return next(row for row in result["units"] if row["code"] == code)


def currency_total(row, currency):
    return next(total for total in row["totals"] if total["currency"] == currency)


# --- the week's figures ------------------------------------------------------------------


def test_r_rep_2_each_account_week_is_opening_plus_receipts_minus_payments(db, books):
    week, taken = service.ensure_week(db, WEEK)
    assert taken
    line = line_of(db, week, books["xtd_basic"])
    assert (line.opening, line.receipts, line.payments, line.closing) == (
        Decimal("10000.00"),
        Decimal("2800.50"),
        Decimal("1200.25"),
        Decimal("11600.25"),
    )
    assert line.closing == line.opening + line.receipts - line.payments
    assert line_of(db, week, books["later"]) is None  # opened after the week
    assert line_of(db, week, books["gone"]) is None  # closed before it
    assert line_of(db, week, books["ljz"]).opening == Decimal("0.00")


def test_r_rep_2_consolidates_branch_region_hq_never_mixing_currencies(db, books):
    service.ensure_week(db, WEEK)
    result = report.week_report(db, person(db, DIRECTOR), WEEK)
    hq, east, xtd = (unit_row(result, code) for code in ("HQ", "EAST", "SH-XTD"))
    assert currency_total(xtd, "CNY")["closing"] == Decimal("11600.25")
    assert currency_total(xtd, "USD")["closing"] == Decimal("750.00")
    # The region: its branches plus its own account.
    assert currency_total(east, "CNY")["closing"] == Decimal("11600.25") + 4000 + 50000
    assert currency_total(east, "CNY")["receipts"] == Decimal("6800.50")
    assert currency_total(hq, "CNY")["closing"] == Decimal("65600.25") + Decimal("1234.56")
    assert currency_total(hq, "USD")["closing"] == Decimal("750.00")
    by_type = {t["account_type"]: t["closing"] for t in currency_total(hq, "CNY")["by_type"]}
    assert by_type == {"basic": Decimal("16834.81"), "special": Decimal("50000.00")}
    assert [row["code"] for row in result["units"]][:2] == ["HQ", "EAST"]
    assert unit_row(result, "SH-XTD")["parent_id"] == east["unit_id"]


LINE = st.tuples(
    st.sampled_from(["/1/", "/1/2/", "/1/2/4/", "/1/2/5/", "/1/3/", "/1/3/6/"]),
    st.sampled_from(["basic", "general", "special", "temporary"]),
    st.sampled_from(["CNY", "USD", "HKD"]),
    st.decimals(min_value=-(10**9), max_value=10**9, places=2),
    st.decimals(min_value=0, max_value=10**8, places=2),
    st.decimals(min_value=0, max_value=10**8, places=2),
)


class _Line:
    def __init__(self, path, kind, currency, opening, receipts, payments):
        self.unit_path, self.account_type, self.currency = path, kind, currency
        self.opening, self.receipts, self.payments = opening, receipts, payments
        self.closing = opening + receipts - payments


@settings(max_examples=200, deadline=None)
@given(st.lists(LINE, max_size=40))
def test_r_rep_2_consolidated_totals_equal_the_sum_over_accounts_per_currency(specs):
    lines = [_Line(*spec) for spec in specs]
    totals = rolled_up(lines)
    expected: defaultdict[tuple[int, str], Flows] = defaultdict(Flows)
    for line in lines:
        for unit in range(1, 7):
            if f"/{unit}/" in line.unit_path:
                expected[unit, line.currency] += Flows(
                    line.opening, line.receipts, line.payments, line.closing
                )
    got = {(u, c): by[ALL_TYPES] for u, cs in totals.items() for c, by in cs.items()}
    assert got == dict(expected)
    for by_currency in totals.values():
        for by_type in by_currency.values():
            assert by_type[ALL_TYPES].balanced
            parts = [flows for kind, flows in by_type.items() if kind != ALL_TYPES]
            assert sum(parts, Flows()) == by_type[ALL_TYPES]


# --- weeks in the group's zone -------------------------------------------------------------


def test_r_rep_2_a_week_ends_at_midnight_sunday_in_the_group_zone(db, books, clock):
    clock["now"] = datetime(2026, 3, 8, 15, 30, tzinfo=UTC)  # 23:30 Sunday in Shanghai
    assert service.last_ended_week(db) == date(2026, 3, 1)
    with pytest.raises(InvalidInput) as refused:
        service.ensure_week(db, WEEK)
    assert refused.value.code == "week_not_over"
    clock["now"] = datetime(2026, 3, 8, 16, 30, tzinfo=UTC)  # 00:30 Monday there, Sunday in UTC
    assert jobs.take_week(db) == {"week_ending": "2026-03-08", "taken": True}
    week = service.find_week(db, WEEK)
    # Booked late on Sunday (its local day): this week's; Monday's is the next week's.
    assert line_of(db, week, books["xtd_basic"]).receipts == Decimal("2800.50")


def test_r_rep_2_a_week_is_named_by_its_sunday(db, clock):
    for bad in ("2026-03-07", "2026-02-30", "next week", None):
        with pytest.raises(InvalidInput) as refused:
            service.checked_week(bad)
        assert refused.value.code == "bad_week"


# --- the job, snapshots, regeneration -----------------------------------------------------


def test_r_rep_2_the_week_end_job_takes_a_week_once(db, books):
    assert job_named("fundreport.take_week") is jobs.take_week
    assert jobs.take_week(db)["taken"] is True
    taken = [e for e in db.info["propgroup.audit.pending"] if e.action == "fundreport.generated"]
    assert [(e.actor_kind, e.after["accounts"]) for e in taken] == [("system", 5)]
    before = db.scalar(select(func.count()).select_from(FundLine))
    book(db, books["ljz"], date(2026, 3, 4), "1.00")  # a correction after the week was taken
    assert jobs.take_week(db) == {"week_ending": "2026-03-08", "taken": False}
    assert db.scalar(select(func.count()).select_from(FundWeek)) == 1
    assert db.scalar(select(func.count()).select_from(FundLine)) == before
    week = service.find_week(db, WEEK)
    assert line_of(db, week, books["ljz"]).closing == Decimal("4000.00")  # as sent


def test_r_rep_2_regenerating_is_explicit_audited_and_asks_for_new_confirmations(db, books):
    service.ensure_week(db, WEEK)
    service.confirm(db, person(db, ACCOUNTANT), WEEK, books["xtd_basic"].unit_id)
    service.confirm(db, person(db, SOUTH_ACCOUNTANT), WEEK, books["szns"].unit_id)
    book(db, books["xtd_basic"], date(2026, 3, 6), "-100.00")  # a late journal correction
    with pytest.raises(Forbidden):
        service.regenerate(db, person(db, REGIONAL), WEEK, "correction")
    with pytest.raises(InvalidInput) as refused:
        service.regenerate(db, person(db, DIRECTOR), WEEK, "  ")
    assert refused.value.code == "reason_required"
    week = service.regenerate(db, person(db, DIRECTOR), WEEK, "voucher 12 corrected")
    assert week.revision == 2
    assert line_of(db, week, books["xtd_basic"]).closing == Decimal("11500.25")
    confirmed = service.confirmations_of(db, week)
    assert set(confirmed) == {books["szns"].unit_id}  # SH-XTD's figures changed
    event = next(
        e for e in db.info["propgroup.audit.pending"] if e.action == "fundreport.regenerated"
    )
    assert event.after["reason"] == "voucher 12 corrected"
    assert event.after["confirmations_withdrawn"] == [books["xtd_basic"].unit_id]
    assert event.before["revision"] == 1 and event.after["revision"] == 2


def test_r_rep_2_taking_a_week_by_hand_is_the_group_finance_admins(db, books):
    with pytest.raises(Forbidden):
        service.generate(db, person(db, REGIONAL), WEEK)
    week = service.generate(db, person(db, DIRECTOR), WEEK)
    assert week.generated_by == person(db, DIRECTOR).name
    with pytest.raises(Conflict) as refused:
        service.generate(db, person(db, DIRECTOR), WEEK)
    assert refused.value.code == "week_taken"
    with pytest.raises(InvalidInput) as refused:
        service.generate(db, person(db, DIRECTOR), date(2026, 3, 15))
    assert refused.value.code == "week_not_over"
    with pytest.raises(NotFound):
        report.week_report(db, person(db, DIRECTOR), date(2026, 3, 1))


# --- who has not submitted ----------------------------------------------------------------


def test_r_rep_2_the_group_sees_who_has_not_confirmed_and_who_is_late(db, books, clock):
    service.ensure_week(db, WEEK)
    clock["now"] = datetime(2026, 3, 9, 3, 0, tzinfo=UTC)  # 11:00 Monday in Shanghai
    service.confirm(db, person(db, ACCOUNTANT), WEEK, books["xtd_basic"].unit_id)
    result = report.week_report(db, person(db, DIRECTOR), WEEK)
    waiting = {row["code"]: row["late"] for row in result["not_submitted"]}
    assert waiting == {"SH-LJZ": False, "EAST": False, "SZ-NS": False}
    clock["now"] = datetime(2026, 3, 9, 4, 1, tzinfo=UTC)  # 12:01 Monday: past the deadline
    result = report.week_report(db, person(db, DIRECTOR), WEEK)
    assert {row["code"]: row["late"] for row in result["not_submitted"]} == {
        "SH-LJZ": True,
        "EAST": True,
        "SZ-NS": True,
    }
    xtd = unit_row(result, "SH-XTD")["submission"]
    assert xtd["confirmed_at"] is not None and xtd["late"] is False
    assert xtd["confirmed_by"] == "李会计"
    assert unit_row(result, "HQ")["submission"]["expected"] is False  # holds no account


def test_r_rep_2_confirming_is_the_unit_finance_once(db, books):
    service.ensure_week(db, WEEK)
    xtd, szns = books["xtd_basic"].unit_id, books["szns"].unit_id
    with pytest.raises(Forbidden):
        service.confirm(db, person(db, CASHIER), WEEK, xtd)  # no banking:write
    with pytest.raises(Forbidden):
        service.confirm(db, person(db, ACCOUNTANT), WEEK, szns)  # another region's branch
    hq = org.get_unit_by_code(db, "HQ").id
    with pytest.raises(InvalidInput) as refused:
        service.confirm(db, person(db, DIRECTOR), WEEK, hq)
    assert refused.value.code == "nothing_to_confirm"
    service.confirm(db, person(db, ACCOUNTANT), WEEK, xtd)
    with pytest.raises(Conflict) as again:
        service.confirm(db, person(db, ACCOUNTANT), WEEK, xtd)
    assert again.value.code == "already_confirmed"


def test_r_rep_2_a_confirmation_keeps_its_revision_and_who_confirmed_for_the_unit(
    db, books, control, group
):
    service.ensure_week(db, WEEK)
    xtd, szns = books["xtd_basic"].unit_id, books["szns"].unit_id
    own = service.confirm(db, person(db, ACCOUNTANT), WEEK, xtd)
    assert (own.revision, own.on_behalf) == (1, False)
    regional = service.confirm(db, person(db, DIRECTOR), WEEK, szns)  # HQ finance, for SZ-NS
    assert (regional.revision, regional.on_behalf) == (1, True)


# --- who sees what --------------------------------------------------------------------------


def test_r_rep_2_a_branch_user_sees_only_its_branch(db, books):
    service.ensure_week(db, WEEK)
    result = report.week_report(db, person(db, ACCOUNTANT), WEEK)
    assert [row["code"] for row in result["units"]] == ["SH-XTD"]
    assert [row["code"] for row in result["not_submitted"]] == ["SH-XTD"]
    regional = report.week_report(db, person(db, REGIONAL), WEEK)
    assert [row["code"] for row in regional["units"]] == ["EAST", "SH-LJZ", "SH-XTD"]
    with pytest.raises(Forbidden):
        report.week_report(db, person(db, ACCOUNTANT), WEEK, org.get_unit_by_code(db, "EAST").id)
    hq_view = report.week_report(db, person(db, DIRECTOR), WEEK, books["szns"].unit_id)
    assert [row["code"] for row in hq_view["units"]] == ["SZ-NS"]


def test_r_rep_2_numbers_are_masked_without_banking_numbers(db, books):
    service.ensure_week(db, WEEK)
    shown = unit_row(report.week_report(db, person(db, AUDITOR), WEEK), "SH-XTD")["accounts"]
    assert all(account["number"].startswith("****") for account in shown)
    clear = unit_row(report.week_report(db, person(db, ACCOUNTANT), WEEK), "SH-XTD")["accounts"]
    assert all(account["number"].isdigit() for account in clear)


# --- the workbook and the API ---------------------------------------------------------------


def test_r_rep_2_the_workbook_holds_the_report_figures(db, books):
    service.ensure_week(db, WEEK)
    name, data = workbook.fund_workbook(db, person(db, REGIONAL), WEEK)
    assert name == "fund-report-2026-03-08-group.xlsx"
    book = load_workbook(io.BytesIO(data))
    consolidation, accounts = book.worksheets
    assert consolidation.protection.sheet and accounts.protection.sheet
    rows = [r for r in consolidation.iter_rows(min_row=4, values_only=True)]
    totals = {(r[0], r[2], r[3]): r[4:9] for r in rows}
    east = totals["EAST", "CNY", workbook.ALL_TYPES_LABEL]
    assert [Decimal(str(v)) for v in east[:4]] == [
        Decimal("80000.00"),
        Decimal("6800.50"),
        Decimal("21200.25"),
        Decimal("65600.25"),
    ]
    assert east[4] == "逾期未报 Late"  # Tuesday: past Monday noon
    assert consolidation.cell(4, 5).number_format == "#,##0.00"
    levels = {r[0]: consolidation.row_dimensions[i].outline_level for i, r in enumerate(rows, 4)}
    assert levels == {"EAST": 0, "SH-LJZ": 1, "SH-XTD": 1}
    assert ("SH-XTD", "USD", workbook.ALL_TYPES_LABEL) in totals  # currencies kept apart
    account_rows = list(accounts.iter_rows(min_row=4, values_only=True))
    assert len(account_rows) == 4  # EAST's, SH-LJZ's and SH-XTD's two
    assert all(str(r[5]).isdigit() for r in account_rows)  # regional finance reads numbers
    masked = load_workbook(io.BytesIO(workbook.fund_workbook(db, person(db, AUDITOR), WEEK)[1]))
    shown = [r[5] for r in masked.worksheets[1].iter_rows(min_row=4, values_only=True)]
    assert shown and all(number.startswith("****") for number in shown)


@pytest.fixture(scope="module")
def tokens(control, group):
    return personal_tokens(
        control, group, ["banking:read", "banking:numbers", "banking:write", "banking:admin"]
    )


@pytest.fixture(scope="module")
def call(group):
    return api_caller(group, "/fundreport")


def test_r_rep_2_the_api_serves_weeks_reports_and_workbooks(control, group, tokens, call, clock):
    with tenant_session(control, group.schema_name) as session:
        account = open_account(session, "SH-LJZ", account_type="temporary")
        book(session, account, date(2026, 3, 3), "321.00")
        session.commit()
    try:
        assert call("POST", "/weeks/2026-03-07", tokens[DIRECTOR]).status_code == 422
        assert call("POST", f"/weeks/{WEEK}", tokens[REGIONAL]).status_code == 403
        assert call("POST", f"/weeks/{WEEK}", tokens[DIRECTOR]).status_code == 201
        assert call("POST", f"/weeks/{WEEK}", tokens[DIRECTOR]).json["code"] == "week_taken"
        weeks = call("GET", "/weeks", tokens[ACCOUNTANT]).json
        assert [w["week_ending"] for w in weeks] == ["2026-03-08"]
        mine = call("GET", f"/weeks/{WEEK}", tokens[ACCOUNTANT])
        assert mine.status_code == 200 and mine.json["units"] == []  # SH-XTD holds none here
        east = call("GET", f"/weeks/{WEEK}", tokens[REGIONAL]).json
        assert currency_total(unit_row(east, "EAST"), "CNY")["closing"] == "321.00"
        assert call("GET", "/weeks/2026-03-01", tokens[REGIONAL]).status_code == 404
        assert call("GET", "/weeks/not-a-day", tokens[REGIONAL]).json["code"] == "bad_week"
        other = call(
            "GET", f"/weeks/{WEEK}?unit={east['units'][0]['unit_id'] + 1000}", tokens[REGIONAL]
        )
        assert other.status_code == 404
        xlsx = call("GET", f"/weeks/{WEEK}/xlsx", tokens[REGIONAL])
        assert xlsx.status_code == 200 and xlsx.headers["Cache-Control"] == "no-store"
        assert load_workbook(io.BytesIO(xlsx.data)).sheetnames == [
            "合并 Consolidation",
            "账户 Accounts",
        ]
        ljz = unit_row(east, "SH-LJZ")["unit_id"]
        refused = call(
            "POST", f"/weeks/{WEEK}/confirmations", tokens[CASHIER], json={"unit_id": ljz}
        )
        assert refused.status_code == 403
        done = call("POST", f"/weeks/{WEEK}/confirmations", tokens[REGIONAL], json={"unit_id": ljz})
        assert done.status_code == 201
        again = call("POST", f"/weeks/{WEEK}/regeneration", tokens[DIRECTOR], json={})
        assert again.status_code == 422
        again = call("POST", f"/weeks/{WEEK}/regeneration", tokens[DIRECTOR], json={"reason": "r"})
        assert again.status_code == 200 and again.json["revision"] == 2
    finally:
        with tenant_session(control, group.schema_name) as session:
            session.execute(delete(FundWeek))
            session.execute(delete(BookEntry).where(BookEntry.account_id == account.id))
            session.execute(delete(BankAccount).where(BankAccount.id == account.id))
            session.commit()
