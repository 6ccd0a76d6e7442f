"""Medium-term plans (R-BUD-1: 中期计划, three years at annual granularity): a plan beside the
annual one, one amount per year per line, the same draft → submitted → approved → locked
lifecycle through the approvals engine (R-BUD-2), revisions compared year by year, and never
counted in a year's figures or remaining budget (R-BUD-5, R-APR-7)."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from propgroup.approvals.models import ApprovalRequest, RequestLine
from propgroup.budgets import figures, plan_workbook, seasons
from propgroup.budgets import service as budgets
from propgroup.budgets.checker import left_on_line
from propgroup.budgets.models import BudgetCategory
from propgroup.budgets.sheets import saved
from propgroup.db import tenant_session
from propgroup.errors import Conflict, InvalidInput
from propgroup.org import service as org
from propgroup.tenancy import service as tenancy
from tests.support.api import api_caller, personal_tokens
from tests.support.budgets import DIRECTOR, approve_all, approved_plan, ensure_season, person
from tests.support.groups import provision_demo

YEAR = 2051
YEARS = [YEAR, YEAR + 1, YEAR + 2]
ACCOUNTANT = "li.kuaiji"  # branch accountant at SH-XTD
FIN = "SH-XTD-FIN"


@pytest.fixture(scope="module")
def group(control):
    tenant = provision_demo(control, "bud_mid", "中期计划")
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


def open_medium_term(db, *, unit="SH-XTD", by=ACCOUNTANT, kind="expense", year=YEAR):
    return budgets.open_plan(
        db,
        person(db, by),
        unit_id=org.get_unit_by_code(db, unit).id,
        fiscal_year=year,
        plan_kind=kind,
        horizon="medium_term",
    )


def yearly(*amounts, owner=FIN, category="ADM-OFFICE"):
    return {"category": category, "amounts": list(amounts), "owner_department": owner}


def test_r_bud_1_a_medium_term_plan_has_a_line_amount_per_year(db):
    version = open_medium_term(db)
    by_year = {
        "category": "ADM-TRAVEL",
        "amounts": {str(YEAR + 2): "30.00"},
        "owner_login": ACCOUNTANT,
    }
    budgets.write_lines(
        db, person(db, ACCOUNTANT), version.id, [yearly("10", "20.5", "0"), by_year]
    )
    office, travel = budgets.lines_of(db, version.id)
    assert office["amounts"] == [Decimal("10.00"), Decimal("20.50"), Decimal("0.00")]
    assert (office["total"], office["quarters"]) == (Decimal("30.50"), None)
    assert travel["amounts"] == [Decimal("0.00"), Decimal("0.00"), Decimal("30.00")]
    assert budgets.version_periods(db, version.id).keys == tuple(YEARS)


def test_medium_term_amounts_outside_its_years_are_refused_and_write_nothing(db):
    version = open_medium_term(db)
    budgets.write_lines(db, person(db, ACCOUNTANT), version.id, [yearly("1", "2", "3")])
    bad = [
        yearly(*["1"] * 12),  # a month per year is an annual plan
        {"category": "ADM-TRAVEL", "amounts": {str(YEAR - 1): "5", str(YEAR): "1.001"}},
        {"category": "REV-FEE", "amounts": ["1", "2", "3"]},  # the profit plan's
    ]
    with pytest.raises(InvalidInput) as refused:
        budgets.write_lines(db, person(db, ACCOUNTANT), version.id, bad)
    assert set(refused.value.errors) == {
        "lines[0].amounts",
        f"lines[1].amounts.{YEAR - 1}",
        f"lines[1].amounts.{YEAR}",
        "lines[2].category",
    }
    assert budgets.lines_of(db, version.id)[0]["total"] == Decimal("6.00")


def test_r_bud_1_it_stands_beside_the_annual_plan_once_per_unit_kind_and_year(db):
    annual = budgets.open_plan(
        db,
        person(db, ACCOUNTANT),
        unit_id=org.get_unit_by_code(db, "SH-XTD").id,
        fiscal_year=YEAR,
        plan_kind="expense",
    )
    medium = open_medium_term(db)
    assert annual.plan_id != medium.plan_id
    with pytest.raises(Conflict) as twice:
        open_medium_term(db)
    assert twice.value.code == "plan_exists"
    with pytest.raises(InvalidInput) as beyond:
        open_medium_term(db, year=2199)  # its last year, 2201, is out of range
    assert beyond.value.code == "bad_year"
    listed = db.scalars(
        budgets.visible_plans(db, person(db, ACCOUNTANT), fiscal_year=YEAR, horizon="medium_term")
    ).all()
    assert [plan.id for plan in listed] == [medium.plan_id]


def test_r_bud_2_medium_term_plan_goes_through_the_level_above_and_is_revised(db):
    ensure_season(db, YEAR)
    version = open_medium_term(db)
    spec = [yearly("1000", "1100", "1210"), yearly("300", "0", "330", category="ADM-TRAVEL")]
    budgets.write_lines(db, person(db, ACCOUNTANT), version.id, spec)
    budgets.submit_version(db, person(db, ACCOUNTANT), version.id)
    request = db.get(ApprovalRequest, version.approval_request_id)
    assert (request.request_type, request.status) == ("budget_plan", "in_approval")
    assert f"{YEAR}–{YEAR + 2}" in request.title and "中期计划" in request.title
    signed = {
        line.description: line.amount
        for line in db.scalars(select(RequestLine).where(RequestLine.request_id == request.id))
    }
    assert signed == {
        f"管理费用 {YEAR}": Decimal("1300.00"),
        f"管理费用 {YEAR + 1}": Decimal("1100.00"),
        f"管理费用 {YEAR + 2}": Decimal("1540.00"),
    }
    approve_all(db, request, "branch")
    assert version.status == "approved"
    budgets.lock_version(db, person(db, DIRECTOR), version.id)
    second = budgets.revise_plan(db, person(db, DIRECTOR), version.plan_id, note="rolling")
    assert budgets.lines_of(db, second.id) == budgets.lines_of(db, version.id)
    budgets.write_lines(
        db,
        person(db, DIRECTOR),
        second.id,
        [spec[0], yearly("300", "50", "330", category="ADM-TRAVEL")],
    )
    diff = budgets.compare_versions(db, person(db, DIRECTOR), version.id, second.id)
    assert [(d["category"], d["difference"]) for d in diff] == [
        ("ADM-TRAVEL", [Decimal("0.00"), Decimal("50.00"), Decimal("0.00")])
    ]
    budgets.submit_version(db, person(db, DIRECTOR), second.id)
    approve_all(db, db.get(ApprovalRequest, second.approval_request_id), "branch")
    assert (version.status, second.status) == ("superseded", "approved")


def test_r_bud_5_medium_term_plans_count_in_no_year_s_figures_or_remaining_budget(db):
    unit = org.get_unit_by_code(db, "SH-XTD")
    approved_plan(db, "SH-XTD", YEAR, "expense", {"ADM-OFFICE": "1200"}, by=ACCOUNTANT)
    office = db.scalar(select(BudgetCategory.id).where(BudgetCategory.code == "ADM-OFFICE"))
    left = left_on_line(db, unit.id, office, YEAR)
    medium = open_medium_term(db)
    budgets.write_lines(db, person(db, ACCOUNTANT), medium.id, [yearly("5000", "6000", "7000")])
    budgets.submit_version(db, person(db, ACCOUNTANT), medium.id)
    approve_all(db, db.get(ApprovalRequest, medium.approval_request_id), "branch")
    assert left_on_line(db, unit.id, office, YEAR) == left == Decimal("1200.00")
    for versions in ("approved", "latest"):
        rows = figures.plan_vs_actual(
            db, person(db, DIRECTOR), unit.id, YEAR, versions=versions, depth=0
        )["rows"]
        plan = {row["category"]: row["plan"] for row in rows}
        assert plan["ADM-OFFICE"] == Decimal("1200.00"), versions


def test_r_bud_2_season_lists_medium_term_plans_apart_and_checks_no_profit(db):
    ensure_season(db, YEAR)
    unit = org.get_unit_by_code(db, "SH-XTD")
    seasons.set_profit_target(
        db, person(db, DIRECTOR), fiscal_year=YEAR, unit_id=unit.id, profit="1"
    )
    version = open_medium_term(db, kind="profit")
    spec = [yearly("90000", "95000", "99000", category="REV-FEE")]
    budgets.write_lines(db, person(db, ACCOUNTANT), version.id, spec)
    budgets.submit_version(db, person(db, ACCOUNTANT), version.id)  # a year's target, not its
    rows = {r["unit"]: r for r in seasons.progress(db, person(db, DIRECTOR), YEAR)["units"]}
    assert (rows["SH-XTD"]["submitted"], rows["SH-XTD"]["medium_term_submitted"]) == (
        [],
        ["profit"],
    )


def test_r_bud_1_medium_term_template_has_a_column_per_year_and_round_trips(db):
    version = open_medium_term(db)
    budgets.write_lines(db, person(db, ACCOUNTANT), version.id, [yearly("1.10", "2.20", "3.30")])
    name, data = plan_workbook.plan_workbook(db, person(db, ACCOUNTANT), version.id)
    assert name == f"SH-XTD-{YEAR}–{YEAR + 2}-expense-v1.xlsx"
    book = load_workbook(io.BytesIO(data))
    sheet = book.active
    assert [sheet.cell(7, c).value for c in range(5, 10)] == [
        f"{YEAR}年",
        f"{YEAR + 1}年",
        f"{YEAR + 2}年",
        "合计 Total",
        "备注 Note",
    ]
    row = next(cell.row for cell in sheet["A"] if cell.value == "ADM-OFFICE")
    assert sheet[f"H{row}"].value == f"=SUM(E{row}:G{row})"
    before = budgets.lines_of(db, version.id)
    plan_workbook.read_workbook(db, person(db, ACCOUNTANT), version.id, data)
    assert budgets.lines_of(db, version.id) == before
    sheet[f"F{row}"] = "2,000.00"
    sheet[f"G{row}"] = "x"
    with pytest.raises(InvalidInput) as refused:
        plan_workbook.read_workbook(db, person(db, ACCOUNTANT), version.id, saved(book))
    assert set(refused.value.errors) == {f"row {row}, column G"}
    sheet[f"G{row}"] = None
    plan_workbook.read_workbook(db, person(db, ACCOUNTANT), version.id, saved(book))
    assert budgets.lines_of(db, version.id)[0]["amounts"] == [
        Decimal("1.10"),
        Decimal("2000.00"),
        Decimal("0.00"),
    ]


def test_medium_term_plans_over_the_api(control, group):
    tokens = personal_tokens(control, group, ["budgets:read", "budgets:write"])
    api = api_caller(group, "/budgets")
    with tenant_session(control, group.schema_name) as session:
        unit_id = org.get_unit_by_code(session, "SH-XTD").id
    plan = {"unit_id": unit_id, "fiscal_year": YEAR + 5, "plan_kind": "fund"}
    opened = api("POST", "/plans", tokens[ACCOUNTANT], json={**plan, "horizon": "medium_term"})
    assert opened.status_code == 201
    assert (opened.json["horizon"], opened.json["periods"]) == (
        "medium_term",
        [YEAR + 5, YEAR + 6, YEAR + 7],
    )
    spec = [{"category": "CASH-IN-FEE", "amounts": ["1", "2", "3"], "owner_department": FIN}]
    written = api(
        "PUT", f"/versions/{opened.json['id']}/lines", tokens[ACCOUNTANT], json={"lines": spec}
    )
    assert written.json["lines"][0]["amounts"] == ["1.00", "2.00", "3.00"]
    assert written.json["lines"][0]["quarters"] is None
    annual = api("POST", "/plans", tokens[ACCOUNTANT], json=plan)
    assert annual.status_code == 201 and annual.json["periods"] == list(range(1, 13))
    listed = api("GET", "/plans", tokens[ACCOUNTANT], query_string={"horizon": "medium_term"})
    assert [p["fiscal_year"] for p in listed.json] == [YEAR + 5]
    bad = api("POST", "/plans", tokens[ACCOUNTANT], json={**plan, "horizon": "decade"})
    assert bad.status_code == 422
