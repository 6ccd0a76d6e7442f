"""Approvals in the portal: a request raised through the form goes up its chain through the pages
(R-APR-1), delegates sign for others and the record shows both names (R-APR-5), refusals land on
the form with their status and write nothing (R-APR-3, R-APR-8, R-ORG-2, R-ORG-3), a stale click
is a 409, the home page counts what waits, and the whole flow runs in headless Chromium."""

from __future__ import annotations

import os
import re
import secrets

import pytest
from sqlalchemy import func, select

from propgroup.approvals.models import ApprovalRequest
from propgroup.db import tenant_session
from propgroup.identity import service as identity
from propgroup.org import service as org
from propgroup.tenancy import service as tenancy
from tests.portal.conftest import (
    SCREENSHOTS,
    csrf_token,
    form_token,
    group_with,
    signed_in_page,
    unit_ids_in,
)
from tests.support.groups import demo_today

REQUESTER = "qian.staff"  # department head at SH-XTD: raises requests, in none of their chains
ACCOUNTANT, HEAD, CASHIER = "li.kuaiji", "wang.xiangmu", "zhao.chuna"
SOUTH_STAFF = "su.staff"  # department head at SZ-NS, region SOUTH
DEPUTY = "deputy"  # no roles at all: decides only as someone's stand-in
_STEP = re.compile(r'name="step" value="(\d+)"')


@pytest.fixture(scope="module")
def group(control, demo_group, demo_password):
    """The demo group (only the people these tests need) plus a requester, a SOUTH user and a
    stand-in without roles, under a tenant of this module's own (the shared demo stays clean)."""
    slug = f"aprpages_{os.getpid()}_{secrets.token_hex(3)}"
    people = group_with(demo_group, ACCOUNTANT, HEAD, CASHIER, "sun.diqucaiwu")
    tenant = tenancy.provision_tenant(
        control,
        slug=slug,
        name=demo_group["tenant"]["name"],
        template=demo_group["template"],
        group=people,
    )
    with tenant_session(control, tenant.schema_name) as session:
        for login, name, grants in (
            (REQUESTER, "钱员工", [("department_head", "SH-XTD")]),
            (SOUTH_STAFF, "苏员工", [("department_head", "SZ-NS")]),
            (DEPUTY, "邓代理", []),
        ):
            user = identity.create_user(
                session,
                login=login,
                display_name=name,
                email=f"{login}@x.test",
                password=demo_password,
            )
            for role, code in grants:
                identity.assign_role(session, user, role, org.get_unit_by_code(session, code))
        session.commit()
    yield tenant
    tenancy.drop_tenant(control, slug)


@pytest.fixture(scope="module")
def units(control, group) -> dict[str, int]:
    return unit_ids_in(control, group, ("SH-XTD", "EAST"))


def count_requests(control, group) -> int:
    with tenant_session(control, group.schema_name) as session:
        return session.scalar(select(func.count()).select_from(ApprovalRequest))


def pending(client, slug) -> int:
    home = client.get(f"/t/{slug}/")
    match = re.search(r'data-testid="pending-count">(\d+)<', home.text)
    assert match, home.text
    return int(match.group(1))


def new_request(
    client,
    slug,
    *,
    unit_id,
    lines,
    action="submit",
    title="差旅报销",
    request_type="expense_claim",
    **extra,
):
    data = {
        "csrf_token": form_token(client, f"/t/{slug}/approvals/new"),
        "request_type": request_type,
        "unit_id": str(unit_id),
        "title": title,
        "payee": "钱员工",
        "action": action,
        **extra,
    }
    for index, (category, description, amount) in enumerate(lines):
        data |= {
            f"category_{index}": category,
            f"description_{index}": description,
            f"amount_{index}": amount,
        }
    return client.post(f"/t/{slug}/approvals/new", data=data)


def submitted(client, slug, unit_id, amount="1200.00") -> int:
    response = new_request(
        client, slug, unit_id=unit_id, lines=[("差旅费", "上海-杭州 高铁", amount)]
    )
    assert response.status_code == 303, response.text
    return int(response.headers["Location"].rsplit("/", 1)[1])


def decide(client, slug, request_id, *, step=None, decision="approve", comment=""):
    page = client.get(f"/t/{slug}/approvals/{request_id}")
    assert page.status_code == 200
    if step is None:
        match = _STEP.search(page.text)
        assert match, "the page offers no decision"
        step = int(match.group(1))
    return client.post(
        f"/t/{slug}/approvals/{request_id}/decide",
        data={
            "csrf_token": csrf_token(page.text),
            "step": str(step),
            "decision": decision,
            "comment": comment,
        },
    )


def test_a_request_goes_from_the_form_to_paid_through_the_pages_r_apr_1(
    browsers, group, units, control
):
    slug = group.slug
    requester, accountant, head, cashier = (
        browsers(REQUESTER),
        browsers(ACCOUNTANT),
        browsers(HEAD),
        browsers(CASHIER),
    )
    waiting_before = pending(accountant, slug)
    response = new_request(
        requester,
        slug,
        unit_id=units["SH-XTD"],
        lines=[("差旅费", "上海-杭州 高铁", "1,200.50"), ("", "", ""), ("餐费", "出差餐补", "300")],
    )
    assert response.status_code == 303
    request_id = int(response.headers["Location"].rsplit("/", 1)[1])
    page = requester.get(response.headers["Location"])
    assert "已提交审批" in page.text  # the flash
    assert "¥1,500.50" in page.text and "人民币壹仟伍佰元伍角整" in page.text
    assert "审批中" in page.text and 'name="step"' not in page.text  # nobody approves their own

    # The branch accountant finds it in the inbox and on the home page count.
    assert pending(accountant, slug) == waiting_before + 1
    inbox = accountant.get(f"/t/{slug}/approvals")
    assert inbox.status_code == 200 and f"/approvals/{request_id}" in inbox.text
    assert "¥1,500.50" in inbox.text and f'href="/t/{slug}/approvals"' in inbox.text
    assert decide(accountant, slug, request_id, comment="单据齐全").status_code == 303
    assert pending(accountant, slug) == waiting_before
    assert f"/approvals/{request_id}" not in accountant.get(f"/t/{slug}/approvals").text

    assert decide(head, slug, request_id).status_code == 303
    detail = cashier.get(f"/t/{slug}/approvals/{request_id}")
    assert "已批准" in detail.text and 'data-testid="pay"' in detail.text
    paid = cashier.post(
        f"/t/{slug}/approvals/{request_id}/pay",
        data={"csrf_token": csrf_token(detail.text), "method": "transfer", "reference": "TX-88"},
    )
    assert paid.status_code == 303
    detail = requester.get(f"/t/{slug}/approvals/{request_id}")
    assert "已付款" in detail.text and "TX-88" in detail.text and "赵出纳" in detail.text
    for name in ("李会计", "王经理"):
        assert name in detail.text
    assert "“单据齐全”" in detail.text

    # Paying twice is a 409 on the page, and one payment stays (R-APR-6).
    token = form_token(cashier, f"/t/{slug}/approvals/{request_id}")
    again = cashier.post(
        f"/t/{slug}/approvals/{request_id}/pay",
        data={"csrf_token": token, "method": "cash", "reference": ""},
    )
    assert again.status_code == 409 and "已付款，未做任何更改" in again.text

    printed = requester.get(f"/t/{slug}/approvals/{request_id}/print")
    assert printed.status_code == 200 and "@media print" in printed.text
    assert "报销单" in printed.text and "人民币壹仟伍佰元伍角整" in printed.text
    for name in ("钱员工", "李会计", "王经理", "赵出纳"):
        assert name in printed.text
    assert printed.text.count("同意") == 2


def test_a_user_of_another_region_gets_403_r_org_2(browsers, group, units):
    slug = group.slug
    request_id = submitted(browsers(REQUESTER), slug, units["SH-XTD"], "88.00")
    south = browsers(SOUTH_STAFF)
    for path in (f"/approvals/{request_id}", f"/approvals/{request_id}/print"):
        page = south.get(f"/t/{slug}{path}")
        assert page.status_code == 403 and page.mimetype == "text/html"
        assert "差旅报销" not in page.text and "¥88.00" not in page.text
    token = form_token(south, f"/t/{slug}/approvals")
    refused = south.post(
        f"/t/{slug}/approvals/{request_id}/decide",
        data={"csrf_token": token, "step": "1", "decision": "approve"},
    )
    assert refused.status_code == 403 and "¥88.00" not in refused.text
    assert f"/approvals/{request_id}" not in south.get(f"/t/{slug}/approvals?tab=visible").text


def test_a_stale_step_gets_a_clear_409_and_changes_nothing(browsers, group, units):
    slug = group.slug
    request_id = submitted(browsers(REQUESTER), slug, units["SH-XTD"])
    accountant = browsers(ACCOUNTANT)
    stale = accountant.get(f"/t/{slug}/approvals/{request_id}")
    assert decide(accountant, slug, request_id).status_code == 303
    # The same form again, as from a second tab that still shows step 1.
    again = accountant.post(
        f"/t/{slug}/approvals/{request_id}/decide",
        data={"csrf_token": csrf_token(stale.text), "step": "1", "decision": "approve"},
    )
    assert again.status_code == 409
    assert "该步骤已处理，或申请已进入下一步：现在为审批中，第 2 步" in again.text
    assert 'data-testid="refusal"' in again.text and "项目负责人" in again.text
    head_page = browsers(HEAD).get(f"/t/{slug}/approvals/{request_id}")
    assert 'name="step" value="2"' in head_page.text


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("12.345", "第 1 行：金额超过两位小数（分）"),
        ("-1", "第 1 行：金额必须大于 0"),
        ("abc", "第 1 行：金额不是数字"),
        ("0", "第 1 行：金额必须大于 0"),
        ("1e99999", "第 1 行：金额过大"),
    ],
)
def test_a_bad_amount_is_shown_on_the_form_and_nothing_is_written_r_apr_8(
    browsers, group, units, control, amount, message
):
    before = count_requests(control, group)
    response = new_request(
        browsers(REQUESTER),
        group.slug,
        unit_id=units["SH-XTD"],
        lines=[("办公费", "打印纸", amount), ("办公费", "墨盒", "20.00")],
        title="办公用品",
    )
    assert response.status_code == 422
    assert message in response.text and "未保存任何内容" in response.text
    assert f'value="{amount}"' in response.text and 'value="打印纸"' in response.text  # kept
    assert re.search(r'name="amount_0"[^>]*aria-invalid="true"', response.text)  # marked
    assert count_requests(control, group) == before


def test_missing_fields_and_a_department_unit_are_refused_with_422(browsers, group, units, control):
    before = count_requests(control, group)
    requester = browsers(REQUESTER)
    empty = new_request(requester, group.slug, unit_id=units["SH-XTD"], lines=[], title="")
    assert empty.status_code == 422
    assert "标题为必填项" in empty.text and "请至少填写一行" in empty.text
    with tenant_session(control, group.schema_name) as session:
        department = org.get_unit_by_code(session, "SH-XTD-FIN").id
    outside = new_request(requester, group.slug, unit_id=department, lines=[("a", "b", "1.00")])
    assert outside.status_code == 422 and "请选择申请所属单位" in outside.text
    assert count_requests(control, group) == before


def test_a_draft_is_saved_then_submitted_and_withdrawn(browsers, group, units):
    slug = group.slug
    requester = browsers(REQUESTER)
    response = new_request(
        requester,
        slug,
        unit_id=units["SH-XTD"],
        lines=[("维修费", "门禁维修", "450")],
        action="draft",
    )
    assert response.status_code == 303
    page = requester.get(response.headers["Location"])
    assert "草稿" in page.text and "提交审批" in page.text
    request_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert f"/approvals/{request_id}" not in browsers(ACCOUNTANT).get(f"/t/{slug}/approvals").text
    sent = requester.post(
        f"/t/{slug}/approvals/{request_id}/submit", data={"csrf_token": csrf_token(page.text)}
    )
    assert sent.status_code == 303
    assert f"/approvals/{request_id}" in browsers(ACCOUNTANT).get(f"/t/{slug}/approvals").text
    gone = requester.post(
        f"/t/{slug}/approvals/{request_id}/withdraw", data={"csrf_token": csrf_token(page.text)}
    )
    assert gone.status_code == 303
    assert "已撤回" in requester.get(f"/t/{slug}/approvals/{request_id}").text
    twice = requester.post(
        f"/t/{slug}/approvals/{request_id}/withdraw", data={"csrf_token": csrf_token(page.text)}
    )
    assert twice.status_code == 409 and "申请为已撤回时不能这样做" in twice.text


def test_a_return_and_a_resubmission_keep_the_history_r_apr_4(browsers, group, units):
    slug = group.slug
    requester = browsers(REQUESTER)
    request_id = submitted(requester, slug, units["SH-XTD"], "99.00")
    assert (
        decide(
            browsers(ACCOUNTANT), slug, request_id, decision="reject", comment="缺发票"
        ).status_code
        == 303
    )
    page = requester.get(f"/t/{slug}/approvals/{request_id}")
    assert "已退回" in page.text and "“缺发票”" in page.text and "重新提交" in page.text
    resent = requester.post(
        f"/t/{slug}/approvals/{request_id}/submit", data={"csrf_token": csrf_token(page.text)}
    )
    assert resent.status_code == 303
    page = requester.get(f"/t/{slug}/approvals/{request_id}")
    assert "第 1 版" in page.text and "第 2 版" in page.text and "“缺发票”" in page.text


def test_a_stand_in_decides_and_the_record_shows_both_names_r_apr_5(browsers, group, units):
    slug = group.slug
    head, deputy = browsers(HEAD), browsers(DEPUTY)
    token = form_token(head, f"/t/{slug}/approvals/delegations")
    bad = head.post(
        f"/t/{slug}/approvals/delegations",
        data={
            "csrf_token": token,
            "delegate_login": "nobody",
            "starts_on": "2026-01-01",
            "ends_on": "x",
        },
    )
    assert bad.status_code == 422 and "请以日期格式填写" in bad.text
    unknown = head.post(
        f"/t/{slug}/approvals/delegations",
        data={
            "csrf_token": token,
            "delegate_login": "nobody",
            "starts_on": "2026-01-01",
            "ends_on": "2026-01-02",
        },
    )
    assert unknown.status_code == 422 and "nobody 不能代您审批" in unknown.text
    day = demo_today().isoformat()
    made = head.post(
        f"/t/{slug}/approvals/delegations",
        data={"csrf_token": token, "delegate_login": DEPUTY, "starts_on": day, "ends_on": day},
    )
    assert made.status_code == 303
    assert "邓代理" in head.get(f"/t/{slug}/approvals/delegations").text

    before = pending(deputy, slug)
    request_id = submitted(browsers(REQUESTER), slug, units["SH-XTD"], "66.00")
    assert pending(deputy, slug) == before  # step 1 is the accountant's
    assert decide(browsers(ACCOUNTANT), slug, request_id).status_code == 303
    assert pending(deputy, slug) == before + 1
    page = deputy.get(f"/t/{slug}/approvals/{request_id}")
    assert page.status_code == 200 and "您代王经理签署" in page.text
    assert decide(deputy, slug, request_id).status_code == 303
    page = browsers(REQUESTER).get(f"/t/{slug}/approvals/{request_id}")
    assert "邓代理 代 王经理" in page.text and "已批准" in page.text
    # Who signed keeps reading what they signed; other requests stay closed to a role-less deputy.
    assert deputy.get(f"/t/{slug}/approvals/{request_id}").status_code == 200
    other = submitted(browsers(REQUESTER), slug, units["SH-XTD"], "67.00")
    assert deputy.get(f"/t/{slug}/approvals/{other}").status_code == 403


def test_forms_without_a_csrf_token_are_refused(browsers, group, units, control):
    before = count_requests(control, group)
    response = browsers(REQUESTER).post(
        f"/t/{group.slug}/approvals/new",
        data={
            "request_type": "expense_claim",
            "unit_id": str(units["SH-XTD"]),
            "title": "x",
            "payee": "y",
            "category_0": "a",
            "description_0": "b",
            "amount_0": "1.00",
            "action": "submit",
        },
    )
    assert response.status_code == 400 and count_requests(control, group) == before


def test_inbox_tabs_swap_as_htmx_fragments_and_the_total_is_live(browsers, group, units):
    slug = group.slug
    requester = browsers(REQUESTER)
    request_id = submitted(requester, slug, units["SH-XTD"], "12.00")
    fragment = requester.get(f"/t/{slug}/approvals?tab=mine", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert (
        f"/approvals/{request_id}" in fragment.text and 'data-testid="inbox-mine"' in fragment.text
    )
    assert "HX-Request" in fragment.headers["Vary"]
    full = requester.get(f"/t/{slug}/approvals?tab=mine")
    assert "<html" in full.text and 'aria-selected="true"' in full.text
    token = form_token(requester, f"/t/{slug}/approvals/new")
    total = requester.post(
        f"/t/{slug}/approvals/new/total",
        data={"amount_0": "1000", "amount_1": "0.5", "amount_2": "oops"},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    assert total.status_code == 200 and "¥1,000.50" in total.text and "壹仟元伍角" in total.text


def test_navigation_and_english_pages(browsers, group, units):
    slug = group.slug
    accountant = browsers(ACCOUNTANT)
    assert f'href="/t/{slug}/approvals"' in accountant.get(f"/t/{slug}/").text
    deputy_home = browsers(DEPUTY).get(f"/t/{slug}/").text
    navigation = deputy_home[deputy_home.index("<nav") : deputy_home.index("</nav>")]
    assert f'href="/t/{slug}/approvals"' not in navigation  # no approvals:read, so no menu item
    english = browsers(SOUTH_STAFF)
    token = form_token(english, f"/t/{slug}/")
    english.post(f"/t/{slug}/lang/en", data={"csrf_token": token, "next": "/"})
    page = english.get(f"/t/{slug}/approvals/new")
    assert "Save and submit" in page.text and "Expense claim" in page.text
    assert (
        "深圳南山项目分公司" in page.text and "上海新天地" not in page.text
    )  # where they may write
    bad = new_request(english, slug, unit_id=units["SH-XTD"], lines=[("a", "b", "1.001")])
    assert bad.status_code == 422 and "Line 1: the amount has more than 2 decimals" in bad.text
    assert english.get(f"/t/{slug}/approvals/99999999999999999999").status_code == 404
    assert english.get(f"/t/{slug}/approvals/424242").status_code == 404


# --- in the browser -----------------------------------------------------------------------


def test_in_the_browser_a_request_is_submitted_and_approved(
    browser, live_server, group, units, demo_password
):
    slug = group.slug
    page = signed_in_page(browser, live_server, slug, REQUESTER, demo_password)
    page.goto(f"{live_server}/t/{slug}/approvals/new")
    page.select_option("#unit_id", str(units["SH-XTD"]))
    page.fill("#title", "浏览器测试报销")
    page.fill("#payee", "钱员工")
    page.fill("input[name=category_0]", "差旅费")
    page.fill("input[name=description_0]", "上海-南京 高铁")
    page.fill("input[name=amount_0]", "2345.6")
    page.fill("input[name=category_1]", "住宿费")
    page.fill("input[name=description_1]", "南京 一晚")
    page.fill("input[name=amount_1]", "400")
    # The total follows the typing (htmx), in figures and in words.
    page.get_by_test_id("total").filter(has_text="¥2,745.60").wait_for()
    assert "人民币贰仟柒佰肆拾伍元陆角整" in page.locator("#total").inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "approval-new.png"), full_page=True)
    page.click("button[value=submit]")
    page.wait_for_url(re.compile(r".*/approvals/\d+$"))
    request_url = page.url
    assert page.get_by_test_id("status").inner_text() == "审批中"
    page.context.close()

    page = signed_in_page(browser, live_server, slug, ACCOUNTANT, demo_password)
    assert int(page.get_by_test_id("pending-count").inner_text()) >= 1
    page.click("nav.nav a:text('审批')")
    page.get_by_test_id("inbox-waiting").wait_for()
    page.screenshot(path=str(SCREENSHOTS / "approval-inbox.png"), full_page=True)
    page.locator("a:text('浏览器测试报销')").click()
    page.wait_for_url(request_url)
    page.fill("#comment", "同意报销")
    page.click("button[value=approve]")
    page.wait_for_url(request_url)
    page.locator("p.flash:text('您已同意第 1 步')").wait_for()
    timeline = page.get_by_test_id("timeline").inner_text()
    assert "李会计" in timeline and "同意报销" in timeline
    shot = SCREENSHOTS / "approval-detail.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    page.goto(request_url + "/print")
    page.screenshot(path=str(SCREENSHOTS / "approval-print.png"), full_page=True)
    page.context.close()


def test_a_returned_request_is_changed_on_its_form_and_sent_as_revision_2_r_apr_4(
    browsers, group, units
):
    slug = group.slug
    requester = browsers(REQUESTER)
    request_id = submitted(requester, slug, units["SH-XTD"], "88.00")
    decide(browsers(ACCOUNTANT), slug, request_id, decision="reject", comment="金额有误")
    form = requester.get(f"/t/{slug}/approvals/{request_id}/edit")
    assert form.status_code == 200 and 'value="88.00"' in form.text
    changed = requester.post(
        f"/t/{slug}/approvals/{request_id}/edit",
        data={
            "csrf_token": csrf_token(form.text),
            "title": "差旅报销（更正）",
            "payee": "钱员工",
            "category_0": "差旅费",
            "description_0": "上海-杭州 高铁（更正）",
            "amount_0": "86.50",
            "action": "submit",
        },
    )
    assert changed.status_code == 303, changed.text
    page = requester.get(f"/t/{slug}/approvals/{request_id}")
    assert "86.50" in page.text and 'data-testid="earlier-lines"' in page.text
    assert "第 2 版" in page.text and "“金额有误”" in page.text
    # The accountant, not the requester, may not open the form; nothing changes.
    refused = browsers(ACCOUNTANT).get(f"/t/{slug}/approvals/{request_id}/edit")
    assert refused.status_code == 403


def test_an_advance_without_its_business_day_is_refused_on_the_form_r_cash_3(
    browsers, group, units, control
):
    before = count_requests(control, group)

    def advance(**business):
        return new_request(
            browsers(REQUESTER),
            group.slug,
            unit_id=units["SH-XTD"],
            lines=[("借款", "办证", "300.00")],
            request_type="advance",
            **business,
        )

    response = advance()
    assert response.status_code == 422
    assert "R-CASH-3" in response.text and 'data-testid="form-errors"' in response.text
    assert count_requests(control, group) == before
    bad_day = advance(business_kind="local", business_ended_on="not a day")
    assert bad_day.status_code == 422 and 'aria-invalid="true"' in bad_day.text
    assert count_requests(control, group) == before


def test_a_late_claim_is_flagged_on_its_page_r_cash_3(browsers, group, units):
    from datetime import timedelta

    requester = browsers(REQUESTER)
    response = new_request(
        requester,
        group.slug,
        unit_id=units["SH-XTD"],
        lines=[("交通费", "出租车", "45.00")],
        business_kind="local",
        business_ended_on=(demo_today() - timedelta(days=6)).isoformat(),
    )
    assert response.status_code == 303, response.text
    page = requester.get(response.headers["Location"])
    assert 'data-testid="late"' in page.text


def test_a_voucher_is_attached_and_read_back_by_an_approver_r_apr_8(browsers, group, units):
    import io

    slug = group.slug
    requester = browsers(REQUESTER)
    request_id = submitted(requester, slug, units["SH-XTD"], "77.00")
    page = requester.get(f"/t/{slug}/approvals/{request_id}")
    attached = requester.post(
        f"/t/{slug}/approvals/{request_id}/vouchers",
        data={
            "csrf_token": csrf_token(page.text),
            "voucher": (io.BytesIO(b"%PDF-1.4 fapiao"), "发票.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert attached.status_code == 303, attached.text
    seen = browsers(ACCOUNTANT).get(f"/t/{slug}/approvals/{request_id}")
    link = re.search(rf'href="(/t/{slug}/approvals/{request_id}/vouchers/\d+)"', seen.text)
    assert link and "发票.pdf" in seen.text
    body = browsers(ACCOUNTANT).get(link.group(1))
    assert body.status_code == 200 and body.data == b"%PDF-1.4 fapiao"
    assert 'enctype="multipart/form-data"' not in seen.text  # only the requester attaches
    south = browsers(SOUTH_STAFF).get(link.group(1))
    assert south.status_code == 403


def test_the_list_filters_by_amount_and_names_a_bad_filter(browsers, group, units):
    slug = group.slug
    requester = browsers(REQUESTER)
    request_id = submitted(requester, slug, units["SH-XTD"], "6543.21")
    found = requester.get(f"/t/{slug}/approvals?tab=visible&amount_min=6543.21&amount_max=6543.21")
    assert f"#{request_id}<" in found.text
    other = requester.get(f"/t/{slug}/approvals?tab=visible&amount_min=6543.22")
    assert f"#{request_id}<" not in other.text
    bad = requester.get(f"/t/{slug}/approvals?tab=visible&amount_min=1.234")
    assert bad.status_code == 200 and 'data-testid="filter-errors"' in bad.text


def test_a_request_with_more_lines_than_the_form_is_not_cut_short_by_it(
    browsers, group, units, control
):
    from propgroup.approvals import service as approvals
    from propgroup.identity.models import User

    with tenant_session(control, group.schema_name) as session:
        me = identity.user_principal(session.scalar(select(User).where(User.login == REQUESTER)))
        draft = approvals.create_request(
            session,
            me,
            request_type="expense_claim",
            unit_id=units["SH-XTD"],
            title="六行",
            payee="钱员工",
            lines=[{"category": "c", "description": f"{n}", "amount": "1.00"} for n in range(6)],
        )
        session.commit()
    refused = browsers(REQUESTER).get(f"/t/{group.slug}/approvals/{draft.id}/edit")
    assert refused.status_code == 422 and 'data-testid="refusal"' in refused.text
