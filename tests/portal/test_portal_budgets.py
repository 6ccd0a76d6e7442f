"""Budgets in the portal: a branch accountant compiles a plan in the grid with the keyboard, a bad
amount is named beside its cell and writes nothing, totals follow each save, the plan is
submitted (R-BUD-1…3); the regional finance user drills down from the region to a branch to a
line (R-BUD-4, R-BUD-5) and reads the variance chart; an outsider is refused (R-ORG-2). The
browser tests run in a real Chromium; the edge cases with the Flask test client."""

from __future__ import annotations

import io
import os
import re
import secrets
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from propgroup.budgets import seasons
from propgroup.budgets import service as budgets
from propgroup.budgets.categories import category_by_code
from propgroup.budgets.chart import Line, variance_chart
from propgroup.budgets.models import ActualEntry, BudgetPlan, PlanLine, PlanVersion
from propgroup.db import tenant_session
from propgroup.org import service as org
from propgroup.tenancy import service as tenancy
from tests.portal.conftest import (
    SCREENSHOTS,
    csrf_token,
    form_token,
    sign_in,
    signed_in_page,
    unit_ids_in,
)
from tests.support.budgets import DIRECTOR, approved_plan, ensure_season, person
from tests.support.groups import PASSWORD, provision_demo

EDIT_YEAR, FIGURES_YEAR = 2032, 2031  # the newer season is the year the list opens on
ACCOUNTANT, HEAD, REGIONAL = "li.kuaiji", "wang.xiangmu", "sun.diqucaiwu"
OUTSIDER = "su.staff"  # department head at SZ-NS, in the other region
ADM_LEAVES = 7  # the template's expense-plan lines under 管理费用


@pytest.fixture(scope="module")
def group(control):
    """The demo group with a season for EDIT_YEAR, and FIGURES_YEAR's expense plans approved
    for two EAST branches and the region itself, with ledger actuals against them."""
    slug = f"budportal_{os.getpid()}_{secrets.token_hex(3)}"
    tenant = provision_demo(control, slug, people={OUTSIDER: [("department_head", "SZ-NS")]})
    with tenant_session(control, tenant.schema_name) as session:
        ensure_season(session, EDIT_YEAR)
        plans = (
            ("SH-XTD", {"ADM-OFFICE": "12000.00", "ADM-TRAVEL": "6000.00"}, ACCOUNTANT),
            ("SH-LJZ", {"ADM-OFFICE": "2400.00"}, DIRECTOR),
            ("EAST", {"ADM-OFFICE": "1200.00"}, REGIONAL),
        )
        for unit, amounts, by in plans:
            approved_plan(session, unit, FIGURES_YEAR, "expense", amounts, by=by)
        for unit, code, month, amount in (
            ("SH-XTD", "ADM-OFFICE", 3, "10000.00"),
            ("SH-XTD", "ADM-TRAVEL", 5, "6600.00"),
            ("SH-LJZ", "ADM-OFFICE", 4, "100.00"),
        ):
            session.add(
                ActualEntry(
                    unit_id=org.get_unit_by_code(session, unit).id,
                    category_id=category_by_code(session, code).id,
                    fiscal_year=FIGURES_YEAR,
                    month=month,
                    amount=Decimal(amount),
                    source="ledger",
                )
            )
        session.commit()
    yield tenant
    tenancy.drop_tenant(control, slug)


@pytest.fixture(scope="module")
def units(control, group) -> dict[str, int]:
    return unit_ids_in(control, group, ("EAST", "SH-XTD", "SZ-NS"))


@pytest.fixture(scope="module")
def clients(app, group):
    """One signed-in test client per person, made on first use."""
    made = {}

    def client(login: str):
        if login not in made:
            made[login] = app.test_client()
            assert sign_in(made[login], group.slug, login, PASSWORD).status_code == 303
        return made[login]

    return client


def saved_lines(control, group, version_id: int) -> dict[str, Decimal]:
    """Each line's annual figure as stored."""
    with tenant_session(control, group.schema_name) as session:
        return {line["category"]: line["total"] for line in budgets.lines_of(session, version_id)}


def draft(control, group, unit: str, year: int, kind: str = "expense", by: str = ACCOUNTANT):
    """A new plan's empty first version, opened through the service."""
    with tenant_session(control, group.schema_name) as session:
        version = budgets.open_plan(
            session,
            person(session, by),
            unit_id=org.get_unit_by_code(session, unit).id,
            fiscal_year=year,
            plan_kind=kind,
        )
        session.commit()
        return version.id


def post_grid(client, slug, version_id, lines, *, htmx=False, **extra):
    """The grid form as a browser posts it: ``lines`` maps a code to (owner, {month: typed})."""
    data = {"csrf_token": form_token(client, f"/t/{slug}/budgets/versions/{version_id}")}
    data["line"] = list(lines)
    for code, (owner, months) in lines.items():
        data[f"owner-{code}"] = owner
        data |= {f"m{month}-{code}": typed for month, typed in months.items()}
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        f"/t/{slug}/budgets/versions/{version_id}/lines", data=data | extra, headers=headers
    )


# --- in the browser -------------------------------------------------------------------------


def _signed_in(browser, base, slug, login):
    return signed_in_page(browser, base, slug, login, PASSWORD, width=1440)


def _focused(page) -> str:
    return page.evaluate("document.activeElement.name")


def test_an_accountant_compiles_the_grid_with_the_keyboard_and_submits_r_bud_1_r_bud_3(
    browser, live_server, group, control
):
    slug = group.slug
    page = _signed_in(browser, live_server, slug, ACCOUNTANT)
    page.click("nav.nav a:text('预算')")
    page.wait_for_url(f"{live_server}/t/{slug}/budgets")
    assert str(EDIT_YEAR) in page.locator("h1").inner_text()  # the open season's year
    page.locator("tr[data-unit=SH-XTD] td[data-kind=expense] button").click()
    page.wait_for_url(re.compile(r".*/budgets/versions/\d+$"))
    version_id = int(page.url.rsplit("/", 1)[1])
    assert page.get_by_test_id("status").inner_text() == "草稿"

    # Two lines added through htmx (the page stays), each with its owner (R-BUD-3).
    for code in ("ADM-OFFICE", "ADM-TRAVEL"):
        page.select_option("#add-line", code)
        with page.expect_response(f"**/versions/{version_id}/lines"):
            page.click("button[value=add]")
        page.locator(f"tr.line[data-line={code}]").wait_for()
        page.select_option(f"select[name=owner-{code}]", "department:SH-XTD-FIN")
    assert page.url.endswith(f"/versions/{version_id}")

    # Tab moves right, Enter down, the arrows back; each cell left is saved.
    page.click("input[name=m1-ADM-OFFICE]")
    page.keyboard.type("1000")
    page.keyboard.press("Tab")
    assert _focused(page) == "m2-ADM-OFFICE"
    page.keyboard.type("2,000")
    page.keyboard.press("Enter")
    assert _focused(page) == "m2-ADM-TRAVEL"
    page.keyboard.type("500")
    page.keyboard.press("ArrowUp")
    assert _focused(page) == "m2-ADM-OFFICE"
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")  # the first press drops the selection to the caret's start
    assert _focused(page) == "m1-ADM-OFFICE"
    page.locator("#total-ADM-OFFICE", has_text="3,000.00").wait_for()
    page.locator("#total-ADM-TRAVEL", has_text="500.00").wait_for()
    page.locator("#sum-ADM-total", has_text="3,500.00").wait_for()
    assert page.locator("#q1-ADM-OFFICE").inner_text() == "3,000.00"
    assert saved_lines(control, group, version_id) == {
        "ADM-OFFICE": Decimal("3000.00"),
        "ADM-TRAVEL": Decimal("500.00"),
    }

    # A bad amount: the message beside its line, the cell marked, nothing written.
    page.click("input[name=m3-ADM-OFFICE]")
    page.keyboard.type("12.345")
    page.keyboard.press("Tab")
    errors = page.locator("#errors-ADM-OFFICE")
    errors.filter(has_text="3月：金额超过两位小数（分）").wait_for()
    cell = page.locator("input[name=m3-ADM-OFFICE]")
    assert cell.get_attribute("aria-invalid") == "true"
    assert "未保存" in page.get_by_test_id("grid-refusal").inner_text()
    assert page.locator("#total-ADM-OFFICE").inner_text() == "3,000.00"
    assert saved_lines(control, group, version_id)["ADM-OFFICE"] == Decimal("3000.00")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "budget-grid-refused.png"), full_page=True)

    cell.fill("12.34")
    page.keyboard.press("Tab")
    page.locator("#total-ADM-OFFICE", has_text="3,012.34").wait_for()
    page.locator("#sum-ADM-q1", has_text="3,512.34").wait_for()
    assert errors.inner_text() == "" and cell.get_attribute("aria-invalid") is None
    page.screenshot(path=str(SCREENSHOTS / "budget-grid.png"), full_page=True)

    page.get_by_test_id("submit").click()
    page.wait_for_url(f"{live_server}/t/{slug}/budgets/versions/{version_id}")
    assert page.get_by_test_id("status").inner_text() == "已提交审批"
    assert page.locator("input[name=m1-ADM-OFFICE]").count() == 0  # read-only once sent
    assert "3,012.34" in page.get_by_test_id("grid").inner_text()
    page.context.close()


def test_regional_finance_drills_down_from_region_to_branch_to_line_r_bud_4_r_bud_5(
    browser, live_server, group, units
):
    slug = group.slug
    page = _signed_in(browser, live_server, slug, REGIONAL)
    page.goto(f"{live_server}/t/{slug}/budgets?year={FIGURES_YEAR}")
    page.locator("tr[data-unit=EAST] a", has_text="执行情况").click()
    page.wait_for_url(re.compile(rf".*/figures/{units['EAST']}\?.*"))
    page.select_option("select[name=kind]", "expense")
    page.click("form[data-testid=filters] button")
    region = page.locator("tbody[data-unit=EAST] td[data-field=plan]")
    region.filter(has_text="¥21,600.00").wait_for()  # the branches' plans plus its own
    assert page.locator("tbody[data-unit=EAST] td[data-field=actual]").inner_text() == "¥16,700.00"
    assert page.locator("tbody[data-unit=HZ-XH]").count() == 1  # every branch, planned or not

    page.locator("tbody[data-unit=SH-XTD] a").click()
    page.wait_for_url(re.compile(rf".*/figures/{units['SH-XTD']}\?.*kind=expense.*"))
    assert "华东地区分公司" in page.locator("nav.trail").inner_text()
    line = page.locator("tr[data-line=ADM-OFFICE]")
    assert not line.is_visible()  # inside the closed heading
    page.click("details[data-category=ADM] > summary")
    assert line.is_visible()
    assert line.locator("[data-field=plan]").inner_text() == "¥12,000.00"
    assert line.locator("[data-field=actual]").inner_text() == "¥10,000.00"
    assert line.locator("[data-field=variance]").inner_text() == "-2,000.00"
    assert line.locator("[data-field=rate]").inner_text() == "83.3%"
    assert line.locator("[data-field=alert]").inner_text() == "已达80%"
    travel = page.locator("tr[data-line=ADM-TRAVEL]")
    assert travel.locator("[data-field=alert]").inner_text() == "超预算"

    # The chart: one pair of bars per budget line of the plan, with the figures.
    chart = page.get_by_test_id("variance-chart")
    assert chart.get_attribute("role") == "img"
    assert "上海新天地项目分公司" in chart.locator("title#chart-title").text_content()
    assert "办公费" in chart.locator("desc").text_content()
    assert chart.locator("rect[data-series=plan]").count() == ADM_LEAVES
    assert chart.locator("rect[data-series=actual]").count() == ADM_LEAVES
    office = chart.locator("g[data-category=ADM-OFFICE]")
    assert office.locator("rect[data-series=plan]").get_attribute("data-value") == "12000.00"
    assert office.locator("rect[data-series=actual]").get_attribute("data-value") == "10000.00"
    heights = [
        float(office.locator(f"rect[data-series={series}]").get_attribute("height"))
        for series in ("plan", "actual")
    ]
    assert heights[0] == pytest.approx(heights[1] * 1.2, rel=0.01)  # drawn to scale
    over = chart.locator("g[data-category=ADM-TRAVEL] rect[data-series=actual]")
    assert "adverse" in over.get_attribute("class")
    page.screenshot(path=str(SCREENSHOTS / "budget-figures.png"), full_page=True)
    page.context.close()


def test_an_outsider_is_refused_every_budget_page_r_org_2(
    browser, live_server, group, units, control
):
    slug = group.slug
    with tenant_session(control, group.schema_name) as session:
        version_id = session.scalar(
            select(PlanVersion.id)
            .join(BudgetPlan, BudgetPlan.id == PlanVersion.plan_id)
            .where(BudgetPlan.unit_id == units["SH-XTD"], BudgetPlan.fiscal_year == FIGURES_YEAR)
        )
    page = _signed_in(browser, live_server, slug, OUTSIDER)
    for path in (
        f"figures/{units['EAST']}",
        f"figures/{units['SH-XTD']}",
        f"versions/{version_id}",
    ):
        response = page.goto(f"{live_server}/t/{slug}/budgets/{path}?year={FIGURES_YEAR}")
        assert response.status == 403
        assert page.locator("h1").inner_text() == "您无权查看此页面"
        assert "12,000" not in page.content()
    page.goto(f"{live_server}/t/{slug}/budgets?year={FIGURES_YEAR}")
    assert page.locator("tr[data-unit]").all_inner_texts()[0].startswith("深圳南山项目分公司")
    assert page.locator("tr[data-unit=SH-XTD]").count() == 0
    page.context.close()


# --- edge cases through the test client ----------------------------------------------------


def test_a_bad_amount_without_script_is_named_on_the_page_and_writes_nothing_r_bud_1(
    clients, group, control
):
    version_id = draft(control, group, "HZ-XH", EDIT_YEAR, by=DIRECTOR)
    director = clients(DIRECTOR)
    good = post_grid(
        director, group.slug, version_id, {"ADM-BANK": ("department:HZ-XH-FIN", {1: "10"})}
    )
    assert good.status_code == 303
    refused = post_grid(
        director,
        group.slug,
        version_id,
        {
            "ADM-BANK": ("department:HZ-XH-FIN", {1: "1e3", 2: "-5"}),
            "ADM-COMM": ("", {12: "abc"}),
        },
    )
    assert refused.status_code == 422
    assert "2月：金额不能为负数" in refused.text and "12月：金额不是数字" in refused.text
    assert 'value="abc"' in refused.text  # what was typed stays on the form
    assert re.search(r'name="m12-ADM-COMM"[^>]*aria-invalid="true"', refused.text)
    assert saved_lines(control, group, version_id) == {"ADM-BANK": Decimal("10.00")}


def test_a_grid_save_keeps_the_notes_it_does_not_show(clients, group, control):
    version_id = draft(control, group, "SH-XTD", EDIT_YEAR + 3)
    with tenant_session(control, group.schema_name) as session:
        line = {"category": "ADM-OFFICE", "amounts": {"1": "1"}, "note": "含打印机租赁"}
        budgets.write_lines(session, person(session, ACCOUNTANT), version_id, [line])
        session.commit()
    accountant = clients(ACCOUNTANT)
    assert "含打印机租赁" in accountant.get(f"/t/{group.slug}/budgets/versions/{version_id}").text
    lines = {"ADM-OFFICE": ("department:SH-XTD-FIN", {1: "2"})}
    forged = {"note-ADM-OFFICE": "x" * 5000}  # not a field of the grid: ignored
    assert post_grid(accountant, group.slug, version_id, lines, **forged).status_code == 303
    with tenant_session(control, group.schema_name) as session:
        (saved,) = budgets.lines_of(session, version_id)
    assert (saved["note"], saved["total"]) == ("含打印机租赁", Decimal("2.00"))


def test_an_htmx_save_answers_totals_out_of_band_and_keeps_the_typed_cells(clients, group, control):
    version_id = draft(control, group, "GZ-TH", EDIT_YEAR, by=DIRECTOR)
    saved = post_grid(
        clients(DIRECTOR),
        group.slug,
        version_id,
        {"ADM-OFFICE": ("", {1: "1,234.5", 4: "0.5"})},
        htmx=True,
    )
    assert saved.status_code == 200 and "<html" not in saved.text
    assert 'name="m1-ADM-OFFICE"' not in saved.text  # inputs are not replaced
    assert '<span id="total-ADM-OFFICE" hx-swap-oob="true">1,235.00</span>' in saved.text
    assert '<span id="q2-ADM-OFFICE" hx-swap-oob="true">0.50</span>' in saved.text
    assert '<span id="sum-ADM-total" hx-swap-oob="true">1,235.00</span>' in saved.text
    added = post_grid(
        clients(DIRECTOR),
        group.slug,
        version_id,
        {"ADM-OFFICE": ("", {1: "1234.50"})},
        htmx=True,
        action="add",
        add="ADM-TRAVEL",
    )
    assert added.status_code == 200 and 'id="grid"' in added.text
    assert 'name="m1-ADM-TRAVEL"' in added.text and "<html" not in added.text
    removed = post_grid(
        clients(DIRECTOR),
        group.slug,
        version_id,
        {"ADM-OFFICE": ("", {}), "ADM-TRAVEL": ("", {})},
        htmx=True,
        remove="ADM-OFFICE",
    )
    assert 'data-line="ADM-OFFICE"' not in removed.text
    assert saved_lines(control, group, version_id) == {"ADM-TRAVEL": Decimal("0.00")}


def test_the_services_refusals_land_beside_their_lines_r_bud_3(clients, group, control):
    version_id = draft(control, group, "SH-LJZ", EDIT_YEAR, by=DIRECTOR)
    refused = post_grid(
        clients(DIRECTOR),
        group.slug,
        version_id,
        {
            "ADM-OFFICE": ("department:SZ-NS-FIN", {1: "1"}),  # another unit's department
            "REV-FEE": ("", {1: "1"}),  # the profit plan's line
        },
    )
    assert refused.status_code == 422
    assert "负责人不属于本单位的部门或岗位" in refused.text
    assert "该科目不属于本计划" in refused.text
    assert re.search(r'name="owner-ADM-OFFICE"[^>]*aria-invalid="true"', refused.text)
    assert saved_lines(control, group, version_id) == {}
    # Submitting a line nobody answers for: named beside it, nothing sent (R-BUD-3).
    unowned = post_grid(
        clients(DIRECTOR), group.slug, version_id, {"ADM-OFFICE": ("", {1: "5"})}, action="submit"
    )
    assert unowned.status_code == 422 and "请选择负责本行的部门或人员（R-BUD-3）" in unowned.text
    assert saved_lines(control, group, version_id) == {}  # the save went with the refused submit


def test_submitting_outside_the_season_or_off_the_reported_profit_is_refused_r_bud_2(
    clients, group, control, units
):
    slug, year = group.slug, EDIT_YEAR + 1  # no season
    version_id = draft(control, group, "SH-XTD", year)
    accountant = clients(ACCOUNTANT)
    lines = {"ADM-OFFICE": ("department:SH-XTD-FIN", {1: "100"})}
    closed = post_grid(accountant, slug, version_id, lines, action="submit")
    assert closed.status_code == 409 and "预算编制期未开放" in closed.text
    assert 'value="100"' in closed.text and saved_lines(control, group, version_id) == {}

    with tenant_session(control, group.schema_name) as session:
        ensure_season(session, year, tolerance="10.00")
        seasons.set_profit_target(
            session,
            person(session, DIRECTOR),
            fiscal_year=year,
            unit_id=units["SH-XTD"],
            profit="5000",
        )
        session.commit()
    profit = draft(control, group, "SH-XTD", year, kind="profit")
    figures = {
        "REV-FEE": ("department:SH-XTD-FIN", {1: "9000"}),
        "COST-LABOR": ("department:SH-XTD-FIN", {1: "1000"}),
    }
    off = post_grid(accountant, slug, profit, figures, action="submit")
    assert off.status_code == 422
    assert "预算结余 ¥8,000.00 与上报集团的利润 ¥5,000.00 相差 ¥3,000.00" in off.text
    assert saved_lines(control, group, profit) == {}
    figures["COST-LABOR"] = ("department:SH-XTD-FIN", {1: "4000"})
    sent = post_grid(accountant, slug, profit, figures, action="submit")
    assert sent.status_code == 303
    assert "已提交审批" in accountant.get(sent.headers["Location"]).text


def test_withdraw_revise_and_compare_versions_r_bud_2(clients, group, control):
    slug = group.slug
    accountant = clients(ACCOUNTANT)
    version_id = draft(control, group, "SH-XTD", EDIT_YEAR, kind="fund")
    lines = {"CASH-OUT-TAX": ("department:SH-XTD-FIN", {1: "300", 2: "300"})}
    assert post_grid(accountant, slug, version_id, lines, action="submit").status_code == 303
    page = accountant.get(f"/t/{slug}/budgets/versions/{version_id}")
    assert "撤回" in page.text and 'name="m1-CASH-OUT-TAX"' not in page.text
    token = csrf_token(page.text)
    revise = accountant.post(f"/t/{slug}/budgets/plans/0/revise", data={"csrf_token": token})
    assert revise.status_code == 404
    with tenant_session(control, group.schema_name) as session:
        plan_id = session.get(PlanVersion, version_id).plan_id
    open_already = accountant.post(
        f"/t/{slug}/budgets/plans/{plan_id}/revise", data={"csrf_token": token}
    )
    assert open_already.status_code == 409 and "已有一个未完成的版本" in open_already.text
    back = accountant.post(
        f"/t/{slug}/budgets/versions/{version_id}/withdraw", data={"csrf_token": token}
    )
    assert back.status_code == 303
    assert 'name="m1-CASH-OUT-TAX"' in accountant.get(back.headers["Location"]).text
    twice = accountant.post(
        f"/t/{slug}/budgets/versions/{version_id}/withdraw", data={"csrf_token": token}
    )
    assert twice.status_code == 409 and "只有已提交审批的版本才能撤回" in twice.text

    # Approved, then revised: v2 starts as a copy, the comparison shows what changed.
    with tenant_session(control, group.schema_name) as session:
        approved_plan_id = approved_plan(
            session, "SH-XTD", EDIT_YEAR, "profit", {"REV-PARK": "1200.00"}, by=ACCOUNTANT
        ).plan_id
        session.commit()
    revised = accountant.post(
        f"/t/{slug}/budgets/plans/{approved_plan_id}/revise",
        data={"csrf_token": token, "note": "停车费调整"},
    )
    assert revised.status_code == 303
    second = int(revised.headers["Location"].rsplit("/", 1)[1])
    changed = {"REV-PARK": ("department:SH-XTD-FIN", dict.fromkeys(range(1, 13), "150"))}
    assert post_grid(accountant, slug, second, changed).status_code == 303
    page = accountant.get(f"/t/{slug}/budgets/versions/{second}")
    assert "停车费调整" in page.text and 'data-testid="compare-1"' in page.text
    first = int(re.search(r"versions/(\d+)/compare/" + str(second), page.text).group(1))
    compared = accountant.get(f"/t/{slug}/budgets/versions/{first}/compare/{second}")
    assert compared.status_code == 200
    assert "停车服务收入" in compared.text and "+50.00" in compared.text
    assert "1,800.00" in compared.text and "+600.00" in compared.text
    other_plan = accountant.get(f"/t/{slug}/budgets/versions/{first}/compare/{version_id}")
    assert other_plan.status_code == 422


def test_the_plans_list_opens_plans_and_names_bad_input(clients, group, control, units):
    slug = group.slug
    accountant = clients(ACCOUNTANT)
    listing = accountant.get(f"/t/{slug}/budgets?year={EDIT_YEAR}")
    assert listing.status_code == 200 and "预算编制期已开放" in listing.text
    assert 'data-unit="SH-XTD"' in listing.text and 'data-unit="SH-LJZ"' not in listing.text
    token = csrf_token(listing.text)
    data = {"csrf_token": token, "unit_id": str(units["SH-XTD"]), "year": str(EDIT_YEAR + 5)}
    opened = accountant.post(f"/t/{slug}/budgets/plans", data=data | {"plan_kind": "expense"})
    assert opened.status_code == 303
    again = accountant.post(f"/t/{slug}/budgets/plans", data=data | {"plan_kind": "expense"})
    assert again.status_code == 409 and "该计划已存在" in again.text
    for bad in ({"plan_kind": "nope"}, {"plan_kind": "fund", "year": "99999"}, {"unit_id": "x"}):
        refused = accountant.post(f"/t/{slug}/budgets/plans", data=data | bad)
        assert refused.status_code == 422 and "请选择单位、计划类型和年度" in refused.text
    elsewhere = data | {"unit_id": str(units["SZ-NS"]), "plan_kind": "fund"}
    assert accountant.post(f"/t/{slug}/budgets/plans", data=elsewhere).status_code == 403
    with tenant_session(control, group.schema_name) as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(BudgetPlan)
                .where(BudgetPlan.fiscal_year == EDIT_YEAR + 5)
            )
            == 1
        )
    odd = accountant.get(f"/t/{slug}/budgets?year=abc")
    assert odd.status_code == 200 and "年度应在 2000 至 2200 之间" in odd.text


def test_figures_filters_and_ids_never_give_a_500(clients, group, units):
    slug = group.slug
    regional = clients(REGIONAL)
    east = f"/t/{slug}/budgets/figures/{units['EAST']}"
    latest = regional.get(f"{east}?year={FIGURES_YEAR}&kind=expense&versions=latest&through=3")
    assert latest.status_code == 200 and "¥12,000.00" not in latest.text  # Jan-Mar only
    assert 'data-testid="variance-chart"' in latest.text
    odd = regional.get(f"{east}?year=1&kind=x&versions=y&through=13")
    assert odd.status_code == 200
    for message in (
        "年度应在",
        "请选择 1 至 12 月",
        "请选择已批准或最新版本",
        "请选择利润、资金或费用计划",
    ):
        assert message in odd.text
    assert regional.get(f"/t/{slug}/budgets/figures/99999999999999999999").status_code == 404
    assert regional.get(f"/t/{slug}/budgets/versions/99999999999999999999").status_code == 404
    assert regional.get(f"/t/{slug}/budgets/plans/424242").status_code == 404
    home = regional.get(f"/t/{slug}/budgets/figures?year={FIGURES_YEAR}")
    assert home.status_code == 302 and f"/figures/{units['EAST']}?" in home.headers["Location"]


def test_an_outsider_cannot_write_a_plan_through_the_form_r_org_2(clients, group, control):
    version_id = draft(control, group, "SH-XTD", EDIT_YEAR + 2)
    outsider = clients(OUTSIDER)
    token = form_token(outsider, f"/t/{group.slug}/budgets")
    response = outsider.post(
        f"/t/{group.slug}/budgets/versions/{version_id}/lines",
        data={"csrf_token": token, "line": ["ADM-OFFICE"], "m1-ADM-OFFICE": "1"},
    )
    assert response.status_code == 403
    with tenant_session(control, group.schema_name) as session:
        count = select(func.count()).select_from(PlanLine)
        assert session.scalar(count.where(PlanLine.version_id == version_id)) == 0
    # A reader who may not write sees the figures but no grid to change.
    page = clients("feng.shenji").get(f"/t/{group.slug}/budgets/versions/{version_id}")
    assert page.status_code == 200 and "hx-post" not in page.text


def test_the_budgets_menu_follows_budgets_read_r_org_2(clients, group):
    navigation = clients(ACCOUNTANT).get(f"/t/{group.slug}/").text
    assert f'href="/t/{group.slug}/budgets"' in navigation and "预算" in navigation


def test_the_chart_scale_holds_empty_and_negative_figures_r_bud_5():
    empty = variance_chart([Line("A", "a", "expense", Decimal("0.00"), Decimal("0.00"))])
    assert empty.ticks[0].value == 0 and empty.ticks[-1].value > 0
    assert empty.groups[0].plan.height == 0 == empty.groups[0].actual.height
    refund = variance_chart([Line("A", "a", "expense", Decimal("100.00"), Decimal("-40.00"))])
    group = refund.groups[0]
    assert [tick.value for tick in refund.ticks] == [-50, 0, 50, 100]
    assert group.actual.y == refund.baseline and group.actual.height > 0  # down from 0
    assert group.plan.y + group.plan.height == refund.baseline
    assert group.variance == Decimal("-140.00") and not group.adverse
    short = variance_chart([Line("R", "r", "income", Decimal("100.00"), Decimal("90.00"))])
    assert short.groups[0].adverse  # income under its plan


def test_a_medium_term_plan_is_read_by_years_and_kept_through_its_template_r_bud_1(
    clients, group, control
):
    """A medium-term plan (three annual amounts) is no twelve-month grid: its page shows each
    line year by year, takes the filled-in template and sends it; the approver reads it there.
    It stays out of the year's list and the grid refuses it."""
    year = EDIT_YEAR + 7
    with tenant_session(control, group.schema_name) as session:
        ensure_season(session, year)
        version = budgets.open_plan(
            session,
            person(session, ACCOUNTANT),
            unit_id=org.get_unit_by_code(session, "SH-XTD").id,
            fiscal_year=year,
            plan_kind="expense",
            horizon="medium_term",
        )
        session.commit()
    accountant, slug = clients(ACCOUNTANT), group.slug
    listing = accountant.get(f"/t/{slug}/budgets?year={year}")
    assert f"/budgets/versions/{version.id}" not in listing.text
    page = accountant.get(f"/t/{slug}/budgets/versions/{version.id}")
    assert page.status_code == 200 and 'data-testid="years"' in page.text
    assert all(str(y) in page.text for y in (year, year + 1, year + 2))
    book = load_workbook(
        io.BytesIO(accountant.get(f"/t/{slug}/budgets/versions/{version.id}/xlsx").data)
    )
    row = next(c.row for c in book.active["A"] if c.value == "ADM-OFFICE")
    book.active[f"C{row}"], book.active[f"E{row}"], book.active[f"G{row}"] = (
        "SH-XTD-FIN",
        100,
        "300.5",
    )
    out = io.BytesIO()
    book.save(out)
    token = csrf_token(page.text)
    uploaded = accountant.post(
        f"/t/{slug}/budgets/versions/{version.id}/xlsx",
        data={"csrf_token": token, "workbook": (io.BytesIO(out.getvalue()), "plan.xlsx")},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 303
    assert saved_lines(control, group, version.id) == {"ADM-OFFICE": Decimal("400.50")}
    sent = accountant.post(
        f"/t/{slug}/budgets/versions/{version.id}/submit", data={"csrf_token": token}
    )
    assert sent.status_code == 303
    read = clients(REGIONAL).get(f"/t/{slug}/budgets/versions/{version.id}")
    assert read.status_code == 200 and "300.50" in read.text
    grid = accountant.post(
        f"/t/{slug}/budgets/versions/{version.id}/lines",
        data={"csrf_token": token, "line": ["ADM-OFFICE"], "m1-ADM-OFFICE": "1"},
    )
    assert grid.status_code == 409


def test_a_nul_in_the_grid_or_odd_figure_links_never_give_a_500(clients, group, control, units):
    version_id = draft(control, group, "SH-XTD", EDIT_YEAR + 8)
    accountant, slug = clients(ACCOUNTANT), group.slug
    posted = post_grid(
        accountant, slug, version_id, {"ADM-OFFICE": ("department:SH-XTD-FIN\x00", {1: "5"})}
    )
    assert posted.status_code == 422 and "NUL" in posted.text
    assert saved_lines(control, group, version_id) == {}
    home = accountant.get(f"/t/{slug}/budgets/figures?unit_id={units['EAST']}&year={FIGURES_YEAR}")
    assert home.status_code == 302 and "unit_id" not in home.headers["Location"].split("?", 1)[-1]


def test_the_excel_template_goes_out_and_back_through_the_portal_r_bud_1(
    clients, group, control, units
):
    """Finance staff live in Excel: the version page gives its template and takes it back
    filled in; a bad cell is named by row and column and nothing is saved."""
    version_id = draft(control, group, "SH-XTD", EDIT_YEAR + 9)
    accountant, slug = clients(ACCOUNTANT), group.slug
    page = accountant.get(f"/t/{slug}/budgets/versions/{version_id}")
    assert 'data-testid="download-template"' in page.text
    template = accountant.get(f"/t/{slug}/budgets/versions/{version_id}/xlsx")
    assert template.status_code == 200 and template.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(template.data))
    row = next(c.row for c in book.active["A"] if c.value == "ADM-OFFICE")

    def upload(changes):
        for ref, value in changes.items():
            book.active[ref] = value
        out = io.BytesIO()
        book.save(out)
        data = {
            "csrf_token": csrf_token(page.text),
            "workbook": (io.BytesIO(out.getvalue()), "plan.xlsx"),
        }
        return accountant.post(
            f"/t/{slug}/budgets/versions/{version_id}/xlsx",
            data=data,
            content_type="multipart/form-data",
        )

    refused = upload({f"C{row}": "SH-XTD-FIN", f"E{row}": "12.345"})
    assert refused.status_code == 422 and f"row {row}, column E" in refused.text
    assert saved_lines(control, group, version_id) == {}
    saved = upload({f"E{row}": "1200.50"})
    assert saved.status_code == 303
    assert saved_lines(control, group, version_id) == {"ADM-OFFICE": Decimal("1200.50")}
    none = accountant.post(
        f"/t/{slug}/budgets/versions/{version_id}/xlsx", data={"csrf_token": csrf_token(page.text)}
    )
    assert none.status_code == 422


def test_plan_vs_actual_exports_to_excel_for_readers_only_r_bud_5(clients, group, units):
    slug, east = group.slug, units["EAST"]
    path = f"/t/{slug}/budgets/figures/{east}/xlsx?year={FIGURES_YEAR}&kind=expense"
    exported = clients(REGIONAL).get(path)
    assert exported.status_code == 200 and exported.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(exported.data)).active
    numbers = {
        Decimal(str(c.value)) for r in sheet.iter_rows() for c in r if type(c.value) in (int, float)
    }
    assert {Decimal("12000"), Decimal("10000")} <= numbers  # SH-XTD's office plan and actual
    assert clients(OUTSIDER).get(path).status_code == 403
