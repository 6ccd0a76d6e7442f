"""Bank reconciliation in the portal (R-BNK-5): a statement file with a bad cell is refused on the
form naming line and column, nothing written; the overdue dashboard of a region lists its late
accounts; and in headless Chromium the whole month: statement and journal imported, matched,
the statement prepared, submitted, and signed off by the regional finance manager, the page
printing as the paper form."""

from __future__ import annotations

import io
import os
import secrets
from datetime import date

import pytest

from propgroup.db import tenant_session
from propgroup.org import service as org
from propgroup.tenancy import service as tenancy
from tests.portal.conftest import csrf_token, group_with, signed_in_page
from tests.portal.test_browser import SCREENSHOTS
from tests.support.banking import open_account

ACCOUNTANT, REGIONAL = "li.kuaiji", "sun.diqucaiwu"
STATEMENT = (
    "交易日期,借方发生额,贷方发生额,余额,凭证号\n"
    "2025-01-06,,3000.00,13000.00,R1\n"
    "2025-01-25,15.00,,12985.00,\n"
)
JOURNAL = "日期,金额,凭证号\n2025-01-05,3000.00,R1\n2025-01-28,-500.00,CHQ7\n"
STATEMENT_MAPPING = {
    "date_column": "交易日期",
    "debit_column": "借方发生额",
    "credit_column": "贷方发生额",
    "balance_column": "余额",
    "reference_column": "凭证号",
}


@pytest.fixture(scope="module")
def group(control, demo_group):
    slug = f"recpages_{os.getpid()}_{secrets.token_hex(3)}"
    tenant = tenancy.provision_tenant(
        control,
        slug=slug,
        name=demo_group["tenant"]["name"],
        template=demo_group["template"],
        group=group_with(demo_group, ACCOUNTANT, REGIONAL, "zhao.chuna"),
    )
    yield tenant
    tenancy.drop_tenant(control, slug)


def _account(control, group, code: str, **fields) -> int:
    with tenant_session(control, group.schema_name) as session:
        account = open_account(session, org.get_unit_by_code(session, code), **fields)
        session.commit()
        return account.id


def test_r_bnk_5_bad_statement_refused_on_the_form(browsers, group, control):
    account = _account(control, group, "SH-XTD", bank="交通银行")
    url = f"/t/{group.slug}/reconciliation/accounts/{account}"
    accountant = browsers(ACCOUNTANT)
    page = accountant.get(url)
    assert page.status_code == 200 and 'data-testid="statement-upload"' in page.text
    refused = accountant.post(
        f"{url}/statements",
        data={
            "csrf_token": csrf_token(page.text),
            "file": (io.BytesIO((STATEMENT + "2025-01-27,x,,1,\n").encode()), "s.csv"),
            **STATEMENT_MAPPING,
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    assert "line 4, column &#39;借方发生额&#39;: not an amount" in refused.text
    assert "s.csv" not in refused.text  # nothing imported
    cashier = browsers("zhao.chuna").get(url)
    assert cashier.status_code == 200 and 'data-testid="statement-upload"' not in cashier.text


def test_r_bnk_5_overdue_dashboard_of_the_region(browsers, group, control):
    account = _account(control, group, "SH-XTD", bank="浦发银行", opened_on=date(2024, 1, 1))
    with tenant_session(control, group.schema_name) as session:
        east = org.get_unit_by_code(session, "EAST").id
    page = browsers(REGIONAL).get(f"/t/{group.slug}/reconciliation/overdue?unit_id={east}")
    assert page.status_code == 200
    assert f"/reconciliation/accounts/{account}" in page.text and "SH-XTD" in page.text


def test_r_bnk_5_import_match_reconcile_sign_off_in_chromium(
    browser, live_server, group, control, demo_password, tmp_path
):
    account = _account(control, group, "SH-XTD", bank="中国银行", account_name="上海新天地物业")
    (tmp_path / "statement.csv").write_text(STATEMENT)
    (tmp_path / "journal.csv").write_text(JOURNAL)
    slug = group.slug
    page = signed_in_page(browser, live_server, slug, ACCOUNTANT, demo_password)
    page.click("nav.nav a:text('银行对账')")
    page.click("a:text('上海新天地物业')")

    # The opening balance, then the statement and the journal, each with its mapping.
    entry = page.locator("form[data-testid=entry]")
    entry.locator("input[name=entry_date]").fill("2024-12-31")
    entry.locator("input[name=amount]").fill("10000.00")
    entry.locator("input[name=opening]").check()
    entry.locator("button").click()
    page.get_by_test_id("matching").wait_for()
    upload = page.locator("form[data-testid=statement-upload]")
    upload.locator("input[name=file]").set_input_files(str(tmp_path / "statement.csv"))
    for field, column in STATEMENT_MAPPING.items():
        upload.locator(f"input[name={field}]").fill(column)
    upload.locator("button[type=submit]").click()
    page.locator("p.flash.info").wait_for()
    journal = page.locator("form[data-testid=journal-upload]")
    journal.locator("input[name=file]").set_input_files(str(tmp_path / "journal.csv"))
    journal.locator("input[name=date_column]").fill("日期")
    journal.locator("input[name=amount_column]").fill("金额")
    journal.locator("input[name=reference_column]").fill("凭证号")
    journal.locator("button[type=submit]").click()
    page.locator("p.flash.info").wait_for()

    page.get_by_test_id("auto-match").click()
    page.locator("p.flash.info").wait_for()
    lines = page.get_by_test_id("unmatched-lines").inner_text()
    entries = page.get_by_test_id("unmatched-entries").inner_text()
    assert "-¥15.00" in lines and "¥3,000.00" not in lines
    assert "-¥500.00" in entries and "¥3,000.00" not in entries

    prepare = page.locator("form[data-testid=prepare]")
    prepare.locator("input[name=month]").fill("2025-01")
    prepare.locator("button").click()
    page.get_by_test_id("sheet").wait_for()
    assert page.get_by_test_id("book-bank_charge").inner_text() == "¥15.00"
    assert page.get_by_test_id("bank-outstanding_payment").inner_text() == "¥500.00"
    assert page.get_by_test_id("difference").inner_text().endswith("¥0.00")
    page.get_by_test_id("submit").click()
    page.locator("p.flash.info").wait_for()
    assert page.get_by_test_id("sign-off").count() == 0  # not for the preparer
    page.context.close()

    manager = signed_in_page(browser, live_server, slug, REGIONAL, demo_password)
    manager.goto(f"{live_server}/t/{slug}/reconciliation/accounts/{account}")
    manager.get_by_test_id("months").locator("a").first.click()
    manager.get_by_test_id("sign-off").click()
    manager.locator("p.flash.info").wait_for()
    assert manager.get_by_test_id("signer").inner_text().startswith("孙财务")
    manager.emulate_media(media="print")
    assert manager.locator("header.topbar").is_hidden()
    assert manager.get_by_test_id("sheet").is_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    manager.screenshot(path=str(SCREENSHOTS / "bank-reconciliation.png"), full_page=True)
    manager.context.close()
