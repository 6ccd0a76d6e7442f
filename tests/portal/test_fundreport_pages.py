"""The weekly fund report in the portal (R-REP-2): regional finance opens the weeks, drills down
from the region to a branch to its accounts and downloads the workbook in a real Chromium; a
branch accountant sees only its branch and confirms its week there; a cashier may not confirm."""

from __future__ import annotations

import io
import os
import secrets
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from propgroup.db import tenant_session
from propgroup.fundreport import service
from propgroup.org import service as org
from propgroup.tenancy import service as tenancy
from tests.portal.conftest import SCREENSHOTS, form_token, sign_in, signed_in_page
from tests.support.banking import open_account
from tests.support.fundreport import book
from tests.support.groups import PASSWORD, provision_demo

WEEK = date(2026, 3, 8)
REGIONAL, ACCOUNTANT, CASHIER = "sun.diqucaiwu", "li.kuaiji", "zhao.chuna"


@pytest.fixture(scope="module")
def group(control):
    """The demo group with accounts at SH-XTD (CNY and USD), SH-LJZ and SZ-NS, and the week
    ending WEEK taken."""
    slug = f"fundpages_{os.getpid()}_{secrets.token_hex(3)}"
    tenant = provision_demo(control, slug)
    with tenant_session(control, tenant.schema_name) as session:
        xtd = open_account(session, "SH-XTD", account_type="basic")
        usd = open_account(session, "SH-XTD", currency="USD")
        ljz = open_account(session, "SH-LJZ")
        szns = open_account(session, "SZ-NS")
        for account, day, amount in (
            (xtd, date(2026, 2, 1), "10000.00"),
            (xtd, date(2026, 3, 3), "2500.00"),
            (usd, date(2026, 3, 4), "300.00"),
            (ljz, date(2026, 3, 5), "700.00"),
            (szns, date(2026, 3, 6), "9.99"),
        ):
            book(session, account, day, amount)
        service.ensure_week(session, WEEK)
        session.commit()
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


@pytest.fixture(scope="module")
def units(control, group):
    with tenant_session(control, group.schema_name) as session:
        return {code: org.get_unit_by_code(session, code).id for code in ("EAST", "SH-XTD")}


def signed_in(app, group, login):
    client = app.test_client()
    assert sign_in(client, group.slug, login, PASSWORD).status_code == 303
    return client


def test_r_rep_2_a_branch_accountant_sees_only_its_branch(app, group, units):
    client = signed_in(app, group, ACCOUNTANT)
    page = client.get(f"/t/{group.slug}/fundreport/weeks/{WEEK}")
    assert page.status_code == 200
    assert "上海新天地项目分公司" in page.text and "上海陆家嘴项目分公司" not in page.text
    assert "12,500.00" in page.text and "深圳" not in page.text
    refused = client.get(f"/t/{group.slug}/fundreport/weeks/{WEEK}?unit={units['EAST']}")
    assert refused.status_code == 403
    assert client.get(f"/t/{group.slug}/fundreport/weeks/2026-03-07").status_code == 422


def test_a_superscript_unit_id_is_422_not_a_500(app, group):
    client = signed_in(app, group, ACCOUNTANT)
    path = f"/t/{group.slug}/fundreport/weeks/{WEEK}"
    assert client.get(f"{path}?unit=²").status_code == 422
    token = form_token(client, path)
    refused = client.post(f"{path}/confirmation", data={"unit_id": "²", "csrf_token": token})
    assert refused.status_code == 422


def test_r_rep_2_the_branch_confirms_its_week_and_a_cashier_may_not(app, group, units):
    path = f"/t/{group.slug}/fundreport/weeks/{WEEK}"
    cashier = signed_in(app, group, CASHIER)
    token = form_token(cashier, f"/t/{group.slug}/fundreport")
    refused = cashier.post(
        f"{path}/confirmation", data={"unit_id": units["SH-XTD"], "csrf_token": token}
    )
    assert refused.status_code == 403 and 'data-testid="error"' in refused.text
    accountant = signed_in(app, group, ACCOUNTANT)
    page = accountant.get(path)
    assert 'data-testid="confirm"' in page.text
    token = form_token(accountant, path)
    done = accountant.post(
        f"{path}/confirmation", data={"unit_id": units["SH-XTD"], "csrf_token": token}
    )
    assert done.status_code == 303
    page = accountant.get(path)
    assert 'data-testid="confirm"' not in page.text and "已上报" in page.text


def test_r_rep_2_regional_finance_drills_down_and_downloads_in_a_browser(
    browser, live_server, group, units
):
    page = signed_in_page(browser, live_server, group.slug, REGIONAL, PASSWORD)
    page.click("nav.nav a:text('资金周报')")
    page.click(f"[data-week='{WEEK}'] a")
    page.wait_for_selector("[data-testid=totals]")
    assert "华东地区分公司" in page.inner_text("h1")
    east_cny = page.inner_text("[data-testid=totals] tbody[data-currency=CNY] tr:first-child")
    assert "13,200.00" in east_cny  # 12,500 at SH-XTD and 700 at SH-LJZ, never the USD
    assert "300.00" in page.inner_text("[data-testid=totals] tbody[data-currency=USD]")
    assert page.locator("[data-testid=not-submitted] [data-unit=SH-LJZ]").count() == 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "fundreport-region.png"), full_page=True)
    page.click("[data-testid=units] tbody[data-unit=SH-XTD] a")
    page.wait_for_selector("[data-testid=accounts]")
    numbers = page.locator("[data-testid=accounts] [data-field=number]").all_inner_texts()
    assert len(numbers) == 2 and all(n.isdigit() for n in numbers)  # regional finance reads them
    with page.expect_download() as download:
        page.click("[data-testid=download-xlsx]")
    assert download.value.suggested_filename == f"fund-report-{WEEK}-SH-XTD.xlsx"
    workbook = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    rows = list(workbook.worksheets[0].iter_rows(min_row=4, values_only=True))
    assert {(r[0], r[2]) for r in rows} == {("SH-XTD", "CNY"), ("SH-XTD", "USD")}
    closing = {(r[0], r[2], r[3]): Decimal(str(r[7])) for r in rows}
    assert closing["SH-XTD", "CNY", "合计 All types"] == Decimal("12500.00")
    page.context.close()
