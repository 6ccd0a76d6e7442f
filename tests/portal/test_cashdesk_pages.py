"""The cash desk in the portal: the cheque register (a book registered, a cheque issued against an
approved request and accounted for; an overlapping book refused on the form, R-CHQ-1), a unit's
cash page (a count sheet by denomination rows; an IOU line refused, R-CASH-2; the month-end sheet
reviewed by the finance manager), the limit alert on the home page (R-CASH-1); and the same in
headless Chromium."""

from __future__ import annotations

import pytest

from propgroup.db import tenant_session
from propgroup.org import service as org
from propgroup.tenancy import service as tenancy
from tests.portal.conftest import csrf_token, signed_in_page
from tests.portal.test_browser import SCREENSHOTS
from tests.support.cashdesk import (
    CASHIER,
    MANAGER,
    approved_request,
    cash_in_box,
    month_end,
    open_account,
    stand_on,
)
from tests.support.groups import REQUESTER, demo_today, provision_demo


@pytest.fixture(scope="module")
def group(control):
    tenant = provision_demo(control, "cash_pages", "出纳页面", people=REQUESTER)
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


@pytest.fixture(scope="module")
def setup(control, group):
    with tenant_session(control, group.schema_name) as session:
        account = open_account(session)
        # The second is a finance person's: a cash cheque goes to finance staff only.
        requests = [
            approved_request(session, "600.00").id,
            approved_request(session, "600.00", MANAGER).id,
        ]
        unit = org.get_unit_by_code(session, "SH-XTD").id
        session.commit()
        return {"account": account.id, "requests": requests, "unit": unit}


def _post(client, page_url, action, data):
    page = client.get(page_url)
    assert page.status_code == 200, page.status_code
    return client.post(action, data={"csrf_token": csrf_token(page.text), **data})


def test_r_chq_1_register_issue_account_for_on_the_register_page(browsers, group, setup):
    cashier = browsers(CASHIER)
    url = f"/t/{group.slug}/cashdesk/accounts/{setup['account']}"
    book = {
        "received_on": str(demo_today()),
        "bank": "工行",
        "cheque_type": "transfer",
        "first_number": "50000001",
        "last_number": "50000020",
    }
    assert _post(cashier, url, f"{url}/books", book).status_code == 303
    overlap = _post(
        cashier,
        url,
        f"{url}/books",
        {**book, "first_number": "50000020", "last_number": "50000030"},
    )
    assert overlap.status_code == 409 and 'data-testid="refusal"' in overlap.text
    assert "50000001" in overlap.text
    issued = _post(
        cashier,
        url,
        f"{url}/cheques",
        {"cheque_type": "transfer", "request_id": str(setup["requests"][0]), "purpose": "维修材料"},
    )
    assert issued.status_code == 303
    page = cashier.get(url)
    assert (
        'data-testid="cheque-50000001"' in page.text and 'data-testid="account-form"' in page.text
    )
    action = (
        page.text.split('data-testid="account-form"', 1)[0].rsplit('action="', 1)[1].split('"')[0]
    )
    done = cashier.post(
        action,
        data={
            "csrf_token": csrf_token(page.text),
            "paid_on": str(demo_today()),
        },
    )
    assert done.status_code == 303
    assert 'data-testid="account-form"' not in cashier.get(url).text


def test_r_cash_2_count_with_an_iou_line_is_refused_on_the_form(browsers, group, setup, control):
    cashier = browsers(CASHIER)
    url = f"/t/{group.slug}/cashdesk/units/{setup['unit']}"
    refused = _post(
        cashier,
        url,
        f"{url}/counts",
        {
            "kind": "week_end",
            "counted_on": str(demo_today()),
            "q_100": "1",
            "extra_kind": "iou",
            "extra_description": "张三借款",
            "extra_amount": "300",
        },
    )
    assert refused.status_code == 422 and "白条" in refused.text
    assert 'value="1"' in refused.text  # what was typed is kept on the form


def test_r_cash_2_the_month_end_sheet_is_reviewed_on_the_page(
    browsers, group, setup, control, monkeypatch
):
    day = month_end(demo_today())
    stand_on(monkeypatch, day)  # a month-end sheet is dated the month's last day
    with tenant_session(control, group.schema_name) as session:
        cash_in_box(session, "150.00")
        session.commit()
    cashier, manager = browsers(CASHIER), browsers(MANAGER)
    url = f"/t/{group.slug}/cashdesk/units/{setup['unit']}"
    counted = _post(
        cashier,
        url,
        f"{url}/counts",
        {"kind": "month_end", "counted_on": str(day), "q_100": "1", "q_50": "1"},
    )
    assert counted.status_code == 303, counted.text
    page = manager.get(url)
    assert 'data-testid="review"' in page.text
    action = page.text.split('data-testid="review"', 1)[0].rsplit('action="', 1)[1].split('"')[0]
    assert manager.post(action, data={"csrf_token": csrf_token(page.text)}).status_code == 303
    assert 'data-testid="review"' not in manager.get(url).text


def test_r_cash_1_an_alert_shows_on_the_home_page_until_banked(browsers, group, setup, control):
    with tenant_session(control, group.schema_name) as session:
        cash_in_box(session, "10000.00")
        session.commit()
    home = browsers(MANAGER).get(f"/t/{group.slug}/")
    assert 'data-testid="cash-alerts"' in home.text
    assert (
        'data-testid="cash-alert"'
        in browsers(CASHIER).get(f"/t/{group.slug}/cashdesk/units/{setup['unit']}").text
    )


def test_the_register_and_cash_pages_chromium(browser, live_server, group, setup, demo_password):
    page = signed_in_page(browser, live_server, group.slug, CASHIER, demo_password)
    page.goto(f"{live_server}/t/{group.slug}/cashdesk")
    page.get_by_test_id(f"account-{setup['account']}").click()
    # Cash cheques: the transfer book of the tests above would give the next number otherwise.
    page.select_option("#book_type", "cash")
    page.fill("#first_number", "60000001")
    page.fill("#last_number", "60000010")
    page.click("[data-testid=register-book]")
    page.get_by_test_id("books").wait_for()
    assert "60000001–60000010" in page.get_by_test_id("books").inner_text()
    page.select_option("#issue_type", "cash")
    page.fill("#request_id", str(setup["requests"][1]))
    page.fill("#issue_purpose", "浏览器测试")
    page.click("[data-testid=issue]")
    row = page.get_by_test_id("cheque-60000001")
    row.wait_for()
    row.locator("[data-testid=account-for]").click()
    page.get_by_test_id("cheque-60000001").locator("[data-testid=state]").wait_for()
    assert page.get_by_test_id("cheque-60000001").locator("[data-testid=account-form]").count() == 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "cashdesk-register.png"), full_page=True)
    page.goto(f"{live_server}/t/{group.slug}/cashdesk/units/{setup['unit']}")
    page.fill("[data-testid='q-100']", "2")
    page.select_option("[data-testid=extra-kind]", "iou")
    page.fill("[data-testid=extra-amount]", "300")
    page.click("[data-testid=count]")
    page.get_by_test_id("refusal").wait_for()
    assert "白条" in page.get_by_test_id("refusal").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "cashdesk-count-iou.png"), full_page=True)


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("entries", {"entry_date": "2026-13-45", "amount": "10", "description": "x"}),
        ("counts", {"kind": "week_end", "counted_on": "yesterday", "q_100": "1"}),
    ],
)
def test_a_malformed_date_is_refused_on_the_form_never_taken_for_today(
    browsers, group, setup, path, data
):
    url = f"/t/{group.slug}/cashdesk/units/{setup['unit']}"
    refused = _post(browsers(CASHIER), url, f"{url}/{path}", data)
    assert refused.status_code == 422 and "YYYY-MM-DD" in refused.text


def test_a_superscript_digit_is_refused_on_the_form_not_a_500(browsers, group, setup):
    cashier = browsers(CASHIER)
    url = f"/t/{group.slug}/cashdesk/accounts/{setup['account']}"
    issue = {"cheque_type": "transfer", "request_id": "²", "purpose": "x"}
    assert _post(cashier, url, f"{url}/cheques", issue).status_code == 422
    unit_url = f"/t/{group.slug}/cashdesk/units/{setup['unit']}"
    count = {"kind": "week_end", "counted_on": str(demo_today()), "q_100": "²"}
    assert _post(cashier, unit_url, f"{unit_url}/counts", count).status_code == 422


def test_r_chq_3_a_blank_cheque_decision_is_yes_or_no(browsers, group, setup, control):
    from propgroup.cashdesk import cheques
    from tests.support.groups import person

    with tenant_session(control, group.schema_name) as session:
        asked = cheques.ask_blank_cheque(
            session,
            person(session, CASHIER),
            account_id=setup["account"],
            holder="qian.staff",
            limit_amount="100.00",
            purpose="招待费",
        )
        session.commit()
        asked_id = asked.id
    url = f"/t/{group.slug}/cashdesk/accounts/{setup['account']}"
    refused = _post(
        browsers(MANAGER), url, f"{url}/blank-cheques/{asked_id}/decision", {"approve": "maybe"}
    )
    assert refused.status_code == 422
    with tenant_session(control, group.schema_name) as session:
        from propgroup.cashdesk.models import BlankChequeApproval

        assert session.get(BlankChequeApproval, asked_id).status == "pending"
