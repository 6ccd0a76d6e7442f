"""Bank accounts in the portal: an opening request raised on the form (its refusals shown on the
form, R-BNK-2), approved by the chain on the approvals pages (R-BNK-1), the number registered, and
the account shown masked to a non-finance reader; the same in headless Chromium. A closing raised
from the account's page (refused with the balance, R-BNK-1) and a keeper's departure draft
completed and submitted (R-BNK-3)."""

from __future__ import annotations

import os
import secrets

import pytest
from sqlalchemy import select

from propgroup.banking.models import BankAccountRequest
from propgroup.db import tenant_session
from propgroup.identity import service as identity
from propgroup.identity.models import User
from propgroup.org import service as org
from propgroup.tenancy import service as tenancy
from tests.portal.conftest import csrf_token, group_with, signed_in_page
from tests.portal.test_browser import SCREENSHOTS
from tests.support.banking import (
    ACCOUNTANT,
    ADMIN,
    BRANCH_CHAIN,
    CASHIER,
    DIRECTOR,
    HEAD,
    OPEN_FORM,
    SEALS,
    existing_account,
)
from tests.support.groups import person

AUDITOR = "feng.shenji"


@pytest.fixture(scope="module")
def group(control, demo_group):
    slug = f"bankpages_{os.getpid()}_{secrets.token_hex(3)}"
    people = group_with(demo_group, ACCOUNTANT, CASHIER, AUDITOR, ADMIN, DIRECTOR, *BRANCH_CHAIN)
    tenant = tenancy.provision_tenant(
        control,
        slug=slug,
        name=demo_group["tenant"]["name"],
        template=demo_group["template"],
        group=people,
    )
    yield tenant
    tenancy.drop_tenant(control, slug)


def _form_data(token, unit_id, **changes):
    form = {**OPEN_FORM, **changes}
    return {
        "csrf_token": token,
        "unit_id": str(unit_id),
        **{
            k: form[k]
            for k in ("bank", "bank_branch", "account_name", "account_type", "purpose", "reason")
        },
        **form["seals"],
        "signatories": "\n".join(form["signatories"]),
    }


def test_r_bnk_2_a_refused_opening_is_shown_on_the_form(browsers, group):
    accountant = browsers(ACCOUNTANT)
    page = accountant.get(f"/t/{group.slug}/banking/requests/new")
    assert page.status_code == 200 and "财务专用章" in page.text
    unit_id = page.text.split('<option value="', 1)[1].split('"', 1)[0]
    refused = accountant.post(
        f"/t/{group.slug}/banking/requests/new",
        data=_form_data(
            csrf_token(page.text), unit_id, seals={**SEALS, "head_name_seal": ACCOUNTANT}
        ),
    )
    assert refused.status_code == 422
    assert "nobody keeps two seals" in refused.text and 'value="中国工商银行"' in refused.text
    assert browsers(HEAD).get(f"/t/{group.slug}/banking/requests/new").status_code == 200
    assert 'data-testid="new-opening"' not in browsers(HEAD).get(f"/t/{group.slug}/banking").text


def test_in_the_browser_an_opening_is_raised_approved_registered_and_shown_masked(
    browser, live_server, group, demo_password
):
    slug = group.slug
    page = signed_in_page(browser, live_server, slug, ACCOUNTANT, demo_password)
    page.click("nav.nav a:text('银行账户')")
    page.get_by_test_id("new-opening").click()
    for field in ("bank", "bank_branch", "account_name", "purpose", "reason"):
        page.fill(f"#{field}", OPEN_FORM[field])
    page.select_option("#account_type", "general")
    for kind, login in SEALS.items():
        page.fill(f"#{kind}", login)
    page.fill("#signatories", CASHIER)
    page.click("form[data-testid=open-form] button.primary")
    page.get_by_test_id("submit").click()
    assert page.get_by_test_id("request-status").inner_text() == "审批中"
    approval_url = page.get_by_test_id("approval-link").get_attribute("href")
    request_url = page.url
    page.context.close()
    for login in BRANCH_CHAIN:
        approver = signed_in_page(browser, live_server, slug, login, demo_password)
        approver.goto(f"{live_server}{approval_url}")
        assert "1 件" in approver.get_by_test_id("amount").inner_text()
        approver.click("form[data-testid=decide] button[value=approve]")
        approver.get_by_test_id("status").wait_for()
        approver.context.close()
    page = signed_in_page(browser, live_server, slug, ACCOUNTANT, demo_password)
    page.goto(request_url)
    assert page.get_by_test_id("request-status").inner_text() == "已批准"
    page.get_by_test_id("account-link").click()
    assert page.get_by_test_id("account-status").inner_text() == "已批准，待银行开户"
    page.fill("#number", "6222 0210 0112 3456")
    page.fill("#opened_on", "2025-04-01")
    page.click("form[data-testid=register-number] button")
    page.get_by_test_id("number").wait_for()
    assert page.get_by_test_id("number").inner_text() == "6222021001123456"
    assert page.get_by_test_id("account-status").inner_text() == "正常"
    account_url = page.url
    page.context.close()
    reader = signed_in_page(browser, live_server, slug, HEAD, demo_password)
    reader.goto(account_url)
    assert reader.get_by_test_id("number").inner_text() == "****3456"
    assert "6222021001123456" not in reader.content()
    reader.goto(f"{live_server}/t/{slug}/banking")
    assert reader.get_by_test_id("accounts").inner_text().count("****3456") == 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    reader.screenshot(path=str(SCREENSHOTS / "banking-accounts.png"), full_page=True)
    reader.context.close()


def _existing(control, group, number: str, balance: str = "0") -> int:
    with tenant_session(control, group.schema_name) as session:
        account = existing_account(session, number, balance=balance)
        session.commit()
        return account.id


def test_r_bnk_1_in_the_browser_a_closing_is_raised_and_refused_with_a_balance(
    browser, live_server, group, control, demo_password
):
    empty = _existing(control, group, "310066009990001")
    funded = _existing(control, group, "310066009990002", balance="1250.50")
    page = signed_in_page(browser, live_server, group.slug, ACCOUNTANT, demo_password)
    page.goto(f"{live_server}/t/{group.slug}/banking/accounts/{funded}")
    assert page.get_by_test_id("request-change").inner_text() == "申请变更"
    assert page.get_by_test_id("request-close").inner_text() == "申请销户"
    page.get_by_test_id("request-close").click()
    page.fill("#reason", "项目撤场")
    page.click("form[data-testid=close-form] button.primary")
    refusal = page.get_by_test_id("refusal").inner_text()
    assert "balance is 1,250.50 CNY, not zero" in refusal
    assert page.input_value("#reason") == "项目撤场"
    page.goto(f"{live_server}/t/{group.slug}/banking/accounts/{funded}")
    assert page.get_by_test_id("account-requests").inner_text() == ""
    page.goto(f"{live_server}/t/{group.slug}/banking/accounts/{empty}")
    page.get_by_test_id("request-close").click()
    page.fill("#reason", "项目撤场")
    page.click("form[data-testid=close-form] button.primary")
    assert page.get_by_test_id("request-status").inner_text() == "草稿"
    page.get_by_test_id("submit").click()
    assert page.get_by_test_id("request-status").inner_text() == "审批中"
    page.context.close()


def test_r_bnk_3_a_departure_draft_is_completed_and_submitted_in_the_portal(
    browsers, group, control
):
    account_id = _existing(control, group, "310066009990003")
    with tenant_session(control, group.schema_name) as session:
        leaver = session.scalar(select(User).where(User.login == CASHIER))
        unit = org.get_unit_by_code(session, "SH-XTD")
        identity.remove_role(session, person(session, ADMIN), leaver, "cashier", unit)
        draft = session.scalar(
            select(BankAccountRequest).where(BankAccountRequest.account_id == account_id)
        )
        session.commit()
    assert (draft.origin, draft.form["changes"]) == ("keeper_departure", {})
    accountant = browsers(ACCOUNTANT)
    base = f"/t/{group.slug}/banking/requests/{draft.id}"
    form = accountant.get(f"{base}/revise")
    assert form.status_code == 200 and f"{CASHIER}" in form.text
    assert 'data-testid="departure"' in form.text
    kept = accountant.post(
        f"{base}/revise",
        data={"csrf_token": csrf_token(form.text), "signatories": CASHIER, "reason": "调岗"},
    )
    assert kept.status_code == 422 and "has left" in kept.text  # departure_open
    done = accountant.post(
        f"{base}/revise",
        data={"csrf_token": csrf_token(form.text), "signatories": ACCOUNTANT, "reason": "调岗"},
    )
    assert done.status_code == 303
    page = accountant.get(base)
    submitted = accountant.post(f"{base}/submit", data={"csrf_token": csrf_token(page.text)})
    assert submitted.status_code == 303
    with tenant_session(control, group.schema_name) as session:
        request = session.get(BankAccountRequest, draft.id)
        assert request.status == "submitted"
        assert request.form["changes"] == {"signatories": [ACCOUNTANT]}
        assert request.form["departure"]["user"] == CASHIER
